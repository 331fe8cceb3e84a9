package dev.dynsni.core.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import dev.dynsni.core.CertificateMap;
import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.ChangeFeed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shared cache tier in front of the source of truth, named after Jetty's
 * {@code CachingSessionDataStore}: typically Redis ({@link RedisCertificateStore}) in front of
 * PostgreSQL ({@link JdbcCertificateStore}), but any {@link CertificateMap} and
 * {@link CertificateStore} compose. Reads try the map; names it does not hold are read from the
 * store and written back to the map (fenced by version). Below, "Redis" is the map and
 * "PostgreSQL" the store.
 *
 * <p>Faults: Redis failing means PostgreSQL answers everything; PostgreSQL failing means the answer
 * is what Redis holds (a name Redis does not hold stays unanswered, so nothing negative is cached
 * from a partial answer).</p>
 *
 * <p>Changes from PostgreSQL's feed reach the listener (the in-process cache) at once, then Redis is
 * fenced, then the listener is told again, so a reload in between cannot keep the old value. Until
 * the fence has succeeded (Redis slow, timing out or down) the name is <em>pending</em>: its reads
 * skip Redis, and the fence is retried every half second, so a value Redis still holds from before
 * the change is never served again. Write-backs need no such care: the fence refuses an older
 * version once it is set, and deletes one written before it.</p>
 */
public class CachingCertificateStore implements CertificateStore
{
    private static final int MAX_PENDING = 100_000;
    private static final Logger LOG = LoggerFactory.getLogger(CachingCertificateStore.class);
    private final CertificateMap cache;
    private final CertificateStore source;
    /** Names changed in PostgreSQL whose Redis entry is not fenced yet, with the change's version. */
    private final ConcurrentHashMap<String, Long> pending = new ConcurrentHashMap<>();
    private volatile ChangeListener listener;
    private ScheduledExecutorService retries;

    /**
     * @param cache  the shared cache tier, started and stopped with this store
     * @param source the source of truth, started and stopped with this store; its change feed
     *               drives the invalidation of the cache tier
     */
    public CachingCertificateStore(CertificateMap cache, CertificateStore source)
    {
        this.cache = cache;
        this.source = source;
    }

    public CertificateMap getCache()
    {
        return cache;
    }

    public CertificateStore getSource()
    {
        return source;
    }

    @Override
    public List<StoreCounters> getCounters()
    {
        List<StoreCounters> counters = new ArrayList<>(cache.getCounters());
        counters.addAll(source.getCounters());
        return counters;
    }

    @Override
    public synchronized void start() throws Exception
    {
        if (retries != null)
            return;
        source.start();
        try
        {
            cache.start();
        }
        catch (Exception x)
        {
            source.stop();
            throw x;
        }
        retries = Executors.newSingleThreadScheduledExecutor(r ->
        {
            Thread thread = new Thread(r, "dynsni-redis-fence");
            thread.setDaemon(true);
            return thread;
        });
        retries.scheduleWithFixedDelay(this::retryPending, 500, 500, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() throws Exception
    {
        if (retries != null)
            retries.shutdownNow();
        retries = null;
        pending.clear();
        try
        {
            cache.stop();
        }
        finally
        {
            source.stop();
        }
    }

    /** @return how many changed names still wait for their Redis fence */
    public int getPendingInvalidations()
    {
        return pending.size();
    }

    private void fence(String name, long version)
    {
        cache.invalidate(name, version).whenComplete((fenced, x) ->
        {
            if (Boolean.TRUE.equals(fenced))
            {
                pending.remove(name, version);
                // anything read from Redis between the change and the fence is dropped now
                ChangeListener l = listener;
                if (l != null)
                    l.onChange(name, version);
            }
        });
    }

    private void retryPending()
    {
        try
        {
            int budget = 1000; // a round is bounded even after a long Redis outage
            for (Map.Entry<String, Long> entry : pending.entrySet())
            {
                if (budget-- == 0)
                    break;
                fence(entry.getKey(), entry.getValue());
            }
        }
        catch (Throwable x)
        {
            LOG.debug("Fence retry failed", x);
        }
    }

    /** The source of truth lists the names; the cache tier holds only some of them. */
    @Override
    public boolean forEachName(Consumer<String> action) throws Exception
    {
        return source.forEachName(action);
    }

    @Override
    public void setChangeListener(ChangeListener listener)
    {
        this.listener = listener;
        source.setChangeListener(new ChangeListener()
        {
            @Override
            public void onChange(String name, long version)
            {
                // L1 at once (the change is served without waiting on Redis, even when Redis is
                // slow or down), then Redis is fenced, then L1 again (see the class comment).
                if (ChangeFeed.EVICT_ALL.equals(name))
                {
                    // dynsni evict --all, a TRUNCATE: every node drops Redis's entries (the first one
                    // does the work), then L1 again so that nothing read meanwhile from Redis stays
                    listener.onChange(name, version);
                    cache.evictAll().whenComplete((dropped, failure) ->
                    {
                        if (failure != null)
                            LOG.warn("Cannot drop the shared cache's entries after a change of every name reason={}", String.valueOf(failure));
                        listener.onChange(name, version);
                    });
                    return;
                }
                {
                    if (pending.size() < MAX_PENDING)
                        pending.merge(name, version, Math::max);
                    else
                        LOG.warn("Too many changes wait for Redis name={}: reads of it may see the old value until redis.ttlSeconds", name);
                }
                listener.onChange(name, version);
                fence(name, version);
            }

            @Override
            public void onChangesLost()
            {
                listener.onChangesLost();
            }
        });
    }

    @Override
    public CompletableFuture<Map<String, List<CertificateRecord>>> load(List<String> names)
    {
        // Redis may still hold a pending name's value from before its change: PostgreSQL answers it
        // (and may write it back: the fence refuses an older version once it is set).
        List<String> fromRedis = names;
        if (!pending.isEmpty())
        {
            fromRedis = new ArrayList<>(names.size());
            for (String name : names)
            {
                if (!pending.containsKey(name))
                    fromRedis.add(name);
            }
        }
        // A map still starting (a Redis client loading and connecting) is not waited for: every name
        // is read from the store and written back, the write waiting for the map.
        CompletableFuture<Map<String, List<CertificateRecord>>> cachedFuture = fromRedis.isEmpty() || !cache.isReady()
            ? CompletableFuture.completedFuture(Map.of())
            : cache.get(fromRedis).handle((cached, failure) -> cached);
        return cachedFuture.thenCompose(cached ->
        {
            if (cached == null)
                return source.load(names); // Redis failing: no write-back
            if (cached.size() == names.size())
                return CompletableFuture.completedFuture(cached);
            List<String> missing = new ArrayList<>(names.size());
            for (String name : names)
            {
                if (!cached.containsKey(name))
                    missing.add(name);
            }
            return source.load(missing).handle((loaded, failure) ->
            {
                if (failure != null)
                {
                    // PostgreSQL is failing: answer with what Redis holds, if anything.
                    if (cached.values().stream().allMatch(List::isEmpty))
                        throw failure instanceof RuntimeException rx ? rx : new IllegalStateException(failure);
                    return cached;
                }
                Map<String, List<CertificateRecord>> merged = new HashMap<>(cached);
                for (Map.Entry<String, List<CertificateRecord>> entry : loaded.entrySet())
                {
                    List<CertificateRecord> records = entry.getValue();
                    long version = records.stream().mapToLong(CertificateRecord::version).max().orElse(0);
                    cache.put(entry.getKey(), records, version);
                    merged.put(entry.getKey(), records);
                }
                return merged;
            });
        });
    }

    @Override
    public String toString()
    {
        return "CachingCertificateStore[" + cache + " -> " + source + "]";
    }
}
