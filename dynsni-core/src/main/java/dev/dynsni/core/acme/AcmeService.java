package dev.dynsni.core.acme;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.zip.CRC32;
import javax.sql.DataSource;

import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.Setting;
import dev.dynsni.core.Settings;
import dev.dynsni.core.StoreUrls;
import dev.dynsni.core.store.CertificateWriter;
import dev.dynsni.core.store.JdbcCertificateStore;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import org.shredzone.acme4j.exception.AcmeServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ACME issuance and renewal for one node, coordinated with the fleet through PostgreSQL: answers the
 * handshake path's {@link OnDemandIssuance#request requests}, the validation reads of
 * {@link AcmeChallenges} (from the shared {@link ChallengeBoard}) and, on the node that holds the
 * renewal lock, renews certificates it issued.
 *
 * <p>A request goes: permission (the function given, e.g. {@code AcmePermissions::allows}) →
 * healthy stores → CA not known unreachable → {@link OrderLedger#begin} (certificate already there,
 * another node's lease, backoff, fleet budgets, else this node's lease) → one order on this node's
 * order pool ({@link Setting#ACME_MAX_CONCURRENT_ORDERS} threads; more wait their turn) → the
 * certificate stored through {@link CertificateWriter}, exactly as an import, so the change feed
 * brings it to every node. A node that found another node's lease completes its request when
 * {@link #onCertificateChange} reports the name (the Jetty side calls it from the store's change
 * listener), or when a poll of the ledger (every {@link #WAIT_POLL_MILLIS}, one query for all waiting
 * names) sees the certificate, the failure, or the lease gone.</p>
 *
 * <p>Concurrency: requests for one name share one future on this node ({@code inflight}); nothing in
 * {@link #request} blocks; orders run on the order pool; the ledger poll, expiry gauges and the
 * renewal round (which waits for its orders) on two scheduler threads.</p>
 */
public final class AcmeService implements OnDemandIssuance, AcmeChallenges
{
    /** How often waiting requests check the ledger for another node's order. */
    static final long WAIT_POLL_MILLIS = 500;
    /** Longest a request waits for the permission policy's answer; no answer is a denial. */
    static final long PERMISSION_TIMEOUT_SECONDS = 10;
    /** Renewal starts past 2/3 of a certificate's lifetime, spread back by up to 1/12 of it per name. */
    static final double RENEW_FRACTION = 2.0 / 3;
    static final double RENEW_JITTER = 1.0 / 12;
    private static final Logger LOG = LoggerFactory.getLogger(AcmeService.class);

    private final Connections connections;
    private final Connections listenConnections;
    private final String schema;
    private final String directoryUrl;
    private final MasterKeys masterKeys;
    private final BooleanSupplier storesHealthy;
    private final Function<String, CompletableFuture<Boolean>> permission;
    private final int maxConcurrentOrders;
    private final long orderTimeoutSeconds;
    private final long retrySeconds;
    private final long renewalIntervalSeconds;
    private final AcmeStatistics statistics = new AcmeStatistics();
    private final ChallengeBoard board;
    private final AcmeAccount account;
    private final OrderLedger ledger;
    private final Issuer issuer;
    private final Map<String, CompletableFuture<Result>> inflight = new ConcurrentHashMap<>();
    private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();
    private volatile boolean running;
    /** Until when this node asks the CA nothing after a network failure (wall clock: compared across threads, never with a sentinel). */
    private volatile Instant caUnavailableUntil = Instant.EPOCH;
    private volatile long caBackoffSeconds;
    private ThreadPoolExecutor orders;
    private ScheduledExecutorService scheduler;

    private record Waiter(CompletableFuture<Result> future, long deadlineNanos)
    {
    }

    private AcmeService(Settings settings, Connections connections, Connections listenConnections, MasterKeys masterKeys, BooleanSupplier storesHealthy,
                        Function<String, CompletableFuture<Boolean>> permission, String node)
    {
        this.connections = connections;
        this.listenConnections = listenConnections;
        this.schema = settings.string(Setting.JDBC_SCHEMA);
        this.directoryUrl = settings.string(Setting.ACME_DIRECTORY_URL);
        this.masterKeys = masterKeys;
        this.storesHealthy = storesHealthy;
        this.permission = permission;
        this.maxConcurrentOrders = settings.intValue(Setting.ACME_MAX_CONCURRENT_ORDERS);
        this.orderTimeoutSeconds = settings.longValue(Setting.ACME_ORDER_TIMEOUT_SECONDS);
        this.retrySeconds = settings.longValue(Setting.ACME_RETRY_SECONDS);
        this.renewalIntervalSeconds = settings.longValue(Setting.ACME_RENEWAL_INTERVAL_SECONDS);
        Session session = AcmeSessions.open(directoryUrl, settings.path(Setting.ACME_CA_FILE), Duration.ofSeconds(Math.min(10, Math.max(1, orderTimeoutSeconds))));
        this.board = new ChallengeBoard(connections, listenConnections, schema);
        this.account = new AcmeAccount(connections, schema, session, directoryUrl, settings.string(Setting.ACME_EMAIL), masterKeys);
        this.ledger = new OrderLedger(connections, schema, directoryUrl, node, settings.longValue(Setting.ACME_MAX_ORDERS_PER_HOUR),
            settings.longValue(Setting.ACME_MAX_ORDERS_PER_DOMAIN_PER_WEEK), orderTimeoutSeconds, retrySeconds);
        this.issuer = new Issuer(board, settings.choice(Setting.ACME_CHALLENGE_TYPE), settings.choice(Setting.ACME_KEY_TYPE));
    }

    /** @return whether the settings turn ACME on (a directory URL is set) */
    public static boolean enabled(Settings settings)
    {
        String url = settings.string(Setting.ACME_DIRECTORY_URL);
        return url != null && !url.isBlank();
    }

    /**
     * Builds the service of a node; nothing starts here.
     *
     * @param dataSource    the node's PostgreSQL pool (the PostgreSQL store's), for short queries
     * @param masterKeys    encrypts the account key and issued keys; null: stored plain
     * @param storesHealthy false while the stores fail: requests are then deferred, never ordered
     * @param permission    whether a name may be ordered on demand (the ACME permission policy)
     * @throws IllegalStateException when ACME is off or a setting is bad, naming it
     */
    public static AcmeService build(Settings settings, DataSource dataSource, MasterKeys masterKeys, BooleanSupplier storesHealthy,
                                    Function<String, CompletableFuture<Boolean>> permission)
    {
        return build(settings, dataSource::getConnection, listenConnections(settings), masterKeys, storesHealthy, permission);
    }

    /**
     * Builds the service of a node on the PostgreSQL store's pool, which may start later: connections
     * are taken from {@link JdbcCertificateStore#getDataSource()} when needed (before the store runs,
     * requests are deferred).
     */
    public static AcmeService build(Settings settings, JdbcCertificateStore jdbc, MasterKeys masterKeys, BooleanSupplier storesHealthy,
                                    Function<String, CompletableFuture<Boolean>> permission)
    {
        Connections pooled = () ->
        {
            DataSource dataSource = jdbc.getDataSource();
            if (dataSource == null)
                throw new SQLException("the PostgreSQL store is not started", "08003");
            return dataSource.getConnection();
        };
        return build(settings, pooled, listenConnections(settings), masterKeys, storesHealthy, permission);
    }

    /**
     * @param connections       short-lived connections (a pool, or plain connections in the admin tool)
     * @param listenConnections a connection of its own for LISTEN and the renewal lock (not from the pool); null: neither (the admin tool)
     */
    public static AcmeService build(Settings settings, Connections connections, Connections listenConnections, MasterKeys masterKeys,
                                    BooleanSupplier storesHealthy, Function<String, CompletableFuture<Boolean>> permission)
    {
        if (!enabled(settings))
            throw new IllegalStateException(Setting.ACME_DIRECTORY_URL.property() + " is not set: ACME is off");
        settings.validate();
        String schema = settings.string(Setting.JDBC_SCHEMA);
        if (!SchemaMigrations.isValidSchemaName(schema))
            throw new IllegalStateException(Setting.JDBC_SCHEMA.property() + "='" + schema + "' is not a valid schema name: use lower-case letters, digits and _");
        return new AcmeService(settings, connections, listenConnections, masterKeys, storesHealthy, permission, nodeId());
    }

    /** @return plain connections from the settings' JDBC URL and credentials, outside any pool */
    public static Connections listenConnections(Settings settings)
    {
        String url;
        try
        {
            url = StoreUrls.jdbc(settings.string(Setting.JDBC_URL));
        }
        catch (IllegalArgumentException x)
        {
            throw new IllegalStateException(x.getMessage());
        }
        Properties properties = new Properties();
        String user = settings.string(Setting.JDBC_USER);
        String password = settings.secret(Setting.JDBC_PASSWORD, Setting.JDBC_PASSWORD_FILE);
        if (user != null && !user.isEmpty())
            properties.setProperty("user", user);
        if (password != null && !password.isEmpty())
            properties.setProperty("password", password);
        long timeoutMillis = settings.longValue(Setting.JDBC_TIMEOUT_MILLIS);
        properties.setProperty("connectTimeout", String.valueOf(Math.max(1, (timeoutMillis + 999) / 1000)));
        properties.setProperty("socketTimeout", String.valueOf(Math.max(2, (timeoutMillis * 2 + 999) / 1000)));
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("ApplicationName", "jetty-dynamic-sni-acme");
        return () -> DriverManager.getConnection(url, properties);
    }

    private static String nodeId()
    {
        String host;
        try
        {
            host = InetAddress.getLocalHost().getHostName();
        }
        catch (UnknownHostException x)
        {
            host = "node";
        }
        return host + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Starts the challenge feed, the order pool and the scheduler (ledger polls, expiry gauges, renewal rounds). */
    public synchronized void start()
    {
        if (running)
            return;
        board.start();
        orders = new ThreadPoolExecutor(maxConcurrentOrders, maxConcurrentOrders, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000), r ->
        {
            Thread thread = new Thread(r, "dynsni-acme-order");
            thread.setDaemon(true);
            return thread;
        });
        orders.allowCoreThreadTimeOut(true);
        // two threads: a renewal round waits for its orders, and must not hold up the ledger poll of waiting requests
        scheduler = new ScheduledThreadPoolExecutor(2, r ->
        {
            Thread thread = new Thread(r, "dynsni-acme-scheduler");
            thread.setDaemon(true);
            return thread;
        });
        scheduler.scheduleWithFixedDelay(this::pollWaiters, WAIT_POLL_MILLIS, WAIT_POLL_MILLIS, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::refreshExpiryGauges, 1, renewalIntervalSeconds, TimeUnit.SECONDS);
        if (listenConnections != null)
        {
            // first round soon, then spread: nodes started together do not all try the renewal lock at once
            long first = 1 + ThreadLocalRandom.current().nextLong(Math.max(1, Math.min(renewalIntervalSeconds, 30)));
            scheduler.scheduleWithFixedDelay(this::renewalRound, first, renewalIntervalSeconds, TimeUnit.SECONDS);
        }
        running = true;
        LOG.info("ACME on directory={} schema={} node={}", directoryUrl, schema, ledger.node());
    }

    /** Stops everything; requests still waiting complete {@link Result#DEFERRED}. Orders in flight are interrupted (their leases expire). */
    public synchronized void stop()
    {
        running = false;
        if (scheduler != null)
            scheduler.shutdownNow();
        if (orders != null)
            orders.shutdownNow();
        board.stop();
        for (Waiter waiter : waiters.values())
        {
            waiter.future().complete(Result.DEFERRED);
        }
        waiters.clear();
        for (CompletableFuture<Result> future : inflight.values())
        {
            future.complete(Result.DEFERRED);
        }
        scheduler = null;
        orders = null;
    }

    public AcmeStatistics statistics()
    {
        return statistics;
    }

    /** @return the fleet's account at this directory (for {@code dynsni acme register}) */
    public AcmeAccount account()
    {
        return account;
    }

    ChallengeBoard board()
    {
        return board;
    }

    /** @return the fleet's order bookkeeping (for {@code dynsni acme status}) */
    public OrderLedger ledger()
    {
        return ledger;
    }

    /**
     * @param listener told when the permission rules ({@code acme_allowed}) changed anywhere in the
     *                 fleet, or may have while this node did not listen: e.g. {@link AcmePermissions#forgetAll()}
     */
    public void onPermissionRulesChanged(Runnable listener)
    {
        board.onRulesChanged(listener);
    }

    @Override
    public CompletableFuture<byte[]> tlsAlpn01(String host)
    {
        return board.tlsAlpn01(host);
    }

    @Override
    public CompletableFuture<String> http01(String token)
    {
        return board.http01(token);
    }

    @Override
    public CompletableFuture<Result> request(String host)
    {
        CompletableFuture<Result> existing = inflight.get(host);
        if (existing != null)
            return existing;
        CompletableFuture<Result> future = new CompletableFuture<>();
        existing = inflight.putIfAbsent(host, future);
        if (existing != null)
            return existing;
        future.whenComplete((r, x) -> inflight.remove(host, future));
        if (host.startsWith("*."))
        {
            // http-01 and tls-alpn-01 cannot validate a wildcard; on-demand names are exact hosts
            statistics.permissionDenied.increment();
            future.complete(Result.DENIED);
            return future;
        }
        if (!running || !storesHealthy.getAsBoolean())
        {
            deferred(future, host, "stores unhealthy or ACME stopped");
            return future;
        }
        CompletableFuture<Boolean> allowed;
        try
        {
            // a copy, so that the timeout never completes the policy's own future
            allowed = permission.apply(host).thenApply(yes -> yes).orTimeout(PERMISSION_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        catch (RuntimeException x)
        {
            allowed = CompletableFuture.failedFuture(x);
        }
        allowed.whenComplete((yes, x) ->
        {
            if (x != null || !Boolean.TRUE.equals(yes))
            {
                statistics.permissionDenied.increment();
                future.complete(Result.DENIED);
                return;
            }
            statistics.permissionAllowed.increment();
            submit(host, false, false, future);
        });
        return future;
    }

    /**
     * Renews a name now, on this node, whatever its lifetime and backoff (budgets and another node's
     * lease still hold): {@code dynsni acme renew}, and the renewal leader's rounds.
     */
    public CompletableFuture<Result> renew(String host)
    {
        CompletableFuture<Result> future = new CompletableFuture<>();
        submit(host, true, true, future);
        return future;
    }

    /**
     * Tells the service that the certificate of a stored name changed (the Jetty side calls this from
     * the store's change listener): requests waiting for another node's order of that name complete
     * {@link Result#ISSUED}. Cheap, never blocks.
     */
    public void onCertificateChange(String name)
    {
        Waiter waiter = waiters.remove(name);
        if (waiter != null)
            waiter.future().complete(Result.ISSUED);
    }

    private void submit(String host, boolean renewal, boolean force, CompletableFuture<Result> future)
    {
        ThreadPoolExecutor pool = orders;
        if (pool == null)
        {
            deferred(future, host, "ACME stopped");
            return;
        }
        try
        {
            pool.execute(() -> order(host, renewal, force, future));
        }
        catch (RejectedExecutionException x)
        {
            deferred(future, host, "order queue full");
        }
    }

    /** One attempt at a name, on an order thread: the ledger decides, then this node orders or waits. */
    private void order(String host, boolean renewal, boolean force, CompletableFuture<Result> future)
    {
        if (!storesHealthy.getAsBoolean())
        {
            deferred(future, host, "stores unhealthy");
            return;
        }
        if (Instant.now().isBefore(caUnavailableUntil))
        {
            deferred(future, host, "CA unreachable lately");
            return;
        }
        OrderLedger.Decision decision;
        try
        {
            decision = ledger.begin(host, renewal, force);
        }
        catch (SQLException x)
        {
            LOG.warn("ACME ledger failing sni={} reason={}", host, x.toString());
            deferred(future, host, "ledger failing");
            return;
        }
        switch (decision)
        {
            case ISSUED -> future.complete(Result.ISSUED);
            case HELD -> waiters.merge(host, new Waiter(future, System.nanoTime() + TimeUnit.SECONDS.toNanos(orderTimeoutSeconds + 5)), (old, fresh) ->
            {
                fresh.future().whenComplete((r, x) -> old.future().complete(r));
                return fresh;
            });
            case BACKOFF -> deferred(future, host, "backoff");
            case HOURLY_BUDGET, WEEKLY_BUDGET ->
            {
                statistics.ordersRateLimited.increment();
                deferred(future, host, decision.name().toLowerCase(java.util.Locale.ROOT));
            }
            case LEASED -> future.complete(issue(host, renewal));
        }
    }

    private Result issue(String host, boolean renewal)
    {
        statistics.ordersStarted.increment();
        if (renewal)
            statistics.renewalsStarted.increment();
        long start = System.nanoTime();
        Instant deadline = Instant.now().plusSeconds(orderTimeoutSeconds).minusMillis(500);
        try
        {
            Issuer.Issued issued;
            try
            {
                issued = issuer.issue(account.login(), host, deadline);
            }
            catch (AcmeServerException x)
            {
                if (!accountGone(x))
                    throw x;
                // the CA lost the account (a reset CA, a restarted Pebble) or another node re-registered it:
                // register the stored key again and order once more, rather than spend this order and
                // put the name into backoff; a second loss fails as any error does
                LOG.info("ACME account unknown to the CA, registering it again sni={}", host);
                account.forget();
                issued = issuer.issue(account.login(), host, deadline);
            }
            CertificateWriter.Entry entry = CertificateWriter.Entry.of(List.of(host), issued.chain(), issued.keys().getPrivate());
            try (Connection connection = connections.get())
            {
                new CertificateWriter(connection, schema, masterKeys).write(List.of(entry));
            }
            ledger.succeeded(host, entry.notBefore(), entry.notAfter());
            statistics.ordersSucceeded.increment();
            caBackoffSeconds = 0;
            LOG.info("ACME certificate stored sni={} renewal={} notAfter={} fingerprint={} millis={}", host, renewal, entry.notAfter(), entry.fingerprint(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            return Result.ISSUED;
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            return failed(host, "interrupted (node stopping)");
        }
        catch (AcmeNetworkException x)
        {
            caUnreachable();
            return failed(host, "CA unreachable: " + x.getMessage());
        }
        catch (AcmeServerException x)
        {
            if (accountGone(x))
                account.forget();
            return failed(host, x.getMessage());
        }
        catch (Exception x)
        {
            return failed(host, x.getMessage() == null ? x.toString() : x.getMessage());
        }
    }

    private static boolean accountGone(AcmeServerException x)
    {
        return x.getType() != null && x.getType().toString().endsWith(":accountDoesNotExist");
    }

    private Result failed(String host, String error)
    {
        statistics.ordersFailed.increment();
        Instant next = null;
        try
        {
            next = ledger.failed(host, error);
        }
        catch (SQLException x)
        {
            LOG.warn("ACME ledger failing sni={} reason={}", host, x.toString());
        }
        LOG.warn("ACME order failed sni={} nextAttempt={} reason={}", host, next, error);
        return Result.FAILED;
    }

    /** After a network failure the node asks the CA nothing for the retry time, doubling up to a day while it stays unreachable. */
    private void caUnreachable()
    {
        long seconds = caBackoffSeconds == 0 ? retrySeconds : Math.min(caBackoffSeconds * 2, OrderLedger.MAX_BACKOFF_SECONDS);
        caBackoffSeconds = seconds;
        caUnavailableUntil = Instant.now().plusSeconds(seconds);
    }

    private void deferred(CompletableFuture<Result> future, String host, String why)
    {
        statistics.ordersDeferred.increment();
        LOG.debug("ACME request deferred sni={} reason={}", host, why);
        future.complete(Result.DEFERRED);
    }

    private void pollWaiters()
    {
        if (waiters.isEmpty())
            return;
        try
        {
            long now = System.nanoTime();
            for (Map.Entry<String, OrderLedger.Progress> entry : ledger.progress(new ArrayList<>(waiters.keySet())).entrySet())
            {
                Waiter waiter = waiters.get(entry.getKey());
                if (waiter == null)
                    continue;
                Result result = switch (entry.getValue())
                {
                    case ISSUED -> Result.ISSUED;
                    case FAILED -> Result.FAILED;
                    case GONE -> Result.DEFERRED;
                    case ORDERING -> now - waiter.deadlineNanos() > 0 ? Result.DEFERRED : null;
                };
                if (result != null && waiters.remove(entry.getKey(), waiter))
                    waiter.future().complete(result);
            }
        }
        catch (SQLException | RuntimeException x)
        {
            LOG.debug("ACME ledger poll failed reason={}", x.toString());
        }
    }

    /**
     * One renewal round, on the node that gets the fleet's renewal lock (a session advisory lock on a
     * connection of its own, released when the round ends or the node dies): renews the names past
     * their renewal point, at most the order pool's size at a time, waiting for each batch.
     */
    private void renewalRound()
    {
        if (!storesHealthy.getAsBoolean())
            return;
        try (Connection lock = listenConnections.get())
        {
            if (!tryLock(lock, true))
                return;
            try
            {
                List<OrderLedger.Issued> candidates = ledger.renewalCandidates(RENEW_FRACTION - RENEW_JITTER, maxConcurrentOrders * 8);
                List<CompletableFuture<Result>> batch = new ArrayList<>();
                Instant now = Instant.now();
                for (OrderLedger.Issued candidate : candidates)
                {
                    if (!candidate.renewRequested() && now.isBefore(renewalPoint(candidate)))
                        continue;
                    // A name disallowed since its issuance is renewed no more (an explicit dynsni acme renew still is).
                    if (!candidate.renewRequested() && !stillAllowed(candidate.name()))
                    {
                        if (LOG.isDebugEnabled())
                            LOG.debug("ACME renewal skipped, the name is no longer allowed sni={} notAfter={}", candidate.name(), candidate.notAfter());
                        continue;
                    }
                    LOG.info("ACME renewal sni={} notAfter={} requested={}", candidate.name(), candidate.notAfter(), candidate.renewRequested());
                    CompletableFuture<Result> future = new CompletableFuture<>();
                    submit(candidate.name(), true, candidate.renewRequested(), future);
                    batch.add(future);
                    if (batch.size() >= maxConcurrentOrders)
                    {
                        CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).get(orderTimeoutSeconds * 2, TimeUnit.SECONDS);
                        batch.clear();
                    }
                }
                CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new)).get(orderTimeoutSeconds * 2, TimeUnit.SECONDS);
            }
            finally
            {
                tryLock(lock, false);
            }
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
        catch (Exception x)
        {
            LOG.warn("ACME renewal round failed reason={}", x.toString());
        }
    }

    /** @return when a name is due: 2/3 of its lifetime, earlier by a fixed share of up to 1/12 derived from the name (spreads a batch issued together) */
    /** @return whether the permission policy still allows the name; no answer in time counts as no (asked again next round) */
    private boolean stillAllowed(String name)
    {
        try
        {
            return Boolean.TRUE.equals(permission.apply(name).get(PERMISSION_TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            return false;
        }
        catch (Exception x)
        {
            return false;
        }
    }

    static Instant renewalPoint(OrderLedger.Issued issued)
    {
        CRC32 crc = new CRC32();
        crc.update(issued.name().getBytes(StandardCharsets.UTF_8));
        double jitter = (crc.getValue() % 1000) / 1000.0 * RENEW_JITTER;
        long lifetime = Duration.between(issued.notBefore(), issued.notAfter()).toMillis();
        return issued.notBefore().plusMillis((long)(lifetime * (RENEW_FRACTION - jitter)));
    }

    private boolean tryLock(Connection connection, boolean lock) throws SQLException
    {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT " + (lock ? "pg_try_advisory_lock" : "pg_advisory_unlock") + "(hashtext('dynsni-acme-renewal:" + schema + "'))"))
        {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private void refreshExpiryGauges()
    {
        try (Connection connection = connections.get();
             PreparedStatement query = connection.prepareStatement(
                 "SELECT count(DISTINCT host) FILTER (WHERE not_after < now() + interval '7 days'), count(DISTINCT host) FROM " + schema + ".certificate " +
                     "WHERE not_after < now() + interval '30 days'");
             ResultSet rs = query.executeQuery())
        {
            rs.next();
            statistics.expiring(rs.getLong(1), rs.getLong(2));
        }
        catch (SQLException x)
        {
            LOG.debug("ACME expiry gauges not refreshed reason={}", x.toString());
        }
    }

    /** Refreshes the expiry gauges now (they refresh every renewal interval by themselves). */
    public void refreshStatistics()
    {
        refreshExpiryGauges();
    }

    @Override
    public String toString()
    {
        return "AcmeService[directory=" + directoryUrl + ", schema=" + schema + ", node=" + ledger.node() + ", " + statistics + "]";
    }
}
