package dev.dynsni.testing;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Takes a thread dump every 5 ms and counts the threads of one pool (by thread-name prefix) that
 * wait on a {@code CompletableFuture} from inside a given class, e.g. Jetty threads parked in the
 * key manager's bounded wait for a certificate lookup. Runs from {@link #start} to {@link #close}.
 */
public final class WaitingThreadSampler implements AutoCloseable
{
    private final String threadNamePrefix;
    private final String waiterClassName;
    private final AtomicBoolean sampling = new AtomicBoolean(true);
    private final AtomicInteger max = new AtomicInteger();
    private final AtomicInteger samplesWithWaiting = new AtomicInteger();
    private final AtomicInteger samples = new AtomicInteger();
    private final Thread thread;

    private WaitingThreadSampler(String threadNamePrefix, String waiterClassName)
    {
        this.threadNamePrefix = threadNamePrefix;
        this.waiterClassName = waiterClassName;
        this.thread = new Thread(this::sample, "waiting-thread-sampler");
        this.thread.setDaemon(true);
    }

    /** Starts sampling threads named {@code threadNamePrefix...} waiting inside {@code waiter}. */
    public static WaitingThreadSampler start(String threadNamePrefix, Class<?> waiter)
    {
        WaitingThreadSampler sampler = new WaitingThreadSampler(threadNamePrefix, waiter.getName());
        sampler.thread.start();
        return sampler;
    }

    /** @return how many threads of the dump are named {@code threadNamePrefix...} and wait on a future inside the class */
    public static int count(Map<Thread, StackTraceElement[]> dump, String threadNamePrefix, String waiterClassName)
    {
        int waiting = 0;
        for (Map.Entry<Thread, StackTraceElement[]> entry : dump.entrySet())
        {
            if (!entry.getKey().getName().startsWith(threadNamePrefix))
                continue;
            boolean inWaiter = false;
            boolean inFutureWait = false;
            for (StackTraceElement frame : entry.getValue())
            {
                if (frame.getClassName().equals(waiterClassName))
                    inWaiter = true;
                if (frame.getClassName().equals("java.util.concurrent.CompletableFuture") &&
                    (frame.getMethodName().equals("get") || frame.getMethodName().equals("timedGet") || frame.getMethodName().equals("waitingGet")))
                    inFutureWait = true;
            }
            if (inWaiter && inFutureWait)
                waiting++;
        }
        return waiting;
    }

    private void sample()
    {
        while (sampling.get())
        {
            int waiting = count(Thread.getAllStackTraces(), threadNamePrefix, waiterClassName);
            samples.incrementAndGet();
            if (waiting > 0)
                samplesWithWaiting.incrementAndGet();
            max.accumulateAndGet(waiting, Math::max);
            try
            {
                Thread.sleep(5);
            }
            catch (InterruptedException x)
            {
                return;
            }
        }
    }

    /** @return the most threads seen waiting at once */
    public int max()
    {
        return max.get();
    }

    /** @return how many samples saw at least one waiting thread */
    public int samplesWithWaiting()
    {
        return samplesWithWaiting.get();
    }

    /** @return how many samples were taken */
    public int samples()
    {
        return samples.get();
    }

    @Override
    public void close() throws InterruptedException
    {
        sampling.set(false);
        thread.join();
    }
}
