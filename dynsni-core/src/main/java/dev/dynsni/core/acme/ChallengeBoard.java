package dev.dynsni.core.acme;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import dev.dynsni.core.ChangeFeed;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pending challenges of the whole fleet ({@code acme_challenge}), as every node answers them.
 *
 * <p>Reads are answered from an in-memory snapshot, never from a query per request: the snapshot is
 * re-read when {@link ChangeFeed#ACME_CHALLENGE_CHANNEL} announces a change, every
 * {@link #REFRESH_MILLIS} anyway (a notification lost with a connection), and on a miss at most
 * {@link #MISS_RELOADS_PER_SECOND} times per second for the whole node, so that a flood of
 * validation-looking connections for unknown names costs at most that many queries. The table holds
 * only the challenges of orders in flight, so a re-read is small. Challenges this node published are
 * also kept locally until withdrawn, so that its own reads never depend on its notification.</p>
 *
 * <p>Concurrency: the snapshot is an immutable value behind a volatile field, replaced by the
 * listener thread or a reload on the board's one worker thread; concurrent misses share one reload.</p>
 */
public final class ChallengeBoard implements AcmeChallenges
{
    /** The challenge type names, as ACME and {@code acme_challenge.type} spell them. */
    static final String HTTP_01 = "http-01";
    static final String TLS_ALPN_01 = "tls-alpn-01";

    /** How often the snapshot is re-read without a notification. */
    static final long REFRESH_MILLIS = 10_000;
    /** Reloads a node makes per second for reads the snapshot cannot answer. */
    static final double MISS_RELOADS_PER_SECOND = 2;
    private static final Logger LOG = LoggerFactory.getLogger(ChallengeBoard.class);
    /** PostgreSQL's SQLState for a table that does not exist (yet). */
    private static final String UNDEFINED_TABLE = "42P01";

    /** One pending challenge. */
    record Pending(String host, String type, String token, String keyAuthorization)
    {
    }

    private record Snapshot(Map<String, byte[]> tlsAlpn, Map<String, String> http)
    {
        static final Snapshot EMPTY = new Snapshot(Map.of(), Map.of());
    }

    private final Connections connections;
    private final Connections listenConnections;
    private final String schema;
    private final RateLimit missReloads = new RateLimit(MISS_RELOADS_PER_SECOND);
    private final Map<String, Pending> local = new ConcurrentHashMap<>();
    /** Re-reads of the table, for tests: a flood of misses must not raise it beyond the rate. */
    final LongAdder reloads = new LongAdder();
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    /** Told when the permission rules (acme_allowed) changed, or may have while the feed was down. */
    private volatile Runnable rulesChanged = () -> {};
    private volatile boolean running;
    private Thread listener;
    private ExecutorService worker;
    private CompletableFuture<Snapshot> reloading;

    /**
     * @param connections       for short queries and writes
     * @param listenConnections for the one connection that LISTENs (held while running; not from a pool); null: no listener (the admin tool)
     */
    public ChallengeBoard(Connections connections, Connections listenConnections, String schema)
    {
        this.connections = connections;
        this.listenConnections = listenConnections;
        this.schema = schema;
    }

    /**
     * @param listener told (on the listener thread; keep it short) when the rows of {@code acme_allowed}
     *                 changed, or may have changed while this node did not listen
     */
    public void onRulesChanged(Runnable listener)
    {
        rulesChanged = listener;
    }

    public synchronized void start()
    {
        if (running)
            return;
        running = true;
        worker = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r ->
        {
            Thread thread = new Thread(r, "dynsni-acme-challenges");
            thread.setDaemon(true);
            return thread;
        });
        if (listenConnections != null)
        {
            listener = new Thread(this::listenLoop, "dynsni-acme-challenge-listener");
            listener.setDaemon(true);
            listener.start();
        }
    }

    public synchronized void stop()
    {
        running = false;
        if (listener != null)
        {
            listener.interrupt();
            try
            {
                listener.join(5000);
            }
            catch (InterruptedException x)
            {
                Thread.currentThread().interrupt();
            }
            listener = null;
        }
        if (worker != null)
            worker.shutdownNow();
        worker = null;
    }

    @Override
    public CompletableFuture<byte[]> tlsAlpn01(String host)
    {
        Pending mine = local.get(key(host, TLS_ALPN_01));
        if (mine != null)
            return CompletableFuture.completedFuture(digest(mine.keyAuthorization()));
        byte[] digest = snapshot.tlsAlpn().get(host);
        if (digest != null)
            return CompletableFuture.completedFuture(digest.clone());
        return reloadOnMiss().thenApply(s ->
        {
            byte[] found = s == null ? null : s.tlsAlpn().get(host);
            return found == null ? null : found.clone();
        });
    }

    @Override
    public CompletableFuture<String> http01(String token)
    {
        for (Pending mine : local.values())
        {
            if (mine.type().equals(HTTP_01) && mine.token().equals(token))
                return CompletableFuture.completedFuture(mine.keyAuthorization());
        }
        String answer = snapshot.http().get(token);
        if (answer != null)
            return CompletableFuture.completedFuture(answer);
        return reloadOnMiss().thenApply(s -> s == null ? null : s.http().get(token));
    }

    /**
     * Publishes a challenge for the fleet (committed, and notified, when this returns), replacing any
     * pending challenge of the same host and type.
     */
    void publish(Pending challenge, Duration ttl) throws SQLException
    {
        local.put(key(challenge.host(), challenge.type()), challenge);
        try (Connection connection = connections.get();
             PreparedStatement upsert = connection.prepareStatement(
                 "INSERT INTO " + schema + ".acme_challenge (host, type, token, key_authorization, expires_at) VALUES (?, ?, ?, ?, now() + ? * interval '1 millisecond') " +
                 "ON CONFLICT (host, type) DO UPDATE SET token = EXCLUDED.token, key_authorization = EXCLUDED.key_authorization, expires_at = EXCLUDED.expires_at, created_at = now()");
             PreparedStatement prune = connection.prepareStatement("DELETE FROM " + schema + ".acme_challenge WHERE expires_at < now() - interval '1 hour'"))
        {
            connection.setAutoCommit(true);
            upsert.setString(1, challenge.host());
            upsert.setString(2, challenge.type());
            upsert.setString(3, challenge.token());
            upsert.setString(4, challenge.keyAuthorization());
            upsert.setLong(5, ttl.toMillis());
            upsert.executeUpdate();
            prune.executeUpdate();
        }
    }

    /** Withdraws the challenge of a host and type, if this node's (best effort: rows also expire). */
    void withdraw(Pending challenge)
    {
        local.remove(key(challenge.host(), challenge.type()), challenge);
        try (Connection connection = connections.get();
             PreparedStatement delete = connection.prepareStatement("DELETE FROM " + schema + ".acme_challenge WHERE host = ? AND type = ? AND token = ?"))
        {
            connection.setAutoCommit(true);
            delete.setString(1, challenge.host());
            delete.setString(2, challenge.type());
            delete.setString(3, challenge.token());
            delete.executeUpdate();
        }
        catch (SQLException x)
        {
            LOG.warn("Could not withdraw ACME challenge sni={} type={} reason={}; it expires by itself", challenge.host(), challenge.type(), x.toString());
        }
    }

    /** @return the tls-alpn-01 value of a key authorization: its SHA-256 digest (RFC 8737 section 3) */
    static byte[] digest(String keyAuthorization)
    {
        try
        {
            return MessageDigest.getInstance("SHA-256").digest(keyAuthorization.getBytes(StandardCharsets.UTF_8));
        }
        catch (NoSuchAlgorithmException x)
        {
            throw new IllegalStateException(x);
        }
    }

    private static String key(String host, String type)
    {
        return type + "|" + host;
    }

    private synchronized CompletableFuture<Snapshot> reloadOnMiss()
    {
        if (reloading != null && !reloading.isDone())
            return reloading;
        ExecutorService worker = this.worker;
        if (worker == null || !missReloads.tryAcquire())
            return CompletableFuture.completedFuture(null);
        CompletableFuture<Snapshot> future = new CompletableFuture<>();
        reloading = future;
        try
        {
            worker.execute(() ->
            {
                try
                {
                    future.complete(reload());
                }
                catch (Throwable x)
                {
                    LOG.debug("ACME challenge reload failed reason={}", x.toString());
                    future.complete(null);
                }
            });
        }
        catch (RuntimeException x)
        {
            future.complete(null);
        }
        return future;
    }

    private Snapshot reload() throws SQLException
    {
        try (Connection connection = connections.get())
        {
            return reload(connection);
        }
    }

    private Snapshot reload(Connection connection) throws SQLException
    {
        reloads.increment();
        Map<String, byte[]> tlsAlpn = new HashMap<>();
        Map<String, String> http = new HashMap<>();
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT host, type, token, key_authorization FROM " + schema + ".acme_challenge WHERE expires_at > now()"))
        {
            while (rs.next())
            {
                if (TLS_ALPN_01.equals(rs.getString(2)))
                    tlsAlpn.put(rs.getString(1), digest(rs.getString(4)));
                else
                    http.put(rs.getString(3), rs.getString(4));
            }
        }
        Snapshot fresh = new Snapshot(Map.copyOf(tlsAlpn), Map.copyOf(http));
        snapshot = fresh;
        return fresh;
    }

    private void listenLoop()
    {
        long backoff = 100;
        boolean downLogged = false;
        while (running)
        {
            try (Connection connection = listenConnections.get())
            {
                try (Statement statement = connection.createStatement())
                {
                    statement.execute("LISTEN " + ChangeFeed.ACME_CHALLENGE_CHANNEL);
                }
                reload(connection);
                if (downLogged)
                {
                    LOG.info("ACME challenge feed is back schema={}", schema);
                    rulesChanged.run(); // a rules change may have passed unheard
                }
                downLogged = false;
                backoff = 100;
                PGConnection pg = connection.unwrap(PGConnection.class);
                long last = System.nanoTime();
                while (running)
                {
                    PGNotification[] notifications = pg.getNotifications(500);
                    boolean changed = false;
                    if (notifications != null)
                    {
                        boolean rules = false;
                        for (PGNotification notification : notifications)
                        {
                            changed |= schema.equals(notification.getParameter());
                            rules |= (schema + ChangeFeed.ACME_RULES_SUFFIX).equals(notification.getParameter());
                        }
                        if (rules)
                            rulesChanged.run();
                    }
                    if (changed || System.nanoTime() - last > TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS))
                    {
                        reload(connection);
                        last = System.nanoTime();
                    }
                }
            }
            catch (SQLException | RuntimeException x)
            {
                if (!running)
                    break;
                // On a fresh schema the node's store migrates it while this thread starts: not a failure, look again soon.
                boolean notMigratedYet = x instanceof SQLException sql && UNDEFINED_TABLE.equals(sql.getSQLState());
                if (notMigratedYet)
                    LOG.debug("ACME challenge feed waits for the schema's migration schema={}", schema);
                else if (!downLogged)
                {
                    LOG.warn("ACME challenge feed failing schema={} reason={}", schema, x.toString());
                    downLogged = true;
                }
                try
                {
                    Thread.sleep(notMigratedYet ? 250 : backoff);
                }
                catch (InterruptedException e)
                {
                    break;
                }
                if (!notMigratedYet)
                    backoff = Math.min(backoff * 2, 5000);
            }
        }
    }

    @Override
    public String toString()
    {
        Snapshot s = snapshot;
        return "ChallengeBoard[schema=" + schema + ", pending=" + (s.tlsAlpn().size() + s.http().size()) + ", local=" + local.size() + "]";
    }
}
