package dev.dynsni.core.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.CertificateStore;

/**
 * Certificates held in this process: a {@link CertificateStore} for tests and embedded servers
 * that need no database. {@link #put} and {@link #remove} stamp a new version and tell the change
 * listener at once, as PostgreSQL's trigger and feed would; every lookup completes before it
 * returns. Thread-safe; the records of one name are replaced as a whole, so a lookup never sees
 * half a change. It lists its names ({@link #forEachName}); {@link #start()} tells the listener
 * that changes before it were not reported, as a feed connecting does.
 */
public class InMemoryCertificateStore implements CertificateStore
{
    private final ConcurrentHashMap<String, List<CertificateRecord>> records = new ConcurrentHashMap<>();
    private final AtomicLong versions = new AtomicLong();
    private final StoreCounters counters = new StoreCounters("memory");
    private volatile ChangeListener listener;

    @Override
    public void setChangeListener(ChangeListener listener)
    {
        this.listener = listener;
    }

    @Override
    public void start()
    {
        ChangeListener l = listener;
        if (l != null)
            l.onChangesLost();
    }

    @Override
    public boolean forEachName(Consumer<String> action)
    {
        records.keySet().forEach(action);
        return true;
    }

    @Override
    public List<StoreCounters> getCounters()
    {
        return List.of(counters);
    }

    /** @return the store's counters: a lookup that found something is a hit */
    public StoreCounters counters()
    {
        return counters;
    }

    /**
     * Stores a record under its name and key type, replacing one of the same key type, with a new
     * version (the record's own version is ignored), then tells the listener.
     *
     * @return the version stamped
     */
    public long put(CertificateRecord record)
    {
        long version = versions.incrementAndGet();
        CertificateRecord stamped = new CertificateRecord(record.name(), record.keyType(), record.chainPem(), record.keyPem(), record.keyEncoding(), version);
        records.compute(record.name(), (name, held) ->
        {
            List<CertificateRecord> next = new ArrayList<>(held == null ? List.of() : held);
            next.removeIf(r -> r.keyType().equals(record.keyType()));
            next.add(stamped);
            return List.copyOf(next);
        });
        notifyChange(record.name(), version);
        return version;
    }

    /**
     * Removes every record of a stored name, then tells the listener.
     *
     * @return whether there was any
     */
    public boolean remove(String name)
    {
        boolean removed = records.remove(name) != null;
        if (removed)
            notifyChange(name, versions.incrementAndGet());
        return removed;
    }

    /** Removes everything, then tells the listener that every name changed, as a TRUNCATE of the table does. */
    public void clear()
    {
        records.clear();
        notifyChange(dev.dynsni.core.ChangeFeed.EVICT_ALL, versions.incrementAndGet());
    }

    /** @return how many names hold records */
    public int size()
    {
        return records.size();
    }

    private void notifyChange(String name, long version)
    {
        ChangeListener l = listener;
        if (l != null)
            l.onChange(name, version);
    }

    @Override
    public CompletableFuture<Map<String, List<CertificateRecord>>> load(List<String> names)
    {
        long start = System.nanoTime();
        Map<String, List<CertificateRecord>> result = new HashMap<>();
        boolean found = false;
        for (String name : names)
        {
            List<CertificateRecord> held = records.getOrDefault(name, List.of());
            found |= !held.isEmpty();
            result.put(name, held);
        }
        (found ? counters.hits : counters.misses).increment();
        counters.record(start);
        return CompletableFuture.completedFuture(result);
    }

    @Override
    public String toString()
    {
        return "InMemoryCertificateStore[names=" + records.size() + "]";
    }
}
