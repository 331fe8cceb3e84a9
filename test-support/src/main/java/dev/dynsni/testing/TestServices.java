package dev.dynsni.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import redis.embedded.RedisServer;

/**
 * Finds PostgreSQL and Redis for tests, once per JVM: from {@code DYNSNI_TEST_JDBC_URL} and
 * {@code DYNSNI_TEST_REDIS_URL} first; else Testcontainers where a Docker engine answers; else an
 * embedded PostgreSQL (zonky) and an embedded Redis server. Under {@code CI=true} a service that
 * cannot be had fails the run instead of skipping.
 *
 * <p>Tests never flush or drop shared data: each takes its own schema ({@link #newSchema()}) and
 * key prefix ({@link #newKeyPrefix()}).</p>
 */
public final class TestServices
{
    private static final Logger LOG = LoggerFactory.getLogger(TestServices.class);
    private static String jdbcUrl;
    private static String redisUrl;
    private static EmbeddedPostgres embeddedPostgres;
    private static RedisServer embeddedRedis;
    private static GenericContainer<?> postgresContainer;
    private static GenericContainer<?> redisContainer;

    private TestServices()
    {
    }

    /**
     * For a test whose topology is started from the Debian binaries: under {@code CI=true} missing
     * binaries fail the run ({@code .ci/run} installs them); elsewhere the test is skipped (pass the
     * answer to {@code assumeTrue}).
     *
     * @return whether the binaries are installed
     */
    public static boolean installed(boolean available, String what)
    {
        if (!available && "true".equalsIgnoreCase(System.getenv("CI")))
            throw new AssertionError(what + " must be installed in CI (.ci/run installs it)");
        return available;
    }

    /** @return a JDBC URL (user and password included as parameters) of a PostgreSQL server for tests */
    public static synchronized String jdbcUrl()
    {
        if (jdbcUrl != null)
            return jdbcUrl;
        String env = System.getenv("DYNSNI_TEST_JDBC_URL");
        if (env != null && !env.isBlank())
        {
            jdbcUrl = env.trim();
            LOG.info("PostgreSQL for tests from DYNSNI_TEST_JDBC_URL");
            return jdbcUrl;
        }
        if (dockerAvailable())
        {
            postgresContainer = new GenericContainer<>(DockerImageName.parse("postgres:17-alpine"))
                .withEnv("POSTGRES_HOST_AUTH_METHOD", "trust")
                .withExposedPorts(5432);
            postgresContainer.start();
            jdbcUrl = "jdbc:postgresql://" + postgresContainer.getHost() + ":" + postgresContainer.getMappedPort(5432) + "/postgres?user=postgres";
            waitForJdbc(jdbcUrl);
            return jdbcUrl;
        }
        try
        {
            embeddedPostgres = EmbeddedPostgres.builder().start();
            jdbcUrl = "jdbc:postgresql://127.0.0.1:" + embeddedPostgres.getPort() + "/postgres?user=postgres";
            LOG.info("PostgreSQL for tests: embedded on port {}", embeddedPostgres.getPort());
            return jdbcUrl;
        }
        catch (IOException x)
        {
            throw new IllegalStateException("No PostgreSQL for tests: set DYNSNI_TEST_JDBC_URL, or run Docker; embedded PostgreSQL failed: " + x.getMessage(), x);
        }
    }

    /** @return a {@code redis://host:port} URL of a Redis server for tests */
    public static synchronized String redisUrl()
    {
        if (redisUrl != null)
            return redisUrl;
        String env = System.getenv("DYNSNI_TEST_REDIS_URL");
        if (env != null && !env.isBlank())
        {
            redisUrl = env.trim();
            LOG.info("Redis for tests from DYNSNI_TEST_REDIS_URL");
            return redisUrl;
        }
        if (dockerAvailable())
        {
            redisContainer = new GenericContainer<>(DockerImageName.parse("redis:7-alpine")).withExposedPorts(6379);
            redisContainer.start();
            redisUrl = "redis://" + redisContainer.getHost() + ":" + redisContainer.getMappedPort(6379);
            return redisUrl;
        }
        try
        {
            int port = FreePorts.next();
            embeddedRedis = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"").setting("appendonly no").build();
            embeddedRedis.start();
            redisUrl = "redis://127.0.0.1:" + port;
            LOG.info("Redis for tests: embedded on port {}", port);
            return redisUrl;
        }
        catch (IOException x)
        {
            throw new IllegalStateException("No Redis for tests: set DYNSNI_TEST_REDIS_URL, or run Docker; embedded Redis failed: " + x.getMessage(), x);
        }
    }

    /** @return host and port of the Redis for tests */
    public static InetSocketAddress redisAddress()
    {
        return redisAddress(redisUrl());
    }

    /** @return host and port of a {@code redis://} URL */
    public static InetSocketAddress redisAddress(String redisUrl)
    {
        URI uri = URI.create(redisUrl);
        return new InetSocketAddress(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 6379);
    }

    /** @return host and port of the PostgreSQL for tests */
    public static InetSocketAddress postgresAddress()
    {
        return postgresAddress(jdbcUrl());
    }

    /** @return host and port of a {@code jdbc:postgresql://} URL */
    public static InetSocketAddress postgresAddress(String jdbcUrl)
    {
        URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
        return new InetSocketAddress(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 5432);
    }

    /** @return the test JDBC URL with its host and port replaced, e.g. to go through a {@link TcpProxy} */
    public static String jdbcUrlVia(String host, int port)
    {
        return jdbcUrlVia(jdbcUrl(), host, port);
    }

    /** @return the JDBC URL with its host and port replaced, e.g. to go through a {@link TcpProxy} */
    public static String jdbcUrlVia(String jdbcUrl, String host, int port)
    {
        int at = jdbcUrl.indexOf("//") + 2;
        int end = jdbcUrl.indexOf('/', at);
        return jdbcUrl.substring(0, at) + host + ":" + port + jdbcUrl.substring(end < 0 ? jdbcUrl.length() : end);
    }

    /** @return a fresh schema name for one test class or run, never used before */
    public static String newSchema()
    {
        return "t_" + Long.toString(System.currentTimeMillis(), 36) + "_" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 30), 36).toLowerCase(Locale.ROOT);
    }

    /** @return a fresh Redis key prefix */
    public static String newKeyPrefix()
    {
        return "dynsni-test:" + newSchema() + ":";
    }

    /** Drops a schema this run created; never touches anything else. */
    public static void dropSchema(String schema)
    {
        if (schema == null || !schema.startsWith("t_"))
            throw new IllegalArgumentException("refusing to drop schema " + schema + ": tests only drop their own t_ schemas");
        try (Connection connection = DriverManager.getConnection(jdbcUrl());
             Statement statement = connection.createStatement())
        {
            statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
        catch (SQLException x)
        {
            LOG.warn("Could not drop test schema {}: {}", schema, x.getMessage());
        }
    }

    /** @return a new connection to the test database */
    public static Connection connect() throws SQLException
    {
        return DriverManager.getConnection(jdbcUrl());
    }

    private static boolean dockerAvailable()
    {
        try
        {
            return DockerClientFactory.instance().isDockerAvailable();
        }
        catch (Throwable x)
        {
            return false;
        }
    }

    private static void waitForJdbc(String url)
    {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true)
        {
            try (Connection ignored = DriverManager.getConnection(url))
            {
                return;
            }
            catch (SQLException x)
            {
                if (System.nanoTime() > deadline)
                    throw new IllegalStateException("PostgreSQL container did not accept connections", x);
                sleep(250);
            }
        }
    }

    /** @return whether something accepts TCP connections at the address */
    public static boolean reachable(InetSocketAddress address)
    {
        try (Socket socket = new Socket())
        {
            socket.connect(address, 500);
            return true;
        }
        catch (IOException x)
        {
            return false;
        }
    }

    static void sleep(long millis)
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
}
