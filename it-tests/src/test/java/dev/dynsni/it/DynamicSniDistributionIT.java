package dev.dynsni.it;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.HttpClients;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.http.HttpVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One Jetty node from the real distribution: a base made with
 * {@code --add-modules=dynamic-sni,https,http2,ee10-deploy}, the demo WAR as ROOT, PostgreSQL and
 * Redis for tests (own schema and key prefix), 20 tenants inserted with plain SQL after the start.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DynamicSniDistributionIT
{
    private static final int TENANTS = 20;
    private final String schema = TestServices.newSchema();
    private Path base;
    private Path caFile;
    private Tenants tenants;
    private JettyDistribution.JettyProcess jetty;

    @BeforeAll
    void start() throws Exception
    {
        String jdbcUrl = TestServices.jdbcUrl();
        String redisUrl = TestServices.redisUrl();
        base = JettyDistribution.newBase("main", "--add-modules=dynamic-sni,https,http2,ee10-deploy");
        JettyDistribution.deployDemoWar(base);
        JettyDistribution.appendProperties(base.resolve("start.d/dynamic-sni.ini"), Map.of(
            "jetty.dynamicSni.jdbc.url", jdbcUrl,
            "jetty.dynamicSni.jdbc.schema", schema,
            "jetty.dynamicSni.redis.address", redisUrl,
            "jetty.dynamicSni.redis.keyPrefix", TestServices.newKeyPrefix()));
        jetty = JettyDistribution.JettyProcess.start(base);
        tenants = new Tenants(jdbcUrl, schema);
        for (int i = 1; i <= TENANTS; i++)
        {
            tenants.putEc(Tenants.host(i));
        }
        caFile = tenants.caFile(base);
    }

    @AfterAll
    void stop() throws Exception
    {
        if (jetty != null)
            jetty.close();
        if (tenants != null)
            tenants.dropSchema();
    }

    @Test
    @Order(1)
    void jettyHttpClient_twentyTenants_eachGetsItsOwnLeafAndPageOverH2() throws Exception
    {
        try (HttpClients.Jetty client = new HttpClients.Jetty(tenants.trustStore()))
        {
            for (int i = 1; i <= TENANTS; i++)
            {
                String host = Tenants.host(i);
                ContentResponse response = client.client().newRequest("https://" + host + ":" + jetty.port() + "/info.json").timeout(20, TimeUnit.SECONDS).send();
                assertEquals(200, response.getStatus(), () -> host + ": " + response.getContentAsString());
                assertEquals(HttpVersion.HTTP_2, response.getVersion(), host);

                X509Certificate expected = tenants.issued(host).certificate();
                X509Certificate received = client.peerLeaf(host);
                assertNotNull(received, "no handshake recorded for " + host);
                assertEquals(Tenants.sha256(expected), Tenants.sha256(received), host + ": leaf certificate received");

                String body = response.getContentAsString();
                assertEquals("t" + i, HttpClients.json(body, "tenant"), body);
                assertEquals(host, HttpClients.json(body, "host"), body);
                assertEquals("h2", HttpClients.json(body, "alpn"), body);
                assertEquals(Tenants.sha256(expected), HttpClients.json(body, "sha256"), "certificate the page saw on its connection");
                assertEquals("EC P-256", HttpClients.json(body, "keyType"), body);
                assertTrue(body.contains("\"org.redisson.Redisson\":false") && body.contains("\"io.netty.channel.Channel\":false")
                    && body.contains("\"dev.dynsni.DynamicSniSslContextFactory\":false"), () -> "the WAR can see the module's classes: " + body);
            }
        }
    }

    @Test
    @Order(2)
    void curlHttp2_tenantPages() throws Exception
    {
        JettyDistribution.requireTool("curl");
        for (int i : new int[]{1, 7, 13, 20})
        {
            String host = Tenants.host(i);
            HttpClients.Output out = HttpClients.run(HttpClients.curl(caFile.toString(), host, jetty.port(), "/?format=json", "--http2", "-w", "\nhttp_version=%{http_version}"));
            assertEquals(0, out.exitCode(), out.stdout());
            assertEquals("t" + i, HttpClients.json(out.stdout(), "tenant"), out.stdout());
            assertEquals(Tenants.sha256(tenants.issued(host).certificate()), HttpClients.json(out.stdout(), "sha256"), out.stdout());
            assertTrue(out.stdout().contains("http_version=2"), out.stdout());
        }
    }

    @Test
    @Order(3)
    void curlHtml_tenantPage() throws Exception
    {
        JettyDistribution.requireTool("curl");
        HttpClients.Output out = HttpClients.run(HttpClients.curl(caFile.toString(), Tenants.host(4), jetty.port(), "/", "--http1.1"));
        assertEquals(0, out.exitCode(), out.stdout());
        assertTrue(out.stdout().contains("<h1>Tenant t4 <small>t4.demo.test</small></h1>"), out.stdout());
        assertTrue(out.stdout().contains("http/1.1"), out.stdout());
    }

    @Test
    @Order(4)
    void opensslSClient_verifiesChainAndNegotiatesH2() throws Exception
    {
        JettyDistribution.requireTool("openssl");
        for (int i : new int[]{3, 17})
        {
            String host = Tenants.host(i);
            HttpClients.Output out = HttpClients.run(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + jetty.port(), "-servername", host,
                "-CAfile", caFile.toString(), "-alpn", "h2", "-verify_return_error", "-verify_hostname", host));
            assertEquals(0, out.exitCode(), out.stdout());
            assertTrue(out.stdout().contains("Verify return code: 0 (ok)"), out.stdout());
            assertTrue(out.stdout().contains("ALPN protocol: h2"), out.stdout());
            assertTrue(out.stdout().replace(" = ", "=").contains("subject=CN=" + host), out.stdout());
        }
    }

    @Test
    @Order(5)
    void misdirectedRequest_sniT1HostT2_gets421() throws Exception
    {
        JettyDistribution.requireTool("curl");
        for (String version : new String[]{"--http2", "--http1.1"})
        {
            HttpClients.Output out = HttpClients.run(HttpClients.curl(caFile.toString(), Tenants.host(1), jetty.port(), "/", version,
                "-H", "Host: " + Tenants.host(2), "-o", "/dev/null", "-w", "%{http_code} %{http_version}"));
            assertEquals(0, out.exitCode(), out.stdout());
            assertTrue(out.stdout().startsWith("421 "), version + ": " + out.stdout());
        }
    }

    @Test
    @Order(6)
    void unknownHost_handshakeFails_noDefaultCertificate() throws Exception
    {
        try
        {
            X509Certificate leaf = handshakeLeaf("nobody.demo.test");
            fail("a host without a certificate was served " + leaf.getSubjectX500Principal());
        }
        catch (javax.net.ssl.SSLException expected)
        {
            // no default certificate configured: the handshake fails
        }
    }

    @Test
    @Order(7)
    void insertWhileRunning_newHostServedWithinOneSecond() throws Exception
    {
        String host = Tenants.host(TENANTS + 1);
        try
        {
            handshakeLeaf(host);
            fail(host + " served before it was inserted");
        }
        catch (javax.net.ssl.SSLException expected)
        {
            // unknown now, and remembered as unknown by the node
        }
        IssuedCertificate inserted = tenants.putEc(host);
        long elapsed = awaitServed(host, inserted.certificate());
        System.out.printf("insert while running: %s served %d ms after the INSERT%n", host, elapsed);
        assertTrue(elapsed <= 1000, host + " was served " + elapsed + " ms after the insert");
    }

    @Test
    @Order(8)
    void replaceWhileRunning_newCertificateServedWithinOneSecond() throws Exception
    {
        String host = Tenants.host(5);
        assertEquals(Tenants.sha256(tenants.issued(host).certificate()), Tenants.sha256(handshakeLeaf(host)), "before the replacement");
        IssuedCertificate replacement = tenants.putEc(host);
        long elapsed = awaitServed(host, replacement.certificate());
        System.out.printf("replace while running: %s served its new certificate %d ms after the UPDATE%n", host, elapsed);
        assertTrue(elapsed <= 1000, host + " served its new certificate " + elapsed + " ms after the update");
    }

    @Test
    @Order(100)
    void stop_sigterm_stopsCleanly() throws Exception
    {
        jetty.stopCleanly();
    }

    /**
     * Polls full handshakes (no session resumption) until the host is served
     * the expected certificate.
     *
     * @return milliseconds from the call to the end of the first handshake that got it
     */
    private long awaitServed(String host, X509Certificate expected) throws Exception
    {
        long start = System.nanoTime();
        String want = Tenants.sha256(expected);
        while (true)
        {
            try
            {
                if (want.equals(Tenants.sha256(handshakeLeaf(host))))
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            }
            catch (javax.net.ssl.SSLException | java.net.SocketException notYet)
            {
                // keep polling
            }
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (elapsed > 5000)
                fail(host + " not served its new certificate within 5 s");
            Thread.sleep(20);
        }
    }

    private X509Certificate handshakeLeaf(String host) throws Exception
    {
        TlsClient client = TlsClient.trusting(tenants.trustStore()).verifyingHostName().applicationProtocols().timeoutMillis(5000);
        return client.leaf(new InetSocketAddress("127.0.0.1", jetty.port()), host);
    }
}
