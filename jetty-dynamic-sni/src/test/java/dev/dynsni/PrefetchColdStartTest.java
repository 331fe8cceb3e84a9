package dev.dynsni;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.JdbcCertificateStore;
import dev.dynsni.testing.TcpProxy;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import dev.dynsni.testing.WaitingThreadSampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The point of the prefetch: with PostgreSQL 300 ms away (a {@link TcpProxy} delaying every chunk)
 * and a Jetty of 8 threads, 32 concurrent handshakes for 32 cold hosts. A sampler takes thread dumps
 * during the run and looks for Jetty pool threads parked in the key manager's wait: with the
 * prefetching factory there must be none; with the stock factory there are. Timings are logged,
 * not asserted (table 8 of the benchmarks measures them: {@code bench/results/prefetch.md}).
 */
class PrefetchColdStartTest
{
    private static final Logger LOG = LoggerFactory.getLogger(PrefetchColdStartTest.class);
    private static final int HOSTS = 32;
    private static final int THREADS = 8;
    private static final long DELAY_MILLIS = 300;

    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");
    private static final List<IssuedCertificate> CERTS = new ArrayList<>();
    private static TestStore store;
    private static TcpProxy postgres;

    @BeforeAll
    static void start() throws Exception
    {
        store = new TestStore();
        for (int i = 0; i < HOSTS; i++)
        {
            IssuedCertificate cert = PKI.ec(host(i));
            store.put(host(i), cert);
            CERTS.add(cert);
        }
        postgres = new TcpProxy(TestServices.postgresAddress());
    }

    @AfterAll
    static void stop()
    {
        if (postgres != null)
            postgres.close();
        if (store != null)
            store.close();
    }

    private static String host(int i)
    {
        return "cold" + i + ".example.com";
    }

    /** A factory reading PostgreSQL through the delaying proxy, with a pool as wide as the burst. */
    private static DynamicSniSslContextFactory newFactory()
    {
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setJdbcUrl(TestServices.jdbcUrlVia("127.0.0.1", postgres.port()));
        factory.setJdbcSchema(store.schema);
        factory.setJdbcPoolSize(HOSTS);
        factory.setJdbcTimeoutMillis(5000);
        factory.setLookupTimeoutMillis(5000);
        return factory;
    }

    /** Opens every pooled connection while the proxy adds no delay, so the burst measures queries only. */
    private static void warmPool(DynamicSniSslContextFactory factory) throws Exception
    {
        postgres.setDelayMillis(0);
        HikariDataSource pool = factory.getBean(JdbcCertificateStore.class).getDataSource();
        List<Connection> held = new ArrayList<>();
        try
        {
            for (int i = 0; i < HOSTS; i++)
            {
                held.add(pool.getConnection());
            }
        }
        finally
        {
            for (Connection connection : held)
            {
                connection.close();
            }
        }
    }

    /** What a burst of cold handshakes gave. */
    record Burst(long millis, int ok, int waitingSamples, int maxWaiting, int samples)
    {
    }

    private Burst burst(PrefetchTestServer server) throws Exception
    {
        TlsClient client = TlsClient.trusting(PKI.caCertificate());
        ExecutorService clients = Executors.newFixedThreadPool(HOSTS);
        WaitingThreadSampler sampler = null;
        try
        {
            postgres.setDelayMillis(DELAY_MILLIS);
            // Jetty pool threads parked waiting for a certificate lookup (the key manager's bounded wait)
            sampler = WaitingThreadSampler.start(PrefetchTestServer.THREAD_NAME, SniKeyManager.class);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < HOSTS; i++)
            {
                int n = i;
                results.add(clients.submit(() ->
                {
                    go.await();
                    TlsClient.Result result = client.handshake(server.port(), host(n));
                    return result.ok() && Pem.fingerprint(CERTS.get(n).certificate()).equals(Pem.fingerprint(result.leaf()));
                }));
            }
            long start = System.nanoTime();
            go.countDown();
            int ok = 0;
            for (Future<Boolean> result : results)
            {
                if (result.get(60, TimeUnit.SECONDS))
                    ok++;
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            return new Burst(millis, ok, sampler.samplesWithWaiting(), sampler.max(), sampler.samples());
        }
        finally
        {
            if (sampler != null)
                sampler.close();
            clients.shutdownNow();
            postgres.setDelayMillis(0);
        }
    }

    @Test
    void coldBurst_prefetchOn_noJettyThreadWaits_stockFactoryWaits() throws Exception
    {
        Burst on;
        Burst off;
        PrefetchStatistics prefetchStats;
        DynamicSniSslContextFactory onFactory = newFactory();
        try (PrefetchTestServer server = new PrefetchTestServer(onFactory, true, false, THREADS, null))
        {
            warmPool(onFactory);
            on = burst(server);
            prefetchStats = server.prefetchStatistics();
        }
        DynamicSniSslContextFactory offFactory = newFactory();
        try (PrefetchTestServer server = new PrefetchTestServer(offFactory, false, false, THREADS, null))
        {
            warmPool(offFactory);
            off = burst(server);
        }
        LOG.info("Cold burst hosts={} jettyThreads={} pgDelayMillisPerChunk={} prefetchOn={} prefetchOff={} {}", HOSTS, THREADS, DELAY_MILLIS, on, off, prefetchStats);
        assertEquals(HOSTS, on.ok(), "every handshake served its host's certificate (prefetch on)");
        assertEquals(HOSTS, off.ok(), "every handshake served its host's certificate (prefetch off)");
        assertEquals(HOSTS, prefetchStats.getMisses(), prefetchStats::toString);
        assertEquals(HOSTS, prefetchStats.getCompleted(), prefetchStats::toString);
        assertEquals(0, on.waitingSamples(), () -> "Jetty threads waited on the store with prefetch on: " + on);
        assertTrue(on.samples() > 10, "the sampler ran");
        assertTrue(off.waitingSamples() > 0, () -> "the stock factory is expected to park Jetty threads: " + off);
    }

    @Test
    void prefetchTimeout_continuesUnderUnknownHostPolicy_withoutWaitingAgain() throws Exception
    {
        DynamicSniSslContextFactory factory = newFactory();
        factory.setUnknownHostPolicy("reject");
        try (PrefetchTestServer server = new PrefetchTestServer(factory, true, false, THREADS, p -> p.setPrefetchTimeoutMillis(200)))
        {
            warmPool(factory);
            TlsClient client = TlsClient.trusting(PKI.caCertificate());
            postgres.setDelayMillis(1000);
            long start = System.nanoTime();
            WaitingThreadSampler sampler = WaitingThreadSampler.start(PrefetchTestServer.THREAD_NAME, SniKeyManager.class);
            TlsClient.Result slow = client.handshake(server.port(), host(0));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            sampler.close();
            assertFalse(slow.ok(), "refused under the reject policy after the prefetch bound");
            assertTrue(millis < 1500, "refused after " + millis + " ms, bound 200 ms, store 2000 ms away");
            assertEquals(0, sampler.max(), "the key manager did not wait again");
            assertEquals(1, server.prefetchStatistics().getTimeouts());

            // the lookup went on in the background: once it lands, the host is served from memory
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (onFactoryHolds(factory, host(0)) == null && System.nanoTime() < deadline)
            {
                Thread.sleep(50);
            }
            TlsClient.Result later = client.handshake(server.port(), host(0));
            assertTrue(later.ok(), () -> String.valueOf(later.failure()));
            LOG.info("Prefetch timeout refusedAfterMillis={} {}", millis, server.prefetchStatistics());
        }
        finally
        {
            postgres.setDelayMillis(0);
        }
    }

    private static HostCredentials onFactoryHolds(DynamicSniSslContextFactory factory, String host)
    {
        return factory.getResolver().cache().peek(host);
    }
}
