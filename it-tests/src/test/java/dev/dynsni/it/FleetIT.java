package dev.dynsni.it;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import dev.dynsni.core.store.JdbcCertificateStore;
import dev.dynsni.testing.Await;
import dev.dynsni.testing.PostgresStandbyPair;
import dev.dynsni.testing.RedisCluster;
import dev.dynsni.testing.RedisProcess;
import dev.dynsni.testing.RedisSentinels;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two nodes of the real distribution (start.jar) sharing a PostgreSQL primary with a streaming
 * standby and, in turn, a Redis Cluster and a Redis Sentinel set, all started by the test from the
 * Debian binaries, with a client making full handshakes to both nodes throughout:
 * <ul>
 * <li>a Redis Cluster master killed: no failed handshake for hosts in L1; cold hosts served while the
 * cluster fails over; a change served by both nodes once it settled;</li>
 * <li>the Sentinel master killed: the same;</li>
 * <li>the PostgreSQL primary stopped and the standby promoted: hosts in L1 keep being served, both
 * nodes listen on the new primary, and a change committed there reaches both;</li>
 * <li>both nodes' PostgreSQL connections (LISTEN included) cut for 30 s while 50 certificates are
 * replaced and 10 removed: once they return, each node catches up from the table before it listens
 * again, and neither serves a replaced or removed certificate past the stated bound.</li>
 * </ul>
 * Each step's time is printed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetIT
{
    private static final String SCHEMA = "fleet";
    private PostgresStandbyPair pg;
    private Tenants tenants;
    private TlsClient tls;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    void start() throws Exception
    {
        assumeTrue(TestServices.installed(PostgresStandbyPair.available() && RedisCluster.available(), "the PostgreSQL server package and redis-server/redis-cli"),
            "PostgreSQL server binaries or redis-cli not installed");
        pg = PostgresStandbyPair.start();
        // the test's own writes find the promoted standby at once (the driver's default remembers a standby 10 s)
        tenants = new Tenants(pg.failoverJdbcUrl() + "&hostRecheckSeconds=1", SCHEMA);
        tls = TlsClient.trusting(tenants.trustStore()).timeoutMillis(10_000);
    }

    @AfterAll
    void stop() throws Exception
    {
        for (int i = closing.size() - 1; i >= 0; i--)
        {
            try
            {
                closing.get(i).close();
            }
            catch (Exception ignored)
            {
                // the rest still goes
            }
        }
        if (pg != null)
            pg.close();
    }

    private JettyDistribution.JettyProcess node(String name, Map<String, String> redis) throws Exception
    {
        Path base = JettyDistribution.newBase(name, "--add-modules=dynamic-sni,https,http2");
        Map<String, String> properties = new HashMap<>(redis);
        properties.put("jetty.dynamicSni.jdbc.url", pg.failoverJdbcUrl());
        properties.put("jetty.dynamicSni.jdbc.schema", SCHEMA);
        properties.put("jetty.dynamicSni.jdbc.timeoutMillis", "1000");
        properties.put("jetty.dynamicSni.redis.timeoutMillis", "500");
        JettyDistribution.appendProperties(base.resolve("start.d/dynamic-sni.ini"), properties);
        JettyDistribution.JettyProcess jetty = JettyDistribution.JettyProcess.start(base);
        closing.add(jetty);
        return jetty;
    }

    private String served(JettyDistribution.JettyProcess node, String host)
    {
        TlsClient.Result result = tls.handshake(node.port(), host);
        return result.ok() ? Tenants.sha256(result.leaf()) : null;
    }

    private String expected(String host)
    {
        return Tenants.sha256(tenants.issued(host).certificate());
    }

    private static long await(String what, long seconds, BooleanSupplier condition) throws InterruptedException
    {
        return Await.until(what, seconds, condition::getAsBoolean);
    }

    /** Full handshakes to every node for the held hosts, round robin, until closed; counts failures. */
    private final class Load implements AutoCloseable
    {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong handshakes = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        final StringBuffer failed = new StringBuffer();
        final Thread thread;

        Load(List<JettyDistribution.JettyProcess> nodes, List<String> hosts)
        {
            thread = new Thread(() ->
            {
                int i = 0;
                while (running.get())
                {
                    JettyDistribution.JettyProcess node = nodes.get(i % nodes.size());
                    String host = hosts.get(i / nodes.size() % hosts.size());
                    i++;
                    handshakes.incrementAndGet();
                    if (!expected(host).equals(served(node, host)))
                    {
                        failures.incrementAndGet();
                        failed.append(host).append("@").append(node.port()).append(' ');
                    }
                }
            }, "fleet-load");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException
        {
            running.set(false);
            thread.join(30_000);
        }

        void assertClean()
        {
            assertTrue(handshakes.get() > 20, "the load ran: " + handshakes.get());
            assertEquals(0, failures.get(), () -> failures.get() + " of " + handshakes.get() + " handshakes for held hosts failed: " + failed);
        }
    }

    /** Puts the hosts, and has both nodes serve the first {@code held} of them (so L1 holds them). */
    private List<String> hosts(int from, int to, List<JettyDistribution.JettyProcess> nodes, int held) throws Exception
    {
        List<String> hosts = new ArrayList<>();
        for (int i = from; i <= to; i++)
        {
            hosts.add(Tenants.host(i));
            tenants.putEc(Tenants.host(i));
        }
        for (String host : hosts.subList(0, held))
        {
            for (JettyDistribution.JettyProcess node : nodes)
            {
                await(host + " served by " + node.port(), 15, () -> expected(host).equals(served(node, host)));
            }
        }
        return hosts;
    }

    /** Replaces a host's certificate and waits until every node serves the new one; returns the time. */
    private long change(String host, List<JettyDistribution.JettyProcess> nodes, long seconds) throws Exception
    {
        long start = System.nanoTime();
        tenants.putEc(host);
        for (JettyDistribution.JettyProcess node : nodes)
        {
            await("the new certificate of " + host + " served by " + node.port(), seconds, () -> expected(host).equals(served(node, host)));
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    @Test
    @Order(1)
    void redisClusterMasterKilled_heldHostsNeverFail_coldHostsServed_changesPropagateAfter() throws Exception
    {
        RedisCluster cluster = RedisCluster.start(3, 1);
        closing.add(cluster);
        Map<String, String> redis = Map.of("jetty.dynamicSni.redis.mode", "cluster", "jetty.dynamicSni.redis.address", cluster.seeds(),
            "jetty.dynamicSni.redis.keyPrefix", TestServices.newKeyPrefix());
        List<JettyDistribution.JettyProcess> nodes = List.of(node("fleet-cluster-1", redis), node("fleet-cluster-2", redis));
        List<String> hosts = hosts(1, 10, nodes, 5);
        try (Load load = new Load(nodes, hosts.subList(0, 5)))
        {
            RedisProcess victim = cluster.masters().get(0);
            long killed = System.nanoTime();
            victim.kill();
            for (String host : hosts.subList(5, 10))
            {
                for (JettyDistribution.JettyProcess node : nodes)
                {
                    await("cold " + host + " served by " + node.port() + " while the cluster fails over", 15, () -> expected(host).equals(served(node, host)));
                }
            }
            cluster.awaitHealthy(60_000);
            long settled = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            long propagated = change(hosts.get(5), nodes, 10); // not a held host: the load checks those against one certificate
            System.err.printf("FleetIT cluster: failed over %d ms after the kill; a change then served by both nodes after %d ms; %d handshakes for held hosts meanwhile%n",
                settled, propagated, load.handshakes.get());
            load.close();
            load.assertClean();
        }
        finally
        {
            // the next test counts the nodes listening on PostgreSQL: these go now
            for (JettyDistribution.JettyProcess node : nodes)
            {
                node.close();
            }
            cluster.close();
        }
    }

    @Test
    @Order(2)
    void sentinelMasterKilled_thenPostgresPrimaryFailsOver_heldHostsNeverFail_changesReachBothNodes() throws Exception
    {
        RedisSentinels sentinels = RedisSentinels.start(1, 3);
        closing.add(sentinels);
        Map<String, String> redis = Map.of("jetty.dynamicSni.redis.mode", "sentinel", "jetty.dynamicSni.redis.address", sentinels.sentinelAddresses(),
            "jetty.dynamicSni.redis.sentinelMaster", RedisSentinels.MASTER_NAME, "jetty.dynamicSni.redis.keyPrefix", TestServices.newKeyPrefix());
        List<JettyDistribution.JettyProcess> nodes = List.of(node("fleet-sentinel-1", redis), node("fleet-sentinel-2", redis));
        List<String> hosts = hosts(11, 20, nodes, 5);
        try (Load load = new Load(nodes, hosts.subList(0, 5)))
        {
            // Redis: the sentinels' master killed
            RedisProcess old = sentinels.master();
            RedisProcess successor = sentinels.servers().stream().filter(s -> s != old).findFirst().orElseThrow();
            long killed = System.nanoTime();
            old.kill();
            for (String host : hosts.subList(5, 8))
            {
                for (JettyDistribution.JettyProcess node : nodes)
                {
                    await("cold " + host + " served by " + node.port() + " during the Redis failover", 15, () -> expected(host).equals(served(node, host)));
                }
            }
            sentinels.awaitMaster(successor, 0, 60_000);
            long elected = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            long propagated = change(hosts.get(5), nodes, 10);
            System.err.printf("FleetIT sentinel: new master elected %d ms after the kill; a change then served by both nodes after %d ms%n", elected, propagated);

            // PostgreSQL: the primary stops, the standby is promoted 2 s later
            pg.stopPrimary();
            Thread.sleep(2000);
            long promoting = System.nanoTime();
            pg.promoteStandby();
            long listening = await("both nodes listen on the new primary", 30, () -> listeners(pg.standbyPort()) == 2);
            long afterPromotion = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - promoting);
            for (String host : hosts.subList(8, 10))
            {
                for (JettyDistribution.JettyProcess node : nodes)
                {
                    await("cold " + host + " served by " + node.port() + " from the new primary", 15, () -> expected(host).equals(served(node, host)));
                }
            }
            long changed = change(hosts.get(6), nodes, 10);
            System.err.printf("FleetIT postgres: both nodes listened on the promoted standby %d ms after the promotion (waited %d ms); a change committed there served by both after %d ms; %d handshakes for held hosts meanwhile%n",
                afterPromotion, listening, changed, load.handshakes.get());
            load.close();
            load.assertClean();
        }
    }

    @Test
    @Order(3)
    void feedCutFor30Seconds_whileCertificatesChangeAndGo_noNodeServesAStaleOneOnceBack() throws Exception
    {
        String schema = TestServices.newSchema();
        Tenants gap = new Tenants(TestServices.jdbcUrl(), schema);
        TlsClient client = TlsClient.trusting(gap.trustStore()).timeoutMillis(10_000);
        String prefix = TestServices.newKeyPrefix();
        List<dev.dynsni.testing.TcpProxy> proxies = new ArrayList<>();
        List<JettyDistribution.JettyProcess> nodes = new ArrayList<>();
        try
        {
            for (int i = 1; i <= 2; i++)
            {
                dev.dynsni.testing.TcpProxy proxy = new dev.dynsni.testing.TcpProxy(TestServices.postgresAddress());
                proxies.add(proxy);
                closing.add(proxy);
                Path base = JettyDistribution.newBase("fleet-gap-" + i, "--add-modules=dynamic-sni,https,http2");
                JettyDistribution.appendProperties(base.resolve("start.d/dynamic-sni.ini"), Map.of(
                    "jetty.dynamicSni.jdbc.url", TestServices.jdbcUrlVia("127.0.0.1", proxy.port()),
                    "jetty.dynamicSni.jdbc.schema", schema,
                    "jetty.dynamicSni.jdbc.timeoutMillis", "1000",
                    "jetty.dynamicSni.redis.address", TestServices.redisUrl(),
                    "jetty.dynamicSni.redis.keyPrefix", prefix));
                JettyDistribution.JettyProcess node = JettyDistribution.JettyProcess.start(base);
                closing.add(node);
                nodes.add(node);
            }
            List<String> hosts = new ArrayList<>();
            for (int i = 1; i <= 60; i++)
            {
                hosts.add("g" + i + "." + Tenants.DOMAIN);
                gap.putEc(hosts.get(i - 1));
            }
            java.util.function.BiFunction<JettyDistribution.JettyProcess, String, String> serve = (node, host) ->
            {
                TlsClient.Result result = client.handshake(node.port(), host);
                return result.ok() ? Tenants.sha256(result.leaf()) : null;
            };
            for (JettyDistribution.JettyProcess node : nodes)
            {
                for (String host : hosts)
                {
                    String want = Tenants.sha256(gap.issued(host).certificate());
                    await(host + " served by " + node.port(), 15, () -> want.equals(serve.apply(node, host)));
                }
            }
            Thread.sleep(1500); // the nodes' watermarks move past the writes above

            proxies.forEach(dev.dynsni.testing.TcpProxy::cut);
            long cut = System.nanoTime();
            Map<String, String> replaced = new HashMap<>();
            for (String host : hosts.subList(0, 50))
            {
                String old = Tenants.sha256(gap.issued(host).certificate());
                gap.putEc(host);
                replaced.put(host, old);
            }
            try (Connection connection = TestServices.connect(); Statement statement = connection.createStatement())
            {
                statement.execute("DELETE FROM " + schema + ".certificate WHERE host IN ('" + String.join("','", hosts.subList(50, 60)) + "')");
            }
            long remaining = TimeUnit.SECONDS.toMillis(30) - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut);
            if (remaining > 0)
                Thread.sleep(remaining);
            proxies.forEach(dev.dynsni.testing.TcpProxy::restore);
            long restored = System.nanoTime();
            long worst = 0;
            long firstChange = 0;
            for (JettyDistribution.JettyProcess node : nodes)
            {
                String probe = hosts.get(0);
                String probeWant = Tenants.sha256(gap.issued(probe).certificate());
                await("the new certificate of " + probe + " on " + node.port() + " after the gap", 10, () -> probeWant.equals(serve.apply(node, probe)));
                firstChange = Math.max(firstChange, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restored));
                for (String host : hosts.subList(0, 50))
                {
                    String want = Tenants.sha256(gap.issued(host).certificate());
                    await("the new certificate of " + host + " on " + node.port() + " after the gap", 10, () -> want.equals(serve.apply(node, host)));
                }
                for (String host : hosts.subList(50, 60))
                {
                    await(host + " no longer served by " + node.port() + " after the gap", 10, () -> serve.apply(node, host) == null);
                }
                worst = Math.max(worst, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restored));
            }
            // and nothing stale comes back from Redis later: a second pass, after the L1 reload settled
            Thread.sleep(1000);
            for (JettyDistribution.JettyProcess node : nodes)
            {
                for (String host : hosts.subList(0, 50))
                {
                    assertTrue(!replaced.get(host).equals(serve.apply(node, host)), host + " serves its replaced certificate again on " + node.port());
                }
                for (String host : hosts.subList(50, 60))
                {
                    assertEquals(null, serve.apply(node, host), host + " served again on " + node.port());
                }
                assertTrue(node.log().contains("Change feed caught up after a gap"), node::log);
            }
            System.err.printf("FleetIT gap: PostgreSQL cut for 30 s while 50 certificates were replaced and 10 removed; a replaced one served new by both nodes %d ms after it came back, all 60 changes checked on both by %d ms (120 handshakes)%n",
                firstChange, worst);
        }
        finally
        {
            for (JettyDistribution.JettyProcess node : nodes)
            {
                node.close();
            }
            gap.dropSchema();
        }
    }

    /** @return how many nodes' LISTEN connections the server on that port has */
    private int listeners(int port)
    {
        try (Connection connection = DriverManager.getConnection(pg.jdbcUrl(port));
             Statement statement = connection.createStatement();
             ResultSet result = statement.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + JdbcCertificateStore.LISTENER_APPLICATION_NAME + "'"))
        {
            result.next();
            return result.getInt(1);
        }
        catch (Exception x)
        {
            return -1;
        }
    }
}
