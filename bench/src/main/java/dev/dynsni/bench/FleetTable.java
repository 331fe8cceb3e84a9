package dev.dynsni.bench;

import java.math.BigInteger;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.dynsni.core.store.JdbcCertificateStore;
import dev.dynsni.testing.PostgresStandbyPair;
import dev.dynsni.testing.TcpProxy;
import dev.dynsni.testing.TlsClient;

/**
 * Table 11: a fleet's PostgreSQL events, two dynamic nodes (own JVMs) each time.
 * <ul>
 * <li><b>Failover</b>: the nodes use a primary with a streaming standby (started by the bench from the
 * Debian binaries) through the multi-host URL; the primary stops, the standby is promoted 2 s later;
 * measured: from the promotion until both nodes LISTEN on it (its {@code pg_stat_activity}), and
 * until a change committed then is served by both.</li>
 * <li><b>Catch-up</b>: each node reaches the shared PostgreSQL through a TCP proxy; both are cut for
 * {@code BENCH_FLEET_GAP_SECONDS} while {@code BENCH_FLEET_CHANGES} certificates are replaced; once
 * the proxies let through again: the catch-up each node logs (changes read, its own time), and the
 * time until both nodes serve every replaced certificate's new version.</li>
 * </ul>
 */
final class FleetTable
{
    private static final Pattern CAUGHT_UP = Pattern.compile("Change feed caught up after a gap .*changes=(\\d+) .*millis=(\\d+)");
    private final BenchContext context;
    private final BenchConfig config;

    FleetTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    String run() throws Exception
    {
        StringBuilder out = new StringBuilder("## 11. Fleet: PostgreSQL failover and catch-up after a gap\n\n");
        out.append(String.format(Locale.ROOT, "Two dynamic nodes (own JVMs, prefetch on), single Redis, %d run(s) of each. **Failover**: a PostgreSQL primary with a streaming "
            + "standby, both started by the bench (Debian binaries, fsync off), the nodes on the multi-host URL (`targetServerType=primary`); the primary "
            + "stops (`pg_ctl stop -m immediate`), the standby is promoted 2 s later; *listening* = from the promotion until the new primary's "
            + "`pg_stat_activity` shows both nodes' LISTEN connections; *change served* = from a commit on the new primary then until both nodes serve it. "
            + "**Catch-up**: each node reaches PostgreSQL through a TCP proxy; both proxies cut for %d s while %d certificates are replaced (one `UPDATE` "
            + "each); *caught up* = changes read and time taken, as each node logs it; *last change served* = from the proxies letting through again "
            + "until both nodes serve the last certificate replaced; *every change checked* = until both nodes were seen serving every new certificate "
            + "(host by host, so it includes %d handshakes by one client thread).%n%n",
            config.runs, config.fleetGapSeconds, config.fleetChanges, 2 * config.fleetChanges));
        if (!PostgresStandbyPair.available())
        {
            out.append("Failover not measured: the PostgreSQL server binaries (Debian package postgresql) are not installed.\n\n");
        }
        else
        {
            List<Long> listening = new ArrayList<>();
            List<Long> served = new ArrayList<>();
            for (int run = 1; run <= config.runs; run++)
            {
                long[] figures = failover(run);
                listening.add(figures[0]);
                served.add(figures[1]);
            }
            out.append("| Failover | listening ms | change served ms |\n|---|---|---|\n");
            out.append(String.format(Locale.ROOT, "| standby promoted 2 s after the primary stopped | %s | %s |%n%n", cell(listening), cell(served)));
        }
        List<Long> caught = new ArrayList<>();
        List<Long> caughtMillis = new ArrayList<>();
        List<Long> lastServed = new ArrayList<>();
        List<Long> allServed = new ArrayList<>();
        for (int run = 1; run <= config.runs; run++)
        {
            long[] figures = catchUp(run);
            caught.add(figures[0]);
            caughtMillis.add(figures[1]);
            lastServed.add(figures[2]);
            allServed.add(figures[3]);
        }
        out.append("| Catch-up | gap s | changes | changes read per node | catch-up ms per node | last change served by both, ms | every change checked on both, ms |\n|---|---|---|---|---|---|---|\n");
        out.append(String.format(Locale.ROOT, "| both nodes cut from PostgreSQL | %d | %d | %s | %s | %s | %s |%n", config.fleetGapSeconds, config.fleetChanges,
            cell(caught), cell(caughtMillis), cell(lastServed), cell(allServed)));
        out.append("\nRerun: `").append(config.rerun("fleet", "RUNS", "FLEET_GAP_SECONDS", "FLEET_CHANGES")).append("`\n");
        return out.toString();
    }

    private static String cell(List<Long> values)
    {
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        if (sorted.length == 1)
            return Long.toString(sorted[0]);
        return String.format(Locale.ROOT, "%d (%d–%d)", Stats.percentile(sorted, 50), sorted[0], sorted[sorted.length - 1]);
    }

    private static String host(int i)
    {
        return "f" + i + "." + BenchData.DOMAIN;
    }

    /** @return {listening ms, change served ms} */
    private long[] failover(int run) throws Exception
    {
        try (PostgresStandbyPair pg = PostgresStandbyPair.start())
        {
            String schema = "fleet";
            BenchConfig onPair = config.withJdbcUrl(pg.jdbcUrl(pg.primaryPort()));
            BenchData.recreateSchema(onPair, schema);
            BenchData.populate(onPair, context.pki, schema, 0, 2, FleetTable::host, null);
            String prefix = context.redisPrefix("fleet-failover-" + run);
            try (ServerProcess node1 = ServerProcess.dynamic(config, "server-fleet-failover-1", pg.failoverJdbcUrl(), schema, config.redisAddress, "single", prefix, 10_000, "jsse");
                 ServerProcess node2 = ServerProcess.dynamic(config, "server-fleet-failover-2", pg.failoverJdbcUrl(), schema, config.redisAddress, "single", prefix, 10_000, "jsse"))
            {
                TlsClient tls = LoadGenerator.client(LoadGenerator.TLS13, 5000);
                for (ServerProcess node : List.of(node1, node2))
                {
                    tls.leaf(node.address(), host(0));
                    tls.leaf(node.address(), host(1));
                }
                awaitListeners(pg.jdbcUrl(pg.primaryPort()), 2, 30);
                pg.stopPrimary();
                Thread.sleep(2000);
                long promoting = System.nanoTime();
                pg.promoteStandby();
                awaitListeners(pg.jdbcUrl(pg.standbyPort()), 2, 60);
                long listening = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - promoting);
                BenchPki.Leaf replacement = context.pki.leaf(host(1), 11);
                BigInteger serial = BenchPki.certificate(replacement.der()).getSerialNumber();
                long changing = System.nanoTime();
                try (Connection connection = DriverManager.getConnection(pg.jdbcUrl(pg.standbyPort()));
                     PreparedStatement update = connection.prepareStatement("UPDATE " + schema + ".certificate SET chain_pem = ?, key_pem = ? WHERE host = ?"))
                {
                    update.setString(1, context.pki.chainPem(replacement));
                    update.setString(2, context.pki.keyPem(replacement));
                    update.setString(3, host(1));
                    update.executeUpdate();
                }
                for (ServerProcess node : List.of(node1, node2))
                {
                    awaitServed(tls, node, host(1), serial, 30);
                }
                long served = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - changing);
                Bench.log("fleet failover run %d: listening %d ms after the promotion, change served by both in %d ms", run, listening, served);
                return new long[]{listening, served};
            }
        }
    }

    /** @return {changes read (most of both nodes), catch-up ms (slowest node), last change served ms, all checked ms} */
    private long[] catchUp(int run) throws Exception
    {
        String schema = context.schema("fleet_gap");
        BenchData.recreateSchema(config, schema);
        int changes = config.fleetChanges;
        BenchData.populate(config, context.pki, schema, 0, changes, FleetTable::host, null);
        String prefix = context.redisPrefix("fleet-gap-" + run);
        try (TcpProxy proxy1 = new TcpProxy(dev.dynsni.testing.TestServices.postgresAddress(config.jdbcUrl));
             TcpProxy proxy2 = new TcpProxy(dev.dynsni.testing.TestServices.postgresAddress(config.jdbcUrl));
             ServerProcess node1 = ServerProcess.dynamic(config, "server-fleet-gap-1", dev.dynsni.testing.TestServices.jdbcUrlVia(config.jdbcUrl, "127.0.0.1", proxy1.port()),
                 schema, config.redisAddress, "single", prefix, 2L * changes, "jsse");
             ServerProcess node2 = ServerProcess.dynamic(config, "server-fleet-gap-2", dev.dynsni.testing.TestServices.jdbcUrlVia(config.jdbcUrl, "127.0.0.1", proxy2.port()),
                 schema, config.redisAddress, "single", prefix, 2L * changes, "jsse"))
        {
            TlsClient tls = LoadGenerator.client(LoadGenerator.TLS13, 5000);
            for (ServerProcess node : List.of(node1, node2))
            {
                for (int i = 0; i < changes; i++)
                {
                    tls.leaf(node.address(), host(i));
                }
            }
            Thread.sleep(1500); // the nodes' watermarks pass the initial rows
            proxy1.cut();
            proxy2.cut();
            long cut = System.nanoTime();
            Map<String, BigInteger> fresh = new HashMap<>();
            try (Connection connection = BenchData.connect(config);
                 PreparedStatement update = connection.prepareStatement("UPDATE " + schema + ".certificate SET chain_pem = ?, key_pem = ? WHERE host = ?"))
            {
                for (int i = 0; i < changes; i++)
                {
                    BenchPki.Leaf replacement = context.pki.leaf(host(i), i + 3);
                    update.setString(1, context.pki.chainPem(replacement));
                    update.setString(2, context.pki.keyPem(replacement));
                    update.setString(3, host(i));
                    update.executeUpdate();
                    fresh.put(host(i), BenchPki.certificate(replacement.der()).getSerialNumber());
                }
            }
            long remaining = TimeUnit.SECONDS.toMillis(config.fleetGapSeconds) - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut);
            if (remaining > 0)
                Thread.sleep(remaining);
            proxy1.restore();
            proxy2.restore();
            long restored = System.nanoTime();
            // the last certificate replaced, on both nodes: the catch-up hands every change on at once
            String last = host(changes - 1);
            for (ServerProcess node : List.of(node1, node2))
            {
                awaitServed(tls, node, last, fresh.get(last), 60);
            }
            long firstServed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restored);
            for (ServerProcess node : List.of(node1, node2))
            {
                for (int i = 0; i < changes; i++)
                {
                    awaitServed(tls, node, host(i), fresh.get(host(i)), 60);
                }
            }
            long allServed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restored);
            long read = 0;
            long millis = 0;
            for (ServerProcess node : List.of(node1, node2))
            {
                Matcher matcher = CAUGHT_UP.matcher(Files.readString(node.jvm.log));
                if (!matcher.find())
                    throw new IllegalStateException("node did not log its catch-up: see " + node.jvm.log);
                read = Math.max(read, Long.parseLong(matcher.group(1)));
                millis = Math.max(millis, Long.parseLong(matcher.group(2)));
            }
            Bench.log("fleet catch-up run %d: %d changes read, %d ms, the last change served by both %d ms after the gap, all checked by %d ms", run, read, millis,
                firstServed, allServed);
            return new long[]{read, millis, firstServed, allServed};
        }
    }

    private static void awaitListeners(String jdbcUrl, int count, int seconds) throws Exception
    {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true)
        {
            try (Connection connection = DriverManager.getConnection(jdbcUrl);
                 Statement statement = connection.createStatement();
                 ResultSet result = statement.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + JdbcCertificateStore.LISTENER_APPLICATION_NAME + "'"))
            {
                result.next();
                if (result.getInt(1) >= count)
                    return;
            }
            catch (java.sql.SQLException x)
            {
                // not up yet
            }
            if (System.nanoTime() > deadline)
                throw new IllegalStateException(count + " nodes do not listen on " + jdbcUrl + " within " + seconds + " s");
            Thread.sleep(20);
        }
    }

    private static void awaitServed(TlsClient tls, ServerProcess node, String host, BigInteger serial, int seconds) throws Exception
    {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true)
        {
            try
            {
                if (tls.leaf(node.address(), host).getSerialNumber().equals(serial))
                    return;
            }
            catch (java.io.IOException x)
            {
                // the node cannot serve it yet
            }
            if (System.nanoTime() > deadline)
                throw new IllegalStateException(host + " not served its new certificate by " + node.address() + " within " + seconds + " s");
        }
    }
}
