package dev.dynsni.core.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.ChangeFeed;
import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.Secrets;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source of truth: certificates in PostgreSQL, read through a HikariCP pool on a small bounded
 * executor, with a change feed from {@code LISTEN} on {@link ChangeFeed#CHANNEL}.
 *
 * <p>{@link #start()} opens nothing synchronously: the pool fills, the schema is migrated and the
 * feed subscribes on background threads.</p>
 *
 * <p>Concurrency: {@link #load(List)} hands the query to the executor and returns at once; a full
 * queue fails the future instead of blocking. One daemon thread holds a dedicated connection that
 * LISTENs; it checks that connection every second, reconnects with backoff after any failure, and
 * then reports {@link ChangeListener#onChangesLost()} because notifications sent meanwhile are gone.</p>
 */
public class JdbcCertificateStore implements CertificateStore
{
    /** The {@code application_name} of the pool's connections, as PostgreSQL shows them. */
    public static final String APPLICATION_NAME = "jetty-dynamic-sni";
    /** The {@code application_name} of the connection that LISTENs to the change feed. */
    public static final String LISTENER_APPLICATION_NAME = "jetty-dynamic-sni-listener";
    /**
     * Longest pause between two attempts of the listener to connect again: after a PostgreSQL
     * failover it subscribes on the new primary at most this long after it accepts connections.
     */
    static final long MAX_LISTEN_RETRY_MILLIS = 1000;
    /**
     * How long the driver remembers that a host of a multi-host URL is a standby (its default is
     * 10 s, which would delay finding a just-promoted primary by as much); a URL parameter overrides.
     */
    static final int HOST_RECHECK_SECONDS = 1;
    /** The {@code application_name} of the connection that lists the stored names for the host index. */
    public static final String INDEX_APPLICATION_NAME = "jetty-dynamic-sni-index";
    private static final Logger LOG = LoggerFactory.getLogger(JdbcCertificateStore.class);

    private final StoreCounters counters = new StoreCounters("postgres");
    private volatile boolean running;
    private String url;
    private String user;
    private String password;
    private String schema = "dynsni";
    private int maxPoolSize = 4;
    private long timeoutMillis = 2000;
    private int queueSize = 1024;
    private volatile ChangeListener listener;
    private HikariDataSource dataSource;
    private ThreadPoolExecutor executor;
    private Thread listenerThread;
    private volatile Connection listenerConnection;
    private volatile boolean migrated;
    private volatile boolean listening;
    private volatile boolean downLogged;
    /** The id of the oldest transaction that may have changed a row without this node hearing it; null before the first subscription. */
    private volatile Long watermark;

    public void setUrl(String url)
    {
        this.url = url;
    }

    public String getUrl()
    {
        return Secrets.redactUrl(url);
    }

    public void setUser(String user)
    {
        this.user = user;
    }

    public void setPassword(String password)
    {
        this.password = password;
    }

    public void setSchema(String schema)
    {
        this.schema = schema;
    }

    public String getSchema()
    {
        return schema;
    }

    public void setMaxPoolSize(int maxPoolSize)
    {
        this.maxPoolSize = maxPoolSize;
    }

    public void setTimeoutMillis(long timeoutMillis)
    {
        this.timeoutMillis = timeoutMillis;
    }

    public void setQueueSize(int queueSize)
    {
        this.queueSize = queueSize;
    }

    @Override
    public void setChangeListener(ChangeListener listener)
    {
        this.listener = listener;
    }

    /** @return whether the change feed is connected */
    public boolean isListening()
    {
        return listening;
    }

    /** @return the pool, for the admin tool and tests; null before start */
    public HikariDataSource getDataSource()
    {
        return dataSource;
    }

    @Override
    public List<StoreCounters> getCounters()
    {
        return List.of(counters);
    }

    @Override
    public synchronized void start() throws Exception
    {
        if (running)
            return;
        if (url == null || url.isBlank())
            throw new IllegalStateException("jetty.dynamicSni.jdbc.url is not set: set it to the PostgreSQL JDBC URL, e.g. jdbc:postgresql://127.0.0.1:5432/hosting");
        if (!SchemaMigrations.isValidSchemaName(schema))
            throw new IllegalArgumentException("jetty.dynamicSni.jdbc.schema='" + schema + "' is not a valid schema name: use lower-case letters, digits and _");
        HikariConfig config = new HikariConfig();
        config.setPoolName("dynsni-pg");
        config.setJdbcUrl(url);
        if (user != null && !user.isEmpty())
            config.setUsername(user);
        if (password != null && !password.isEmpty())
            config.setPassword(password);
        config.setMaximumPoolSize(maxPoolSize);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(Math.max(250, timeoutMillis));
        config.setValidationTimeout(Math.max(250, Math.min(timeoutMillis, 1000)));
        // Start even when PostgreSQL is down: Redis and L1 may still serve; the pool recovers by itself.
        config.setInitializationFailTimeout(-1);
        config.setConnectionInitSql("SET statement_timeout = " + timeoutMillis);
        config.addDataSourceProperty("socketTimeout", socketTimeoutSeconds());
        config.addDataSourceProperty("connectTimeout", Math.max(1, (int)Math.ceil(timeoutMillis / 1000.0)));
        config.addDataSourceProperty("tcpKeepAlive", "true");
        config.addDataSourceProperty("hostRecheckSeconds", HOST_RECHECK_SECONDS);
        config.addDataSourceProperty("ApplicationName", APPLICATION_NAME);
        dataSource = new HikariDataSource(config);

        executor = new ThreadPoolExecutor(maxPoolSize, maxPoolSize, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queueSize), r ->
        {
            Thread thread = new Thread(r, "dynsni-pg-query");
            thread.setDaemon(true);
            return thread;
        });
        executor.allowCoreThreadTimeOut(true);

        // Nothing here waits for PostgreSQL: the listener thread connects, migrates the schema and
        // subscribes in the background (the first lookup migrates too if it comes first), so a node
        // starts as fast when PostgreSQL is slow or down, and its tiers connect in parallel.
        running = true;
        listenerThread = new Thread(this::listenLoop, "dynsni-pg-listener");
        listenerThread.setDaemon(true);
        listenerThread.start();
    }

    private int socketTimeoutSeconds()
    {
        return Math.max(2, (int)Math.ceil(timeoutMillis * 2 / 1000.0));
    }

    private void migrate() throws SQLException
    {
        if (migrated)
            return;
        try (Connection connection = dataSource.getConnection())
        {
            int version = SchemaMigrations.migrate(connection, schema);
            migrated = true;
            LOG.info("PostgreSQL store ready schema={} schemaVersion={}", schema, version);
        }
    }

    @Override
    public synchronized void stop() throws Exception
    {
        running = false;
        Thread thread = listenerThread;
        if (thread != null)
        {
            thread.interrupt();
            closeQuietly(listenerConnection);
            thread.join(5000);
        }
        if (executor != null)
            executor.shutdownNow();
        if (dataSource != null)
            dataSource.close();
        listenerThread = null;
        executor = null;
        dataSource = null;
        listening = false;
    }

    @Override
    public CompletableFuture<Map<String, List<CertificateRecord>>> load(List<String> names)
    {
        CompletableFuture<Map<String, List<CertificateRecord>>> future = new CompletableFuture<>();
        ThreadPoolExecutor executor = this.executor;
        if (executor == null)
            return CompletableFuture.failedFuture(new IllegalStateException(this + " is not started"));
        try
        {
            executor.execute(() ->
            {
                try
                {
                    future.complete(query(names));
                }
                catch (Throwable x)
                {
                    future.completeExceptionally(x);
                }
            });
        }
        catch (RejectedExecutionException x)
        {
            counters.errors.increment();
            future.completeExceptionally(new SQLException("PostgreSQL lookup queue is full (" + queueSize + ")", x));
        }
        return future;
    }

    /**
     * Streams every stored name from one plain {@code SELECT} (a cursor of 10,000 rows at a time, no
     * statement timeout) on a connection of its own, outside the pool that serves lookups, on the
     * caller's thread. Every name is reported once per key type it has. The change feed calls
     * {@link ChangeListener#onChangesLost()} after every (re)subscription, before which nothing is
     * listed that the feed could miss.
     */
    @Override
    public boolean forEachName(Consumer<String> action) throws SQLException
    {
        if (!running)
            throw new IllegalStateException(this + " is not started");
        migrate();
        try (Connection connection = openConnection(INDEX_APPLICATION_NAME))
        {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement())
            {
                statement.execute("SET LOCAL statement_timeout = 0");
                statement.setFetchSize(10_000);
                try (ResultSet rs = statement.executeQuery("SELECT host FROM " + schema + ".certificate"))
                {
                    while (rs.next())
                    {
                        action.accept(rs.getString(1));
                    }
                }
            }
            finally
            {
                connection.rollback();
            }
        }
        return true;
    }

    /**
     * Blocking query, on the caller's thread.
     */
    public Map<String, List<CertificateRecord>> query(List<String> names) throws SQLException
    {
        long start = System.nanoTime();
        try
        {
            migrate();
            Map<String, List<CertificateRecord>> result = new HashMap<>();
            for (String name : names)
            {
                result.put(name, new ArrayList<>(2));
            }
            try (Connection connection = dataSource.getConnection();
                 PreparedStatement statement = connection.prepareStatement(
                     "SELECT host, key_type, chain_pem, key_pem, key_encoding, version FROM " + schema + ".certificate WHERE host = ANY (?)"))
            {
                Array array = connection.createArrayOf("text", names.toArray());
                statement.setArray(1, array);
                try (ResultSet rs = statement.executeQuery())
                {
                    while (rs.next())
                    {
                        CertificateRecord record = new CertificateRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getLong(6));
                        result.computeIfAbsent(record.name(), k -> new ArrayList<>(2)).add(record);
                    }
                }
            }
            boolean found = result.values().stream().anyMatch(list -> !list.isEmpty());
            (found ? counters.hits : counters.misses).increment();
            markUp();
            return result;
        }
        catch (SQLException x)
        {
            counters.errors.increment();
            markDown(x);
            throw x;
        }
        finally
        {
            counters.record(start);
        }
    }

    private void markUp()
    {
        if (!counters.isAvailable())
            LOG.info("PostgreSQL tier is back tier=postgres url={}", Secrets.redactUrl(url));
        counters.setAvailable(true);
        downLogged = false;
    }

    private void markDown(Throwable x)
    {
        counters.setAvailable(false);
        if (!downLogged)
        {
            downLogged = true;
            LOG.warn("PostgreSQL tier failing tier=postgres url={} reason={}", Secrets.redactUrl(url), x.toString());
        }
    }

    private void listenLoop()
    {
        long backoff = 100;
        while (running)
        {
            Connection connection = null;
            try
            {
                connection = openListenerConnection();
                listenerConnection = connection;
                try (Statement statement = connection.createStatement())
                {
                    statement.execute("LISTEN " + ChangeFeed.CHANNEL);
                }
                migrate();
                PGConnection pg = connection.unwrap(PGConnection.class);
                // Listening from here on: every change committed from now on is notified. Changes
                // committed while no connection listened are read from the table (see catchUp).
                long next = watermark(connection);
                Long from = watermark;
                if (from != null)
                    catchUp(connection, from);
                watermark = next;
                listening = true;
                backoff = 100;
                markUp();
                // What L1 holds is reloaded too (through a Redis now fenced for every name caught up),
                // before the feed counts as connected, so that nothing trusts it in between.
                ChangeListener l = listener;
                if (l != null)
                    l.onChangesLost();
                counters.setFeedConnected(true);
                long lastCheck = System.nanoTime();
                while (running)
                {
                    dispatch(pg.getNotifications(250));
                    if (System.nanoTime() - lastCheck > TimeUnit.SECONDS.toNanos(1))
                    {
                        // checks the connection, and moves the watermark: once the notifications
                        // received before the answer are dispatched, every transaction older than it is
                        // done and heard
                        long heard = watermark(connection);
                        dispatch(pg.getNotifications());
                        watermark = heard;
                        lastCheck = System.nanoTime();
                    }
                }
            }
            catch (SQLException | RuntimeException x)
            {
                listening = false;
                counters.setFeedConnected(false);
                if (!running)
                    break;
                markDown(x);
                try
                {
                    Thread.sleep(backoff);
                }
                catch (InterruptedException e)
                {
                    break;
                }
                backoff = Math.min(backoff * 2, MAX_LISTEN_RETRY_MILLIS);
            }
            finally
            {
                closeQuietly(connection);
                listening = false;
                counters.setFeedConnected(false);
            }
        }
    }

    private Connection openListenerConnection() throws SQLException
    {
        return openConnection(LISTENER_APPLICATION_NAME);
    }

    private Connection openConnection(String applicationName) throws SQLException
    {
        Properties properties = new Properties();
        if (user != null && !user.isEmpty())
            properties.setProperty("user", user);
        if (password != null && !password.isEmpty())
            properties.setProperty("password", password);
        properties.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds()));
        properties.setProperty("connectTimeout", String.valueOf(Math.max(1, (int)Math.ceil(timeoutMillis / 1000.0))));
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("hostRecheckSeconds", String.valueOf(HOST_RECHECK_SECONDS));
        properties.setProperty("ApplicationName", applicationName);
        return DriverManager.getConnection(url, properties);
    }

    private void dispatch(PGNotification[] notifications)
    {
        if (notifications == null)
            return;
        for (PGNotification notification : notifications)
        {
            dispatch(notification.getParameter());
        }
    }

    /**
     * @return the id of the oldest transaction still running ({@code pg_snapshot_xmin} of a snapshot
     *     taken now): every transaction with a smaller id has ended, and, on the LISTEN connection,
     *     the notifications of those that committed were received before this answer
     */
    private static long watermark(Connection connection) throws SQLException
    {
        try (Statement statement = connection.createStatement();
             ResultSet result = statement.executeQuery("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"))
        {
            result.next();
            return Long.parseLong(result.getString(1));
        }
    }

    /**
     * Reads the changes whose notifications this node may have missed, those of every transaction not
     * older than {@code from} (rows written and tombstones of removals, a TRUNCATE's as {@code *}), and
     * hands them to the listener as if notified: a superset of what was missed.
     */
    private void catchUp(Connection connection, long from) throws SQLException
    {
        long start = System.nanoTime();
        int changes = 0;
        try (PreparedStatement query = connection.prepareStatement(
            "SELECT host, version FROM " + schema + ".certificate WHERE txid >= ?::text::xid8 " +
                "UNION ALL SELECT host, version FROM " + schema + ".certificate_removed WHERE txid >= ?::text::xid8"))
        {
            query.setString(1, Long.toString(from));
            query.setString(2, Long.toString(from));
            try (ResultSet rows = query.executeQuery())
            {
                while (rows.next())
                {
                    changes++;
                    dispatch(ChangeFeed.payload(schema, rows.getString(1), rows.getLong(2)));
                }
            }
        }
        LOG.info("Change feed caught up after a gap schema={} changes={} sinceTransaction={} millis={}", schema, changes, from,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    private void dispatch(String payload)
    {
        ChangeFeed.Change change = ChangeFeed.parse(payload, schema);
        ChangeListener l = listener;
        if (change == null || l == null)
            return;
        try
        {
            l.onChange(change.name(), change.version());
        }
        catch (Throwable x)
        {
            LOG.warn("Change listener failed name={}", change.name(), x);
        }
    }

    private static void closeQuietly(Connection connection)
    {
        if (connection == null)
            return;
        try
        {
            connection.close();
        }
        catch (SQLException ignored)
        {
            // closing a broken connection
        }
    }

    @Override
    public String toString()
    {
        return "JdbcCertificateStore[url=" + Secrets.redactUrl(url) + ", schema=" + schema + ", listening=" + listening + "]";
    }
}
