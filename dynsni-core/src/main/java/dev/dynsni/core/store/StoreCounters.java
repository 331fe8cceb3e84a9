package dev.dynsni.core.store;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and state of one store tier ({@code redis}, {@code postgres}, {@code memory}), updated
 * lock-free by the tier itself and read by whoever reports them (the Jetty library over JMX, the
 * admin tool's {@code doctor}). Counts are cumulative since creation or the last {@link #reset()}.
 */
public final class StoreCounters
{
    public final LongAdder hits = new LongAdder();
    public final LongAdder misses = new LongAdder();
    public final LongAdder errors = new LongAdder();
    public final LongAdder nanos = new LongAdder();
    public final LongAdder queries = new LongAdder();
    /** Entries the tier wrote (a cache tier's write-backs); 0 for a tier that only reads. */
    public final LongAdder writes = new LongAdder();
    private final String tier;
    private volatile boolean available = true;
    private volatile boolean feedConnected;

    public StoreCounters(String tier)
    {
        this.tier = tier;
    }

    /** @return the tier's name: {@code redis}, {@code postgres} or {@code memory} */
    public String getTier()
    {
        return tier;
    }

    /** Counts one round trip that started at {@code startNanos} ({@link System#nanoTime()}). */
    public void record(long startNanos)
    {
        queries.increment();
        nanos.add(System.nanoTime() - startNanos);
    }

    public void setAvailable(boolean available)
    {
        this.available = available;
    }

    /** @return whether the tier's last round trip (or health check) succeeded */
    public boolean isAvailable()
    {
        return available;
    }

    public void setFeedConnected(boolean feedConnected)
    {
        this.feedConnected = feedConnected;
    }

    /** @return whether the tier's change feed is connected (PostgreSQL's LISTEN) */
    public boolean isFeedConnected()
    {
        return feedConnected;
    }

    /** @return the mean round trip in microseconds, 0 before the first */
    public long getMeanMicros()
    {
        long n = queries.sum();
        return n == 0 ? 0 : nanos.sum() / n / 1000;
    }

    public void reset()
    {
        hits.reset();
        misses.reset();
        errors.reset();
        nanos.reset();
        queries.reset();
        writes.reset();
    }

    @Override
    public String toString()
    {
        return String.format("%s[%s, hits=%d, misses=%d, errors=%d]", tier, available ? "up" : "down", hits.sum(), misses.sum(), errors.sum());
    }
}
