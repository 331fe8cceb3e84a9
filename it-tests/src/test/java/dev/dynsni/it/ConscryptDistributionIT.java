package dev.dynsni.it;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.HttpClients;
import dev.dynsni.testing.OpenSslClient;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The module on Conscrypt from the real distribution: one Jetty node made with
 * {@code --add-modules=dynamic-sni-conscrypt,https,http2,ee10-deploy,jmx,jmx-remote} (nothing
 * downloaded: the Conscrypt jar ships in the overlay), the demo WAR, PostgreSQL and Redis (own schema
 * and key prefix), a master key (every private key stored encrypted), a default certificate under the
 * default unknown-host policy, the prefetch on (the default). Real clients: the JDK's, Jetty's
 * HttpClient, curl and {@code openssl s_client}. A last test starts a second, short-lived node where
 * Conscrypt's native library cannot load, which must come up on JSSE.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConscryptDistributionIT
{
    private static final String MODULES = "--add-modules=dynamic-sni-conscrypt,https,http2,ee10-deploy,jmx,jmx-remote";
    private final String schema = TestServices.newSchema();
    private MasterKeys masterKeys;
    private Path base;
    private Path caFile;
    private Tenants tenants;
    private IssuedCertificate defaultCert;
    private JettyDistribution.JettyProcess jetty;
    private JMXConnector jmx;
    private TlsClient tls;

    @BeforeAll
    void start() throws Exception
    {
        base = JettyDistribution.newBase("conscrypt", MODULES);
        JettyDistribution.deployDemoWar(base);
        tenants = new Tenants(TestServices.jdbcUrl(), schema);
        Files.createDirectories(base.resolve("etc"));
        String key = MasterKeys.generate();
        Path keyFile = base.resolve("etc/master.key");
        Files.writeString(keyFile, key, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        masterKeys = MasterKeys.of(java.util.Base64.getDecoder().decode(key));
        defaultCert = tenants.pki().ec("default.example.com");
        Files.writeString(base.resolve("etc/default.crt"), defaultCert.chainPem(), StandardCharsets.US_ASCII);
        Files.writeString(base.resolve("etc/default.key"), defaultCert.pkcs8KeyPem(), StandardCharsets.US_ASCII);
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("jetty.dynamicSni.jdbc.url", TestServices.jdbcUrl());
        properties.put("jetty.dynamicSni.jdbc.schema", schema);
        properties.put("jetty.dynamicSni.redis.address", TestServices.redisUrl());
        properties.put("jetty.dynamicSni.redis.keyPrefix", TestServices.newKeyPrefix());
        properties.put("jetty.dynamicSni.masterKeyFile", "etc/master.key");
        properties.put("jetty.dynamicSni.default.certificate", "etc/default.crt");
        properties.put("jetty.dynamicSni.default.key", "etc/default.key");
        JettyDistribution.appendProperties(base.resolve("start.d/dynamic-sni.ini"), properties);
        int registry = FreePorts.next();
        int rmi = FreePorts.next();
        JettyDistribution.appendProperties(base.resolve("start.d/jmx-remote.ini"), Map.of(
            "jetty.jmxremote.rmiregistryhost", "127.0.0.1",
            "jetty.jmxremote.rmiregistryport", String.valueOf(registry),
            "jetty.jmxremote.rmiserverhost", "127.0.0.1",
            "jetty.jmxremote.rmiserverport", String.valueOf(rmi)));
        jetty = JettyDistribution.JettyProcess.start(base);
        for (int i = 1; i <= 4; i++)
        {
            tenants.putEncrypted(Tenants.host(i), tenants.pki().ec(Tenants.host(i)), masterKeys);
        }
        tenants.putEncrypted("rsa.demo.test", tenants.pki().rsa("rsa.demo.test"), masterKeys);
        tenants.putEncrypted("*.wild.demo.test", tenants.pki().ec("*.wild.demo.test"), masterKeys);
        caFile = tenants.caFile(base);
        jmx = JMXConnectorFactory.connect(new JMXServiceURL("service:jmx:rmi://127.0.0.1:" + rmi + "/jndi/rmi://127.0.0.1:" + registry + "/jmxrmi"));
        tls = TlsClient.trusting(tenants.trustStore()).verifyingHostName().timeoutMillis(10_000);
    }

    @AfterAll
    void stop() throws Exception
    {
        if (jmx != null)
        {
            try
            {
                jmx.close();
            }
            catch (java.io.IOException stoppedAlready)
            {
                // the node is gone: nothing to close
            }
        }
        if (jetty != null)
            jetty.close();
        if (tenants != null)
            tenants.dropSchema();
    }

    @Test
    @Order(1)
    void addModules_downloadsNothing_andTheNodeRunsOnConscrypt() throws Exception
    {
        assertTrue(Files.isRegularFile(JettyDistribution.HOME.resolve("lib/dynamic-sni-conscrypt/conscrypt-openjdk-uber-2.6.0.jar")));
        assertTrue(Files.isRegularFile(JettyDistribution.HOME.resolve("lib/dynamic-sni-conscrypt/LICENSE-conscrypt.txt")));
        assertFalse(Files.exists(base.resolve("lib/conscrypt")), "nothing was downloaded into the base");
        String engine = String.valueOf(mbeans().getAttribute(factoryName(), "engine"));
        assertTrue(engine.startsWith("Conscrypt"), engine);
        assertTrue(jetty.log().contains("Dynamic SNI ready engine=Conscrypt"), jetty.log());
    }

    @Test
    @Order(2)
    void jettyHttpClient_h2_encryptedKeys_eachTenantItsLeafAndPage() throws Exception
    {
        try (HttpClients.Jetty client = new HttpClients.Jetty(tenants.trustStore()))
        {
            for (int i = 1; i <= 4; i++)
            {
                String host = Tenants.host(i);
                ContentResponse response = client.client().newRequest("https://" + host + ":" + jetty.port() + "/info.json").timeout(20, TimeUnit.SECONDS).send();
                assertEquals(200, response.getStatus(), () -> host + ": " + response.getContentAsString());
                assertEquals(HttpVersion.HTTP_2, response.getVersion(), host);
                X509Certificate received = client.peerLeaf(host);
                assertNotNull(received, host);
                assertEquals(Tenants.sha256(tenants.issued(host).certificate()), Tenants.sha256(received), host);
                String body = response.getContentAsString();
                assertEquals("t" + i, HttpClients.json(body, "tenant"), body);
                assertEquals("h2", HttpClients.json(body, "alpn"), body);
            }
        }
    }

    @Test
    @Order(3)
    void curl_http11AndH2() throws Exception
    {
        JettyDistribution.requireTool("curl");
        for (String[] version : new String[][]{{"--http1.1", "1.1"}, {"--http2", "2"}})
        {
            HttpClients.Output out = HttpClients.run(HttpClients.curl(caFile.toString(), Tenants.host(2), jetty.port(), "/?format=json", version[0],
                "-w", "\nhttp_version=%{http_version}"));
            assertEquals(0, out.exitCode(), out.stdout());
            assertEquals("t2", HttpClients.json(out.stdout(), "tenant"), out.stdout());
            assertTrue(out.stdout().contains("http_version=" + version[1]), out.stdout());
        }
    }

    @Test
    @Order(4)
    void tls12AndTls13_ecAndRsaHosts() throws Exception
    {
        for (String protocol : new String[]{"TLSv1.2", "TLSv1.3"})
        {
            for (String host : new String[]{Tenants.host(3), "rsa.demo.test"})
            {
                TlsClient.Result result = tls.protocols(protocol).handshake(jetty.port(), host);
                assertTrue(result.ok(), protocol + " " + host + ": " + result.failure());
                assertEquals(protocol, result.protocol(), host);
                assertEquals(Tenants.sha256(tenants.issued(host).certificate()), Tenants.sha256(result.leaf()), protocol + " " + host);
            }
        }
    }

    /**
     * A host with an EC and an RSA certificate serves each client the type it can verify, on both
     * versions: Conscrypt asks before BoringSSL has read the client's signature algorithms, so this is
     * the prefetch's reading of the ClientHello reaching the key manager in the real distribution.
     */
    @Test
    @Order(5)
    void dualHost_ecOnlyClientGetsEc_rsaOnlyClientGetsRsa() throws Exception
    {
        JettyDistribution.requireTool("openssl");
        IssuedCertificate ec = tenants.putEncrypted("dual.demo.test", tenants.pki().ec("dual.demo.test"), masterKeys);
        IssuedCertificate rsa = tenants.putEncrypted("dual.demo.test", tenants.pki().rsa("dual.demo.test"), masterKeys);
        String[][] clients = {
            {"EC", "-tls1_2", "-sigalgs", "ECDSA+SHA256"},
            {"EC", "-tls1_3", "-sigalgs", "ECDSA+SHA256"},
            {"RSA", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"},
            {"RSA", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"},
        };
        for (String[] client : clients)
        {
            IssuedCertificate expected = client[0].equals("EC") ? ec : rsa;
            OpenSslClient.Result result = OpenSslClient.handshake(jetty.port(), "dual.demo.test", client[1], client[2], client[3], "-CAfile", caFile.toString(),
                "-verify_return_error", "-alpn", "h2");
            assertTrue(result.ok(), result.output());
            assertEquals(Tenants.sha256(expected.certificate()), Tenants.sha256(result.leaf()), String.join(" ", client) + "\n" + result.output());
            assertEquals("h2", result.alpn(), result.output());
        }
    }

    @Test
    @Order(6)
    void wildcard_coversOneLabel_deeperNamesGetTheDefault() throws Exception
    {
        X509Certificate wildcard = tenants.issued("*.wild.demo.test").certificate();
        assertEquals(Tenants.sha256(wildcard), Tenants.sha256(leaf("shop.wild.demo.test", true)));
        assertEquals(Tenants.sha256(defaultCert.certificate()), Tenants.sha256(leaf("a.b.wild.demo.test", false)));
    }

    @Test
    @Order(7)
    void unknownHostAndNoSni_getTheDefaultCertificate() throws Exception
    {
        assertEquals(Tenants.sha256(defaultCert.certificate()), Tenants.sha256(leaf("nobody.demo.test", false)));
        TlsClient.Result noSni = TlsClient.trusting(tenants.trustStore()).handshake(jetty.port(), null);
        assertTrue(noSni.ok(), String.valueOf(noSni.failure()));
        assertEquals(Tenants.sha256(defaultCert.certificate()), Tenants.sha256(noSni.leaf()));
    }

    @Test
    @Order(8)
    void misdirectedRequest_gets421() throws Exception
    {
        JettyDistribution.requireTool("curl");
        for (String version : new String[]{"--http2", "--http1.1"})
        {
            HttpClients.Output out = HttpClients.run(HttpClients.curl(caFile.toString(), Tenants.host(1), jetty.port(), "/", version,
                "-H", "Host: " + Tenants.host(2), "-o", "/dev/null", "-w", "%{http_code}"));
            assertEquals(0, out.exitCode(), out.stdout());
            assertEquals("421", out.stdout().trim(), version);
        }
    }

    @Test
    @Order(9)
    void removal_hostGetsTheDefaultWithinOneSecond() throws Exception
    {
        String host = Tenants.host(4);
        assertEquals(Tenants.sha256(tenants.issued(host).certificate()), Tenants.sha256(leaf(host, true)));
        tenants.delete(host);
        long start = System.nanoTime();
        String want = Tenants.sha256(defaultCert.certificate());
        while (!want.equals(Tenants.sha256(leaf(host, false))))
        {
            if (System.nanoTime() - start > TimeUnit.SECONDS.toNanos(5))
                fail(host + " still served its certificate 5 s after the DELETE");
            Thread.sleep(20);
        }
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("conscrypt: %s removed, default served %d ms after the DELETE%n", host, elapsed);
        assertTrue(elapsed <= 1000, host + " served its removed certificate for " + elapsed + " ms");
    }

    @Test
    @Order(10)
    void jmx_countsTheHandshakes_andThePrefetchResolvedThem() throws Exception
    {
        long dynamic = ((Number)statistic("dynamicsnistatistics", "servedDynamic")).longValue();
        long dflt = ((Number)statistic("dynamicsnistatistics", "servedDefault")).longValue();
        long hitsBefore = ((Number)statistic("prefetchstatistics", "hits")).longValue() + ((Number)statistic("prefetchstatistics", "misses")).longValue();
        for (int i = 0; i < 5; i++)
        {
            leaf(Tenants.host(1), true);
        }
        assertEquals(dynamic + 5, ((Number)statistic("dynamicsnistatistics", "servedDynamic")).longValue(), "one count per handshake");
        assertEquals(dflt, ((Number)statistic("dynamicsnistatistics", "servedDefault")).longValue());
        long hitsAfter = ((Number)statistic("prefetchstatistics", "hits")).longValue() + ((Number)statistic("prefetchstatistics", "misses")).longValue();
        assertEquals(hitsBefore + 5, hitsAfter, "the prefetch looked each handshake's host up");
        assertTrue(dflt > 0, "the default certificate was counted");
    }

    @Test
    @Order(100)
    void stop_sigterm_stopsCleanly() throws Exception
    {
        jetty.stopCleanly();
    }

    /**
     * Where Conscrypt's native library cannot load (here: a CPU it ships no library for, by
     * {@code os.arch}, which Conscrypt reads to name its library), the same base starts on JSSE, says
     * so in one warning, and serves with ALPN.
     */
    @Test
    @Order(101)
    void conscryptUnavailable_nodeStartsOnJsse_withOneWarning() throws Exception
    {
        try (JettyDistribution.JettyProcess fallback = JettyDistribution.JettyProcess.start(base, "-Dos.arch=sparcv9"))
        {
            String log = fallback.log();
            List<String> warnings = log.lines().filter(l -> l.contains("not Conscrypt")).toList();
            assertEquals(1, warnings.size(), log);
            assertTrue(warnings.get(0).contains("TLS runs on the JDK's engine (JSSE)") && warnings.get(0).contains("native library"), warnings.get(0));
            assertTrue(log.contains("Dynamic SNI ready engine=JSSE"), log);
            TlsClient.Result result = tls.applicationProtocols("h2", "http/1.1").handshake(fallback.port(), Tenants.host(1));
            assertTrue(result.ok(), String.valueOf(result.failure()));
            assertEquals(Tenants.sha256(tenants.issued(Tenants.host(1)).certificate()), Tenants.sha256(result.leaf()));
            assertEquals("h2", result.alpn());
            fallback.stopCleanly();
        }
    }

    private X509Certificate leaf(String host, boolean verifyHost) throws Exception
    {
        TlsClient client = verifyHost ? tls : TlsClient.trusting(tenants.trustStore()).timeoutMillis(10_000);
        return client.applicationProtocols().leaf(new InetSocketAddress("127.0.0.1", jetty.port()), host);
    }

    private MBeanServerConnection mbeans() throws Exception
    {
        return jmx.getMBeanServerConnection();
    }

    private ObjectName factoryName() throws Exception
    {
        return mbeans().queryNames(new ObjectName("dev.dynsni:type=dynamicsnisslcontextfactory,*"), null).iterator().next();
    }

    private Object statistic(String type, String attribute) throws Exception
    {
        Set<ObjectName> names = mbeans().queryNames(new ObjectName("dev.dynsni:type=" + type + ",*"), null);
        assertFalse(names.isEmpty(), "no MBean of type " + type);
        return mbeans().getAttribute(names.iterator().next(), attribute);
    }
}
