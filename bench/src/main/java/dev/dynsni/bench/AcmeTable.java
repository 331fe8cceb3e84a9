package dev.dynsni.bench;

import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.PebbleProcess;
import dev.dynsni.testing.TcpProxy;
import dev.dynsni.testing.TlsClient;

/**
 * Table 12: certificates obtained on first contact (on-demand ACME, tls-alpn-01) against a local
 * Pebble, the nodes reaching Pebble's API through a counting TCP proxy.
 * <ul>
 * <li><b>First contact</b>: one node; {@code BENCH_ACME_NAMES} new allowed names, one after the other;
 * for each, the time from the client's connect until its handshake completes with a certificate that
 * verifies against Pebble's root (the connection waits for the order).</li>
 * <li><b>Fleet</b>: two nodes sharing the stores; {@code BENCH_ACME_FLEET_HANDSHAKES} handshakes on
 * {@code BENCH_ACME_FLEET_NAMES} new allowed names, spread over both nodes by 16 client threads at
 * once; counted: orders started across the fleet (its order log), target exactly one per name.</li>
 * <li><b>Flood</b>: {@code BENCH_ACME_FLOOD_NAMES} handshakes for random names no rule allows (no ask
 * endpoint); counted: orders started and bytes sent to the CA during the flood, target 0.</li>
 * </ul>
 */
final class AcmeTable
{
    private static final String ALLOWED_PARENT = "acme." + BenchData.DOMAIN;
    private final BenchContext context;
    private final BenchConfig config;

    AcmeTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    String run() throws Exception
    {
        StringBuilder out = new StringBuilder("## 12. Automatic certificates: on-demand ACME against a local Pebble\n\n");
        if (!PebbleProcess.available())
            return out.append("Not measured: Pebble is not installed (Debian package `pebble`).\n").toString();
        out.append(String.format(Locale.ROOT, "Dynamic nodes (own JVMs, JSSE, prefetch on, tls-alpn-01, `acme.waitMillis=20000`, the fleet budgets raised out of the way), one Redis; "
            + "Pebble 2.4.0 (Debian) on this machine with `PEBBLE_VA_NOSLEEP=1`, its validator on node 1's TLS port (node 2's orders are validated through "
            + "node 1: challenges are shared); the nodes reach Pebble's API through a TCP proxy that counts what they send. Names are allowed by one rule, "
            + "`dynsni allow *.%s`.%n%n", ALLOWED_PARENT));
        String schema = context.schema("acme");
        BenchData.recreateSchema(config, schema);
        allow(schema, "*." + ALLOWED_PARENT);
        int port1 = FreePorts.next();
        int port2 = FreePorts.next();
        try (PebbleProcess pebble = new PebbleProcess(FreePorts.next(), port1).start();
             TcpProxy ca = new TcpProxy(new InetSocketAddress("127.0.0.1", pebble.acmePort())))
        {
            String directory = "https://127.0.0.1:" + ca.port() + "/dir";
            String prefix = context.redisPrefix("acme");
            TlsClient client = TlsClient.trusting(pebble.issuingRoot()).protocols(LoadGenerator.TLS13).timeoutMillis(30_000);
            try (ServerProcess node1 = node("server-acme-1", port1, schema, prefix, directory, pebble);
                 ServerProcess node2 = node("server-acme-2", port2, schema, prefix, directory, pebble))
            {
                out.append(firstContact(client, node1));
                out.append(fleet(client, List.of(node1, node2), schema));
                // Pebble writes its URLs with the Host it was asked on: every ACME request of the nodes passes the proxy.
                out.append(String.format(Locale.ROOT, "CA traffic of the two parts above, through the proxy: %,d bytes sent over %d connections.%n%n", ca.bytesToTarget(),
                    ca.connections()));
                out.append(flood(node1, schema, ca));
            }
        }
        out.append("\nRerun: `").append(config.rerun("acme", "ACME_NAMES", "ACME_FLEET_NAMES", "ACME_FLEET_HANDSHAKES", "ACME_FLOOD_NAMES")).append("`\n");
        return out.toString();
    }

    private ServerProcess node(String name, int port, String schema, String prefix, String directory, PebbleProcess pebble) throws Exception
    {
        List<String> args = new ArrayList<>(List.of("--mode", "dynamic", "--jdbc-url", config.jdbcUrl, "--schema", schema, "--cache", "10000",
            "--redis", config.redisAddress, "--prefix", prefix, "--port", Integer.toString(port), "--handshake-timeout-millis", "30000",
            "--acme-directory", directory, "--acme-ca-file", pebble.caFile().toString(), "--acme-wait-millis", "20000",
            "--acme-permission-checks-per-second", "1000"));
        return ServerProcess.start(config, name, args);
    }

    private String firstContact(TlsClient client, ServerProcess node) throws Exception
    {
        List<Long> millis = new ArrayList<>();
        int failed = 0;
        for (int i = 0; i < config.acmeNames; i++)
        {
            String host = "n" + i + "." + ALLOWED_PARENT;
            long start = System.nanoTime();
            TlsClient.Result result = client.handshake(node.address().getPort(), host);
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (result.ok())
                millis.add(took);
            else
            {
                failed++;
                Bench.log("acme first contact %s failed after %d ms: %s", host, took, result.failure());
            }
        }
        long[] sorted = Stats.sorted(millis);
        Bench.log("acme first contact: %d names, p50 %d ms, p99 %d ms, %d failed", config.acmeNames, percentile(sorted, 50), percentile(sorted, 99), failed);
        return String.format(Locale.ROOT, "| First contact of a new allowed name | names | served the issued certificate | p50 ms | p99 ms | max ms |%n|---|---|---|---|---|---|%n"
            + "| connect to a verified handshake, one name at a time | %d | %d | %d | %d | %d |%n%n",
            config.acmeNames, millis.size(), percentile(sorted, 50), percentile(sorted, 99), sorted.length == 0 ? -1 : sorted[sorted.length - 1]);
    }

    private String fleet(TlsClient client, List<ServerProcess> nodes, String schema) throws Exception
    {
        int names = config.acmeFleetNames;
        int handshakes = config.acmeFleetHandshakes;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < handshakes; i++)
            order.add(i);
        Collections.shuffle(order, new java.util.Random(12));
        AtomicInteger served = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(16);
        long start = System.nanoTime();
        try
        {
            List<Future<?>> futures = new ArrayList<>();
            for (int i : order)
            {
                String host = "m" + (i % names) + "." + ALLOWED_PARENT;
                ServerProcess node = nodes.get(i / names % nodes.size());
                futures.add(threads.submit(() ->
                {
                    if (client.handshake(node.address().getPort(), host).ok())
                        served.incrementAndGet();
                }));
            }
            for (Future<?> future : futures)
                future.get(5, TimeUnit.MINUTES);
        }
        finally
        {
            threads.shutdownNow();
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        long orders = count("SELECT count(*) FROM " + schema + ".acme_order_log WHERE name LIKE 'm%'");
        long ordered = count("SELECT count(DISTINCT name) FROM " + schema + ".acme_order_log WHERE name LIKE 'm%'");
        Bench.log("acme fleet: %d handshakes on %d names over %d nodes in %d s: %d served, %d orders for %d names", handshakes, names, nodes.size(), seconds, served.get(), orders,
            ordered);
        return String.format(Locale.ROOT, "| Fleet: new names hit on two nodes at once | handshakes | names | served the issued certificate | orders started | names ordered | target |%n"
            + "|---|---|---|---|---|---|---|%n| 16 client threads, handshakes shuffled over both nodes | %d | %d | %d | **%d** | %d | exactly %d |%n%n",
            handshakes, names, served.get(), orders, ordered, names);
    }

    private String flood(ServerProcess node, String schema, TcpProxy ca) throws Exception
    {
        long bytesBefore = ca.bytesToTarget();
        long connectionsBefore = ca.connections();
        long ordersBefore = count("SELECT count(*) FROM " + schema + ".acme_order_log");
        TlsClient client = LoadGenerator.client(LoadGenerator.TLS13, 5000);
        AtomicInteger refused = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(4);
        long start = System.nanoTime();
        try
        {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++)
            {
                int share = config.acmeFloodNames / 4 + (t < config.acmeFloodNames % 4 ? 1 : 0);
                futures.add(threads.submit(() ->
                {
                    for (int i = 0; i < share; i++)
                    {
                        String host = "r" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".flood." + BenchData.DOMAIN;
                        if (!client.handshake(node.address().getPort(), host).ok())
                            refused.incrementAndGet();
                    }
                }));
            }
            for (Future<?> future : futures)
                future.get(10, TimeUnit.MINUTES);
        }
        finally
        {
            threads.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long orders = count("SELECT count(*) FROM " + schema + ".acme_order_log") - ordersBefore;
        long bytes = ca.bytesToTarget() - bytesBefore;
        long connections = ca.connections() - connectionsBefore;
        Bench.log("acme flood: %d random disallowed names in %.1f s, %d refused, %d orders, %d bytes / %d connections to the CA", config.acmeFloodNames, seconds, refused.get(), orders,
            bytes, connections);
        return String.format(Locale.ROOT, "| Flood of random disallowed names | handshakes | refused | handshakes/s | orders started | bytes sent to the CA | connections to the CA | target |%n"
            + "|---|---|---|---|---|---|---|---|%n| 4 client threads, a new random name each | %d | %d | %.0f | **%d** | **%d** | %d | 0 |%n",
            config.acmeFloodNames, refused.get(), config.acmeFloodNames / seconds, orders, bytes, connections);
    }

    private static long percentile(long[] sorted, double p)
    {
        return sorted.length == 0 ? -1 : Stats.percentile(sorted, p);
    }

    private void allow(String schema, String rule) throws Exception
    {
        try (Connection connection = BenchData.connect(config);
             PreparedStatement insert = connection.prepareStatement("INSERT INTO " + schema + ".acme_allowed (name) VALUES (?)"))
        {
            insert.setString(1, rule);
            insert.executeUpdate();
        }
    }

    private long count(String sql) throws Exception
    {
        try (Connection connection = BenchData.connect(config); Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql))
        {
            rs.next();
            return rs.getLong(1);
        }
    }
}
