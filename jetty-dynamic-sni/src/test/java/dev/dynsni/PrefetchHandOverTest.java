package dev.dynsni;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.InMemoryCertificateStore;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SNI prefetch hands its answer to the handshake it precedes: the key manager never repeats a
 * lookup the prefetch made, even when L1 dropped the host in between, so a handshake reads each
 * tier at most once. Runs on the in-memory store: what is under test is the handshake path, not
 * PostgreSQL.
 */
class PrefetchHandOverTest
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");

    /** Counts loads; can hold a load back so the test can act before it completes. */
    private static final class HeldBackStore extends InMemoryCertificateStore
    {
        final AtomicInteger loads = new AtomicInteger();
        final Map<String, CompletableFuture<Void>> gates = new ConcurrentHashMap<>();

        @Override
        public CompletableFuture<Map<String, List<CertificateRecord>>> load(List<String> names)
        {
            loads.incrementAndGet();
            CompletableFuture<Void> gate = gates.get(names.get(0));
            return gate == null ? super.load(names) : gate.thenCompose(v -> super.load(names));
        }
    }

    private static void put(InMemoryCertificateStore store, String name, IssuedCertificate issued)
    {
        store.put(new CertificateRecord(name, issued.keyType(), issued.chainPem(), issued.pkcs8KeyPem(), CertificateRecord.PLAIN, 0));
    }

    @Test
    void everyHandshake_asksL1Once_evenWithATinyCache() throws Exception
    {
        HeldBackStore store = new HeldBackStore();
        IssuedCertificate[] issued = new IssuedCertificate[10];
        for (int i = 0; i < 10; i++)
        {
            issued[i] = PKI.ec("h" + i + ".handover.test");
            put(store, "h" + i + ".handover.test", issued[i]);
        }
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setCertificateStore(store);
        factory.setCacheMaxEntries(1);
        try (PrefetchTestServer server = new PrefetchTestServer(factory, true, false, 16, null))
        {
            TlsClient client = TlsClient.trusting(PKI.caCertificate());
            int handshakes = 40;
            for (int i = 0; i < handshakes; i++)
            {
                String host = "h" + (i % 10) + ".handover.test";
                TlsClient.Result result = client.handshake(server.port(), host);
                assertTrue(result.ok(), String.valueOf(result.failure()));
                assertEquals(Pem.fingerprint(issued[i % 10].certificate()), Pem.fingerprint(result.leaf()));
            }
            DynamicSniStatistics statistics = factory.getStatistics();
            assertEquals(handshakes, statistics.getServedDynamic());
            // one L1 question per handshake (the prefetch's); the key manager asked none
            assertEquals(handshakes, statistics.getL1Hits() + statistics.getL1Misses() + statistics.getNegativeHits());
            // and every store load is one of those misses: none was repeated
            assertEquals(statistics.getL1Misses(), store.loads.get());
        }
    }

    @Test
    void hostDroppedFromL1BeforeTheHandshake_isServedFromTheHandOver_withoutASecondLoad() throws Exception
    {
        HeldBackStore store = new HeldBackStore();
        int rounds = 10;
        IssuedCertificate[] issued = new IssuedCertificate[rounds];
        for (int i = 0; i < rounds; i++)
        {
            issued[i] = PKI.ec("d" + i + ".handover.test");
            put(store, "d" + i + ".handover.test", issued[i]);
        }
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setCertificateStore(store);
        try (PrefetchTestServer server = new PrefetchTestServer(factory, true, false, 16, null))
        {
            TlsClient client = TlsClient.trusting(PKI.caCertificate());
            for (int i = 0; i < rounds; i++)
            {
                String host = "d" + i + ".handover.test";
                CompletableFuture<Void> gate = new CompletableFuture<>();
                store.gates.put(host, gate);
                int loadsBefore = store.loads.get();
                CompletableFuture<TlsClient.Result> handshake = CompletableFuture.supplyAsync(() -> client.handshake(server.port(), host));
                // the prefetch's load has started; drop the host from L1 while it is in flight
                for (int w = 0; w < 500 && !factory.getResolver().cache().holds(host); w++)
                {
                    Thread.sleep(2);
                }
                assertEquals(loadsBefore + 1, store.loads.get(), "the prefetch started one load");
                factory.evict(host);
                gate.complete(null);
                TlsClient.Result result = handshake.get(10, TimeUnit.SECONDS);
                assertTrue(result.ok(), String.valueOf(result.failure()));
                assertEquals(Pem.fingerprint(issued[i].certificate()), Pem.fingerprint(result.leaf()));
                assertEquals(loadsBefore + 1, store.loads.get(), "the key manager did not load " + host + " again");
                assertNull(factory.getResolver().cache().peek(host), "L1 does not hold " + host);
            }
        }
    }
}
