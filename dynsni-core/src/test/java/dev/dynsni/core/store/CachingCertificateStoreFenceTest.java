package dev.dynsni.core.store;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A change whose Redis fence fails (Redis slow or briefly unreachable) must not let the value Redis
 * still holds from before the change be served: the name is read from PostgreSQL until a retried
 * fence succeeds. The fence failure is injected into the real Redis store; everything else is real.
 */
class CachingCertificateStoreFenceTest
{
    @Test
    void failedFence_readsSkipRedisUntilARetrySucceeds() throws Exception
    {
        CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
        String schema = TestServices.newSchema();
        AtomicInteger fenceFailures = new AtomicInteger();
        RedisCertificateStore redis = new RedisCertificateStore()
        {
            @Override
            public CompletableFuture<Boolean> invalidate(String name, long version)
            {
                if (fenceFailures.getAndDecrement() > 0)
                    return CompletableFuture.completedFuture(false);
                return super.invalidate(name, version);
            }
        };
        redis.setAddress(TestServices.redisUrl());
        redis.setKeyPrefix(TestServices.newKeyPrefix());
        JdbcCertificateStore jdbc = new JdbcCertificateStore();
        jdbc.setUrl(TestServices.jdbcUrl());
        jdbc.setSchema(schema);
        CachingCertificateStore store = new CachingCertificateStore(redis, jdbc);
        List<Long> changes = new CopyOnWriteArrayList<>();
        store.setChangeListener(new CertificateStore.ChangeListener()
        {
            @Override
            public void onChange(String name, long version)
            {
                changes.add(version);
            }

            @Override
            public void onChangesLost()
            {
            }
        });
        try (var connection = TestServices.connect())
        {
            SchemaMigrations.migrate(connection, schema);
        }
        store.start();
        try
        {
            String host = "fence.example.com";
            IssuedCertificate first = pki.ec(host);
            IssuedCertificate second = pki.ec(host);
            try (var connection = TestServices.connect(); var insert = connection.prepareStatement(
                "INSERT INTO " + schema + ".certificate (host, key_type, chain_pem, key_pem) VALUES (?, 'EC', ?, ?)"))
            {
                insert.setString(1, host);
                insert.setString(2, first.chainPem());
                insert.setString(3, first.pkcs8KeyPem());
                insert.executeUpdate();
            }
            // the insert's own notification (and its fence) must be over before the value is cached
            for (int i = 0; i < 200 && changes.size() < 2; i++)
            {
                Thread.sleep(10);
            }
            awaitPendingEmpty(store);
            assertEquals(first.chainPem(), chainOf(store, host));
            // the read wrote the value back to Redis: a read of Redis alone finds it
            for (int i = 0; i < 50 && redis.get(List.of(host)).get(5, TimeUnit.SECONDS).isEmpty(); i++)
            {
                Thread.sleep(20);
            }
            assertEquals(first.chainPem(), redis.get(List.of(host)).get(5, TimeUnit.SECONDS).get(host).get(0).chainPem());

            fenceFailures.set(3);
            int changesBefore = changes.size();
            try (var connection = TestServices.connect(); var update = connection.prepareStatement(
                "UPDATE " + schema + ".certificate SET chain_pem = ?, key_pem = ? WHERE host = ?"))
            {
                update.setString(1, second.chainPem());
                update.setString(2, second.pkcs8KeyPem());
                update.setString(3, host);
                update.executeUpdate();
            }
            for (int i = 0; i < 100 && changes.size() == changesBefore; i++)
            {
                Thread.sleep(10);
            }
            assertTrue(store.getPendingInvalidations() > 0, "the fence failed: the name is pending");
            // Redis still holds the old value, yet the store answers with the new one
            assertEquals(first.chainPem(), redis.get(List.of(host)).get(5, TimeUnit.SECONDS).get(host).get(0).chainPem());
            assertEquals(second.chainPem(), chainOf(store, host));

            awaitPendingEmpty(store);
            assertTrue(redis.get(List.of(host)).get(5, TimeUnit.SECONDS).isEmpty()
                || second.chainPem().equals(redis.get(List.of(host)).get(5, TimeUnit.SECONDS).get(host).get(0).chainPem()), "old value gone from Redis");
            assertEquals(second.chainPem(), chainOf(store, host));
        }
        finally
        {
            store.stop();
            TestServices.dropSchema(schema);
        }
    }

    private static String chainOf(CachingCertificateStore store, String host) throws Exception
    {
        Map<String, List<CertificateRecord>> records = store.load(List.of(host)).get(5, TimeUnit.SECONDS);
        return records.get(host).get(0).chainPem();
    }

    private static void awaitPendingEmpty(CachingCertificateStore store) throws InterruptedException
    {
        for (int i = 0; i < 100 && store.getPendingInvalidations() > 0; i++)
        {
            Thread.sleep(50);
        }
        assertEquals(0, store.getPendingInvalidations());
    }
}
