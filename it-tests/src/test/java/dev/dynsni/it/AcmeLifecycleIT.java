package dev.dynsni.it;

import java.math.BigInteger;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.testing.Await;
import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.HttpClients;
import dev.dynsni.testing.PebbleProcess;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The ACME lifecycle on the real distribution (start.jar) against a real Pebble, where {@link AcmeIT}
 * covers first contact: outage and backoff, renewal, bad nonces and the fleet's hourly budget. Two
 * nodes share one PostgreSQL schema and Redis, node A answering tls-alpn-01 on the TLS port Pebble
 * validates, node B http-01 on the plain HTTP port, as in AcmeIT; both with
 * {@code acme.retrySeconds=2} and {@code acme.renewalIntervalSeconds=2}.
 * <ol>
 * <li>Pebble stopped: an issued certificate keeps being served by both nodes; a new allowed name gets
 * the unknown-host policy within the wait bound, its order backs off ({@code dynsni acme status}:
 * failed, attempts, next attempt in the future, the error) and a burst of handshakes makes no more
 * than a few orders; Pebble restarted (it forgets the fleet's account): after the backoff a new
 * contact is issued and served the certificate, by one order (which registers the account again).</li>
 * <li>Pebble issuing 30-second certificates: one is renewed by the fleet's renewal leader and the
 * new certificate (other serial, chain to Pebble's root) is served by both nodes before the old one's
 * notAfter.</li>
 * <li>Pebble rejecting half of the nonces ({@code PEBBLE_WFE_NONCEREJECT=50}; Pebble 2.4.0 has no knob
 * that fails validations) and a fleet budget of 3 orders per hour: a fresh fleet (a new schema, two
 * new nodes on the same ports, since the budget is read at start and the first fleet already spent
 * orders) issues three names through the bad nonces, and the fourth starts no order and gets the
 * unknown-host policy on both nodes.</li>
 * </ol>
 * Cost: one Pebble (restarted twice) and four Jetty starts; about 65 s on 2 cores (165 s with
 * benchmarks running beside it), most of it the Jetty starts and the renewal's wait for two thirds
 * of 30 s.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AcmeLifecycleIT
{
    /** The wait bound of a first connection ({@code acme.waitMillis}, default), plus slack for a loaded machine. */
    private static final long WAIT_BOUND_MILLIS = 8_000 + 4_000;
    private static final int RETRY_SECONDS = 2;

    private final String schema = TestServices.newSchema();
    private final String budgetSchema = TestServices.newSchema();
    private final String keyPrefix = TestServices.newKeyPrefix();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final int tlsPort = FreePorts.next();
    private final int httpPort = FreePorts.next();
    private PebbleProcess pebble;
    private Node tlsAlpnNode;
    private Node httpNode;

    /** A node and its Jetty base (for {@code dynsni --jetty-base}). */
    private record Node(JettyDistribution.JettyProcess jetty, Path base)
    {
        int port()
        {
            return jetty.port();
        }
    }

    @BeforeAll
    void start() throws Exception
    {
        assumeTrue(TestServices.installed(PebbleProcess.available(), "pebble (Debian package) and openssl"), "pebble not installed");
        pebble = new PebbleProcess(httpPort, tlsPort).start();
        closing.add(pebble);
        startFleet(schema, Map.of("jetty.dynamicSni.acme.renewalIntervalSeconds", "2"));
    }

    @AfterAll
    void stop() throws Exception
    {
        for (int i = closing.size() - 1; i >= 0; i--)
        {
            try
            {
                closing.get(i).close();
            }
            catch (Exception ignored)
            {
                // the rest still goes
            }
        }
        TestServices.dropSchema(schema);
        TestServices.dropSchema(budgetSchema);
    }

    private void startFleet(String fleetSchema, Map<String, String> extra) throws Exception
    {
        Map<String, String> a = new HashMap<>(extra);
        tlsAlpnNode = node("acme-life-a", fleetSchema, tlsPort, a);
        Map<String, String> b = new HashMap<>(extra);
        b.put("jetty.dynamicSni.acme.challengeType", "http-01");
        b.put("jetty.http.port", String.valueOf(httpPort));
        b.put("jetty.http.host", "127.0.0.1");
        httpNode = node("acme-life-b", fleetSchema, FreePorts.next(), b);
    }

    private Node node(String name, String fleetSchema, int port, Map<String, String> extra) throws Exception
    {
        Path base = JettyDistribution.newBase(name, "--add-modules=dynamic-sni,http,https,http2");
        Map<String, String> properties = new HashMap<>(extra);
        properties.put("jetty.dynamicSni.jdbc.url", TestServices.jdbcUrl());
        properties.put("jetty.dynamicSni.jdbc.schema", fleetSchema);
        properties.put("jetty.dynamicSni.unknownHostPolicy", "reject");
        properties.put("jetty.dynamicSni.acme.directoryUrl", pebble.directoryUrl());
        properties.put("jetty.dynamicSni.acme.caFile", pebble.caFile().toString());
        properties.put("jetty.dynamicSni.acme.email", "ops@acme.test");
        properties.put("jetty.dynamicSni.acme.retrySeconds", String.valueOf(RETRY_SECONDS));
        properties.put("jetty.dynamicSni.redis.address", TestServices.redisUrl());
        properties.put("jetty.dynamicSni.redis.keyPrefix", keyPrefix + fleetSchema + ":");
        properties.putIfAbsent("jetty.http.port", String.valueOf(FreePorts.next()));
        JettyDistribution.appendProperties(base.resolve("start.d/dynamic-sni.ini"), properties);
        JettyDistribution.JettyProcess jetty = JettyDistribution.JettyProcess.start(base, port);
        closing.add(jetty);
        return new Node(jetty, base);
    }

    private TlsClient client(X509Certificate... roots)
    {
        return TlsClient.trusting(roots).verifyingHostName().timeoutMillis(20_000);
    }

    private void allow(String fleetSchema, String name) throws Exception
    {
        try (Connection connection = TestServices.connect();
             PreparedStatement insert = connection.prepareStatement("INSERT INTO " + fleetSchema + ".acme_allowed (name) VALUES (?) ON CONFLICT DO NOTHING"))
        {
            insert.setString(1, name);
            insert.executeUpdate();
        }
    }

    /** @return order starts in the fleet's log, for one name or (name null) all */
    private long orders(String fleetSchema, String name) throws Exception
    {
        try (Connection connection = TestServices.connect();
             PreparedStatement select = connection.prepareStatement("SELECT count(*) FROM " + fleetSchema + ".acme_order_log" + (name == null ? "" : " WHERE name = ?")))
        {
            if (name != null)
                select.setString(1, name);
            try (ResultSet rows = select.executeQuery())
            {
                rows.next();
                return rows.getLong(1);
            }
        }
    }

    private String acmeStatus(Node node, String host) throws Exception
    {
        List<String> command = List.of("bash", JettyDistribution.HOME.resolve("bin/dynsni").toString(), "acme", "status", host, "--jetty-base", node.base().toString());
        HttpClients.Output out = HttpClients.run(command);
        assertEquals(0, out.exitCode(), () -> String.join(" ", command) + ":\n" + out.stdout());
        return out.stdout();
    }

    private String logs()
    {
        return "\n--- node A\n" + tlsAlpnNode.jetty().log() + "\n--- node B\n" + httpNode.jetty().log() + "\n--- pebble\n" + pebble.tail();
    }

    /**
     * Connects until the name is served (the first contact starts the order; on this loaded 2-core
     * machine a fresh node's first order, account registration included, may outlast the 8 s wait
     * bound, and the order then goes on for the next contact).
     */
    private X509Certificate issued(TlsClient client, Node node, String name) throws InterruptedException
    {
        X509Certificate[] leaf = new X509Certificate[1];
        long millis = Await.until(name + " issued and served" + " (see the nodes' logs)", 60, () ->
        {
            TlsClient.Result result = client.handshake(node.port(), name);
            if (result.ok())
                leaf[0] = result.leaf();
            else
                Thread.sleep(250);
            return result.ok();
        });
        System.out.printf("AcmeLifecycleIT %s issued and served within %d ms of the first contact%n", name, millis);
        return leaf[0];
    }

    /** @return how long the refused handshake took, in milliseconds, after asserting it was refused */
    private long refused(TlsClient client, Node node, String name)
    {
        long start = System.nanoTime();
        TlsClient.Result result = client.handshake(node.port(), name);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertFalse(result.ok(), () -> name + " was served " + result.leaf());
        return millis;
    }

    @Test
    @Order(1)
    void pebbleStopped_issuedKeepsBeingServed_newNameBacksOffWithoutRetryStorm_thenIssuedAfterRestart() throws Exception
    {
        X509Certificate firstRoot = pebble.issuingRoot();
        TlsClient client = client(firstRoot);
        allow(schema, "keep.acme.test");
        issued(client, tlsAlpnNode, "keep.acme.test");

        pebble.stop();
        assertTrue(client.handshake(tlsAlpnNode.port(), "keep.acme.test").ok(), "node A serves the issued certificate without the CA");
        assertTrue(client.handshake(httpNode.port(), "keep.acme.test").ok(), "node B serves the issued certificate without the CA");

        allow(schema, "down.acme.test");
        long millis = refused(client, tlsAlpnNode, "down.acme.test");
        assertTrue(millis < WAIT_BOUND_MILLIS, "unknown-host policy after " + millis + " ms");
        try (Connection connection = TestServices.connect();
             PreparedStatement select = connection.prepareStatement("SELECT next_attempt_at > now() FROM " + schema + ".acme_order WHERE name = ?"))
        {
            select.setString(1, "down.acme.test");
            try (ResultSet row = select.executeQuery())
            {
                assertTrue(row.next() && row.getBoolean(1), "the failed order's next attempt is in the future");
            }
        }
        // the operator's view (the tool's JVM starts in about as long as the 2 s backoff lasts: "nextAttempt" not checked here)
        String status = acmeStatus(tlsAlpnNode, "down.acme.test");
        assertTrue(status.contains("state=failed attempts=1 "), status);
        assertTrue(status.contains("last error  CA unreachable"), status);
        assertTrue(status.contains("certificate none"), status);

        // a burst of handshakes on both nodes while the CA is down: backoff, not one order each
        int handshakes = 0;
        long burstEnd = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < burstEnd)
        {
            refused(client, handshakes % 2 == 0 ? tlsAlpnNode : httpNode, "down.acme.test");
            handshakes++;
            Thread.sleep(50);
        }
        long downOrders = orders(schema, "down.acme.test");
        System.out.printf("AcmeLifecycleIT Pebble stopped: %d handshakes in 3 s made %d orders in all%n", handshakes + 1, downOrders);
        // backoff 2 s then 4 s (per name and per node after a network failure): at most 3 in 3 s
        assertTrue(downOrders <= 3, downOrders + " orders for " + (handshakes + 1) + " handshakes" + logs());
        assertTrue(handshakes >= 10, "the burst was " + handshakes + " handshakes");
        try (Connection connection = TestServices.connect();
             PreparedStatement select = connection.prepareStatement("SELECT attempts, last_error FROM " + schema + ".acme_order WHERE name = ?"))
        {
            select.setString(1, "down.acme.test");
            try (ResultSet row = select.executeQuery())
            {
                assertTrue(row.next());
                assertEquals(downOrders, row.getInt(1), "every order start failed and counted");
                assertNotNull(row.getString(2));
            }
        }

        // the CA is back (and has forgotten the fleet's account): issued on a later contact, after the backoff;
        // from now on with 30-second certificates, for the renewal test
        pebble.certificateValiditySeconds(30).start();
        TlsClient restarted = client(pebble.issuingRoot());
        long recovery = Await.until("down.acme.test issued after Pebble's restart", 60, () ->
        {
            if (restarted.handshake(httpNode.port(), "down.acme.test").ok())
                return true;
            Thread.sleep(500);
            return false;
        });
        System.out.printf("AcmeLifecycleIT down.acme.test issued %d ms after Pebble's restart%n", recovery);
        assertEquals(downOrders + 1, orders(schema, "down.acme.test"), "one order after the restart: it registers the forgotten account again and goes on" + logs());
        TlsClient.Result served = restarted.handshake(tlsAlpnNode.port(), "down.acme.test");
        assertTrue(served.ok(), () -> "chain of the new Pebble's root, on node A too: " + served.failure());
        assertTrue(acmeStatus(httpNode, "down.acme.test").contains("state=issued attempts=0 nextAttempt=now"));
        assertTrue(client(firstRoot).handshake(httpNode.port(), "keep.acme.test").ok());
    }

    @Test
    @Order(2)
    void shortLivedCertificate_renewedBeforeExpiry_newOneServedByBothNodes() throws Exception
    {
        TlsClient client = client(pebble.issuingRoot());
        allow(schema, "renew.acme.test");
        X509Certificate old = issued(client, tlsAlpnNode, "renew.acme.test");
        long lifetime = old.getNotAfter().getTime() - old.getNotBefore().getTime();
        assertTrue(lifetime <= 31_000, "a 30-second certificate: " + old.getNotBefore() + " .. " + old.getNotAfter());
        BigInteger oldSerial = old.getSerialNumber();
        Instant oldNotAfter = old.getNotAfter().toInstant();

        Map<String, X509Certificate> renewed = new HashMap<>();
        Await.until("renew.acme.test renewed and served by both nodes", 40, () ->
        {
            for (Node node : List.of(tlsAlpnNode, httpNode))
            {
                String key = node == tlsAlpnNode ? "A" : "B";
                if (renewed.containsKey(key))
                    continue;
                TlsClient.Result result = client.handshake(node.port(), "renew.acme.test");
                assertTrue(result.ok() || Instant.now().isAfter(oldNotAfter), () -> "node " + key + " failed while the old certificate was valid: " + result.failure() + logs());
                if (result.ok() && !result.leaf().getSerialNumber().equals(oldSerial))
                {
                    assertTrue(Instant.now().isBefore(oldNotAfter), "node " + key + " served the new certificate only after the old one expired" + logs());
                    renewed.put(key, result.leaf());
                }
            }
            if (renewed.size() == 2)
                return true;
            Thread.sleep(250);
            return false;
        });
        long margin = oldNotAfter.toEpochMilli() - System.currentTimeMillis();
        System.out.printf("AcmeLifecycleIT renew.acme.test renewed, served by both nodes %d ms before the old notAfter%n", margin);
        assertTrue(margin > 0, "before the old certificate's notAfter");
        X509Certificate a = renewed.get("A");
        X509Certificate b = renewed.get("B");
        assertNotEquals(oldSerial, a.getSerialNumber());
        assertTrue(a.getNotAfter().after(old.getNotAfter()));
        // the same renewed certificate on both nodes, or B already the next renewal; either way a new one verified against Pebble's root
        assertNotEquals(oldSerial, b.getSerialNumber());
        assertTrue(orders(schema, "renew.acme.test") >= 2);
        assertTrue((tlsAlpnNode.jetty().log() + httpNode.jetty().log()).contains("ACME renewal sni=renew.acme.test"), logs());
    }

    @Test
    @Order(3)
    void badNoncesAndHourlyBudget_namesIssuedThroughRetries_orderBeyondBudgetNotStarted() throws Exception
    {
        tlsAlpnNode.jetty().close();
        httpNode.jetty().close();
        pebble.stop();
        pebble.certificateValiditySeconds(0).env("PEBBLE_WFE_NONCEREJECT", "50").start();
        startFleet(budgetSchema, Map.of("jetty.dynamicSni.acme.maxOrdersPerHour", "3"));
        TlsClient client = client(pebble.issuingRoot());

        List<String> names = List.of("one.budget.test", "two.budget.test", "three.budget.test");
        for (int i = 0; i < names.size(); i++)
        {
            allow(budgetSchema, names.get(i));
            issued(client, i % 2 == 0 ? tlsAlpnNode : httpNode, names.get(i));
        }
        assertEquals(3, orders(budgetSchema, null), "one order per name despite the bad nonces");
        String logs = tlsAlpnNode.jetty().log() + httpNode.jetty().log();
        long badNonces = logs.lines().filter(line -> line.contains("Bad Replay Nonce")).count();
        System.out.printf("AcmeLifecycleIT 3 names issued through %d bad nonces retried%n", badNonces);
        assertTrue(badNonces > 0, "Pebble rejected nonces and acme4j retried them" + logs());

        allow(budgetSchema, "four.budget.test");
        long millis = refused(client, httpNode, "four.budget.test");
        assertTrue(millis < WAIT_BOUND_MILLIS, "unknown-host policy after " + millis + " ms");
        refused(client, tlsAlpnNode, "four.budget.test");
        assertEquals(0, orders(budgetSchema, "four.budget.test"), "no order beyond the fleet's budget");
        assertEquals(3, orders(budgetSchema, null));
        assertTrue(acmeStatus(httpNode, "four.budget.test").contains("never ordered by ACME"));
        for (String name : names)
        {
            assertTrue(client.handshake(httpNode.port(), name).ok(), name);
        }
    }
}
