package dev.dynsni;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.HttpClients;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.client.ContentResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Full TLS handshakes from real JDK and Jetty clients against an embedded Jetty (h2 + http/1.1 over
 * ALPN) whose certificates come from a real PostgreSQL through a real Redis; each test asserts the
 * leaf certificate the client received.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DynamicSniHandshakeTest
{
    private final CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
    private TestStore store;
    private DynamicSniSslContextFactory factory;
    private TestServer server;
    private DynamicSniSslContextFactory rejectFactory;
    private TestServer rejectServer;
    private TlsClient client;
    private IssuedCertificate defaultCert;

    @BeforeAll
    void start() throws Exception
    {
        store = new TestStore();
        defaultCert = pki.ec("default.invalid");
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("dynsni-default");
        java.nio.file.Path chain = java.nio.file.Files.writeString(dir.resolve("default.crt"), defaultCert.chainPem());
        java.nio.file.Path key = java.nio.file.Files.writeString(dir.resolve("default.key"), defaultCert.traditionalKeyPem());

        factory = store.newFactory(true);
        factory.setDefaultCertificatePath(chain.toString());
        factory.setDefaultKeyPath(key.toString());
        server = new TestServer(factory);

        rejectFactory = store.newFactory(false);
        rejectFactory.setUnknownHostPolicy("reject");
        rejectFactory.setDefaultCertificatePath(chain.toString());
        rejectFactory.setDefaultKeyPath(key.toString());
        rejectServer = new TestServer(rejectFactory);

        client = TlsClient.trusting(pki.caCertificate());
    }

    @AfterAll
    void stop() throws Exception
    {
        if (server != null)
            server.close();
        if (rejectServer != null)
            rejectServer.close();
        if (store != null)
            store.close();
    }

    private static String fp(IssuedCertificate issued)
    {
        return Pem.fingerprint(issued.certificate());
    }

    private static String fp(TlsClient.Result result)
    {
        assertTrue(result.ok(), () -> "handshake failed: " + result.failure());
        return Pem.fingerprint(result.leaf());
    }

    @Test
    void exactHost_servesItsCertificate() throws Exception
    {
        IssuedCertificate shop = pki.ec("shop.example.com");
        store.put("shop.example.com", shop);
        TlsClient.Result result = client.handshake(server.port(), "shop.example.com");
        assertEquals(fp(shop), fp(result));
        assertEquals("h2", result.alpn());
    }

    @Test
    void upperCaseAndTrailingDot_areNormalised() throws Exception
    {
        IssuedCertificate cert = pki.ec("case.example.com");
        store.put("case.example.com", cert);
        assertEquals(fp(cert), fp(client.handshake(server.port(), "CASE.Example.COM")));
        // JSSE itself refuses a trailing-dot host_name with an illegal_parameter alert before the key
        // manager runs (HostNames strips it for the other paths, see HostNamesTest)
        long pgBefore = factory.getStatistics().getPostgresQueries();
        TlsClient.Result trailingDot = client.handshakeRawSni(server.port(), "case.example.com.");
        assertTrue(trailingDot.ok() ? fp(cert).equals(fp(trailingDot)) : String.valueOf(trailingDot.failure()).contains("illegal_parameter"), String.valueOf(trailingDot.failure()));
        assertEquals(pgBefore, factory.getStatistics().getPostgresQueries());
    }

    @Test
    void wildcard_coversExactlyOneLabel() throws Exception
    {
        IssuedCertificate wild = pki.ec("*.wild.example.com");
        store.put("*.wild.example.com", wild);
        assertEquals(fp(wild), fp(client.handshake(server.port(), "a.wild.example.com")));
        assertEquals(fp(wild), fp(client.handshake(server.port(), "b.wild.example.com")));
        // two labels below the wildcard, and the parent itself, are not covered: default certificate
        assertEquals(fp(defaultCert), fp(client.handshake(server.port(), "x.y.wild.example.com")));
        assertEquals(fp(defaultCert), fp(client.handshake(server.port(), "wild.example.com")));
    }

    @Test
    void exactHost_beatsWildcard() throws Exception
    {
        IssuedCertificate wild = pki.ec("*.mixed.example.com");
        IssuedCertificate exact = pki.ec("www.mixed.example.com");
        store.put("*.mixed.example.com", wild);
        store.put("www.mixed.example.com", exact);
        assertEquals(fp(exact), fp(client.handshake(server.port(), "www.mixed.example.com")));
        assertEquals(fp(wild), fp(client.handshake(server.port(), "api.mixed.example.com")));
    }

    @Test
    void dualCertificateHost_servesTheKeyTypeTheClientSupports() throws Exception
    {
        IssuedCertificate ec = pki.ec("dual.example.com");
        IssuedCertificate rsa = pki.rsa("dual.example.com");
        store.put("dual.example.com", ec);
        store.put("dual.example.com", rsa);

        TlsClient.Result ecClient = client.handshake(server.port(), "dual.example.com");
        assertEquals(fp(ec), fp(ecClient));

        TlsClient.Result rsaOnlyClient = client.protocols("TLSv1.2").cipherSuites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
            .handshake(server.port(), "dual.example.com");
        assertEquals(fp(rsa), fp(rsaOnlyClient));
        assertEquals("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", rsaOnlyClient.cipherSuite());

        TlsClient.Result ecTls12 = client.protocols("TLSv1.2").cipherSuites("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
            .handshake(server.port(), "dual.example.com");
        assertEquals(fp(ec), fp(ecTls12));
    }

    @Test
    void rsaOnlyHost_tls13_servesRsaThroughPssSignatures() throws Exception
    {
        // TLS 1.3 asks for RSASSA-PSS keys first: a plain RSA key must not be offered for it, yet
        // the handshake must still succeed with the RSA certificate (rsa_pss_rsae_* schemes).
        IssuedCertificate rsa = pki.rsa("rsa.example.com");
        store.put("rsa.example.com", rsa);
        TlsClient.Result result = client.protocols("TLSv1.3").handshake(server.port(), "rsa.example.com");
        assertEquals(fp(rsa), fp(result));
        assertEquals("TLSv1.3", result.protocol());
    }

    @Test
    void noSni_defaultPolicy_servesDefault_rejectPolicy_fails() throws Exception
    {
        assertEquals(fp(defaultCert), fp(client.handshake(server.port(), null)));
        long rejectedBefore = rejectFactory.getStatistics().getRejected();
        // the reject policy serves nothing without SNI
        assertFalse(client.handshake(rejectServer.port(), null).ok());
        assertEquals(rejectedBefore + 1, rejectFactory.getStatistics().getRejected());
    }

    @Test
    void unknownHost_defaultPolicyServesDefault_rejectPolicyFailsHandshake() throws Exception
    {
        long defaultBefore = factory.getStatistics().getServedDefault();
        assertEquals(fp(defaultCert), fp(client.handshake(server.port(), "nobody.example.org")));
        assertEquals(defaultBefore + 1, factory.getStatistics().getServedDefault());

        TlsClient.Result rejected = client.handshake(rejectServer.port(), "nobody.example.org");
        assertFalse(rejected.ok());
        assertNotNull(rejected.failure());
        // a known host still works on the rejecting server
        IssuedCertificate known = pki.ec("known.example.com");
        store.put("known.example.com", known);
        assertEquals(fp(known), fp(client.handshake(rejectServer.port(), "known.example.com")));
    }

    @Test
    void sniRequired_rejectsHandshakesWithoutTenantCertificate() throws Exception
    {
        DynamicSniSslContextFactory strict = store.newFactory(false);
        strict.setSniRequired(true);
        strict.setDefaultCertificatePath(factory.getDefaultCertificatePath());
        strict.setDefaultKeyPath(factory.getDefaultKeyPath());
        try (TestServer strictServer = new TestServer(strict))
        {
            IssuedCertificate known = pki.ec("strict.example.com");
            store.put("strict.example.com", known);
            assertEquals(fp(known), fp(client.handshake(strictServer.port(), "strict.example.com")));
            assertFalse(client.handshake(strictServer.port(), null).ok());
            assertFalse(client.handshake(strictServer.port(), "unknown.example.com").ok());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "b\u00fccher.example.com",
        "bad_name.example.com",
        "a..b.example.com",
        "-leading.example.com",
        "trailing-.example.com",
        "10.0.0.1",
        "xn--zz.example.com",
        "ab--cd.example.com",
        "host name.example.com",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com"
    })
    void invalidSni_neverReachesTheStores(String sni)
    {
        long pgBefore = factory.getStatistics().getPostgresQueries();
        long redisBefore = factory.getStatistics().getRedisQueries();
        long invalidBefore = factory.getStatistics().getInvalidSni();
        TlsClient.Result result = client.handshakeRawSni(server.port(), sni);
        // JSSE itself may refuse some of these names; either way no store sees them
        if (result.ok())
        {
            assertEquals(fp(defaultCert), fp(result));
            assertEquals(invalidBefore + 1, factory.getStatistics().getInvalidSni());
        }
        assertEquals(pgBefore, factory.getStatistics().getPostgresQueries());
        assertEquals(redisBefore, factory.getStatistics().getRedisQueries());
    }

    @Test
    void tooLongName_servesDefault_withoutStoreQueries()
    {
        String label = "a".repeat(63);
        String name = String.join(".", label, label, label, label) + ".com"; // 259 characters
        long pgBefore = factory.getStatistics().getPostgresQueries();
        long invalidBefore = factory.getStatistics().getInvalidSni();
        TlsClient.Result result = client.handshakeRawSni(server.port(), name);
        assertEquals(fp(defaultCert), fp(result));
        assertEquals(invalidBefore + 1, factory.getStatistics().getInvalidSni());
        assertEquals(pgBefore, factory.getStatistics().getPostgresQueries());
    }

    @Test
    void plainSqlChanges_areServedWithinOneSecond() throws Exception
    {
        String host = "feed.example.com";
        IssuedCertificate first = pki.ec(host);
        store.put(host, first);
        assertEquals(fp(first), fp(client.handshake(server.port(), host)));

        // UPDATE by plain SQL
        IssuedCertificate second = pki.ec(host);
        Instant updated = Instant.now();
        store.execute("UPDATE " + store.schema + ".certificate SET chain_pem = ?, key_pem = ? WHERE host = ?", second.chainPem(), second.traditionalKeyPem(), host);
        assertServedWithin(host, fp(second), updated, Duration.ofSeconds(1));

        // DELETE: the host falls to the default certificate
        Instant deleted = Instant.now();
        store.execute("DELETE FROM " + store.schema + ".certificate WHERE host = ?", host);
        assertServedWithin(host, fp(defaultCert), deleted, Duration.ofSeconds(1));

        // INSERT after the host was negatively cached
        IssuedCertificate third = pki.ec(host);
        Instant inserted = Instant.now();
        store.put(host, third);
        assertServedWithin(host, fp(third), inserted, Duration.ofSeconds(1));
    }

    private void assertServedWithin(String host, String fingerprint, Instant since, Duration limit) throws InterruptedException
    {
        String last = null;
        while (Duration.between(since, Instant.now()).compareTo(limit) < 0)
        {
            TlsClient.Result result = client.handshake(server.port(), host);
            last = result.ok() ? Pem.fingerprint(result.leaf()) : String.valueOf(result.failure());
            if (fingerprint.equals(last))
                return;
            Thread.sleep(20);
        }
        throw new AssertionError("not served within " + limit + ": last=" + last);
    }

    @Test
    void concurrentColdHandshakes_loadEachHostOnce() throws Exception
    {
        int hosts = 200;
        List<IssuedCertificate> issued = new ArrayList<>();
        for (int i = 0; i < hosts; i++)
        {
            IssuedCertificate cert = pki.ec("cold" + i + ".example.net");
            issued.add(cert);
            store.put("cold" + i + ".example.net", cert);
        }
        long loadsBefore = factory.getStatistics().getLoads();
        ExecutorService pool = Executors.newFixedThreadPool(64);
        try
        {
            List<Callable<Boolean>> tasks = new ArrayList<>();
            for (int round = 0; round < 2; round++)
            {
                for (int i = 0; i < hosts; i++)
                {
                    int n = i;
                    tasks.add(() ->
                    {
                        TlsClient.Result result = client.handshake(server.port(), "cold" + n + ".example.net");
                        if (!result.ok() || !fp(issued.get(n)).equals(Pem.fingerprint(result.leaf())))
                            throw new AssertionError("cold" + n + ": " + (result.ok() ? result.cn() : result.failure()) + " " + factory.getStatistics());
                        return true;
                    });
                }
            }
            for (Future<Boolean> done : pool.invokeAll(tasks, 2, TimeUnit.MINUTES))
            {
                assertTrue(done.get());
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        assertEquals(hosts, factory.getStatistics().getLoads() - loadsBefore, "one store load per host");
    }

    @Test
    void badRows_breakOnlyTheirOwnHost() throws Exception
    {
        IssuedCertificate good = pki.ec("good.example.com");
        store.put("good.example.com", good);
        IssuedCertificate other = pki.ec("other.example.com");
        long invalidBefore = factory.getStatistics().getInvalidCredentials();
        store.put("corrupt.example.com", "EC", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", good.pkcs8KeyPem());
        store.put("mismatch.example.com", "EC", other.chainPem(), good.pkcs8KeyPem());
        IssuedCertificate expired = pki.issue(false, Instant.now().minus(Duration.ofDays(30)), Instant.now().minus(Duration.ofDays(1)), "expired.example.com");
        store.put("expired.example.com", expired);
        IssuedCertificate future = pki.issue(false, Instant.now().plus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)), "future.example.com");
        store.put("future.example.com", future);
        store.put("wrongtype.example.com", "RSA", other.chainPem(), other.pkcs8KeyPem());

        for (String bad : List.of("corrupt.example.com", "mismatch.example.com", "expired.example.com", "future.example.com", "wrongtype.example.com"))
        {
            assertEquals(fp(defaultCert), fp(client.handshake(server.port(), bad)), bad);
            assertEquals(fp(good), fp(client.handshake(server.port(), "good.example.com")));
        }
        assertEquals(5, factory.getStatistics().getInvalidCredentials() - invalidBefore);
        // nothing in the store was changed by reading it
        assertEquals(1, countRows("corrupt.example.com"));
    }

    private int countRows(String host) throws Exception
    {
        try (var connection = dev.dynsni.testing.TestServices.connect();
             var statement = connection.prepareStatement("SELECT count(*) FROM " + store.schema + ".certificate WHERE host = ?"))
        {
            statement.setString(1, host);
            try (var rs = statement.executeQuery())
            {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    @Test
    void reversedChainAndKeyForms_areAccepted() throws Exception
    {
        IssuedCertificate rsa = pki.rsa("pkcs1.example.com");
        store.put("pkcs1.example.com", "RSA", rsa.reversedChainPem(), rsa.traditionalKeyPem());
        TlsClient.Result result = client.protocols("TLSv1.2").cipherSuites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").handshake(server.port(), "pkcs1.example.com");
        assertEquals(fp(rsa), fp(result));

        IssuedCertificate ec = pki.ec("sec1.example.com");
        store.put("sec1.example.com", "EC", ec.reversedChainPem(), ec.traditionalKeyPem());
        assertEquals(fp(ec), fp(client.handshake(server.port(), "sec1.example.com")));
    }

    @Test
    void http2AndHttp11Requests_reachTheTenant() throws Exception
    {
        IssuedCertificate cert = pki.ec("h2.example.com");
        store.put("h2.example.com", cert);
        for (boolean h2 : new boolean[]{true, false})
        {
            HttpClients.Versions versions = h2 ? HttpClients.Versions.HTTP_2 : HttpClients.Versions.HTTP_1_1;
            // every tenant name resolves to the test server
            try (HttpClients.Jetty httpClient = new HttpClients.Jetty(TlsClient.trustStore(pki.caCertificate()), versions))
            {
                ContentResponse response = httpClient.client().newRequest("https://h2.example.com:" + server.port() + "/")
                    .timeout(10, TimeUnit.SECONDS)
                    .send();
                assertEquals(200, response.getStatus(), response.getContentAsString());
                assertEquals("host=h2.example.com protocol=" + (h2 ? "HTTP/2.0" : "HTTP/1.1"), response.getContentAsString());
            }
        }
    }
}
