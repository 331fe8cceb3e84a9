package dev.dynsni.core.acme;

import java.util.function.LongSupplier;

/**
 * A token bucket: at most {@code perSecond} permits per second, a burst of at most one second's worth.
 * Thread-safe (one lock, held for a few arithmetic operations).
 */
final class RateLimit
{
    private final double perSecond;
    private final LongSupplier nanoTime;
    private double tokens;
    private long last;

    RateLimit(double perSecond)
    {
        this(perSecond, System::nanoTime);
    }

    /** @param nanoTime the clock, in nanoseconds (tests give their own) */
    RateLimit(double perSecond, LongSupplier nanoTime)
    {
        this.perSecond = perSecond;
        this.nanoTime = nanoTime;
        this.tokens = perSecond;
        this.last = nanoTime.getAsLong();
    }

    /** @return whether a permit was taken; never waits */
    synchronized boolean tryAcquire()
    {
        long now = nanoTime.getAsLong();
        tokens = Math.min(perSecond, tokens + (now - last) * perSecond / 1e9);
        last = now;
        if (tokens < 1)
            return false;
        tokens -= 1;
        return true;
    }
}
