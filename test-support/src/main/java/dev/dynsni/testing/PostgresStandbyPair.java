package dev.dynsni.testing;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A PostgreSQL primary with a streaming-replication standby, of the test's own, on free loopback
 * ports: {@code initdb}, {@code pg_ctl start}, {@code pg_basebackup -R} for the standby;
 * {@link #stopPrimary()} and {@link #promoteStandby()} make a failover. Both clusters live in a
 * temporary directory removed by {@link #close()}; trust authentication, fsync off.
 *
 * <p>Uses the Debian server binaries ({@code /usr/lib/postgresql/VERSION/bin}, the newest version
 * installed, or the directory in {@code DYNSNI_TEST_PG_BIN}). PostgreSQL refuses to run as root: as
 * root the tools run as the {@code postgres} user ({@code runuser}).</p>
 */
public final class PostgresStandbyPair implements Closeable
{
    private final Path bin;
    private final Path dir;
    private final int primaryPort = FreePorts.next();
    private final int standbyPort = FreePorts.next();
    private boolean primaryRunning;
    private boolean standbyRunning;

    private PostgresStandbyPair(Path bin, Path dir)
    {
        this.bin = bin;
        this.dir = dir;
    }

    /** @return the directory of the PostgreSQL server binaries, or null when none is installed */
    public static Path binaries()
    {
        String env = System.getenv("DYNSNI_TEST_PG_BIN");
        if (env != null && !env.isBlank())
            return Files.isExecutable(Path.of(env, "initdb")) ? Path.of(env) : null;
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root))
            return null;
        try (Stream<Path> versions = Files.list(root))
        {
            return versions.map(v -> v.resolve("bin"))
                .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_basebackup")))
                .max(Comparator.comparingInt(b -> version(b.getParent().getFileName().toString())))
                .orElse(null);
        }
        catch (IOException x)
        {
            return null;
        }
    }

    private static int version(String name)
    {
        try
        {
            return Integer.parseInt(name);
        }
        catch (NumberFormatException x)
        {
            return -1;
        }
    }

    public static boolean available()
    {
        return binaries() != null && (!root() || RedisProcess.findOnPath("runuser") != null);
    }

    private static boolean root()
    {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Creates and starts the primary, then the standby from its base backup, and waits until the standby streams. */
    public static PostgresStandbyPair start() throws IOException
    {
        Path bin = binaries();
        if (bin == null)
            throw new IOException("a PostgreSQL standby pair needs the PostgreSQL server binaries (Debian package postgresql) or DYNSNI_TEST_PG_BIN");
        PostgresStandbyPair pair = new PostgresStandbyPair(bin, Files.createTempDirectory("dynsni-pg-pair-"));
        try
        {
            if (root())
            {
                UserPrincipal postgres = pair.dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
                Files.setOwner(pair.dir, postgres);
            }
            Path primary = pair.dir.resolve("primary");
            pair.tool("initdb", "-D", primary.toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
            Files.writeString(primary.resolve("postgresql.conf"), String.join("\n",
                "",
                "# dynsni test pair",
                "listen_addresses = '127.0.0.1'",
                "port = " + pair.primaryPort,
                "unix_socket_directories = '" + pair.dir + "'",
                "wal_level = replica",
                "max_wal_senders = 5",
                "wal_keep_size = 64MB",
                "hot_standby = on",
                "fsync = off",
                "full_page_writes = off",
                "max_connections = 50",
                ""), java.nio.file.StandardOpenOption.APPEND);
            pair.pgCtl(primary, "start");
            pair.primaryRunning = true;
            Path standby = pair.dir.resolve("standby");
            pair.tool("pg_basebackup", "-h", "127.0.0.1", "-p", String.valueOf(pair.primaryPort), "-U", "postgres", "-D", standby.toString(), "-R", "-X", "stream", "--no-sync");
            Files.writeString(standby.resolve("postgresql.conf"), "\nport = " + pair.standbyPort + "\n", java.nio.file.StandardOpenOption.APPEND);
            pair.pgCtl(standby, "start");
            pair.standbyRunning = true;
            pair.awaitStreaming(30_000);
            return pair;
        }
        catch (IOException | RuntimeException x)
        {
            pair.close();
            throw x;
        }
    }

    public int primaryPort()
    {
        return primaryPort;
    }

    public int standbyPort()
    {
        return standbyPort;
    }

    /** @return a JDBC URL of one server, database {@code postgres}, user {@code postgres} */
    public String jdbcUrl(int port)
    {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
    }

    /**
     * @return the multi-host JDBC URL an application uses to follow the primary across a failover:
     *     both servers, {@code targetServerType=primary}
     */
    public String failoverJdbcUrl()
    {
        return "jdbc:postgresql://127.0.0.1:" + primaryPort + ",127.0.0.1:" + standbyPort + "/postgres?user=postgres&targetServerType=primary";
    }

    /** @return whether the server on that port is a standby ({@code pg_is_in_recovery()}) */
    public boolean inRecovery(int port) throws SQLException
    {
        try (Connection connection = DriverManager.getConnection(jdbcUrl(port));
             Statement statement = connection.createStatement();
             ResultSet result = statement.executeQuery("SELECT pg_is_in_recovery()"))
        {
            result.next();
            return result.getBoolean(1);
        }
    }

    /** Stops the primary at once ({@code pg_ctl stop -m immediate}), as a crash would. */
    public void stopPrimary() throws IOException
    {
        if (primaryRunning)
        {
            pgCtl(dir.resolve("primary"), "stop", "-m", "immediate");
            primaryRunning = false;
        }
    }

    /** Promotes the standby ({@code pg_ctl promote}, waiting until it accepts writes). */
    public void promoteStandby() throws IOException
    {
        pgCtl(dir.resolve("standby"), "promote");
    }

    private void awaitStreaming(long timeoutMillis) throws IOException
    {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        String last = "";
        while (true)
        {
            try (Connection connection = DriverManager.getConnection(jdbcUrl(primaryPort));
                 Statement statement = connection.createStatement();
                 ResultSet result = statement.executeQuery("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"))
            {
                result.next();
                if (result.getInt(1) >= 1)
                    return;
                last = "no standby streaming yet";
            }
            catch (SQLException x)
            {
                last = x.getMessage();
            }
            if (System.nanoTime() > deadline)
                throw new IOException("the standby does not stream within " + timeoutMillis + " ms: " + last);
            TestServices.sleep(100);
        }
    }

    private void pgCtl(Path data, String action, String... options) throws IOException
    {
        List<String> args = new ArrayList<>(List.of("-D", data.toString(), "-w", "-t", "60", "-l", data.getParent().resolve(data.getFileName() + ".log").toString(), action));
        args.addAll(List.of(options));
        tool("pg_ctl", args.toArray(String[]::new));
    }

    private void tool(String name, String... args) throws IOException
    {
        List<String> command = new ArrayList<>();
        if (root())
            command.addAll(List.of(RedisProcess.findOnPath("runuser").toString(), "-u", "postgres", "--"));
        command.add(bin.resolve(name).toString());
        command.addAll(List.of(args));
        Commands.run(command, 120);
    }

    @Override
    public void close() throws IOException
    {
        for (String server : List.of("standby", "primary"))
        {
            boolean running = server.equals("standby") ? standbyRunning : primaryRunning;
            if (running)
            {
                try
                {
                    pgCtl(dir.resolve(server), "stop", "-m", "immediate");
                }
                catch (IOException ignored)
                {
                    // already stopped (or never started): the directory goes anyway
                }
            }
        }
        primaryRunning = false;
        standbyRunning = false;
        Commands.deleteTree(dir);
    }
}
