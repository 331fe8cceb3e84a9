package dev.dynsni.testing;

import java.util.concurrent.TimeUnit;

/**
 * Waits in tests for something that becomes true by itself (a feed reconnecting, a failover): checks
 * every 50 ms, treats an exception as "not yet", fails with what was awaited.
 */
public final class Await
{
    /** A condition that may throw while it cannot be checked yet. */
    @FunctionalInterface
    public interface Check
    {
        boolean holds() throws Exception;
    }

    private Await()
    {
    }

    /**
     * @return the milliseconds it took
     * @throws AssertionError when it does not hold within the time
     */
    public static long until(String what, long seconds, Check check) throws InterruptedException
    {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
        while (true)
        {
            try
            {
                if (check.holds())
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            }
            catch (Exception x)
            {
                // not yet
            }
            if (System.nanoTime() > deadline)
                throw new AssertionError(what + ": not within " + seconds + " s");
            Thread.sleep(50);
        }
    }
}
