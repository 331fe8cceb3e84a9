package dev.dynsni.core.acme;

/**
 * A token bucket: at most {@code perSecond} permits per second, a burst of at most one second's worth.
 * Thread-safe (one lock, held for a few arithmetic operations).
 */
final class RateLimit
{
    private final double perSecond;
    private double tokens;
    private long last = System.nanoTime();

    RateLimit(double perSecond)
    {
        this.perSecond = perSecond;
        this.tokens = perSecond;
    }

    /** @return whether a permit was taken; never waits */
    synchronized boolean tryAcquire()
    {
        long now = System.nanoTime();
        tokens = Math.min(perSecond, tokens + (now - last) * perSecond / 1e9);
        last = now;
        if (tokens < 1)
            return false;
        tokens -= 1;
        return true;
    }
}
