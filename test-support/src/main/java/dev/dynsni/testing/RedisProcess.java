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
    private Process process;
    private RedisServer embedded;

    public RedisProcess()
    {
        this.port = FreePorts.next();
    }

    public int port()
    {
        return port;
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
            process = new ProcessBuilder(binary.toString(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        }
        else
        {
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
