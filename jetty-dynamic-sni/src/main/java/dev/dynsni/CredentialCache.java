package dev.dynsni;

import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.CertificatePool;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.Credential;
import dev.dynsni.core.CredentialParser;
import dev.dynsni.core.HostNames;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.MasterKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * L1: parsed credentials per SNI host in a bounded Caffeine cache, and a separate bounded negative
 * cache of hosts known to have no servable certificate.
 *
 * <p>Bounds: at most {@code maxEntries} hosts and at most {@code maxBytes} of estimated heap
 * ({@link HostCredentials#estimatedBytesFor}). Caffeine bounds a cache by count or by weight, not both,
 * so each host weighs {@code max(estimate, maxBytes / maxEntries)} against a maximum weight of
 * {@code maxEntries * (maxBytes / maxEntries)}: the count can then never pass {@code maxEntries} and
 * the estimates never pass {@code maxBytes}. The price is that a host smaller than the per-host share
 * counts as the share, so a cache of mixed sizes evicts a little before both bounds are reached;
 * with the defaults the share (6.7 KiB) is above what a typical host takes, and the byte bound acts
 * only on large chains and keys.</p>
 *
 * <p>Sharing: certificates are parsed into a compact form and interned by the SHA-256 of their
 * encoding, weakly ({@link CertificatePool}), so an intermediate common to many tenants, or one
 * leaf stored under several names, is held once; the credentials of a wildcard are held once for
 * every host it serves. The estimate of an entry counts a shared certificate only for the entry
 * whose load brought it in (also when that entry reloads), and the credentials of a wildcard only
 * for the host whose load built them: an estimate is off at most by one copy of each shared part
 * whose first holder was evicted while others still hold it.</p>
 *
 * <p>Concurrency design: lookups are lock-free reads of Caffeine maps. A miss starts one asynchronous
 * load per host (Caffeine's {@code AsyncLoadingCache} shares the future among concurrent callers);
 * the load asks the store for the exact name and its one-label wildcard in one call, parses and
 * validates, and completes the future. Entries refresh after write in the background, and a refresh
 * that fails keeps the old value, so hosts already held keep being served while the stores are down.
 * A change from the feed invalidates the affected hosts (for a wildcard, every cached host under
 * it). A generation counter keeps a load that raced with a change from caching a stale negative.</p>
 *
 * <p>Unknown names: once the {@link HostIndex} is built, a host whose name and wildcard it rules
 * out is answered "none" at once, without a load, a negative entry or a store round trip; a load
 * asks the store only for the names the index does not rule out. Before it is built, or without one,
 * every miss loads.</p>
 */
final class CredentialCache
{
    private static final Logger LOG = LoggerFactory.getLogger(CredentialCache.class);
    private static final Boolean ABSENT = Boolean.TRUE;
    /** What the certificate pool spends per certificate: its key, Caffeine's weak-value node and reference, the map's node. */
    private static final int POOL_ENTRY_BYTES = 170;

    private static final CompletableFuture<HostCredentials> NONE = CompletableFuture.completedFuture(null);

    private final CertificateStore store;
    /** The stored names; null: every name is looked up. */
    private final HostIndex index;
    private final MasterKeys masterKeys;
    private final DynamicSniStatistics statistics;
    private final Ticker ticker;
    private final AsyncLoadingCache<String, HostCredentials> positive;
    private final CertificatePool certificates;
    /** What L1 holds for each wildcard name (by name, version and aliases), shared by every host it serves. */
    private final Cache<String, HostCredentials> wildcards;
    private final Cache<String, Boolean> negative;
    /** Bumped when everything is dropped; a load that started before must not cache a negative. */
    private final AtomicLong generation = new AtomicLong();
    /** When each stored name last changed (ticker nanos), so a racing load does not cache a stale negative. */
    private final ConcurrentHashMap<String, Long> changedAt = new ConcurrentHashMap<>();
    /** Invalid records already logged, by name|fingerprint-ish key, so each is logged once. */
    private final Set<String> loggedInvalid = ConcurrentHashMap.newKeySet();
    private final UnaryOperator<Credential> engineForm;

    CredentialCache(CertificateStore store, HostIndex index, MasterKeys masterKeys, DynamicSniStatistics statistics, long maxEntries, long maxBytes, Duration refreshAfterWrite,
                    long negativeMaxEntries, Duration negativeTtl, Executor executor, Ticker ticker)
    {
        this(store, index, masterKeys, statistics, maxEntries, maxBytes, refreshAfterWrite, negativeMaxEntries, negativeTtl, executor, ticker, UnaryOperator.identity());
    }

    /**
     * @param engineForm gives each parsed credential the form the TLS engine uses as it is (Conscrypt:
     *                   a native key), once, when it enters L1
     */
    CredentialCache(CertificateStore store, HostIndex index, MasterKeys masterKeys, DynamicSniStatistics statistics, long maxEntries, long maxBytes, Duration refreshAfterWrite,
                    long negativeMaxEntries, Duration negativeTtl, Executor executor, Ticker ticker, UnaryOperator<Credential> engineForm)
    {
        this.engineForm = engineForm;
        this.store = store;
        this.index = index;
        this.masterKeys = masterKeys;
        this.statistics = statistics;
        this.ticker = ticker;
        long share = Math.max(1, Math.min(Integer.MAX_VALUE, maxBytes / maxEntries));
        long maximumWeight = maxBytes / maxEntries >= 1 ? share * maxEntries : maxBytes;
        int minimumWeight = (int)share;
        this.positive = Caffeine.newBuilder()
            .maximumWeight(maximumWeight)
            .weigher((String host, HostCredentials held) -> Math.max(minimumWeight, held.estimatedBytesFor(host)))
            .evictionListener((String host, HostCredentials held, RemovalCause cause) ->
            {
                if (cause == RemovalCause.SIZE)
                    statistics.l1Evictions.increment();
            })
            .refreshAfterWrite(refreshAfterWrite)
            .executor(executor)
            .ticker(ticker)
            .buildAsync((host, ex) -> load(host));
        Cache<Sha256, X509Certificate> pool = Caffeine.newBuilder().weakValues().executor(executor).build();
        this.certificates = new CertificatePool()
        {
            @Override
            public X509Certificate intern(byte[] sha256, X509Certificate certificate)
            {
                return pool.get(Sha256.of(sha256), digest -> certificate);
            }

            @Override
            public int entryBytes()
            {
                return POOL_ENTRY_BYTES;
            }
        };
        this.wildcards = Caffeine.newBuilder().weakValues().executor(executor).build();
        this.negative = Caffeine.newBuilder()
            .maximumSize(negativeMaxEntries)
            .expireAfterWrite(negativeTtl)
            .executor(executor)
            .ticker(ticker)
            .build();
        statistics.setSizeSuppliers(() -> positive.synchronous().estimatedSize(), this::estimatedBytes, negative::estimatedSize);
    }

    /**
     * @param host a normalised host name
     * @return a future of the host's credentials, null when it has none; completed at once on a hit
     */
    CompletableFuture<HostCredentials> resolve(String host)
    {
        CompletableFuture<HostCredentials> cached = positive.getIfPresent(host);
        if (cached != null && cached.isDone() && !cached.isCompletedExceptionally())
        {
            statistics.l1Hits.increment();
            return cached;
        }
        if (negative.getIfPresent(host) != null)
        {
            statistics.negativeHits.increment();
            return NONE;
        }
        if (index != null && index.rulesOut(host))
        {
            String wildcard = HostNames.wildcardFor(host);
            if (wildcard == null || index.rulesOut(wildcard))
            {
                statistics.indexRejections.increment();
                return NONE;
            }
        }
        statistics.l1Misses.increment();
        return positive.get(host);
    }

    /** @return whether L1 holds an entry for the host, loaded or still loading */
    boolean holds(String host)
    {
        return positive.getIfPresent(host) != null;
    }

    /**
     * @return the credentials held for the host without loading, or null
     */
    HostCredentials peek(String host)
    {
        CompletableFuture<HostCredentials> cached = positive.getIfPresent(host);
        if (cached != null && cached.isDone() && !cached.isCompletedExceptionally())
            return cached.join();
        return null;
    }

    private CompletableFuture<HostCredentials> load(String host)
    {
        long gen = generation.get();
        long start = System.nanoTime();
        long startTick = ticker.read();
        String wildcard = HostNames.wildcardFor(host);
        // Names the index rules out are known to have no certificate: only the others are asked for.
        boolean askHost = index == null || !index.rulesOut(host);
        boolean askWildcard = wildcard != null && (index == null || !index.rulesOut(wildcard));
        List<String> names = askHost ? (askWildcard ? List.of(host, wildcard) : List.of(host)) : (askWildcard ? List.of(wildcard) : List.of());
        CompletableFuture<Map<String, List<CertificateRecord>>> loaded;
        try
        {
            loaded = names.isEmpty() ? CompletableFuture.completedFuture(Map.of()) : store.load(names);
        }
        catch (Throwable x)
        {
            loaded = CompletableFuture.failedFuture(x);
        }
        return loaded.handle((records, failure) ->
        {
            if (!names.isEmpty())
            {
                statistics.loads.increment();
                statistics.loadNanos.add(System.nanoTime() - start);
            }
            if (failure != null)
            {
                statistics.loadErrors.increment();
                if (LOG.isDebugEnabled())
                    LOG.debug("Load failed sni={} reason={}", host, failure.toString());
                throw new LoadFailure(failure);
            }
            List<CertificateRecord> exact = askHost ? records.get(host) : List.of();
            List<CertificateRecord> wild = wildcard == null ? null : askWildcard ? records.get(wildcard) : List.of();
            HostCredentials result = null;
            if (exact != null && !exact.isEmpty())
                result = parse(host, host, exact);
            else if (wild != null && !wild.isEmpty())
                result = parse(host, wildcard, wild);
            else if (exact == null || (wildcard != null && wild == null))
            {
                // The stores could not say whether the host has a certificate: do not cache a negative.
                statistics.loadErrors.increment();
                throw new LoadFailure(new IllegalStateException("no store could answer for " + host));
            }
            if (result == null && !names.isEmpty() && generation.get() == gen && !changedSince(host, startTick) && (wildcard == null || !changedSince(wildcard, startTick)))
                negative.put(host, ABSENT);
            return result;
        });
    }

    /**
     * @param host the host the entry is for
     * @param name the stored name whose records these are: the host, or the wildcard that covers it
     */
    private HostCredentials parse(String host, String name, List<CertificateRecord> records)
    {
        long now = System.currentTimeMillis();
        List<Credential> valid = new ArrayList<>(records.size());
        for (CertificateRecord record : records)
        {
            try
            {
                valid.add(engineForm.apply(CredentialParser.parse(record, masterKeys, now, certificates)));
            }
            catch (InvalidCredentialException x)
            {
                statistics.invalidCredentials.increment();
                if (loggedInvalid.size() < 100_000 && loggedInvalid.add(name + "|" + record.keyType() + "|" + record.version()))
                    LOG.warn("Certificate not served name={} keyType={} version={} reason={}", name, record.keyType(), record.version(), x.getMessage());
            }
        }
        if (valid.isEmpty())
            return null;
        long version = records.stream().mapToLong(CertificateRecord::version).max().orElse(0);
        Credential[] credentials = valid.toArray(new Credential[0]);
        int bytes = HostCredentials.entryBytes(host) + HostCredentials.credentialBytes(credentials);
        if (!name.startsWith("*."))
            return new HostCredentials(name, credentials, version, bytes, null);
        StringBuilder key = new StringBuilder(name).append('|').append(version);
        for (Credential credential : credentials)
        {
            key.append('|').append(credential.getAlias());
        }
        HostCredentials built = new HostCredentials(name, credentials, version, bytes, host);
        return wildcards.get(key.toString(), k -> built);
    }

    /** @return the estimated heap L1 retains: the sum of its entries' estimates */
    long estimatedBytes()
    {
        long bytes = 0;
        for (Map.Entry<String, HostCredentials> entry : positive.synchronous().asMap().entrySet())
        {
            bytes += entry.getValue().estimatedBytesFor(entry.getKey());
        }
        return bytes;
    }

    /** A SHA-256 digest as a map key: 48 bytes against 104 for its hex string. */
    private record Sha256(long a, long b, long c, long d)
    {
        static Sha256 of(byte[] digest)
        {
            ByteBuffer buffer = ByteBuffer.wrap(digest);
            return new Sha256(buffer.getLong(), buffer.getLong(), buffer.getLong(), buffer.getLong());
        }
    }

    /**
     * Drops what L1 holds for a stored name: the host itself, or for a wildcard every host under it
     * that the wildcard served (or that was unknown). An entry already built from the changed
     * version or a newer one is kept, so a late notification does not throw away fresh data.
     *
     * @param version the version of the change; 0 or less when unknown (always drop)
     */
    void invalidate(String name, long version)
    {
        recordChange(name);
        statistics.changes.increment();
        if (name.startsWith("*."))
        {
            String suffix = name.substring(1);
            for (Map.Entry<String, CompletableFuture<HostCredentials>> entry : positive.asMap().entrySet())
            {
                if (covers(suffix, entry.getKey()))
                    dropIfStale(entry.getKey(), entry.getValue(), name, version);
            }
            negative.asMap().keySet().removeIf(host -> covers(suffix, host));
        }
        else
        {
            negative.invalidate(name);
            CompletableFuture<HostCredentials> held = positive.getIfPresent(name);
            if (held != null)
                dropIfStale(name, held, name, version);
        }
    }

    /**
     * Removes the entry if it is older than the change; a load still in flight is judged when it
     * completes (it may have read the old value from Redis just before the fence was set).
     */
    private void dropIfStale(String host, CompletableFuture<HostCredentials> held, String changedName, long version)
    {
        if (!held.isDone())
        {
            held.whenComplete((value, failure) ->
            {
                if (failure == null && isStale(value, changedName, version))
                    positive.asMap().remove(host, held);
            });
            return;
        }
        HostCredentials value = held.isCompletedExceptionally() ? null : held.getNow(null);
        if (isStale(value, changedName, version))
            positive.asMap().remove(host, held);
    }

    private void recordChange(String name)
    {
        long now = ticker.read();
        changedAt.put(name, now);
        if (changedAt.size() > 10_000)
        {
            long horizon = now - Duration.ofMinutes(1).toNanos();
            changedAt.values().removeIf(at -> at - horizon < 0);
        }
    }

    private boolean changedSince(String name, long tick)
    {
        Long at = changedAt.get(name);
        return at != null && at - tick >= 0;
    }

    private static boolean isStale(HostCredentials held, String changedName, long version)
    {
        if (held == null || version <= 0)
            return true;
        // A host served by its own exact certificate is not affected by a change of the wildcard.
        if (changedName.startsWith("*.") && !held.name.equals(changedName))
            return false;
        return !held.name.equals(changedName) || held.version < version;
    }

    private static boolean covers(String suffix, String host)
    {
        // suffix is ".parent": a host is covered when it is exactly one label plus that suffix
        return host.endsWith(suffix) && host.indexOf('.') == host.length() - suffix.length();
    }

    /**
     * Changes may have been missed: reload every positive entry in the background (old values keep
     * being served until the reload completes) and forget every negative one.
     */
    void refreshAll()
    {
        generation.incrementAndGet();
        negative.invalidateAll();
        positive.synchronous().refreshAll(positive.synchronous().asMap().keySet());
    }

    void invalidateAll()
    {
        generation.incrementAndGet();
        negative.invalidateAll();
        positive.synchronous().invalidateAll();
    }

    /** Runs Caffeine's pending maintenance (evictions) now; for tests. */
    void cleanUp()
    {
        positive.synchronous().cleanUp();
    }

    long size()
    {
        return positive.synchronous().estimatedSize();
    }

    Ticker ticker()
    {
        return ticker;
    }

    /** A failed load, without a stack trace of its own. */
    static final class LoadFailure extends RuntimeException
    {
        LoadFailure(Throwable cause)
        {
            super(String.valueOf(cause), cause, false, false);
        }
    }
}
