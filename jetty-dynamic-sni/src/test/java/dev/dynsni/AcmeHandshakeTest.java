package dev.dynsni;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.dynsni.core.acme.OnDemandIssuance;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.InMemoryCertificateStore;
import dev.dynsni.core.CertificateRecord;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.jmx.MBeanContainer;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The serving side of ACME on real TLS handshakes (JDK clients) against an embedded Jetty: the
 * tls-alpn-01 answer of the prefetch on JSSE and Conscrypt, the separation of validation and tenant
 * connections, on-demand issuance with and without the prefetch, the http-01 handler, and the
 * refusal of tls-alpn-01 without the prefetch. The ACME service is {@link InMemoryAcme}; the real
 * one against Pebble is tested in it-tests.
 */
class AcmeHandshakeTest
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni acme test CA");
    private static final String ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31";
    private final InMemoryCertificateStore store = new InMemoryCertificateStore();
    private final InMemoryAcme acme = new InMemoryAcme(store, PKI);
    private final TlsClient tenantClient = TlsClient.trusting(PKI.caCertificate());
    private final TlsClient validator = TlsClient.trustingAnyCertificate().applicationProtocols("acme-tls/1");
    private AutoCloseable server;

    @AfterEach
    void stop() throws Exception
    {
        if (server != null)
            server.close();
    }

    private DynamicSniSslContextFactory factory(String policy, long waitMillis)
    {
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setCertificateStore(store);
        factory.setUnknownHostPolicy(policy);
        factory.setAcmeChallenges(acme);
        factory.setOnDemandIssuance(acme);
        factory.setAcmeWaitMillis(waitMillis);
        return factory;
    }

    private int start(DynamicSniSslContextFactory factory, boolean prefetch) throws Exception
    {
        PrefetchTestServer s = new PrefetchTestServer(factory, prefetch, false, 16, null);
        server = s;
        return s.port();
    }

    private void put(String host, IssuedCertificate certificate)
    {
        store.put(new CertificateRecord(host, certificate.keyType(), certificate.chainPem(), certificate.pkcs8KeyPem(), CertificateRecord.PLAIN, 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"JSSE", "Conscrypt"})
    void tlsAlpn01_pendingChallenge_answeredWithTheChallengeCertificate_tenantsUnaffected(String engine) throws Exception
    {
        DynamicSniSslContextFactory factory = factory("reject", 0);
        if ("Conscrypt".equals(engine))
            factory.setProvider("Conscrypt");
        IssuedCertificate tenant = PKI.ec("shop.acme.test");
        put("shop.acme.test", tenant);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest("token.thumbprint".getBytes());
        acme.tlsAlpn01.put("shop.acme.test", digest);
        int port = start(factory, true);
        assertTrue(factory.getEngine().startsWith(engine), factory.getEngine());

        for (String protocol : List.of("TLSv1.3", "TLSv1.2"))
        {
            TlsClient.Result validation = validator.protocols(protocol).handshake(port, "shop.acme.test");
            assertTrue(validation.ok(), String.valueOf(validation.failure()));
            assertEquals("acme-tls/1", validation.alpn());
            assertChallengeCertificate(validation.leaf(), "shop.acme.test", digest);
        }
        // A tenant connection for the same name, at the same time, gets the tenant's certificate.
        TlsClient.Result tenantResult = tenantClient.applicationProtocols("h2", "http/1.1").handshake(port, "shop.acme.test");
        assertEquals(tenant.fingerprint(), fingerprint(tenantResult.leaf()), String.valueOf(tenantResult.failure()));
        assertEquals(2, factory.getAcmeStatistics().getTlsAlpn01Answered());
    }

    @Test
    void tlsAlpn01_noChallengePending_refused_neverATenantCertificate() throws Exception
    {
        DynamicSniSslContextFactory factory = factory("default", 0);
        put("tenant.acme.test", PKI.ec("tenant.acme.test"));
        int port = start(factory, true);

        TlsClient.Result tenantName = validator.handshake(port, "tenant.acme.test");
        assertFalse(tenantName.ok());
        assertNull(tenantName.leaf());
        TlsClient.Result unknownName = validator.handshake(port, "nobody.acme.test");
        assertFalse(unknownName.ok());
        assertEquals(2, factory.getAcmeStatistics().getTlsAlpn01Refused());
        assertEquals(0, acme.requests.get(), "a validation never asks for issuance");
    }

    @Test
    void onDemand_withPrefetch_firstConnectionWaitsAndIsServedTheIssuedCertificate() throws Exception
    {
        acme.delayMillis = 300;
        DynamicSniSslContextFactory factory = factory("reject", 5000);
        int port = start(factory, true);
        // warm the negative entry first: the issuance must get past it
        acme.policy = host -> OnDemandIssuance.Result.DEFERRED;
        assertFalse(tenantClient.handshake(port, "new.acme.test").ok());
        acme.policy = host -> OnDemandIssuance.Result.ISSUED;

        TlsClient.Result first = tenantClient.handshake(port, "new.acme.test");
        assertTrue(first.ok(), String.valueOf(first.failure()));
        assertEquals(acme.issued.get("new.acme.test").fingerprint(), fingerprint(first.leaf()));
        assertEquals(2, acme.requests.get());
        assertEquals(1, factory.getAcmeStatistics().getServedAfterIssuance());
        // the next connection is an ordinary hit: no request
        assertTrue(tenantClient.handshake(port, "new.acme.test").ok());
        assertEquals(2, acme.requests.get());
    }

    @Test
    void onDemand_deniedOrTooSlow_getsTheUnknownHostPolicy_slowOneServedLater() throws Exception
    {
        DynamicSniSslContextFactory factory = factory("reject", 200);
        int port = start(factory, true);
        acme.policy = host -> host.startsWith("denied") ? OnDemandIssuance.Result.DENIED : OnDemandIssuance.Result.ISSUED;
        assertFalse(tenantClient.handshake(port, "denied.acme.test").ok());
        assertEquals(1, factory.getAcmeStatistics().getDenied());

        acme.delayMillis = 1000;
        assertFalse(tenantClient.handshake(port, "slow.acme.test").ok());
        assertEquals(1, factory.getAcmeStatistics().getWaitsExpired());
        Thread.sleep(1500);
        TlsClient.Result later = tenantClient.handshake(port, "slow.acme.test");
        assertEquals(acme.issued.get("slow.acme.test").fingerprint(), fingerprint(later.leaf()), String.valueOf(later.failure()));
    }

    @Test
    void onDemand_waitBoundedByWhatIsLeftOfTheHandshakeDeadline() throws Exception
    {
        acme.delayMillis = 1800;
        DynamicSniSslContextFactory factory = factory("reject", 8000);
        PrefetchTestServer s = new PrefetchTestServer(factory, true, false, 16, prefetching -> prefetching.setHandshakeTimeoutMillis(2000));
        server = s;
        TlsClient.Result first = tenantClient.handshake(s.port(), "deadline.acme.test");
        // The certificate comes after 1.8 s, within acme.waitMillis (8 s) but not within 2000 - 1000 ms
        // (the deadline less what is kept for the handshake): the policy answers (an alert), not the
        // deadline (a close), and not the certificate.
        assertFalse(first.ok());
        assertTrue(String.valueOf(first.failure()).contains("unrecognized_name"), String.valueOf(first.failure()));
        assertEquals(1, factory.getAcmeStatistics().getWaitsExpired());
        Thread.sleep(1200);
        assertEquals(acme.issued.get("deadline.acme.test").fingerprint(), fingerprint(tenantClient.handshake(s.port(), "deadline.acme.test").leaf()));
    }

    @Test
    void onDemand_withoutPrefetch_keyManagerAsksAndAnswersByPolicy() throws Exception
    {
        DynamicSniSslContextFactory factory = factory("reject", 5000);
        factory.setAcmeChallengeType("http-01");
        int port = start(factory, false);
        assertFalse(tenantClient.handshake(port, "plain.acme.test").ok());
        assertEquals(1, acme.requests.get());
        Thread.sleep(200);
        TlsClient.Result next = tenantClient.handshake(port, "plain.acme.test");
        assertEquals(acme.issued.get("plain.acme.test").fingerprint(), fingerprint(next.leaf()), String.valueOf(next.failure()));
    }

    @Test
    void http01_answersPendingTokens_404Otherwise_otherPathsPassThrough() throws Exception
    {
        DynamicSniSslContextFactory factory = factory("reject", 0);
        factory.setAcmeChallengeType("http-01");
        Server jetty = new Server();
        ServerConnector http = new ServerConnector(jetty);
        http.setHost("127.0.0.1");
        jetty.addConnector(http);
        jetty.addBean(factory);
        AcmeChallengeHandler challenges = new AcmeChallengeHandler(factory);
        challenges.setHandler(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, "application", callback);
                return true;
            }
        });
        jetty.setHandler(challenges);
        jetty.start();
        server = jetty::stop;
        acme.http01.put("tok_EN-1", "tok_EN-1.thumbprint");
        HttpClient client = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + http.getLocalPort();

        HttpResponse<String> answer = client.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/acme-challenge/tok_EN-1")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode());
        assertEquals("tok_EN-1.thumbprint", answer.body());
        assertTrue(answer.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
        assertEquals(404, client.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/acme-challenge/unknown")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(404, client.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/acme-challenge/not.a.token")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals("application", client.send(HttpRequest.newBuilder(URI.create(base + "/index.html")).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertEquals(1, factory.getAcmeStatistics().getHttp01Answered());
    }

    @Test
    void tlsAlpn01_withPrefetchOff_refusesToStart() throws Exception
    {
        DynamicSniSslContextFactory factory = factory("reject", 0);
        Server jetty = new Server();
        ServerConnector http = new ServerConnector(jetty);
        jetty.addConnector(http);
        jetty.addBean(factory);
        PrefetchInstaller installer = new PrefetchInstaller(jetty, factory);
        installer.setEnabled(false);
        jetty.addBean(installer);
        try
        {
            Exception failure = assertThrows(Exception.class, jetty::start);
            assertTrue(String.valueOf(failure.getMessage()).contains("jetty.dynamicSni.acme.challengeType=tls-alpn-01 needs jetty.dynamicSni.prefetch=true"), failure.getMessage());
        }
        finally
        {
            jetty.stop();
        }
    }

    @Test
    void statistics_areExposedOverJmx_whileAcmeIsOn() throws Exception
    {
        DynamicSniSslContextFactory factory = factory("reject", 0);
        acme.http01.put("jmx-token", "jmx-token.thumbprint");
        MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        Server jetty = new Server();
        jetty.addBean(new MBeanContainer(mbeans));
        jetty.addBean(factory);
        jetty.start();
        server = jetty::stop;
        factory.getResolver().http01("jmx-token").get();
        Set<ObjectName> names = mbeans.queryNames(new ObjectName("dev.dynsni:type=acmehandshakestatistics,*"), null);
        assertEquals(1, names.size(), String.valueOf(mbeans.queryNames(new ObjectName("dev.dynsni:*"), null)));
        ObjectName stats = names.iterator().next();
        assertEquals(1L, mbeans.getAttribute(stats, "http01Answered"));
        assertEquals(0L, mbeans.getAttribute(stats, "ordersStarted"), "no ACME service of the factory's own: the service counters read 0");
    }

    private static void assertChallengeCertificate(X509Certificate leaf, String host, byte[] digest) throws Exception
    {
        assertTrue(leaf.getCriticalExtensionOIDs().contains(ACME_IDENTIFIER_OID), "acmeIdentifier must be critical");
        byte[] extension = leaf.getExtensionValue(ACME_IDENTIFIER_OID);
        // OCTET STRING (extnValue) wrapping the DER OCTET STRING of the digest
        assertArrayEquals(digest, Arrays.copyOfRange(extension, extension.length - 32, extension.length));
        assertEquals(List.of(List.of(2, host)), leaf.getSubjectAlternativeNames().stream().map(List::copyOf).toList());
        assertNotEquals(PKI.caCertificate().getSubjectX500Principal(), leaf.getIssuerX500Principal());
    }

    private static String fingerprint(X509Certificate certificate)
    {
        return certificate == null ? null : dev.dynsni.core.Pem.fingerprint(certificate);
    }
}
