package dev.dynsni;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.ManagedOperation;

/**
 * Counters of certificate resolution, per tier, exposed over JMX with Jetty's {@code jmx} module.
 * All counters are cumulative since start (or the last {@link #reset()}); updates are lock-free.
 */
@ManagedObject("Dynamic SNI certificate resolution statistics")
public class DynamicSniStatistics
{
    final LongAdder l1Hits = new LongAdder();
    final LongAdder l1Misses = new LongAdder();
    final LongAdder negativeHits = new LongAdder();
    final LongAdder loads = new LongAdder();
    final LongAdder loadErrors = new LongAdder();
    final LongAdder loadTimeouts = new LongAdder();
    final LongAdder loadNanos = new LongAdder();
    final LongAdder invalidSni = new LongAdder();
    final LongAdder noSni = new LongAdder();
    final LongAdder servedDynamic = new LongAdder();
    final LongAdder servedDefault = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder invalidCredentials = new LongAdder();
    final LongAdder keyManagerErrors = new LongAdder();
    final LongAdder changes = new LongAdder();
    final LongAdder contextRebuilds = new LongAdder();
    /** Store-level counters, updated by the tier implementations. */
    public final TierCounters redis = new TierCounters();
    public final TierCounters postgres = new TierCounters();
    private volatile LongSupplier l1Size = () -> 0;
    private volatile LongSupplier negativeSize = () -> 0;

    /** Counters of one remote tier. */
    public static final class TierCounters
    {
        public final LongAdder hits = new LongAdder();
        public final LongAdder misses = new LongAdder();
        public final LongAdder errors = new LongAdder();
        public final LongAdder nanos = new LongAdder();
        public final LongAdder queries = new LongAdder();
        private volatile boolean available = true;
        private volatile boolean configured;
        private volatile boolean feedConnected;

        public void setFeedConnected(boolean feedConnected)
        {
            this.feedConnected = feedConnected;
        }

        public void record(long startNanos)
        {
            queries.increment();
            nanos.add(System.nanoTime() - startNanos);
        }

        public void setAvailable(boolean available)
        {
            this.available = available;
        }

        public boolean isAvailable()
        {
            return available;
        }

        public void setConfigured(boolean configured)
        {
            this.configured = configured;
        }

        public boolean isConfigured()
        {
            return configured;
        }

        void reset()
        {
            hits.reset();
            misses.reset();
            errors.reset();
            nanos.reset();
            queries.reset();
        }

        String state()
        {
            return !configured ? "not configured" : available ? "up" : "down";
        }
    }

    void setSizeSuppliers(LongSupplier l1Size, LongSupplier negativeSize)
    {
        this.l1Size = l1Size;
        this.negativeSize = negativeSize;
    }

    @ManagedAttribute("In-process cache (L1) hits")
    public long getL1Hits()
    {
        return l1Hits.sum();
    }

    @ManagedAttribute("In-process cache (L1) misses")
    public long getL1Misses()
    {
        return l1Misses.sum();
    }

    @ManagedAttribute("Lookups answered by the negative cache of unknown hosts")
    public long getNegativeHits()
    {
        return negativeHits.sum();
    }

    @ManagedAttribute("Loads from the stores behind L1")
    public long getLoads()
    {
        return loads.sum();
    }

    @ManagedAttribute("Loads that failed (every tier that could answer failed)")
    public long getLoadErrors()
    {
        return loadErrors.sum();
    }

    @ManagedAttribute("Handshakes that gave up waiting for a load")
    public long getLoadTimeouts()
    {
        return loadTimeouts.sum();
    }

    @ManagedAttribute("Mean load time behind L1, in microseconds")
    public long getLoadMeanMicros()
    {
        long n = loads.sum();
        return n == 0 ? 0 : loadNanos.sum() / n / 1000;
    }

    @ManagedAttribute("Handshakes whose SNI was not a valid DNS host name")
    public long getInvalidSni()
    {
        return invalidSni.sum();
    }

    @ManagedAttribute("Handshakes without SNI")
    public long getNoSni()
    {
        return noSni.sum();
    }

    @ManagedAttribute("Handshakes served a tenant certificate")
    public long getServedDynamic()
    {
        return servedDynamic.sum();
    }

    @ManagedAttribute("Handshakes served the default certificate")
    public long getServedDefault()
    {
        return servedDefault.sum();
    }

    @ManagedAttribute("Handshakes refused a certificate (the client gets a handshake alert)")
    public long getRejected()
    {
        return rejected.sum();
    }

    @ManagedAttribute("Stored certificates not served: corrupt, key mismatch, outside validity")
    public long getInvalidCredentials()
    {
        return invalidCredentials.sum();
    }

    @ManagedAttribute("Unexpected errors caught in the key manager")
    public long getKeyManagerErrors()
    {
        return keyManagerErrors.sum();
    }

    @ManagedAttribute("Change notifications received")
    public long getChanges()
    {
        return changes.sum();
    }

    @ManagedAttribute("SSL context rebuilds after certificate changes")
    public long getContextRebuilds()
    {
        return contextRebuilds.sum();
    }

    @ManagedAttribute("Entries in the in-process cache (L1)")
    public long getL1Size()
    {
        return l1Size.getAsLong();
    }

    @ManagedAttribute("Entries in the negative cache")
    public long getNegativeSize()
    {
        return negativeSize.getAsLong();
    }

    @ManagedAttribute("Redis tier (L2) state: up, down or not configured")
    public String getRedisState()
    {
        return redis.state();
    }

    @ManagedAttribute("Redis (L2) hits")
    public long getRedisHits()
    {
        return redis.hits.sum();
    }

    @ManagedAttribute("Redis (L2) misses")
    public long getRedisMisses()
    {
        return redis.misses.sum();
    }

    @ManagedAttribute("Redis (L2) errors and timeouts")
    public long getRedisErrors()
    {
        return redis.errors.sum();
    }

    @ManagedAttribute("Mean Redis (L2) round trip, in microseconds")
    public long getRedisMeanMicros()
    {
        long n = redis.queries.sum();
        return n == 0 ? 0 : redis.nanos.sum() / n / 1000;
    }

    @ManagedAttribute("PostgreSQL tier (L3) state: up, down or not configured")
    public String getPostgresState()
    {
        return postgres.state();
    }

    @ManagedAttribute("Whether the PostgreSQL change feed (LISTEN) is connected")
    public boolean isChangeFeedConnected()
    {
        return postgres.feedConnected;
    }

    @ManagedAttribute("PostgreSQL (L3) queries that found a certificate")
    public long getPostgresHits()
    {
        return postgres.hits.sum();
    }

    @ManagedAttribute("PostgreSQL (L3) queries that found nothing")
    public long getPostgresMisses()
    {
        return postgres.misses.sum();
    }

    @ManagedAttribute("PostgreSQL (L3) errors and timeouts")
    public long getPostgresErrors()
    {
        return postgres.errors.sum();
    }

    @ManagedAttribute("PostgreSQL (L3) queries")
    public long getPostgresQueries()
    {
        return postgres.queries.sum();
    }

    @ManagedAttribute("Mean PostgreSQL (L3) query time, in microseconds")
    public long getPostgresMeanMicros()
    {
        long n = postgres.queries.sum();
        return n == 0 ? 0 : postgres.nanos.sum() / n / 1000;
    }

    @ManagedOperation(value = "Resets all counters", impact = "ACTION")
    public void reset()
    {
        for (LongAdder adder : new LongAdder[]{l1Hits, l1Misses, negativeHits, loads, loadErrors, loadTimeouts, loadNanos,
            invalidSni, noSni, servedDynamic, servedDefault, rejected, invalidCredentials, keyManagerErrors, changes, contextRebuilds})
        {
            adder.reset();
        }
        redis.reset();
        postgres.reset();
    }

    @Override
    public String toString()
    {
        return String.format("DynamicSniStatistics[l1Hits=%d, l1Misses=%d, negativeHits=%d, loads=%d, loadErrors=%d, redis=%s, postgres=%s, served=%d, default=%d, rejected=%d]",
            getL1Hits(), getL1Misses(), getNegativeHits(), getLoads(), getLoadErrors(), getRedisState(), getPostgresState(),
            getServedDynamic(), getServedDefault(), getRejected());
    }
}
