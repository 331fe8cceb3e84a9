package dev.dynsni.core.acme;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import com.sun.net.httpserver.HttpServer;
import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.Pem;
import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.Setting;
import dev.dynsni.core.Settings;
import dev.dynsni.core.acme.OnDemandIssuance.Result;
import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.PebbleProcess;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ACME issuance against a real Pebble and a real PostgreSQL: http-01 answered by a small JDK HTTP server
 * that reads {@link AcmeService#http01} (Pebble's validator is pointed at it), the issued chain checked
 * against Pebble's issuing root, one order for a name two nodes ask for at once, budgets and backoff
 * deferring without a CA request, unhealthy stores, a master-key-encrypted account reused across restarts.
 */
class AcmeServiceTest
{
    private static final Function<String, CompletableFuture<Boolean>> ALLOW_ALL = host -> CompletableFuture.completedFuture(true);
    private static final byte[] MASTER_KEY = new byte[32];
    private static PebbleProcess pebble;
    private static HttpServer challengeServer;
    /** Which node's {@link AcmeChallenges} the challenge server reads: always the first node, whichever node orders. */
    private static volatile AcmeChallenges answering;
    /** Validations the challenge server answers wrongly before it answers right again (a CA seeing failed validations). */
    private static final AtomicInteger failValidations = new AtomicInteger();

    private final String schema = TestServices.newSchema();
    private final List<AcmeService> services = new ArrayList<>();

    @BeforeAll
    static void startPebble() throws Exception
    {
        assumeTrue(TestServices.installed(PebbleProcess.available(), "pebble, pebble-challtestsrv and openssl"));
        challengeServer = HttpServer.create(new InetSocketAddress("127.0.0.1", FreePorts.next()), 16);
        challengeServer.createContext("/.well-known/acme-challenge/", exchange ->
        {
            String path = exchange.getRequestURI().getPath();
            String token = path.substring(path.lastIndexOf('/') + 1);
            String answer = null;
            try
            {
                AcmeChallenges challenges = answering;
                answer = challenges == null || failValidations.getAndDecrement() > 0 ? null : challenges.http01(token).get(5, TimeUnit.SECONDS);
            }
            catch (Exception x)
            {
                // answered 404 below
            }
            byte[] body = (answer == null ? "no such challenge" : answer).getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(answer == null ? 404 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody())
            {
                out.write(body);
            }
        });
        challengeServer.start();
        pebble = new PebbleProcess(challengeServer.getAddress().getPort(), FreePorts.next()).start();
    }

    @AfterAll
    static void stopPebble()
    {
        if (challengeServer != null)
            challengeServer.stop(0);
        if (pebble != null)
            pebble.close();
    }

    @BeforeEach
    void migrate() throws SQLException
    {
        for (int i = 0; i < MASTER_KEY.length; i++)
        {
            MASTER_KEY[i] = (byte)i;
        }
        try (Connection connection = TestServices.connect())
        {
            SchemaMigrations.migrate(connection, schema);
        }
    }

    @AfterEach
    void stop()
    {
        for (AcmeService service : services)
        {
            service.stop();
        }
        answering = null;
        failValidations.set(0);
        TestServices.dropSchema(schema);
    }

    private Settings settings(PebbleProcess pebble)
    {
        return new Settings(java.util.Map.of())
            .set(Setting.JDBC_URL, TestServices.jdbcUrl())
            .set(Setting.JDBC_SCHEMA, schema)
            .set(Setting.ACME_DIRECTORY_URL, pebble.directoryUrl())
            .set(Setting.ACME_CA_FILE, pebble.caFile().toString())
            .set(Setting.ACME_EMAIL, "ops@example.com")
            .set(Setting.ACME_CHALLENGE_TYPE, "http-01")
            .set(Setting.ACME_ORDER_TIMEOUT_SECONDS, 30L)
            .set(Setting.ACME_RENEWAL_INTERVAL_SECONDS, 3600L);
    }

    private AcmeService node(Settings settings, boolean healthy)
    {
        return node(settings, healthy, ALLOW_ALL);
    }

    private AcmeService node(Settings settings, boolean healthy, Function<String, CompletableFuture<Boolean>> permission)
    {
        AcmeService service = AcmeService.build(settings, TestServices::connect, AcmeService.listenConnections(settings), MasterKeys.of(MASTER_KEY),
            () -> healthy, permission);
        services.add(service);
        service.start();
        if (answering == null)
            answering = service;
        return service;
    }

    @Test
    void request_http01_storesPebbleIssuedChainEncryptedLikeAnImport() throws Exception
    {
        AcmeService node = node(settings(pebble), true);

        assertEquals(Result.ISSUED, node.request("shop1.example.com").get(60, TimeUnit.SECONDS));

        try (Connection connection = TestServices.connect();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT chain_pem, key_encoding, not_after, fingerprint FROM " + schema + ".certificate WHERE host = 'shop1.example.com'"))
        {
            assertTrue(rs.next(), "the certificate is stored");
            List<X509Certificate> chain = Pem.readCertificates(rs.getString(1));
            assertTrue(rs.getString(2).startsWith(MasterKeys.SCHEME + ":"), "the key is encrypted with the master key: " + rs.getString(2));
            assertEquals(chain.get(0).getNotAfter().toInstant(), rs.getTimestamp(3).toInstant());
            assertEquals(Pem.fingerprint(chain.get(0)), rs.getString(4));
            assertTrue(chain.get(0).getSubjectAlternativeNames().stream().anyMatch(san -> "shop1.example.com".equals(san.get(1))));
            verify(chain, pebble.issuingRoot());
        }
        OrderLedger.Status status = node.ledger().status("shop1.example.com");
        assertEquals("issued", status.state());
        assertNull(status.leaseHolder());
        assertEquals(0, status.attempts());
        assertEquals(0, count("acme_challenge"), "the challenge is withdrawn");
        assertEquals(1, node.statistics().getOrdersSucceeded());
        node.refreshStatistics();
        assertEquals(0, node.statistics().getExpiringWithin30Days(), "Pebble's default lifetime is years");
        assertEquals(Result.ISSUED, node.request("shop1.example.com").get(10, TimeUnit.SECONDS), "a stored name is not ordered again");
        assertEquals(1, node.statistics().getOrdersStarted());
    }

    @Test
    void account_isRegisteredOnce_encrypted_andReusedAfterRestart() throws Exception
    {
        AcmeService first = node(settings(pebble), true);
        assertEquals(Result.ISSUED, first.request("a.account.example").get(60, TimeUnit.SECONDS));
        String url = first.account().storedUrl().toString();
        first.stop();

        AcmeService second = node(settings(pebble), true);
        answering = second;
        assertEquals(Result.ISSUED, second.request("b.account.example").get(60, TimeUnit.SECONDS));
        assertEquals(url, second.account().storedUrl().toString(), "the restarted node logs in with the stored account");
        try (Connection connection = TestServices.connect();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT key_encoding, key_pem FROM " + schema + ".acme_account"))
        {
            assertTrue(rs.next());
            assertEquals(MasterKeys.of(MASTER_KEY).currentEncoding(), rs.getString(1));
            assertTrue(!rs.getString(2).contains("PRIVATE KEY"), "no plain PEM in the row");
            assertTrue(!rs.next(), "one account per directory");
        }
    }

    @Test
    void twoNodes_sameNameAtOnce_makeOneOrder() throws Exception
    {
        AcmeService a = node(settings(pebble), true);
        AcmeService b = node(settings(pebble), true);
        List<CompletableFuture<Result>> results = new ArrayList<>();
        for (int i = 0; i < 5; i++)
        {
            results.add(a.request("both.example.org"));
            results.add(b.request("both.example.org"));
        }
        for (CompletableFuture<Result> result : results)
        {
            assertEquals(Result.ISSUED, result.get(60, TimeUnit.SECONDS));
        }
        assertEquals(1, a.statistics().getOrdersStarted() + b.statistics().getOrdersStarted(), "one order in the fleet");
        assertEquals(1, count("acme_order_log"));
    }

    @Test
    void onCertificateChange_completesARequestWaitingForAnotherNodesOrder() throws Exception
    {
        AcmeService node = node(settings(pebble), true);
        try (Connection connection = TestServices.connect();
             Statement statement = connection.createStatement())
        {
            statement.executeUpdate("INSERT INTO " + schema + ".acme_order (name, state, lease_holder, lease_until) VALUES ('held.example.net', 'ordering', 'other-node', now() + interval '1 hour')");
        }
        CompletableFuture<Result> waiting = node.request("held.example.net");
        Thread.sleep(1500);
        assertTrue(!waiting.isDone(), "waits while another node holds the lease");
        node.onCertificateChange("held.example.net");
        assertEquals(Result.ISSUED, waiting.get(5, TimeUnit.SECONDS));
        assertEquals(0, node.statistics().getOrdersStarted());
    }

    @Test
    void expiredLease_ofANodeThatDied_isTakenOver() throws Exception
    {
        AcmeService node = node(settings(pebble), true);
        try (Connection connection = TestServices.connect();
             Statement statement = connection.createStatement())
        {
            statement.executeUpdate("INSERT INTO " + schema + ".acme_order (name, state, lease_holder, lease_until) VALUES ('orphan.example.net', 'ordering', 'dead-node', now() - interval '1 second')");
        }
        assertEquals(Result.ISSUED, node.request("orphan.example.net").get(60, TimeUnit.SECONDS));
        assertEquals(1, node.statistics().getOrdersStarted());
        assertEquals("issued", node.ledger().status("orphan.example.net").state());
    }

    @Test
    void overBudgetOrInBackoff_isDeferred_withoutAskingTheCa() throws Exception
    {
        Settings settings = settings(pebble).set(Setting.ACME_MAX_ORDERS_PER_HOUR, 3L).set(Setting.ACME_MAX_ORDERS_PER_DOMAIN_PER_WEEK, 2L);
        AcmeService node = node(settings, true);
        try (Connection connection = TestServices.connect();
             PreparedStatement log = connection.prepareStatement("INSERT INTO " + schema + ".acme_order_log (directory_url, name, registered_domain, node, started_at) VALUES (?, ?, ?, 'x', now() - ? * interval '1 minute')"))
        {
            // the weekly budget of busy.example: 2 orders this week
            for (String name : new String[]{"a.busy.example", "b.busy.example"})
            {
                log.setString(1, pebble.directoryUrl());
                log.setString(2, name);
                log.setString(3, "busy.example");
                log.setLong(4, 3 * 24 * 60);
                log.executeUpdate();
            }
        }
        assertEquals(Result.DEFERRED, node.request("c.busy.example").get(10, TimeUnit.SECONDS), "over the weekly budget of the registered domain");

        try (Connection connection = TestServices.connect();
             Statement statement = connection.createStatement())
        {
            statement.executeUpdate("INSERT INTO " + schema + ".acme_order (name, state, attempts, next_attempt_at, last_error) VALUES ('failing.example.com', 'failed', 2, now() + interval '1 hour', 'boom')");
        }
        assertEquals(Result.DEFERRED, node.request("failing.example.com").get(10, TimeUnit.SECONDS), "in backoff");

        try (Connection connection = TestServices.connect();
             PreparedStatement log = connection.prepareStatement("INSERT INTO " + schema + ".acme_order_log (directory_url, name, registered_domain, node) VALUES (?, ?, ?, 'x')"))
        {
            for (int i = 0; i < 3; i++)
            {
                log.setString(1, pebble.directoryUrl());
                log.setString(2, "n" + i + ".elsewhere.example");
                log.setString(3, "elsewhere.example");
                log.executeUpdate();
            }
        }
        assertEquals(Result.DEFERRED, node.request("fresh.quiet.example").get(10, TimeUnit.SECONDS), "over the fleet's hourly budget");

        assertEquals(0, node.statistics().getOrdersStarted());
        assertEquals(3, node.statistics().getOrdersDeferred());
        assertEquals(2, node.statistics().getOrdersRateLimited(), "the two budgets; the backoff is not a rate limit");
        assertEquals(0, count("acme_account"), "the CA was never contacted: not even the account was registered");
        assertEquals(5, count("acme_order_log"), "no order logged");
    }

    @Test
    void unhealthyStores_deferWithoutTouchingTheLedger() throws Exception
    {
        AcmeService node = node(settings(pebble), false);
        assertEquals(Result.DEFERRED, node.request("sick.example.com").get(10, TimeUnit.SECONDS));
        assertEquals(0, count("acme_order"));
        assertEquals(0, count("acme_account"));
    }

    @Test
    void deniedNames_areNeverOrdered() throws Exception
    {
        Settings settings = settings(pebble);
        AcmeService node = AcmeService.build(settings, TestServices::connect, null, null, () -> true,
            host -> CompletableFuture.completedFuture(host.endsWith(".allowed.example")));
        services.add(node);
        node.start();
        assertEquals(Result.DENIED, node.request("random-1234.example.com").get(10, TimeUnit.SECONDS));
        assertEquals(1, node.statistics().getPermissionDenied());
        assertEquals(0, count("acme_order"));
    }

    @Test
    void pebbleStopped_failsAndBacksOff_thenRecoversWithTheSameAccountKey() throws Exception
    {
        HttpServer server = challengeServer;
        try (PebbleProcess own = new PebbleProcess(server.getAddress().getPort(), FreePorts.next()).start())
        {
            Settings settings = settings(own).set(Setting.ACME_RETRY_SECONDS, 1L);
            AcmeService node = node(settings, true);
            assertEquals(Result.ISSUED, node.request("before.example.com").get(60, TimeUnit.SECONDS));

            own.stop();
            assertEquals(Result.FAILED, node.request("during.example.com").get(60, TimeUnit.SECONDS));
            OrderLedger.Status status = node.ledger().status("during.example.com");
            assertEquals("failed", status.state());
            assertEquals(1, status.attempts());
            assertNotNull(status.nextAttemptAt());
            assertTrue(status.lastError().contains("unreachable"), status.lastError());
            assertEquals(Result.DEFERRED, node.request("other.example.com").get(10, TimeUnit.SECONDS), "no CA request while it is known unreachable");
            assertEquals(1, count("certificate"), "the stored certificate is unaffected");
            node.board().publish(new ChallengeBoard.Pending("x.example.com", ChallengeBoard.HTTP_01, "tok", "tok.thumb"), java.time.Duration.ofMinutes(1));
            assertEquals("tok.thumb", node.http01("tok").get(5, TimeUnit.SECONDS), "challenge answers are unaffected");

            // Pebble forgets every account when it restarts: the node registers its stored key again
            own.start();
            AtomicInteger attempts = new AtomicInteger();
            AtomicBoolean issued = new AtomicBoolean();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!issued.get() && System.nanoTime() < deadline)
            {
                attempts.incrementAndGet();
                issued.set(node.request("during.example.com").get(60, TimeUnit.SECONDS) == Result.ISSUED);
                if (!issued.get())
                    Thread.sleep(500);
            }
            assertTrue(issued.get(), "issued again after Pebble came back, " + attempts + " attempts; " + node.ledger().status("during.example.com"));
            assertEquals(1, count("acme_account"));
            // before, during (failed, CA unreachable), during again: the order that met the forgotten account
            // registered the key again and went on, instead of failing the name into another backoff
            assertEquals(3, count("acme_order_log"), "no order lost to accountDoesNotExist");
        }
    }

    @Test
    void faultyCa_badNoncesAndFailedValidations_areRetriedWithinTheBudgets() throws Exception
    {
        try (PebbleProcess faulty = new PebbleProcess(challengeServer.getAddress().getPort(), FreePorts.next()).env("PEBBLE_WFE_NONCEREJECT", "50").start())
        {
            Settings settings = settings(faulty).set(Setting.ACME_RETRY_SECONDS, 1L).set(Setting.ACME_MAX_ORDERS_PER_HOUR, 3L);
            AcmeService node = node(settings, true);
            failValidations.set(1);
            assertEquals(Result.FAILED, node.request("flaky.example.com").get(60, TimeUnit.SECONDS), "the CA saw a wrong answer");
            OrderLedger.Status failed = node.ledger().status("flaky.example.com");
            assertEquals(1, failed.attempts());
            assertEquals(Result.DEFERRED, node.request("flaky.example.com").get(10, TimeUnit.SECONDS), "in backoff right after the failure");

            Thread.sleep(java.time.Duration.between(java.time.Instant.now(), failed.nextAttemptAt()).toMillis() + 100);
            assertEquals(Result.ISSUED, node.request("flaky.example.com").get(60, TimeUnit.SECONDS), "retried after the backoff, through 50 % bad nonces");
            assertEquals(Result.ISSUED, node.request("second.example.com").get(60, TimeUnit.SECONDS));
            assertEquals(Result.DEFERRED, node.request("third.example.com").get(10, TimeUnit.SECONDS), "3 orders this hour: the budget holds");
            assertEquals(3, count("acme_order_log"));
            assertEquals(1, node.statistics().getOrdersRateLimited());
        }
    }

    @Test
    void tlsAlpn01_isTheSha256OfTheKeyAuthorization_andAFloodOfUnknownNamesCostsFewQueries() throws Exception
    {
        AcmeService node = node(settings(pebble), true);
        ChallengeBoard board = node.board();
        String keyAuthorization = "token-abc.thumbprint-xyz";
        board.publish(new ChallengeBoard.Pending("alpn.example.com", ChallengeBoard.TLS_ALPN_01, "token-abc", keyAuthorization), java.time.Duration.ofMinutes(1));
        byte[] expected = java.security.MessageDigest.getInstance("SHA-256").digest(keyAuthorization.getBytes(StandardCharsets.US_ASCII));
        assertTrue(java.util.Arrays.equals(expected, node.tlsAlpn01("alpn.example.com").get(5, TimeUnit.SECONDS)));

        // another node sees it through the table
        AcmeService other = node(settings(pebble), true);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        byte[] seen = null;
        while (seen == null && System.nanoTime() < until)
        {
            seen = other.tlsAlpn01("alpn.example.com").get(5, TimeUnit.SECONDS);
            if (seen == null)
                Thread.sleep(50);
        }
        assertTrue(java.util.Arrays.equals(expected, seen), "another node answers from the shared table");

        long before = other.board().reloads.sum();
        long start = System.nanoTime();
        for (int i = 0; i < 2000; i++)
        {
            assertNull(other.tlsAlpn01("random-" + i + ".example.com").get(5, TimeUnit.SECONDS));
            assertNull(other.http01("random-token-" + i).get(5, TimeUnit.SECONDS));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long reloads = other.board().reloads.sum() - before;
        // the listener's periodic refresh plus at most 2 per second for misses
        assertTrue(reloads <= 3 * (seconds + 1) + 2, reloads + " reloads for 4000 misses in " + seconds + " s");
    }

    @Test
    void renewal_leaderRenewsAShortLivedCertificateAfterTwoThirdsOfItsLifetime() throws Exception
    {
        try (PebbleProcess shortLived = new PebbleProcess(challengeServer.getAddress().getPort(), FreePorts.next()).certificateValiditySeconds(20).start())
        {
            Settings settings = settings(shortLived).set(Setting.ACME_RENEWAL_INTERVAL_SECONDS, 1L);
            AcmeService node = node(settings, true);
            assertEquals(Result.ISSUED, node.request("short.example.com").get(60, TimeUnit.SECONDS));
            OrderLedger.Status first = node.ledger().status("short.example.com");
            long lifetimeSeconds = java.time.Duration.between(first.notBefore(), first.notAfter()).toSeconds();
            assertTrue(lifetimeSeconds <= 21, "Pebble's certificateValidityPeriod is in seconds: lifetime " + lifetimeSeconds + " s");
            node.refreshStatistics();
            assertEquals(1, node.statistics().getExpiringWithin7Days());
            assertEquals(1, node.statistics().getExpiringWithin30Days());

            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            OrderLedger.Status now = first;
            while (now.notAfter().equals(first.notAfter()) && System.nanoTime() < until)
            {
                Thread.sleep(250);
                now = node.ledger().status("short.example.com");
            }
            assertTrue(now.notAfter().isAfter(first.notAfter()), "renewed: " + now);
            assertTrue(java.time.Instant.now().isBefore(first.notAfter()), "renewed before the old certificate ended");
            assertTrue(node.statistics().getRenewalsStarted() >= 1);
            assertEquals(now.notAfter(), notAfterStored("short.example.com"), "the new certificate is stored like an import");
        }
    }

    @Test
    void renewal_skipsNamesDisallowedOrRemovedSinceTheirIssuance() throws Exception
    {
        try (PebbleProcess shortLived = new PebbleProcess(challengeServer.getAddress().getPort(), FreePorts.next()).certificateValiditySeconds(12).start())
        {
            Settings settings = settings(shortLived).set(Setting.ACME_RENEWAL_INTERVAL_SECONDS, 1L);
            Set<String> allowed = java.util.concurrent.ConcurrentHashMap.newKeySet();
            allowed.addAll(List.of("kept.example.com", "disallowed.example.com", "removed.example.com"));
            AcmeService node = node(settings, true, host -> CompletableFuture.completedFuture(allowed.contains(host)));
            for (String host : allowed)
                assertEquals(Result.ISSUED, node.request(host).get(60, TimeUnit.SECONDS), host);
            java.time.Instant kept = node.ledger().status("kept.example.com").notAfter();
            java.time.Instant disallowed = node.ledger().status("disallowed.example.com").notAfter();
            java.time.Instant removed = node.ledger().status("removed.example.com").notAfter();
            allowed.remove("disallowed.example.com");
            try (Connection connection = TestServices.connect(); Statement statement = connection.createStatement())
            {
                statement.execute("DELETE FROM " + schema + ".certificate WHERE host = 'removed.example.com'");
            }

            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (node.ledger().status("kept.example.com").notAfter().equals(kept))
            {
                assertTrue(System.nanoTime() < until, "the allowed name was not renewed");
                Thread.sleep(250);
            }
            Thread.sleep(2500); // two more rounds
            assertEquals(disallowed, node.ledger().status("disallowed.example.com").notAfter(), "a disallowed name is renewed no more");
            assertEquals(removed, node.ledger().status("removed.example.com").notAfter(), "a removed certificate is not brought back");
            assertEquals(0, count("certificate WHERE host = 'removed.example.com'"));
        }
    }

    @Test
    void requestedRenewal_isRenewedByTheLeaderWithinARound() throws Exception
    {
        Settings settings = settings(pebble).set(Setting.ACME_RENEWAL_INTERVAL_SECONDS, 1L);
        AcmeService node = node(settings, true);
        assertEquals(Result.ISSUED, node.request("forced.example.com").get(60, TimeUnit.SECONDS));
        OrderLedger.Status first = node.ledger().status("forced.example.com");
        assertTrue(node.ledger().requestRenewal("forced.example.com"));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        OrderLedger.Status now = first;
        while (!now.updatedAt().isAfter(first.updatedAt()) || now.renewRequested() || "ordering".equals(now.state()))
        {
            assertTrue(System.nanoTime() < until, "not renewed in time: " + now);
            Thread.sleep(250);
            now = node.ledger().status("forced.example.com");
        }
        assertEquals("issued", now.state());
        assertEquals(2, node.statistics().getOrdersSucceeded());
        assertTrue(!now.notBefore().isBefore(first.notBefore()), "a new certificate: " + now);
        assertEquals(2, count("acme_order_log"));
    }

    private java.time.Instant notAfterStored(String host) throws SQLException
    {
        try (Connection connection = TestServices.connect();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT not_after FROM " + schema + ".certificate WHERE host = '" + host + "'"))
        {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }

    private long count(String table) throws SQLException
    {
        try (Connection connection = TestServices.connect();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT count(*) FROM " + schema + "." + table))
        {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void verify(List<X509Certificate> chain, X509Certificate root) throws Exception
    {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), parameters);
    }

    @Test
    void permissionRulesChanged_anyWriterOfTheTable_toldToEveryNode() throws Exception
    {
        AcmeService node1 = node(settings(pebble), true);
        AcmeService node2 = node(settings(pebble), true);
        java.util.concurrent.CountDownLatch told = new java.util.concurrent.CountDownLatch(2);
        node1.onPermissionRulesChanged(told::countDown);
        node2.onPermissionRulesChanged(told::countDown);
        Thread.sleep(1000); // both listen
        try (java.sql.Connection connection = TestServices.connect(); java.sql.Statement statement = connection.createStatement())
        {
            statement.execute("INSERT INTO " + schema + ".acme_allowed (name) VALUES ('plain-sql.example.com')");
        }
        assertTrue(told.await(10, TimeUnit.SECONDS), "both nodes told of the insert");
    }
}
