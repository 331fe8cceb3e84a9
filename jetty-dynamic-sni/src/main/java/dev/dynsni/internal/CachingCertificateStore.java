package dev.dynsni.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.dynsni.CertificateRecord;
import dev.dynsni.CertificateStore;
import org.eclipse.jetty.util.component.ContainerLifeCycle;

/**
 * Redis in front of PostgreSQL, named after Jetty's {@code CachingSessionDataStore}: reads try Redis,
 * names Redis does not hold are read from PostgreSQL and written back to Redis (fenced by version).
 *
 * <p>Faults: Redis failing means PostgreSQL answers everything; PostgreSQL failing means the answer
 * is what Redis holds (a name Redis does not hold stays unanswered, so nothing negative is cached
 * from a partial answer). Changes from PostgreSQL's feed reach the listener (the in-process cache)
 * at once and again after Redis is fenced, so a reload in between cannot keep the old value.</p>
 */
public class CachingCertificateStore extends ContainerLifeCycle implements CertificateStore
{
    private static final String ALL = "*";
    private final RedisCertificateStore redis;
    private final JdbcCertificateStore jdbc;

    public CachingCertificateStore(RedisCertificateStore redis, JdbcCertificateStore jdbc)
    {
        this.redis = redis;
        this.jdbc = jdbc;
        installBean(redis);
        installBean(jdbc);
    }

    public RedisCertificateStore getRedis()
    {
        return redis;
    }

    public JdbcCertificateStore getJdbc()
    {
        return jdbc;
    }

    @Override
    public void setChangeListener(ChangeListener listener)
    {
        jdbc.setChangeListener(new ChangeListener()
        {
            @Override
            public void onChange(String name, long version)
            {
                // L1 at once (the change is served without waiting on Redis, even when Redis is slow
                // or down), then again once Redis is fenced, in case L1 reloaded the old value from
                // Redis in between; the second pass keeps entries already at this version.
                listener.onChange(name, version);
                if (!ALL.equals(name)) // the admin tool clears Redis itself for "evict all"
                    redis.invalidate(name, version).whenComplete((r, x) -> listener.onChange(name, version));
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
        return redis.get(names).handle((cached, failure) -> cached).thenCompose(cached ->
        {
            if (cached == null)
                return jdbc.load(names);
            if (cached.size() == names.size())
                return CompletableFuture.completedFuture(cached);
            List<String> missing = new ArrayList<>(names.size());
            for (String name : names)
            {
                if (!cached.containsKey(name))
                    missing.add(name);
            }
            return jdbc.load(missing).handle((loaded, failure) ->
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
                    redis.put(entry.getKey(), records, version);
                    merged.put(entry.getKey(), records);
                }
                return merged;
            });
        });
    }

    @Override
    public String toString()
    {
        return "CachingCertificateStore[" + redis + " -> " + jdbc + "]";
    }
}
