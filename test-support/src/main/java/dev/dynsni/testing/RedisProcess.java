package dev.dynsni.testing;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import redis.embedded.RedisServer;

/**
 * A Redis server of the test's own on a free loopback port, which the test may stop and start again
 * (never the shared one). Uses {@code redis-server} from the PATH when present, else the binary
 * bundled with embedded-redis.
 */
public final class RedisProcess implements Closeable
{
    private final int port;
    private final java.util.List<String> extraArgs;
    private Process process;
    private RedisServer embedded;

    public RedisProcess(String... extraArgs)
    {
        this.port = FreePorts.next();
        this.extraArgs = java.util.List.of(extraArgs);
    }

    /** @return whether a {@code redis-server} binary is on the PATH (needed for TLS and ACL options) */
    public static boolean binaryAvailable()
    {
        return findOnPath("redis-server") != null;
    }

    public int port()
    {
        return port;
    }

    /** @return whether the server was started and has not been killed since (or died) */
    public synchronized boolean isRunning()
    {
        return process != null && process.isAlive() || embedded != null && embedded.isActive();
    }

    public String url()
    {
        return "redis://127.0.0.1:" + port;
    }

    public synchronized RedisProcess start() throws IOException
    {
        if (process != null && process.isAlive() || embedded != null && embedded.isActive())
            return this;
        Path binary = findOnPath("redis-server");
        if (binary != null)
        {
            java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(binary.toString(), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no"));
            if (extraArgs.contains("--tls-port"))
                command.addAll(java.util.List.of("--port", "0", "--tls-port", String.valueOf(port)));
            else
                command.addAll(java.util.List.of("--port", String.valueOf(port)));
            for (String arg : extraArgs)
            {
                if (!arg.equals("--tls-port"))
                    command.add(arg);
            }
            process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        }
        else
        {
            if (!extraArgs.isEmpty())
                throw new IOException("redis-server is not on the PATH; it is needed for " + extraArgs);
            embedded = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"").build();
            embedded.start();
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!TestServices.reachable(new InetSocketAddress("127.0.0.1", port)))
        {
            if (System.nanoTime() > deadline)
                throw new IOException("redis-server did not start on port " + port);
            TestServices.sleep(20);
        }
        return this;
    }

    /** Kills the server at once (SIGKILL), as a crash would. */
    public synchronized void kill() throws IOException
    {
        if (process != null)
        {
            process.destroyForcibly();
            try
            {
                process.waitFor();
            }
            catch (InterruptedException x)
            {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
        if (embedded != null)
        {
            embedded.stop();
            embedded = null;
        }
    }

    @Override
    public void close() throws IOException
    {
        kill();
    }

    static Path findOnPath(String name)
    {
        String path = System.getenv("PATH");
        if (path == null)
            return null;
        for (String dir : path.split(java.io.File.pathSeparator))
        {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate))
                return candidate;
        }
        for (String dir : new String[]{"/usr/bin", "/usr/local/bin", "/usr/sbin"})
        {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate))
                return candidate;
        }
        return null;
    }
}
