package dev.dynsni;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.sql.Connection;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import com.zaxxer.hikari.HikariDataSource;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.store.JdbcCertificateStore;
import dev.dynsni.testing.TcpProxy;
import dev.dynsni.testing.TestServices;

/**
 * Measures the ClientHello prefetch ({@link PrefetchingSslConnectionFactory}) against the stock
 * {@code SslConnectionFactory} on one embedded Jetty of 16 threads. Not a unit test: surefire does
 * not run it (no {@code Test} suffix); run it by hand and commit the Markdown it writes.
 *
 * <ol>
 *   <li><b>Cold burst</b>: Redis and PostgreSQL each behind a {@link TcpProxy} adding 100 ms to every
 *   chunk in each direction (so one store round trip is about 200 ms); 64 concurrent full handshakes
 *   for 64 hosts that no cache holds; total time, how many "waves" of store round trips that is
 *   (burst time over the time of one lone cold handshake), and the most Jetty threads seen parked
 *   in the key manager's wait (thread dumps every 5 ms). Run with Redis + PostgreSQL and with
 *   PostgreSQL alone. The JDBC pool is as wide as the burst and warmed beforehand.</li>
 *   <li><b>Warm throughput</b>: every host in L1, 4 client threads doing full handshakes (no
 *   resumption: each session is invalidated) in one-second slices alternating
 *   between a prefetching and a stock server running side by side.</li>
 * </ol>
 *
 * <p>Needs the test PostgreSQL and Redis (see {@code TestServices}). From the repository root:</p>
 * <pre>
 * export DYNSNI_TEST_JDBC_URL='jdbc:postgresql://127.0.0.1:5432/test?user=postgres' DYNSNI_TEST_REDIS_URL='redis://127.0.0.1:6379'
 * mvn -B -q -pl test-support,jetty-dynamic-sni test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/dynsni-cp.txt
 * java -cp jetty-dynamic-sni/target/test-classes:jetty-dynamic-sni/target/classes:$(cat /tmp/dynsni-cp.txt) \
 *     dev.dynsni.PrefetchBenchmark bench/results/prefetch.md
 * </pre>
 * <p>System property {@code -Dbench.slices=20}: one-second warm slices per mode.</p>
 */
public final class PrefetchBenchmark
{
    private static final int HOSTS = 64;
    private static final int JETTY_THREADS = 16;
    private static final long DELAY_MILLIS = 100;
    private static final int WARM_CLIENTS = 4;
    private static final int SLICES = Integer.getInteger("bench.slices", 20);

    private final CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
    private final TestStore store;
    private final TcpProxy postgres;
    private final TcpProxy redis;
    private final SSLContext clientContext;
    private final StringBuilder report = new StringBuilder();

    private PrefetchBenchmark() throws Exception
    {
        store = new TestStore();
        postgres = new TcpProxy(TestServices.postgresAddress());
        redis = new TcpProxy(TestServices.redisAddress());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", pki.caCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, tmf.getTrustManagers(), null);
    }

    public static void main(String[] args) throws Exception
    {
        Path output = Path.of(args.length > 0 ? args[0] : "bench/results/prefetch.md");
        PrefetchBenchmark benchmark = new PrefetchBenchmark();
        try
        {
            benchmark.run(output);
        }
        finally
        {
            benchmark.postgres.close();
            benchmark.redis.close();
            benchmark.store.close();
        }
        System.exit(0);
    }

    private void run(Path output) throws Exception
    {
        List<String> prefixes = List.of("rp-on", "rp-off", "p-on", "p-off", "warm");
        for (String prefix : prefixes)
        {
            for (int i = 0; i < HOSTS; i++)
            {
                store.put(prefix + i + ".example.com", pki.ec(prefix + i + ".example.com"));
            }
            store.put(prefix + "lone.example.com", pki.ec(prefix + "lone.example.com"));
        }
        line("# ClientHello prefetch: cold burst and warm throughput");
        line("");
        line("Generated by `dev.dynsni.PrefetchBenchmark` on " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + ".");
        line("");
        line("- Machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (nproc), " + cpuModel() + ", shared with other builds while running");
        line("- JDK: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + ", " + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        line("- Jetty 12.1.12, one `ServerConnector` (1 acceptor, 1 selector), ALPN h2 + http/1.1, `QueuedThreadPool` max " + JETTY_THREADS);
        line("- Clients: JDK 17 `SSLSocket` in the same JVM, full handshakes (every session invalidated, so no resumption), EC P-256 certificates");
        line("- Command (from the repository root, with the test PostgreSQL and Redis):");
        line("");
        line("```");
        line("export DYNSNI_TEST_JDBC_URL='jdbc:postgresql://127.0.0.1:5432/test?user=postgres' DYNSNI_TEST_REDIS_URL='redis://127.0.0.1:6379'");
        line("mvn -B -q -pl test-support,jetty-dynamic-sni test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/dynsni-cp.txt");
        line("java -cp jetty-dynamic-sni/target/test-classes:jetty-dynamic-sni/target/classes:$(cat /tmp/dynsni-cp.txt) \\");
        line("    dev.dynsni.PrefetchBenchmark bench/results/prefetch.md");
        line("```");
        line("");
        line("## Cold burst: " + HOSTS + " concurrent handshakes, " + HOSTS + " hosts no cache holds, stores " + DELAY_MILLIS + " ms away each way");
        line("");
        line("Each store sits behind a `TcpProxy` adding " + DELAY_MILLIS + " ms to every chunk in each direction (one round trip ~" + 2 * DELAY_MILLIS +
            " ms). *Lone* is one cold handshake on its own (one lookup's worth of round trips). *Same burst warm* repeats the burst with every host in L1: " +
            "the handshake CPU cost of 64 handshakes on this machine (clients share the JVM), so *(cold - warm) / lone* estimates how many store round-trip " +
            "waves the cold burst took (about 1 = all lookups overlapped). " +
            "*Parked* is the most Jetty pool threads seen at once waiting in `SniKeyManager` on `CompletableFuture.get` (thread dumps every 5 ms).");
        line("");
        line("| tiers | prefetch | lone cold (ms) | cold burst of 64 (ms) | same burst warm (ms) | cold - warm (ms) | (cold - warm) / lone | handshakes ok | Jetty threads parked (max) | samples with a parked thread |");
        line("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (boolean withRedis : new boolean[]{true, false})
        {
            for (boolean prefetch : new boolean[]{true, false})
            {
                String prefix = (withRedis ? "rp-" : "p-") + (prefetch ? "on" : "off");
                DynamicSniSslContextFactory factory = newFactory(withRedis);
                try (PrefetchTestServer server = new PrefetchTestServer(factory, prefetch, false, JETTY_THREADS, null))
                {
                    warm(factory, withRedis, server);
                    Cold cold = cold(server, prefix);
                    line(String.format("| %s | %s | %d | %d | %d | %d | %.1f | %d/%d | %d | %d/%d |", withRedis ? "Redis + PostgreSQL" : "PostgreSQL", prefetch ? "on" : "off",
                        cold.loneMillis, cold.burstMillis, cold.warmBurstMillis, cold.burstMillis - cold.warmBurstMillis,
                        (double)(cold.burstMillis - cold.warmBurstMillis) / cold.loneMillis, cold.ok, HOSTS, cold.maxParked, cold.parkedSamples, cold.samples));
                    System.err.println(prefix + " " + cold + " " + (prefetch ? server.prefetchStatistics() : "") + " " + factory.getStatistics());
                }
            }
        }
        line("");
        warmThroughput();
        Files.createDirectories(output.toAbsolutePath().getParent());
        Files.writeString(output, report.toString());
        System.err.println(report);
    }

    private DynamicSniSslContextFactory newFactory(boolean withRedis)
    {
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setJdbcUrl(TestServices.jdbcUrlVia("127.0.0.1", postgres.port()));
        factory.setJdbcSchema(store.schema);
        factory.setJdbcPoolSize(HOSTS);
        factory.setJdbcTimeoutMillis(10_000);
        factory.setLookupTimeoutMillis(10_000);
        factory.setUnknownHostPolicy("reject");
        if (withRedis)
        {
            factory.setRedisAddress("redis://127.0.0.1:" + redis.port());
            factory.setRedisKeyPrefix(store.keyPrefix);
            factory.setRedisTimeoutMillis(10_000);
        }
        return factory;
    }

    /** Opens the pools' connections with no delay, so the burst measures queries only. */
    private void warm(DynamicSniSslContextFactory factory, boolean withRedis, PrefetchTestServer server) throws Exception
    {
        postgres.setDelayMillis(0);
        redis.setDelayMillis(0);
        HikariDataSource pool = factory.getContainedBeans(JdbcCertificateStore.class).iterator().next().getDataSource();
        List<Connection> held = new ArrayList<>();
        for (int i = 0; i < HOSTS; i++)
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
            burst(server, "warm", HOSTS);
            factory.evictAll();
        }
    }

    record Cold(long loneMillis, long burstMillis, long warmBurstMillis, int ok, int maxParked, int parkedSamples, int samples)
    {
    }

    private Cold cold(PrefetchTestServer server, String prefix) throws Exception
    {
        postgres.setDelayMillis(DELAY_MILLIS);
        redis.setDelayMillis(DELAY_MILLIS);
        try
        {
            long start = System.nanoTime();
            if (!handshake(server.port(), prefix + "lone.example.com"))
                System.err.println("lone handshake failed");
            long lone = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            AtomicBoolean sampling = new AtomicBoolean(true);
            AtomicInteger maxParked = new AtomicInteger();
            AtomicInteger parkedSamples = new AtomicInteger();
            AtomicInteger samples = new AtomicInteger();
            Thread sampler = new Thread(() ->
            {
                while (sampling.get())
                {
                    int parked = PrefetchColdStartTest.waitingOnStore(Thread.getAllStackTraces());
                    samples.incrementAndGet();
                    if (parked > 0)
                        parkedSamples.incrementAndGet();
                    maxParked.accumulateAndGet(parked, Math::max);
                    sleep(5);
                }
            });
            sampler.start();
            long burstStart = System.nanoTime();
            int ok = burst(server, prefix, HOSTS);
            long burst = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - burstStart);
            sampling.set(false);
            sampler.join();
            // the same burst again, every host now in L1: the handshake CPU floor of this machine
            long warmStart = System.nanoTime();
            burst(server, prefix, HOSTS);
            long warm = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - warmStart);
            return new Cold(lone, burst, warm, ok, maxParked.get(), parkedSamples.get(), samples.get());
        }
        finally
        {
            postgres.setDelayMillis(0);
            redis.setDelayMillis(0);
        }
    }

    /** Concurrent handshakes, one per host prefix0..prefix(n-1); returns how many succeeded. */
    private int burst(PrefetchTestServer server, String prefix, int n) throws Exception
    {
        ExecutorService clients = Executors.newFixedThreadPool(n);
        try
        {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < n; i++)
            {
                String host = prefix + i + ".example.com";
                results.add(clients.submit(() ->
                {
                    go.await();
                    return handshake(server.port(), host);
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
        line("## Warm throughput: full handshakes per second, every host in L1");
        line("");
        line("Two servers run side by side (prefetch on, prefetch off; 16 threads each, every host already in L1, stores with no added delay). " +
            WARM_CLIENTS + " client threads make a new connection and a full handshake each (session invalidated), round-robin over " + HOSTS +
            " hosts, in 1 s slices alternating between the two servers (" + SLICES + " slices each, after 3 s of warm-up each), so background " +
            "load on the shared machine hits both alike. *Pair ratio* is on/off of adjacent slices.");
        line("");
        DynamicSniSslContextFactory onFactory = newFactory(false);
        DynamicSniSslContextFactory offFactory = newFactory(false);
        try (PrefetchTestServer on = new PrefetchTestServer(onFactory, true, false, JETTY_THREADS, null);
             PrefetchTestServer off = new PrefetchTestServer(offFactory, false, false, JETTY_THREADS, null))
        {
            burst(on, "warm", HOSTS);
            burst(off, "warm", HOSTS);
            runFor(on, 3000);
            runFor(off, 3000);
            long servedOn = onFactory.getStatistics().getServedDynamic();
            long servedOff = offFactory.getStatistics().getServedDynamic();
            long countOn = 0;
            long countOff = 0;
            double[] ratios = new double[SLICES];
            for (int slice = 0; slice < SLICES; slice++)
            {
                long a = runFor(on, 1000);
                long b = runFor(off, 1000);
                countOn += a;
                countOff += b;
                ratios[slice] = b == 0 ? 0 : (double)a / b;
            }
            servedOn = onFactory.getStatistics().getServedDynamic() - servedOn;
            servedOff = offFactory.getStatistics().getServedDynamic() - servedOff;
            double rateOn = countOn / (double)SLICES;
            double rateOff = countOff / (double)SLICES;
            line("| prefetch | handshakes | handshakes/s | full handshakes seen by the key manager |");
            line("|---|---:|---:|---:|");
            line(String.format("| on | %d | %.0f | %d |", countOn, rateOn, servedOn));
            line(String.format("| off | %d | %.0f | %d |", countOff, rateOff, servedOff));
            line("");
            line(String.format("Prefetch on / off: **%.1f%%** of the stock throughput (totals); median pair ratio %.1f%%, pair ratios from %.1f%% to %.1f%%.",
                100 * rateOn / rateOff, 100 * median(ratios), 100 * Arrays.stream(ratios).min().orElse(0), 100 * Arrays.stream(ratios).max().orElse(0)));
            line("");
            System.err.printf("warm on=%.0f/s off=%.0f/s%n", rateOn, rateOff);
        }
    }

    private long runFor(PrefetchTestServer server, long millis) throws Exception
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
                    if (handshake(server.port(), "warm" + (i++ % HOSTS) + ".example.com"))
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

    private boolean handshake(int port, String host)
    {
        try (SSLSocket socket = (SSLSocket)clientContext.getSocketFactory().createSocket())
        {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            socket.setSoTimeout(60_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(host)));
            parameters.setApplicationProtocols(new String[]{"h2", "http/1.1"});
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            boolean ok = socket.getSession().getPeerCertificates().length > 0;
            socket.getSession().invalidate();
            return ok;
        }
        catch (IOException | RuntimeException x)
        {
            return false;
        }
    }

    private static double median(double[] values)
    {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String cpuModel()
    {
        try
        {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).strip())
                .findFirst().orElse("unknown CPU");
        }
        catch (IOException x)
        {
            return "unknown CPU";
        }
    }

    private static void sleep(long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void line(String text)
    {
        report.append(text).append('\n');
    }
}
