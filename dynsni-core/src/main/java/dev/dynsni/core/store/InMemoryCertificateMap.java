package dev.dynsni.core.store;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import dev.dynsni.core.CertificateMap;
import dev.dynsni.core.CertificateRecord;

/**
 * A {@link CertificateMap} in this process, standing in for Redis in front of another store (tests,
 * single-node embedded use). Its fence is exact and never expires: a write older than the newest
 * invalidation of a name is refused. Thread-safe; every call completes before it returns.
 */
public class InMemoryCertificateMap implements CertificateMap
{
    private final ConcurrentHashMap<String, List<CertificateRecord>> cached = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> fences = new ConcurrentHashMap<>();
    private final StoreCounters counters = new StoreCounters("memory");

    @Override
    public List<StoreCounters> getCounters()
    {
        return List.of(counters);
    }

    /** @return how many names are held */
    public int size()
    {
        return cached.size();
    }

    @Override
    public CompletableFuture<Map<String, List<CertificateRecord>>> get(List<String> names)
    {
        long start = System.nanoTime();
        Map<String, List<CertificateRecord>> result = new HashMap<>();
        for (String name : names)
        {
            List<CertificateRecord> held = cached.get(name);
            if (held != null)
                result.put(name, held);
        }
        (result.size() == names.size() ? counters.hits : counters.misses).increment();
        counters.record(start);
        return CompletableFuture.completedFuture(result);
    }

    @Override
    public CompletableFuture<Boolean> put(String name, List<CertificateRecord> records, long version)
    {
        boolean[] written = new boolean[1];
        fences.compute(name, (n, fence) ->
        {
            if (fence == null || fence <= version)
            {
                cached.put(name, List.copyOf(records));
                written[0] = true;
            }
            return fence;
        });
        return CompletableFuture.completedFuture(written[0]);
    }

    @Override
    public CompletableFuture<Boolean> invalidate(String name, long version)
    {
        long fence = version <= 0 ? Long.MAX_VALUE / 2 : version;
        fences.compute(name, (n, held) ->
        {
            cached.remove(name);
            return held == null ? fence : Math.max(held, fence);
        });
        return CompletableFuture.completedFuture(true);
    }

    @Override
    public String toString()
    {
        return "InMemoryCertificateMap[names=" + cached.size() + "]";
    }

    @Override
    public CompletableFuture<Long> evictAll()
    {
        long count = cached.size();
        cached.clear();
        return CompletableFuture.completedFuture(count);
    }
}
