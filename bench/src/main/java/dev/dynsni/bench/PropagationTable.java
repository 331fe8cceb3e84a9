package dev.dynsni.bench;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.dynsni.testing.RedisCluster;
import dev.dynsni.testing.TlsClient;

/**
 * Table 4: propagation. Two dynamic nodes (separate JVMs) share PostgreSQL and Redis. For each
 * change: both nodes and Redis hold the host's current certificate (a handshake on each node), the
 * row is replaced by one UPDATE (autocommit), and the harness handshakes with node 2 in a tight
 * loop until it is served the new certificate. Propagation = from just before the UPDATE is sent to
 * the end of that first handshake (so it includes the statement's own round trip).
 */
final class PropagationTable
{
    private static final long STUCK_NANOS = 30_000_000_000L;
    private final BenchContext context;
    private final BenchConfig config;

    PropagationTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    /** One setup's changes: the time of each, the most polls for one, the hosts never served new. */
    private record Measured(String redis, List<Long> micros, long maxPolls, List<String> stuck)
    {
    }

    String run() throws Exception
    {
        String schema = context.schema("propagation");
        BenchData.recreateSchema(config, schema);
        List<BenchPki.Leaf> initial = new ArrayList<>();
        BenchData.populate(config, context.pki, schema, 0, config.changes, PropagationTable::host, initial);
        List<Measured> measured = new ArrayList<>();
        measured.add(measure(schema, "single Redis", config.redisAddress, "single", 7));
        String clusterNote = "";
        if (RedisCluster.available())
        {
            try (RedisCluster cluster = RedisCluster.start(3, 1))
            {
                measured.add(measure(schema, "Redis Cluster, 3 masters + 3 replicas", cluster.seeds(), "cluster", 1007));
            }
        }
        else
            clusterNote = "\nRedis Cluster row not measured: redis-server and redis-cli (Debian redis-tools) are not installed.\n";
        StringBuilder out = new StringBuilder();
        out.append("## 4. Propagation of a change to a second node\n\n");
        out.append(String.format(Locale.ROOT, "Two dynamic nodes (own JVMs) sharing PostgreSQL and Redis; %d changes, one at a time. Before each change both nodes "
                + "and Redis hold the host's certificate; the change is one `UPDATE` of the row (autocommit); the clock runs from just before the `UPDATE` "
                + "is sent until a handshake on node 2 (polled back to back, TLS 1.3) is served the new certificate. One run of %d changes per Redis setup; "
                + "the cluster is started by the bench from the Debian binaries (`cluster-node-timeout` 1 s), all on this machine.%n%n",
            config.changes, config.changes));
        out.append("| Redis | Changes | p50 ms | p99 ms | max ms | Most handshakes polled for one change |\n|---|---|---|---|---|---|\n");
        boolean met = true;
        for (Measured m : measured)
        {
            long[] sorted = Stats.sorted(m.micros());
            out.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %d |%n", m.redis(), sorted.length, Stats.percentile(sorted, 50) / 1000.0,
                Stats.percentile(sorted, 99) / 1000.0, sorted[sorted.length - 1] / 1000.0, m.maxPolls()));
            met &= Stats.percentile(sorted, 99) < 1_000_000;
            if (!m.stuck().isEmpty())
                out.append(String.format(Locale.ROOT, "%n**%s: %d of %d changes never reached node 2 within %d s** (counted as %d s above): %s. "
                    + "Node 2 kept serving the old certificate from its L1: a change/reload race in the library, to investigate.%n%n",
                    m.redis(), m.stuck().size(), config.changes, STUCK_NANOS / 1_000_000_000L, STUCK_NANOS / 1_000_000_000L, String.join(", ", m.stuck())));
        }
        out.append(clusterNote);
        out.append(String.format(Locale.ROOT, "%nTarget: p99 under 1 s → **%s**.%n", met ? "met" : "not met"));
        out.append("\nRerun: `").append(config.rerun("propagation", "CHANGES")).append("`\n");
        return out.toString();
    }

    private Measured measure(String schema, String label, String redisAddress, String redisMode, int serialBase) throws Exception
    {
        List<Long> micros = new ArrayList<>();
        long maxPolls = 0;
        List<String> stuck = new ArrayList<>();
        String prefix = context.redisPrefix("propagation-" + redisMode);
        try (ServerProcess node1 = ServerProcess.dynamic(config, "server-node1-" + redisMode, config.jdbcUrl, schema, redisAddress, redisMode, prefix, 10_000, "jsse");
             ServerProcess node2 = ServerProcess.dynamic(config, "server-node2-" + redisMode, config.jdbcUrl, schema, redisAddress, redisMode, prefix, 10_000, "jsse");
             Connection connection = BenchData.connect(config);
             PreparedStatement update = connection.prepareStatement("UPDATE " + schema + ".certificate SET chain_pem = ?, key_pem = ?, fingerprint = ? WHERE host = ? AND key_type = 'EC'"))
        {
            TlsClient tls = LoadGenerator.client(LoadGenerator.TLS13, 5000);
            for (int i = 0; i < config.changes; i++)
            {
                String host = host(i);
                BigInteger old = tls.leaf(node1.address(), host).getSerialNumber();
                BigInteger old2 = tls.leaf(node2.address(), host).getSerialNumber();
                if (!old.equals(old2))
                    throw new IllegalStateException("nodes disagree before the change for " + host);
                BenchPki.Leaf replacement = context.pki.leaf(host, i + serialBase);
                X509Certificate fresh = BenchPki.certificate(replacement.der());
                update.setString(1, context.pki.chainPem(replacement));
                update.setString(2, context.pki.keyPem(replacement));
                update.setString(3, BenchPki.fingerprint(replacement.der()));
                update.setString(4, host);
                long start = System.nanoTime();
                if (update.executeUpdate() != 1)
                    throw new IllegalStateException("no row for " + host);
                long polls = 0;
                while (true)
                {
                    polls++;
                    BigInteger served = tls.leaf(node2.address(), host).getSerialNumber();
                    if (served.equals(fresh.getSerialNumber()))
                        break;
                    if (System.nanoTime() - start > STUCK_NANOS)
                    {
                        stuck.add(host);
                        Bench.log("node 2 still serves the old certificate of %s after %d s", host, STUCK_NANOS / 1_000_000_000L);
                        break;
                    }
                }
                micros.add((System.nanoTime() - start) / 1000);
                maxPolls = Math.max(maxPolls, polls);
            }
        }
        Bench.log("propagation %s: %d changes", label, micros.size());
        return new Measured(label, micros, maxPolls, stuck);
    }

    private static String host(int i)
    {
        return "p" + i + "." + BenchData.DOMAIN;
    }
}
