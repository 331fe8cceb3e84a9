package dev.dynsni;

import java.time.Duration;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.CachingCertificateStore;
import dev.dynsni.core.store.InMemoryCertificateStore;
import dev.dynsni.core.store.RedisCertificateStore;
import dev.dynsni.testing.TcpProxy;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host index: once built, a name nobody stored costs no Redis or PostgreSQL round trip and
 * writes no Redis key; names stored later are served once their change arrives; a gap in the change
 * feed stops the index from ruling anything out until it is rebuilt.
 */
class HostIndexTest
{
    private final CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
    private final TlsClient client = TlsClient.trusting(pki.caCertificate());

    private static void await(String what, Duration limit, BooleanSupplier condition) throws InterruptedException
    {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
                throw new AssertionError(what + " not within " + limit);
            Thread.sleep(20);
        }
    }

    private String served(TestServer server, String host)
    {
        TlsClient.Result result = client.handshake(server.port(), host);
        return result.ok() ? Pem.fingerprint(result.leaf()) : null;
    }

    private static long redisKeys(DynamicSniSslContextFactory factory, String prefix)
    {
        RedisCertificateStore redis = (RedisCertificateStore)((CachingCertificateStore)factory.getCertificateStore()).getCache();
        RedissonClient client = redis.getRedissonClient();
        return client.getKeys().getKeysStreamByPattern(prefix + "*").count();
    }

    @Test
    void unknownNames_onceTheIndexIsBuilt_costNoStoreRoundTrip_andWriteNoRedisKey() throws Exception
    {
        try (TestStore store = new TestStore())
        {
            IssuedCertificate real = pki.ec("real.example.com");
            IssuedCertificate wild = pki.ec("*.wild.example.com");
            store.put("real.example.com", real);
            store.put("*.wild.example.com", wild);
            DynamicSniSslContextFactory factory = store.newFactory(true);
            try (TestServer server = new TestServer(factory))
            {
                DynamicSniStatistics stats = factory.getStatistics();
                await("index built", Duration.ofSeconds(20), stats::isIndexReady);
                assertEquals(2, stats.getIndexEntries());
                assertEquals(32 + 8 * 2, stats.getIndexBytes());
                long postgres = stats.getPostgresQueries();
                long redis = stats.getRedisQueries();
                long writes = stats.getRedisWrites();
                long keys = redisKeys(factory, store.keyPrefix);
                long loads = stats.getLoads();

                int names = 0;
                for (int i = 0; i < 150; i++, names++)
                {
                    assertFalse(client.handshake(server.port(), "flood-" + UUID.randomUUID() + ".attacker.example").ok());
                }
                for (int i = 0; i < 50; i++, names++)
                {
                    assertFalse(client.handshake(server.port(), "x" + i + ".deeper.wild.example.com").ok()); // under no stored wildcard
                }

                assertEquals(0, stats.getPostgresQueries() - postgres, "PostgreSQL queries");
                assertEquals(0, stats.getRedisQueries() - redis, "Redis lookups");
                assertEquals(0, stats.getRedisWrites() - writes, "Redis writes");
                assertEquals(keys, redisKeys(factory, store.keyPrefix), "Redis keys");
                assertEquals(0, stats.getLoads() - loads, "loads");
                assertEquals(names, stats.getIndexRejections());
                assertEquals(0, stats.getNegativeSize(), "no negative entries either");

                assertEquals(Pem.fingerprint(real.certificate()), served(server, "real.example.com"));
                assertEquals(Pem.fingerprint(wild.certificate()), served(server, "shop.wild.example.com"));
                // one write-back per stored name; none for the names the index ruled out (real's wildcard, shop's exact name)
                await("write-backs", Duration.ofSeconds(5), () -> stats.getRedisWrites() - writes == 2);
                Thread.sleep(200);
                assertEquals(2, stats.getRedisWrites() - writes);
            }
        }
    }

    @Test
    void aNameStoredAfterTheIndexIsBuilt_isServedOnceItsChangeArrives() throws Exception
    {
        try (TestStore store = new TestStore())
        {
            store.put("first.example.com", pki.ec("first.example.com"));
            DynamicSniSslContextFactory factory = store.newFactory(true);
            try (TestServer server = new TestServer(factory))
            {
                await("index built", Duration.ofSeconds(20), factory.getStatistics()::isIndexReady);
                for (int i = 0; i < 10; i++)
                {
                    String host = "later" + i + ".example.com";
                    IssuedCertificate issued = i % 2 == 0 ? pki.ec(host) : pki.ec("*.w" + i + ".example.com");
                    store.put(i % 2 == 0 ? host : "*.w" + i + ".example.com", issued);
                    String asked = i % 2 == 0 ? host : "a.w" + i + ".example.com";
                    long start = System.nanoTime();
                    await(asked + " served", Duration.ofSeconds(2), () -> Pem.fingerprint(issued.certificate()).equals(served(server, asked)));
                    System.out.println("host index: " + asked + " served " + (System.nanoTime() - start) / 1_000_000 + " ms after its commit");
                }
                assertEquals(11, factory.getStatistics().getIndexEntries());
            }
        }
    }

    @Test
    void feedGap_nothingIsRuledOut_andTheRebuildSeesWhatWasWrittenMeanwhile() throws Exception
    {
        try (TestStore store = new TestStore();
             TcpProxy postgres = new TcpProxy(TestServices.postgresAddress()))
        {
            store.put("before.example.com", pki.ec("before.example.com"));
            DynamicSniSslContextFactory factory = store.newFactory(true);
            factory.setJdbcUrl(TestServices.jdbcUrlVia("127.0.0.1", postgres.port()));
            factory.setJdbcTimeoutMillis(1000);
            factory.setLookupTimeoutMillis(1500);
            try (TestServer server = new TestServer(factory))
            {
                DynamicSniStatistics stats = factory.getStatistics();
                await("index built", Duration.ofSeconds(20), stats::isIndexReady);
                assertEquals(1, stats.getIndexBuilds());

                postgres.cut();
                await("feed down", Duration.ofSeconds(10), () -> !stats.isChangeFeedConnected());
                assertFalse(stats.isIndexReady());
                IssuedCertificate gap = pki.ec("gap.example.com");
                store.put("gap.example.com", gap); // straight to PostgreSQL: the node's feed misses it
                long rejections = stats.getIndexRejections();
                long loads = stats.getLoads();
                client.handshake(server.port(), "unknown-during-gap.example.com");
                assertEquals(rejections, stats.getIndexRejections(), "nothing ruled out while the feed is down");
                assertTrue(stats.getLoads() > loads, "looked up as without the index");

                postgres.restore();
                await("index rebuilt", Duration.ofSeconds(30), () -> stats.getIndexBuilds() >= 2 && stats.isIndexReady());
                assertEquals(Pem.fingerprint(gap.certificate()), served(server, "gap.example.com"));
            }
        }
    }

    @Test
    void additions_areFoldedPastAnEighth_andNothingStoredIsEverRuledOut() throws Exception
    {
        InMemoryCertificateStore store = new InMemoryCertificateStore();
        for (int i = 0; i < 100; i++)
        {
            store.put(new CertificateRecord("base" + i + ".example.com", "EC", "chain", "key", CertificateRecord.PLAIN, 0));
        }
        HostIndex index = new HostIndex(store, () -> true);
        assertFalse(index.rulesOut("anything.example.com"), "nothing ruled out before the first build");
        index.rebuild();
        await("built", Duration.ofSeconds(10), index::isReady);
        assertEquals(100, index.getEntries());
        for (int i = 0; i < 3000; i++)
        {
            index.add("added" + i + ".example.com");
        }
        index.add("base7.example.com");
        assertEquals(3100, index.getEntries());
        assertEquals(32 + 8 * 3100, index.getBytes());
        for (int i = 0; i < 100; i++)
        {
            assertFalse(index.rulesOut("base" + i + ".example.com"));
        }
        for (int i = 0; i < 3000; i++)
        {
            assertFalse(index.rulesOut("added" + i + ".example.com"));
        }
        for (int i = 0; i < 10_000; i++)
        {
            assertTrue(index.rulesOut("other" + i + ".example.com"));
        }
        // a gap: nothing is ruled out until the store has been listed again
        index.rebuild();
        await("rebuilt", Duration.ofSeconds(10), index::isReady);
        assertEquals(100, index.getEntries(), "additions never stored are forgotten by the rebuild");
        index.stop();
    }

    @Test
    void aLargeBuild_isHeldAsFingerprints_ofAboutTwoBytesPerName_withFewFalsePositives() throws Exception
    {
        InMemoryCertificateStore store = new InMemoryCertificateStore();
        int names = 200_000;
        for (int i = 0; i < names; i++)
        {
            store.put(new CertificateRecord("n" + i + ".example.com", "EC", "chain", "key", CertificateRecord.PLAIN, 0));
        }
        HostIndex index = new HostIndex(store, () -> true);
        index.rebuild();
        await("built", Duration.ofSeconds(60), index::isReady);
        double bytesPerName = index.getBytes() / (double)names;
        System.out.printf("host index: %,d names in %,d bytes (%.2f per name)%n", names, index.getBytes(), bytesPerName);
        assertTrue(bytesPerName < 2.6, "bytes per name: " + bytesPerName);
        for (int i = 0; i < names; i++)
        {
            assertFalse(index.rulesOut("n" + i + ".example.com"), "never a false negative");
        }
        int falsePositives = 0;
        int others = 200_000;
        for (int i = 0; i < others; i++)
        {
            if (!index.rulesOut("other" + i + ".example.com"))
                falsePositives++;
        }
        System.out.printf("host index: %d false positives in %,d names not stored%n", falsePositives, others);
        assertTrue(falsePositives <= others * 16 / 65536 * 2, "false positives: " + falsePositives);
        // additions past an eighth are folded into the fingerprints: still no false negative
        for (int i = 0; i < 30_000; i++)
        {
            index.add("late" + i + ".example.com");
        }
        for (int i = 0; i < 30_000; i++)
        {
            assertFalse(index.rulesOut("late" + i + ".example.com"));
        }
        for (int i = 0; i < names; i += 97)
        {
            assertFalse(index.rulesOut("n" + i + ".example.com"));
        }
        index.stop();
    }
}
