package dev.dynsni.it;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.dynsni.testing.Await;
import dev.dynsni.testing.FreePorts;
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
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * On-demand ACME issuance on the real distribution (start.jar) against a real Pebble (Debian's
 * {@code pebble}, its DNS answering 127.0.0.1 for every name), two nodes sharing one PostgreSQL
 * schema: node A (tenants on Conscrypt, {@code dynamic-sni-conscrypt}) answers on the TLS port Pebble
 * validates tls-alpn-01 on, node B (JSSE) on the plain HTTP port Pebble validates http-01 on
 * ({@code acme.challengeType=http-01}). Names are allowed by
 * inserting them into {@code acme_allowed}, as {@code dynsni allow} does.
 * <ul>
 * <li>an allowed new name is issued on its first connection and served at once: tls-alpn-01 through
 * A, http-01 through B; the chain verifies against Pebble's issuing root, for the name;</li>
 * <li>a name not allowed gets the unknown-host policy and causes no order;</li>
 * <li>both nodes receiving the same new name at once make one order between them;</li>
 * <li>a name first denied (both nodes and Redis remember "no certificate"), then allowed, is issued
 * and served on its next connection by both nodes;</li>
 * <li>Pebble stopped: the issued certificates keep being served by both nodes.</li>
 * </ul>
 * Cost: one Pebble and two Jetty processes for the class (about 40 s on 2 cores). Outage and
 * backoff, renewal, bad nonces and budgets: {@link AcmeLifecycleIT} (its nodes need other settings).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AcmeIT
{
    private final String schema = TestServices.newSchema();
    private final String keyPrefix = TestServices.newKeyPrefix();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private PebbleProcess pebble;
    private JettyDistribution.JettyProcess tlsAlpnNode;
    private JettyDistribution.JettyProcess httpNode;
    private TlsClient client;

    @BeforeAll
    void start() throws Exception
    {
        assumeTrue(TestServices.installed(PebbleProcess.available(), "pebble (Debian package) and openssl"), "pebble not installed");
        int tlsPort = FreePorts.next();
        int httpPort = FreePorts.next();
        pebble = new PebbleProcess(httpPort, tlsPort).start();
        closing.add(pebble);
        tlsAlpnNode = node("acme-a", "dynamic-sni-conscrypt", tlsPort, Map.of());
        httpNode = node("acme-b", "dynamic-sni", FreePorts.next(), Map.of("jetty.dynamicSni.acme.challengeType", "http-01", "jetty.http.port", String.valueOf(httpPort),
            "jetty.http.host", "127.0.0.1"));
        client = TlsClient.trusting(pebble.issuingRoot()).verifyingHostName().timeoutMillis(20_000);
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
    }

    private JettyDistribution.JettyProcess node(String name, String module, int tlsPort, Map<String, String> extra) throws Exception
    {
        Path base = JettyDistribution.newBase(name, "--add-modules=" + module + ",http,https,http2");
        Map<String, String> properties = new HashMap<>(extra);
        properties.put("jetty.dynamicSni.jdbc.url", TestServices.jdbcUrl());
        properties.put("jetty.dynamicSni.jdbc.schema", schema);
        properties.put("jetty.dynamicSni.unknownHostPolicy", "reject");
        properties.put("jetty.dynamicSni.acme.directoryUrl", pebble.directoryUrl());
        properties.put("jetty.dynamicSni.acme.caFile", pebble.caFile().toString());
        properties.put("jetty.dynamicSni.acme.email", "ops@acme.test");
        // Redis too, so that its "no certificate" entries are in the way of a name issued later
        properties.put("jetty.dynamicSni.redis.address", TestServices.redisUrl());
        properties.put("jetty.dynamicSni.redis.keyPrefix", keyPrefix);
        properties.putIfAbsent("jetty.http.port", String.valueOf(FreePorts.next()));
        JettyDistribution.appendProperties(base.resolve("start.d/dynamic-sni.ini"), properties);
        JettyDistribution.JettyProcess jetty = JettyDistribution.JettyProcess.start(base, tlsPort);
        closing.add(jetty);
        return jetty;
    }

    private void allow(String name) throws Exception
    {
        try (Connection connection = TestServices.connect();
             PreparedStatement insert = connection.prepareStatement("INSERT INTO " + schema + ".acme_allowed (name) VALUES (?) ON CONFLICT DO NOTHING"))
        {
            insert.setString(1, name);
            insert.executeUpdate();
        }
    }

    private long orders(String name) throws Exception
    {
        try (Connection connection = TestServices.connect();
             PreparedStatement select = connection.prepareStatement("SELECT count(*) FROM " + schema + ".acme_order_log WHERE name = ?"))
        {
            select.setString(1, name);
            try (ResultSet rows = select.executeQuery())
            {
                rows.next();
                return rows.getLong(1);
            }
        }
    }

    /** The first handshake is served a certificate Pebble issued for the name; the chain is checked against Pebble's root and for the name. */
    private X509Certificate assertIssuedOnFirstConnection(JettyDistribution.JettyProcess node, String name)
    {
        long start = System.nanoTime();
        TlsClient.Result first = client.handshake(node.port(), name);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(first.ok(), name + ": " + first.failure() + "\n" + node.log() + "\n" + pebble.tail());
        System.out.printf("AcmeIT %s issued and served on the first connection in %d ms%n", name, millis);
        return first.leaf();
    }

    @Test
    @Order(1)
    void tlsAlpn01_allowedNewName_issuedAndServedOnItsFirstConnection() throws Exception
    {
        allow("alpn.acme.test");
        X509Certificate leaf = assertIssuedOnFirstConnection(tlsAlpnNode, "alpn.acme.test");
        assertTrue(leaf.getSubjectAlternativeNames().stream().anyMatch(san -> "alpn.acme.test".equals(san.get(1))));
        assertEquals(1, orders("alpn.acme.test"));
        assertTrue(tlsAlpnNode.log().contains("ACME validation answered type=tls-alpn-01 sni=alpn.acme.test"), tlsAlpnNode.log());
        assertTrue(tlsAlpnNode.log().contains("Dynamic SNI ready engine=Conscrypt"), "tenants of node A on Conscrypt, the validation on JSSE");
        // and the other node serves it from the stores
        assertTrue(client.handshake(httpNode.port(), "alpn.acme.test").ok());
    }

    @Test
    @Order(2)
    void http01_allowedNewName_issuedAndServedOnItsFirstConnection() throws Exception
    {
        allow("http.acme.test");
        assertIssuedOnFirstConnection(httpNode, "http.acme.test");
        assertEquals(1, orders("http.acme.test"));
        assertTrue(httpNode.log().contains("ACME validation answered type=http-01"), httpNode.log());
    }

    @Test
    @Order(3)
    void disallowedName_unknownHostPolicy_noOrder() throws Exception
    {
        TlsClient.Result result = client.handshake(tlsAlpnNode.port(), "stranger.acme.test");
        assertFalse(result.ok());
        assertFalse(client.handshake(httpNode.port(), "stranger.acme.test").ok());
        assertEquals(0, orders("stranger.acme.test"));
    }

    @Test
    @Order(4)
    void twoNodes_sameNewNameAtOnce_oneOrder() throws Exception
    {
        allow("both.acme.test");
        CompletableFuture<TlsClient.Result> a = CompletableFuture.supplyAsync(() -> client.handshake(tlsAlpnNode.port(), "both.acme.test"));
        CompletableFuture<TlsClient.Result> b = CompletableFuture.supplyAsync(() -> client.handshake(httpNode.port(), "both.acme.test"));
        TlsClient.Result ra = a.join();
        TlsClient.Result rb = b.join();
        assertTrue(ra.ok() && rb.ok(), ra.failure() + " / " + rb.failure() + "\n" + pebble.tail());
        assertEquals(Tenants.sha256(ra.leaf()), Tenants.sha256(rb.leaf()));
        assertEquals(1, orders("both.acme.test"));
    }

    @Test
    @Order(5)
    void deniedThenAllowed_negativeEntriesOfL1AndRedisDoNotHideTheNewCertificate() throws Exception
    {
        // first contact while not allowed: both nodes remember "no certificate" (L1 and Redis)
        assertFalse(client.handshake(tlsAlpnNode.port(), "later.acme.test").ok());
        assertFalse(client.handshake(httpNode.port(), "later.acme.test").ok());
        allow("later.acme.test");
        // the denial is remembered for acme.permissionCacheSeconds (600 s) unless the rules change
        // reaches the node: it does at once (the trigger on acme_allowed), so a moment suffices
        long millis = Await.until("later.acme.test served by node A", 10, () -> client.handshake(tlsAlpnNode.port(), "later.acme.test").ok());
        System.out.printf("AcmeIT later.acme.test allowed, issued and served within %d ms%n", millis);
        TlsClient.Result other = client.handshake(httpNode.port(), "later.acme.test");
        assertTrue(other.ok(), "node B dropped its negative entry on the change: " + other.failure());
        assertEquals(1, orders("later.acme.test"));
    }

    @Test
    @Order(6)
    void pebbleStopped_issuedCertificatesKeepBeingServed() throws Exception
    {
        pebble.stop();
        for (String name : List.of("alpn.acme.test", "http.acme.test", "both.acme.test"))
        {
            assertTrue(client.handshake(tlsAlpnNode.port(), name).ok(), name);
            assertTrue(client.handshake(httpNode.port(), name).ok(), name);
        }
        allow("late.acme.test");
        assertFalse(client.handshake(tlsAlpnNode.port(), "late.acme.test").ok(), "no certificate can be issued without the CA");
        assertTrue(tlsAlpnNode.process().isAlive() && httpNode.process().isAlive());
    }
}
