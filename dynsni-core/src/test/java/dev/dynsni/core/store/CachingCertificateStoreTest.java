package dev.dynsni.core.store;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.CertificateStore;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The caching composition over the store interfaces, with in-memory tiers: write-back, fencing on
 * change, and answers when one tier fails. (Redis and PostgreSQL themselves: CachingCertificateStoreFenceTest.)
 */
class CachingCertificateStoreTest
{
    private static CertificateRecord record(String name, String chain)
    {
        return new CertificateRecord(name, "EC", chain, "key", CertificateRecord.PLAIN, 0);
    }

    private static Map<String, List<CertificateRecord>> load(CertificateStore store, String... names) throws Exception
    {
        return store.load(List.of(names)).get(5, TimeUnit.SECONDS);
    }

    @Test
    void miss_isReadFromTheSource_andWrittenBack_thenAChangeFencesIt() throws Exception
    {
        InMemoryCertificateStore source = new InMemoryCertificateStore();
        InMemoryCertificateMap map = new InMemoryCertificateMap();
        CachingCertificateStore store = new CachingCertificateStore(map, source);
        List<String> changes = new CopyOnWriteArrayList<>();
        store.setChangeListener(new CertificateStore.ChangeListener()
        {
            @Override
            public void onChange(String name, long version)
            {
                changes.add(name + "@" + version);
            }

            @Override
            public void onChangesLost()
            {
            }
        });
        store.start();
        try
        {
            long v1 = source.put(record("a.example.com", "chain-1"));
            assertEquals(List.of("a.example.com@" + v1, "a.example.com@" + v1), changes, "told at once, and again once fenced");
            Map<String, List<CertificateRecord>> found = load(store, "a.example.com", "b.example.com");
            assertEquals("chain-1", found.get("a.example.com").get(0).chainPem());
            assertTrue(found.get("b.example.com").isEmpty(), "no certificate");
            assertEquals("chain-1", map.get(List.of("a.example.com")).get().get("a.example.com").get(0).chainPem(), "written back");
            assertTrue(map.get(List.of("b.example.com")).get().get("b.example.com").isEmpty(), "the negative is written back too");

            source.put(record("a.example.com", "chain-2"));
            assertFalse(map.get(List.of("a.example.com")).get().containsKey("a.example.com"), "the change dropped the old copy");
            assertFalse(map.put("a.example.com", List.of(record("a.example.com", "chain-1")), v1).get(), "an older write-back is refused");
            assertEquals("chain-2", load(store, "a.example.com").get("a.example.com").get(0).chainPem());
            assertEquals(0, store.getPendingInvalidations());
        }
        finally
        {
            store.stop();
        }
    }

    @Test
    void aChangeOfEveryName_dropsWhatTheMapHolds_andTellsL1AgainAfterwards() throws Exception
    {
        InMemoryCertificateStore source = new InMemoryCertificateStore();
        InMemoryCertificateMap map = new InMemoryCertificateMap();
        CachingCertificateStore store = new CachingCertificateStore(map, source);
        List<String> changes = new CopyOnWriteArrayList<>();
        store.setChangeListener(new CertificateStore.ChangeListener()
        {
            @Override
            public void onChange(String name, long version)
            {
                changes.add(name);
            }

            @Override
            public void onChangesLost()
            {
            }
        });
        store.start();
        try
        {
            source.put(record("a.example.com", "chain"));
            load(store, "a.example.com", "b.example.com");
            assertEquals(2, map.size(), "both written back");
            changes.clear();
            source.clear(); // as a TRUNCATE of the table, or dynsni evict --all
            assertEquals(0, map.size(), "the shared cache dropped everything");
            assertEquals(List.of("*", "*"), changes, "L1 told at once, and again once the shared cache is empty");
        }
        finally
        {
            store.stop();
        }
    }

    @Test
    void failingSource_answersWhatTheMapHolds_andNothingElse() throws Exception
    {
        InMemoryCertificateMap map = new InMemoryCertificateMap();
        map.put("held.example.com", List.of(record("held.example.com", "chain")), 1).get();
        CertificateStore down = names -> CompletableFuture.failedFuture(new IllegalStateException("PostgreSQL down"));
        CachingCertificateStore store = new CachingCertificateStore(map, down);
        store.start();
        try
        {
            Map<String, List<CertificateRecord>> found = load(store, "held.example.com", "other.example.com");
            assertEquals("chain", found.get("held.example.com").get(0).chainPem());
            assertFalse(found.containsKey("other.example.com"), "cannot tell: absent, not empty");
        }
        finally
        {
            store.stop();
        }
    }
}
