package dev.dynsni;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import com.zaxxer.hikari.HikariDataSource;
import dev.dynsni.bench.Args;
import dev.dynsni.bench.BenchServer;
import dev.dynsni.bench.Stats;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.Pem;
import dev.dynsni.core.store.CachingCertificateStore;
import dev.dynsni.core.store.JdbcCertificateStore;
import dev.dynsni.testing.TcpProxy;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import dev.dynsni.testing.WaitingThreadSampler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Table 8: the ClientHello prefetch ({@link PrefetchingSslConnectionFactory}) against the stock
 * {@code SslConnectionFactory}, on one embedded Jetty of 16 threads in this JVM, the clients too.
 * Run in a JVM of its own by the harness ({@code dev.dynsni.bench.PrefetchTable}, which stores
 * the hosts first); in package {@code dev.dynsni} to name the package-private key manager.
 *
 * <ol>
 *   <li><b>Cold burst</b>: Redis and PostgreSQL each behind a {@link TcpProxy} adding 100 ms to every
 *   chunk in each direction (so one store round trip is about 200 ms); N concurrent full handshakes
 *   for N hosts that no cache holds; total time, how many "waves" of store round trips that is
 *   (burst time over the time of one lone cold handshake), and the most Jetty threads seen parked
 *   in the key manager's wait (thread dumps every 5 ms). Run with Redis + PostgreSQL and with
 *   PostgreSQL alone. The JDBC pool is as wide as the burst and warmed beforehand.</li>
 *   <li><b>Warm throughput</b>: every host in L1, 4 client threads doing full handshakes (no
 *   resumption) in one-second slices alternating between a prefetching and a stock server running
 *   side by side.</li>
 * </ol>
 *
 * <p>Arguments: {@code --jdbc-url URL --schema S --redis ADDRESS --prefix P --ca FILE --hosts N
 * --slices N --warmup-seconds S --out FILE}; writes the table's Markdown section to the file.</p>
 */
public final class PrefetchBenchmark
{
    private static final int JETTY_THREADS = 16;
    private static final String THREAD_NAME = "prefetch-bench";
    private static final long DELAY_MILLIS = 100;
    private static final int WARM_CLIENTS = 4;
    private static final List<String> GROUPS = List.of("rp-on", "rp-off", "p-on", "p-off", "warm");

    private final String jdbcUrl;
    private final String schema;
    private final String keyPrefix;
    private final int hosts;
    private final int slices;
    private final double warmupSeconds;
    private final TcpProxy postgres;
    private final TcpProxy redis;
    private final TlsClient client;
    private final StringBuilder report = new StringBuilder();

    private PrefetchBenchmark(Args args) throws Exception
    {
        jdbcUrl = args.required("jdbc-url");
        schema = args.required("schema");
        keyPrefix = args.required("prefix");
        hosts = args.integer("hosts", 64);
        slices = args.integer("slices", 20);
        warmupSeconds = args.decimal("warmup-seconds", 3);
        X509Certificate ca = Pem.readCertificates(Files.readString(Path.of(args.required("ca")), StandardCharsets.US_ASCII)).get(0);
        client = TlsClient.trusting(ca).timeoutMillis(60_000);
        postgres = new TcpProxy(TestServices.postgresAddress(jdbcUrl));
        redis = new TcpProxy(TestServices.redisAddress(args.required("redis")));
    }

    /** @return the hosts the benchmark asks for, {@code hosts} per group plus one lone host per group, all to be stored beforehand */
    public static List<String> hostNames(int hosts)
    {
        List<String> names = new ArrayList<>();
        for (String group : GROUPS)
        {
            for (int i = 0; i < hosts; i++)
            {
                names.add(host(group, i));
            }
            names.add(group + "lone.example.com");
        }
        return names;
    }

    private static String host(String group, int i)
    {
        return group + i + ".example.com";
    }

    public static void main(String[] arguments) throws Exception
    {
        Args args = new Args(arguments);
        PrefetchBenchmark benchmark = new PrefetchBenchmark(args);
        try
        {
            benchmark.run();
            Files.writeString(Path.of(args.required("out")), benchmark.report.toString(), StandardCharsets.UTF_8);
        }
        finally
        {
            benchmark.postgres.close();
            benchmark.redis.close();
        }
        System.exit(0);
    }

    private void run() throws Exception
    {
        line("## 8. ClientHello prefetch: cold burst and warm throughput");
        line("");
        line("`dev.dynsni.PrefetchBenchmark`, in a JVM of its own: one embedded Jetty 12.1.12 with one `ServerConnector` (1 acceptor, 1 selector), " +
            "ALPN h2 + http/1.1, `QueuedThreadPool` max " + JETTY_THREADS + ", with the SNI prefetch (`PrefetchingSslConnectionFactory`) or the stock " +
            "`SslConnectionFactory`. Clients: JDK 17 `SSLSocket` in the same JVM, full handshakes (no resumption), EC P-256 certificates, " +
            "one per host, stored like the other tables' hosts.");
        line("");
        line("### Cold burst: " + hosts + " concurrent handshakes, " + hosts + " hosts no cache holds, stores " + DELAY_MILLIS + " ms away each way");
        line("");
        line("Each store sits behind a `TcpProxy` adding " + DELAY_MILLIS + " ms to every chunk in each direction (one round trip ~" + 2 * DELAY_MILLIS +
            " ms). *Lone* is one cold handshake on its own (one lookup's worth of round trips). *Same burst warm* repeats the burst with every host in L1: " +
            "the handshake CPU cost of " + hosts + " handshakes on this machine (clients share the JVM), so *(cold - warm) / lone* estimates how many store round-trip " +
            "waves the cold burst took (about 1 = all lookups overlapped). " +
            "*Parked* is the most Jetty pool threads seen at once waiting in `SniKeyManager` on `CompletableFuture.get` (thread dumps every 5 ms).");
        line("");
        line("| tiers | prefetch | lone cold (ms) | cold burst of " + hosts + " (ms) | same burst warm (ms) | cold - warm (ms) | (cold - warm) / lone | handshakes ok | Jetty threads parked (max) | samples with a parked thread |");
        line("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (boolean withRedis : new boolean[]{true, false})
        {
            for (boolean prefetch : new boolean[]{true, false})
            {
                String group = (withRedis ? "rp-" : "p-") + (prefetch ? "on" : "off");
                DynamicSniSslContextFactory factory = newFactory(withRedis);
                try (Node node = new Node(factory, prefetch))
                {
                    warm(factory, withRedis, node);
                    Cold cold = cold(node, group);
                    line(String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %d | %.1f | %d/%d | %d | %d/%d |", withRedis ? "Redis + PostgreSQL" : "PostgreSQL", prefetch ? "on" : "off",
                        cold.loneMillis, cold.burstMillis, cold.warmBurstMillis, cold.burstMillis - cold.warmBurstMillis,
                        (double)(cold.burstMillis - cold.warmBurstMillis) / cold.loneMillis, cold.ok, hosts, cold.maxParked, cold.parkedSamples, cold.samples));
                    System.err.println(group + " " + cold + " " + (prefetch ? node.prefetchStatistics() : "") + " " + factory.getStatistics());
                }
            }
        }
        line("");
        warmThroughput();
    }

    private DynamicSniSslContextFactory newFactory(boolean withRedis)
    {
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setJdbcUrl(TestServices.jdbcUrlVia(jdbcUrl, "127.0.0.1", postgres.port()));
        factory.setJdbcSchema(schema);
        factory.setJdbcPoolSize(hosts);
        factory.setJdbcTimeoutMillis(10_000);
        factory.setLookupTimeoutMillis(10_000);
        factory.setUnknownHostPolicy("reject");
        if (withRedis)
        {
            factory.setRedisAddress("redis://127.0.0.1:" + redis.port());
            factory.setRedisKeyPrefix(keyPrefix);
            factory.setRedisTimeoutMillis(10_000);
        }
        return factory;
    }

    /** One embedded Jetty with the prefetching or the stock TLS connection factory. */
    private static final class Node implements AutoCloseable
    {
        private final Server server;
        private final ServerConnector connector;

        private Node(DynamicSniSslContextFactory factory, boolean prefetch) throws Exception
        {
            QueuedThreadPool threads = new QueuedThreadPool(JETTY_THREADS, Math.min(JETTY_THREADS, 8));
            threads.setName(THREAD_NAME);
            server = new Server(threads);
            connector = BenchServer.tlsConnector(server, factory, prefetch, 1, 1);
            server.addConnector(connector);
            server.start();
        }

        int port()
        {
            return connector.getLocalPort();
        }

        PrefetchStatistics prefetchStatistics()
        {
            return connector.getConnectionFactory(PrefetchingSslConnectionFactory.class).getPrefetchStatistics();
        }

        @Override
        public void close() throws Exception
        {
            server.stop();
        }
    }

    /** Opens the pools' connections with no delay, so the burst measures queries only. */
    private void warm(DynamicSniSslContextFactory factory, boolean withRedis, Node node) throws Exception
    {
        postgres.setDelayMillis(0);
        redis.setDelayMillis(0);
        HikariDataSource pool = jdbcStore(factory).getDataSource();
        List<Connection> held = new ArrayList<>();
        for (int i = 0; i < hosts; i++)
        {
            held.add(pool.getConnection());
        }
        for (Connection connection : held)
        {
            connection.close();
        }
        if (withRedis)
        {
            // grow Redisson's pool: a burst on the warm hosts (no delay), then forget them in L1
            burst(node, "warm", hosts);
            factory.evictAll();
        }
    }

    /** @return the PostgreSQL store under the factory's store (the Redis cache composes over it) */
    private static JdbcCertificateStore jdbcStore(DynamicSniSslContextFactory factory)
    {
        CertificateStore store = factory.getBean(CertificateStore.class);
        while (store instanceof CachingCertificateStore caching)
        {
            store = caching.getSource();
        }
        return (JdbcCertificateStore)store;
    }

    record Cold(long loneMillis, long burstMillis, long warmBurstMillis, int ok, int maxParked, int parkedSamples, int samples)
    {
    }

    private Cold cold(Node node, String group) throws Exception
    {
        postgres.setDelayMillis(DELAY_MILLIS);
        redis.setDelayMillis(DELAY_MILLIS);
        try
        {
            long start = System.nanoTime();
            if (!client.handshake(node.port(), group + "lone.example.com").ok())
                System.err.println("lone handshake failed");
            long lone = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            WaitingThreadSampler sampler = WaitingThreadSampler.start(THREAD_NAME, SniKeyManager.class);
            long burstStart = System.nanoTime();
            int ok = burst(node, group, hosts);
            long burst = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - burstStart);
            sampler.close();
            // the same burst again, every host now in L1: the handshake CPU floor of this machine
            long warmStart = System.nanoTime();
            burst(node, group, hosts);
            long warm = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - warmStart);
            return new Cold(lone, burst, warm, ok, sampler.max(), sampler.samplesWithWaiting(), sampler.samples());
        }
        finally
        {
            postgres.setDelayMillis(0);
            redis.setDelayMillis(0);
        }
    }

    /** Concurrent handshakes, one per host of the group; returns how many succeeded. */
    private int burst(Node node, String group, int n) throws Exception
    {
        ExecutorService clients = Executors.newFixedThreadPool(n);
        try
        {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < n; i++)
            {
                String host = host(group, i);
                results.add(clients.submit(() ->
                {
                    go.await();
                    return client.handshake(node.port(), host).ok();
                }));
            }
            go.countDown();
            int ok = 0;
            for (Future<Boolean> result : results)
            {
                if (result.get(120, TimeUnit.SECONDS))
                    ok++;
            }
            return ok;
        }
        finally
        {
            clients.shutdownNow();
        }
    }

    private void warmThroughput() throws Exception
    {
        line("### Warm throughput: full handshakes per second, every host in L1");
        line("");
        line("Two servers run side by side (prefetch on, prefetch off; " + JETTY_THREADS + " threads each, every host already in L1, stores with no added delay). " +
            WARM_CLIENTS + " client threads make a new connection and a full handshake each, round-robin over " + hosts +
            " hosts, in 1 s slices alternating between the two servers (" + slices + " slices each, after " + warmupSeconds + " s of warm-up each), so background " +
            "load on the shared machine hits both alike. *Pair ratio* is on/off of adjacent slices.");
        line("");
        DynamicSniSslContextFactory onFactory = newFactory(false);
        DynamicSniSslContextFactory offFactory = newFactory(false);
        try (Node on = new Node(onFactory, true); Node off = new Node(offFactory, false))
        {
            burst(on, "warm", hosts);
            burst(off, "warm", hosts);
            runFor(on, (long)(warmupSeconds * 1000));
            runFor(off, (long)(warmupSeconds * 1000));
            long servedOn = onFactory.getStatistics().getServedDynamic();
            long servedOff = offFactory.getStatistics().getServedDynamic();
            long countOn = 0;
            long countOff = 0;
            List<Double> ratios = new ArrayList<>();
            for (int slice = 0; slice < slices; slice++)
            {
                long a = runFor(on, 1000);
                long b = runFor(off, 1000);
                countOn += a;
                countOff += b;
                ratios.add(b == 0 ? 0 : (double)a / b);
            }
            servedOn = onFactory.getStatistics().getServedDynamic() - servedOn;
            servedOff = offFactory.getStatistics().getServedDynamic() - servedOff;
            double rateOn = countOn / (double)slices;
            double rateOff = countOff / (double)slices;
            line("| prefetch | handshakes | handshakes/s | full handshakes seen by the key manager |");
            line("|---|---:|---:|---:|");
            line(String.format(Locale.ROOT, "| on | %d | %.0f | %d |", countOn, rateOn, servedOn));
            line(String.format(Locale.ROOT, "| off | %d | %.0f | %d |", countOff, rateOff, servedOff));
            line("");
            line(String.format(Locale.ROOT, "Prefetch on / off: **%.1f%%** of the stock throughput (totals); median pair ratio %.1f%%, pair ratios from %.1f%% to %.1f%%.",
                100 * rateOn / rateOff, 100 * Stats.median(ratios), 100 * Stats.min(ratios), 100 * Stats.max(ratios)));
            System.err.printf(Locale.ROOT, "warm on=%.0f/s off=%.0f/s%n", rateOn, rateOff);
        }
    }

    private long runFor(Node node, long millis) throws Exception
    {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        LongAdder count = new LongAdder();
        ExecutorService clients = Executors.newFixedThreadPool(WARM_CLIENTS);
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < WARM_CLIENTS; t++)
        {
            int offset = t;
            running.add(clients.submit(() ->
            {
                int i = offset;
                while (System.nanoTime() < deadline)
                {
                    if (client.handshake(node.port(), host("warm", i++ % hosts)).ok())
                        count.increment();
                }
                return null;
            }));
        }
        for (Future<?> future : running)
        {
            future.get();
        }
        clients.shutdownNow();
        return count.sum();
    }

    private void line(String text)
    {
        report.append(text).append('\n');
    }
}
