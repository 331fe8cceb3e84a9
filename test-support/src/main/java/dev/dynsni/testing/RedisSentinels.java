package dev.dynsni.testing;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A Redis Sentinel set of the test's own: one master, {@code replicas} replicas and {@code sentinels}
 * sentinels ({@code redis-server --sentinel}, quorum a majority), each on a free loopback port. A
 * master that stops answering for {@link #DOWN_AFTER_MILLIS} is failed over to a replica. Temporary
 * files are removed by {@link #close()}.
 *
 * <p>Needs the Debian binaries {@code redis-server} and {@code redis-cli}; see {@link #available()}.</p>
 */
public final class RedisSentinels implements Closeable
{
    /** The master name the sentinels monitor ({@code jetty.dynamicSni.redis.sentinelMaster}). */
    public static final String MASTER_NAME = "dynsni-test";
    /** Milliseconds after which the sentinels consider an unanswering master down. */
    public static final int DOWN_AFTER_MILLIS = 1000;

    private final Path dir;
    private final List<RedisProcess> servers = new ArrayList<>();
    private final List<Process> sentinels = new ArrayList<>();
    private final List<Integer> sentinelPorts = new ArrayList<>();

    private RedisSentinels(Path dir)
    {
        this.dir = dir;
    }

    public static boolean available()
    {
        return RedisCluster.available();
    }

    /** Starts the servers and the sentinels and waits until every sentinel sees the master and its replicas. */
    public static RedisSentinels start(int replicas, int sentinels) throws IOException
    {
        if (!available())
            throw new IOException("Redis Sentinel needs redis-server and redis-cli (Debian packages redis-server, redis-tools)");
        RedisSentinels set = new RedisSentinels(Files.createTempDirectory("dynsni-redis-sentinel-"));
        try
        {
            RedisProcess master = new RedisProcess("--dir", set.dir.toString()).start();
            set.servers.add(master);
            for (int i = 0; i < replicas; i++)
            {
                set.servers.add(new RedisProcess("--dir", set.dir.toString(), "--replicaof", "127.0.0.1", String.valueOf(master.port())).start());
            }
            int quorum = sentinels / 2 + 1;
            for (int i = 0; i < sentinels; i++)
            {
                int port = FreePorts.next();
                Path conf = set.dir.resolve("sentinel-" + i + ".conf");
                Files.writeString(conf, String.join("\n",
                    "port " + port,
                    "bind 127.0.0.1",
                    "dir " + set.dir,
                    "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master.port() + " " + quorum,
                    "sentinel down-after-milliseconds " + MASTER_NAME + " " + DOWN_AFTER_MILLIS,
                    "sentinel failover-timeout " + MASTER_NAME + " 5000",
                    "sentinel parallel-syncs " + MASTER_NAME + " 1",
                    ""));
                Process process = new ProcessBuilder(RedisProcess.findOnPath("redis-server").toString(), conf.toString(), "--sentinel")
                    .redirectErrorStream(true)
                    .redirectOutput(set.dir.resolve("sentinel-" + i + ".log").toFile())
                    .start();
                set.sentinels.add(process);
                set.sentinelPorts.add(port);
            }
            for (int port : set.sentinelPorts)
            {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!TestServices.reachable(new InetSocketAddress("127.0.0.1", port)))
                {
                    if (System.nanoTime() > deadline)
                        throw new IOException("sentinel did not start on port " + port + ": " + set.log());
                    TestServices.sleep(20);
                }
            }
            set.awaitMaster(master, replicas, 30_000);
            return set;
        }
        catch (IOException | RuntimeException x)
        {
            set.close();
            throw x;
        }
    }

    /** @return the sentinels' addresses, comma-separated {@code redis://127.0.0.1:PORT} (the form {@code jetty.dynamicSni.redis.address} takes) */
    public String sentinelAddresses()
    {
        return sentinelPorts.stream().map(p -> "redis://127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    /** @return the data servers (the first one started as master; after a failover another may be) */
    public List<RedisProcess> servers()
    {
        return List.copyOf(servers);
    }

    /** @return the server the sentinels name as master now, asked of the first sentinel that answers */
    public RedisProcess master() throws IOException
    {
        IOException last = null;
        for (int port : sentinelPorts)
        {
            try
            {
                String[] answer = Commands.run(Commands.redisCli(port, List.of("SENTINEL", "get-master-addr-by-name", MASTER_NAME)), 10).trim().split("\\s+");
                int masterPort = Integer.parseInt(answer[answer.length - 1]);
                for (RedisProcess server : servers)
                {
                    if (server.port() == masterPort)
                        return server;
                }
                throw new IOException("sentinel names an unknown master port " + masterPort);
            }
            catch (IOException | RuntimeException x)
            {
                last = x instanceof IOException io ? io : new IOException(x);
            }
        }
        throw last;
    }

    /**
     * Waits until every sentinel names {@code expected} as master, that server says it is master by
     * its own {@code ROLE}, and it has {@code replicas} replicas connected.
     */
    public void awaitMaster(RedisProcess expected, int replicas, long timeoutMillis) throws IOException
    {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        String last = "";
        while (true)
        {
            try
            {
                boolean ok = true;
                for (int port : sentinelPorts)
                {
                    last = Commands.run(Commands.redisCli(port, List.of("SENTINEL", "get-master-addr-by-name", MASTER_NAME)), 10);
                    ok &= last.contains(String.valueOf(expected.port()));
                }
                String role = Commands.run(Commands.redisCli(expected.port(), List.of("INFO", "replication")), 10);
                last = role;
                ok &= role.contains("role:master") && role.contains("connected_slaves:" + replicas);
                if (ok)
                    return;
            }
            catch (IOException x)
            {
                last = x.getMessage();
            }
            if (System.nanoTime() > deadline)
                throw new IOException("sentinels do not agree on master port " + expected.port() + " within " + timeoutMillis + " ms: " + last.replace("\r", "").replace('\n', ' '));
            TestServices.sleep(100);
        }
    }

    private String log()
    {
        try (var files = Files.list(dir))
        {
            StringBuilder out = new StringBuilder();
            for (Path file : files.filter(f -> f.toString().endsWith(".log")).toList())
            {
                out.append(file.getFileName()).append(": ").append(Files.readString(file)).append('\n');
            }
            return out.toString();
        }
        catch (IOException x)
        {
            return x.toString();
        }
    }

    @Override
    public void close() throws IOException
    {
        for (Process sentinel : sentinels)
        {
            sentinel.destroyForcibly();
        }
        for (Process sentinel : sentinels)
        {
            try
            {
                sentinel.waitFor();
            }
            catch (InterruptedException x)
            {
                Thread.currentThread().interrupt();
            }
        }
        for (RedisProcess server : servers)
        {
            server.close();
        }
        Commands.deleteTree(dir);
    }
}
