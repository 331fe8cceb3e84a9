package dev.dynsni.testing;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A Redis Cluster of the test's own: {@code masters} masters with {@code replicasPerMaster}
 * replicas each, every node a {@code redis-server} with {@code cluster-enabled yes} on a free
 * loopback port, joined with {@code redis-cli --cluster create}. Nodes keep nothing on disk but their
 * cluster configuration (in a temporary directory removed by {@link #close()}). A node timeout of
 * 1 s makes a killed master fail over to its replica within a few seconds.
 *
 * <p>Needs the Debian binaries {@code redis-server} and {@code redis-cli} (package redis-tools);
 * {@link #available()} tells whether they are there.</p>
 */
public final class RedisCluster implements Closeable
{
    /** Milliseconds after which an unreachable master is failed over. */
    public static final int NODE_TIMEOUT_MILLIS = 1000;

    private final Path dir;
    private final List<RedisProcess> nodes = new ArrayList<>();
    private final int replicasPerMaster;

    private RedisCluster(Path dir, int replicasPerMaster)
    {
        this.dir = dir;
        this.replicasPerMaster = replicasPerMaster;
    }

    /** @return whether {@code redis-server} and {@code redis-cli} are installed */
    public static boolean available()
    {
        return RedisProcess.findOnPath("redis-server") != null && RedisProcess.findOnPath("redis-cli") != null;
    }

    /**
     * Starts the nodes, creates the cluster and waits until every node reports {@code cluster_state:ok}.
     */
    public static RedisCluster start(int masters, int replicasPerMaster) throws IOException
    {
        if (!available())
            throw new IOException("a Redis Cluster needs redis-server and redis-cli (Debian packages redis-server, redis-tools)");
        RedisCluster cluster = new RedisCluster(Files.createTempDirectory("dynsni-redis-cluster-"), replicasPerMaster);
        try
        {
            int count = masters * (1 + replicasPerMaster);
            for (int i = 0; i < count; i++)
            {
                RedisProcess node = new RedisProcess("--cluster-enabled", "yes",
                    "--cluster-config-file", cluster.dir.resolve("nodes-" + i + ".conf").toString(),
                    "--cluster-node-timeout", String.valueOf(NODE_TIMEOUT_MILLIS),
                    // a replica always may take over, however long it was out of touch (a loaded test machine)
                    "--cluster-replica-validity-factor", "0",
                    "--logfile", cluster.dir.resolve("node-" + i + ".log").toString(),
                    "--dir", cluster.dir.toString());
                cluster.nodes.add(node.start());
            }
            List<String> create = new ArrayList<>(List.of("--cluster", "create"));
            for (RedisProcess node : cluster.nodes)
            {
                create.add("127.0.0.1:" + node.port());
            }
            create.addAll(List.of("--cluster-replicas", String.valueOf(replicasPerMaster), "--cluster-yes"));
            Commands.run(Commands.redisCli(cluster.nodes.get(0).port(), create), 60);
            cluster.awaitHealthy(30_000);
            return cluster;
        }
        catch (IOException | RuntimeException x)
        {
            cluster.close();
            throw x;
        }
    }

    /** @return the seed addresses, comma-separated {@code redis://127.0.0.1:PORT} (the form {@code jetty.dynamicSni.redis.address} takes) */
    public String seeds()
    {
        return nodes.stream().filter(RedisProcess::isRunning).map(RedisProcess::url).collect(Collectors.joining(","));
    }

    /** @return every node, masters and replicas, in start order (killed ones included) */
    public List<RedisProcess> nodes()
    {
        return List.copyOf(nodes);
    }

    /** @return the running nodes that are masters now, by their own {@code ROLE} */
    public List<RedisProcess> masters() throws IOException
    {
        List<RedisProcess> masters = new ArrayList<>();
        for (RedisProcess node : nodes)
        {
            if (node.isRunning() && Commands.run(Commands.redisCli(node.port(), List.of("ROLE")), 10).startsWith("master"))
                masters.add(node);
        }
        return masters;
    }

    /** @return the running master that serves the key's hash slot now, by each master's own view ({@code CLUSTER NODES}, its "myself" line) */
    public RedisProcess masterOf(String key) throws IOException
    {
        List<RedisProcess> masters = masters();
        if (masters.isEmpty())
            throw new IOException("no running master");
        int slot = Integer.parseInt(Commands.run(Commands.redisCli(masters.get(0).port(), List.of("CLUSTER", "KEYSLOT", key)), 10).trim());
        for (RedisProcess master : masters)
        {
            for (String line : Commands.run(Commands.redisCli(master.port(), List.of("CLUSTER", "NODES")), 10).split("\n"))
            {
                String[] fields = line.trim().split(" ");
                if (fields.length < 9 || !fields[2].contains("myself"))
                    continue;
                for (int i = 8; i < fields.length; i++)
                {
                    if (covers(fields[i], slot))
                        return master;
                }
            }
        }
        throw new IOException("no running master serves slot " + slot + " of " + key);
    }

    private static boolean covers(String range, int slot)
    {
        if (range.startsWith("["))
            return false;
        int dash = range.indexOf('-');
        int from = Integer.parseInt(dash < 0 ? range : range.substring(0, dash));
        int to = dash < 0 ? from : Integer.parseInt(range.substring(dash + 1));
        return slot >= from && slot <= to;
    }

    /**
     * Waits until every running node reports {@code cluster_state:ok} and the cluster has its
     * configured number of masters, each slot covered (after a start, or after a failover).
     */
    public void awaitHealthy(long timeoutMillis) throws IOException
    {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        String last = "";
        while (true)
        {
            boolean ok = true;
            for (RedisProcess node : nodes)
            {
                if (!node.isRunning())
                    continue;
                last = Commands.run(Commands.redisCli(node.port(), List.of("CLUSTER", "INFO")), 10);
                if (!last.contains("cluster_state:ok") || !last.contains("cluster_slots_ok:16384"))
                {
                    ok = false;
                    break;
                }
            }
            if (ok && masters().size() == nodes.size() / (1 + replicasPerMaster))
                return;
            if (System.nanoTime() > deadline)
                throw new IOException("Redis Cluster not healthy within " + timeoutMillis + " ms: " + last.replace("\r", "").replace('\n', ' '));
            TestServices.sleep(100);
        }
    }

    @Override
    public void close() throws IOException
    {
        for (RedisProcess node : nodes)
        {
            node.close();
        }
        Commands.deleteTree(dir);
    }
}
