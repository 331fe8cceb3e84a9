package dev.dynsni;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import dev.dynsni.core.store.StoreCounters;
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
    final LongAdder unresolvedByPrefetch = new LongAdder();
    final LongAdder loadNanos = new LongAdder();
    final LongAdder invalidSni = new LongAdder();
    final LongAdder noSni = new LongAdder();
    final LongAdder servedDynamic = new LongAdder();
    final LongAdder servedDefault = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder notHosted = new LongAdder();
    final LongAdder invalidCredentials = new LongAdder();
    final LongAdder keyManagerErrors = new LongAdder();
    final LongAdder changes = new LongAdder();
    final LongAdder contextRebuilds = new LongAdder();
    final LongAdder l1Evictions = new LongAdder();
    final LongAdder indexRejections = new LongAdder();
    private volatile HostIndex hostIndex;
    private volatile LongSupplier l1Size = () -> 0;
    private volatile LongSupplier l1EstimatedBytes = () -> 0;
    private volatile LongSupplier negativeSize = () -> 0;
    private volatile StoreCounters redis;
    private volatile StoreCounters postgres;

    /** Attaches the counters of the store's tiers ({@code redis}, {@code postgres}); others are ignored. */
    void setStoreCounters(List<StoreCounters> counters)
    {
        StoreCounters r = null;
        StoreCounters p = null;
        for (StoreCounters c : counters)
        {
            if ("redis".equals(c.getTier()))
                r = c;
            else if ("postgres".equals(c.getTier()))
                p = c;
        }
        redis = r;
        postgres = p;
    }

    private static String state(StoreCounters tier)
    {
        return tier == null ? "not configured" : tier.isAvailable() ? "up" : "down";
    }

    private static long sum(StoreCounters tier, java.util.function.Function<StoreCounters, LongAdder> adder)
    {
        return tier == null ? 0 : adder.apply(tier).sum();
    }

    void setHostIndex(HostIndex hostIndex)
    {
        this.hostIndex = hostIndex;
    }

    void setSizeSuppliers(LongSupplier l1Size, LongSupplier l1EstimatedBytes, LongSupplier negativeSize)
    {
        this.l1Size = l1Size;
        this.l1EstimatedBytes = l1EstimatedBytes;
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

    @ManagedAttribute("Handshakes for a name the SNI prefetch did not resolve and L1 did not hold: answered by the unknown-host policy, without asking a store")
    public long getUnresolvedByPrefetch()
    {
        return unresolvedByPrefetch.sum();
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

    @ManagedAttribute("Handshakes for a name with a stored certificate that no deployed context claims (hostedNames=deployed): given the unknown-host policy")
    public long getNotHosted()
    {
        return notHosted.sum();
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

    @ManagedAttribute("Estimated bytes of heap the in-process cache (L1) retains (bounded by cache.maxBytes)")
    public long getL1EstimatedBytes()
    {
        return l1EstimatedBytes.getAsLong();
    }

    @ManagedAttribute("Hosts evicted from the in-process cache (L1) to stay within cache.maxEntries and cache.maxBytes")
    public long getL1Evictions()
    {
        return l1Evictions.sum();
    }

    @ManagedAttribute("Entries in the negative cache")
    public long getNegativeSize()
    {
        return negativeSize.getAsLong();
    }

    @ManagedAttribute("Lookups of names nobody stored answered by the host index, without a store round trip")
    public long getIndexRejections()
    {
        return indexRejections.sum();
    }

    @ManagedAttribute("Whether the host index of stored names is built and current (until then every name is looked up)")
    public boolean isIndexReady()
    {
        HostIndex index = hostIndex;
        return index != null && index.isReady();
    }

    @ManagedAttribute("Stored names in the host index")
    public long getIndexEntries()
    {
        HostIndex index = hostIndex;
        return index == null ? 0 : index.getEntries();
    }

    @ManagedAttribute("Heap the host index takes, in bytes (8 per stored name)")
    public long getIndexBytes()
    {
        HostIndex index = hostIndex;
        return index == null ? 0 : index.getBytes();
    }

    @ManagedAttribute("Builds of the host index (at start and after each gap in the change feed)")
    public long getIndexBuilds()
    {
        HostIndex index = hostIndex;
        return index == null ? 0 : index.getBuilds();
    }

    @ManagedAttribute("Duration of the last build of the host index, ms")
    public long getIndexBuildMillis()
    {
        HostIndex index = hostIndex;
        return index == null ? 0 : index.getLastBuildMillis();
    }

    @ManagedAttribute("Entries written to Redis (certificates and 'no certificate' answers read from PostgreSQL)")
    public long getRedisWrites()
    {
        return sum(redis, t -> t.writes);
    }

    @ManagedAttribute("Redis tier (L2) state: up, down or not configured")
    public String getRedisState()
    {
        return state(redis);
    }

    @ManagedAttribute("Redis (L2) hits")
    public long getRedisHits()
    {
        return sum(redis, t -> t.hits);
    }

    @ManagedAttribute("Redis (L2) misses")
    public long getRedisMisses()
    {
        return sum(redis, t -> t.misses);
    }

    @ManagedAttribute("Redis (L2) errors and timeouts")
    public long getRedisErrors()
    {
        return sum(redis, t -> t.errors);
    }

    @ManagedAttribute("Redis (L2) lookups")
    public long getRedisQueries()
    {
        return sum(redis, t -> t.queries);
    }

    @ManagedAttribute("Mean Redis (L2) round trip, in microseconds")
    public long getRedisMeanMicros()
    {
        StoreCounters tier = redis;
        return tier == null ? 0 : tier.getMeanMicros();
    }

    @ManagedAttribute("PostgreSQL tier (L3) state: up, down or not configured")
    public String getPostgresState()
    {
        return state(postgres);
    }

    @ManagedAttribute("Whether the PostgreSQL change feed (LISTEN) is connected")
    public boolean isChangeFeedConnected()
    {
        StoreCounters tier = postgres;
        return tier != null && tier.isFeedConnected();
    }

    @ManagedAttribute("PostgreSQL (L3) queries that found a certificate")
    public long getPostgresHits()
    {
        return sum(postgres, t -> t.hits);
    }

    @ManagedAttribute("PostgreSQL (L3) queries that found nothing")
    public long getPostgresMisses()
    {
        return sum(postgres, t -> t.misses);
    }

    @ManagedAttribute("PostgreSQL (L3) errors and timeouts")
    public long getPostgresErrors()
    {
        return sum(postgres, t -> t.errors);
    }

    @ManagedAttribute("PostgreSQL (L3) queries")
    public long getPostgresQueries()
    {
        return sum(postgres, t -> t.queries);
    }

    @ManagedAttribute("Mean PostgreSQL (L3) query time, in microseconds")
    public long getPostgresMeanMicros()
    {
        StoreCounters tier = postgres;
        return tier == null ? 0 : tier.getMeanMicros();
    }

    @ManagedOperation(value = "Resets all counters", impact = "ACTION")
    public void reset()
    {
        for (LongAdder adder : new LongAdder[]{l1Hits, l1Misses, negativeHits, loads, loadErrors, loadTimeouts, unresolvedByPrefetch, loadNanos,
            invalidSni, noSni, servedDynamic, servedDefault, rejected, notHosted, invalidCredentials, keyManagerErrors, changes, contextRebuilds, l1Evictions,
            indexRejections})
        {
            adder.reset();
        }
        for (StoreCounters tier : new StoreCounters[]{redis, postgres})
        {
            if (tier != null)
                tier.reset();
        }
    }

    @Override
    public String toString()
    {
        return String.format("DynamicSniStatistics[l1Hits=%d, l1Misses=%d, negativeHits=%d, loads=%d, loadErrors=%d, redis=%s, postgres=%s, served=%d, default=%d, rejected=%d]",
            getL1Hits(), getL1Misses(), getNegativeHits(), getLoads(), getLoadErrors(), getRedisState(), getPostgresState(),
            getServedDynamic(), getServedDefault(), getRejected());
    }
}
