package dev.dynsni;

import java.security.cert.X509Certificate;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.Credential;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.InMemoryCertificateStore;
import dev.dynsni.testing.OpenSslClient;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The key manager and the prefetch on Conscrypt ({@code provider=Conscrypt}), which asks the key
 * manager once per key type of the enabled TLS 1.2 suites and keeps the last non-null answer, with
 * the engine it wraps rather than Jetty's. Real clients: the JDK's and {@code openssl s_client}
 * offering only the signature algorithms, or TLS 1.2 cipher suites, of one key type. The in-memory store: what is under test is
 * the handshake path.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConscryptHandshakeTest
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni conscrypt test CA");
    private final InMemoryCertificateStore store = new InMemoryCertificateStore();
    private DynamicSniSslContextFactory factory;
    private PrefetchTestServer server;
    private final TlsClient client = TlsClient.trusting(PKI.caCertificate());

    @BeforeAll
    void start() throws Exception
    {
        factory = new DynamicSniSslContextFactory();
        factory.setCertificateStore(store);
        factory.setProvider("Conscrypt");
        server = new PrefetchTestServer(factory, true, false, 16, null);
        assertTrue(factory.getEngine().startsWith("Conscrypt"), factory.getEngine());
    }

    @AfterAll
    void stop() throws Exception
    {
        if (server != null)
            server.close();
    }

    private void put(String name, IssuedCertificate issued)
    {
        store.put(new CertificateRecord(name, issued.keyType(), issued.chainPem(), issued.pkcs8KeyPem(), CertificateRecord.PLAIN, 0));
    }

    /**
     * Conscrypt asks the key manager before BoringSSL has read the client's signature algorithms: the
     * pick follows what the prefetch read from the ClientHello (signature algorithms, and for TLS 1.2
     * the cipher suites), for the version the handshake speaks.
     */
    @Test
    void dualHost_eachClientGetsTheKeyTypeItCanVerify_onTls12AndTls13() throws Exception
    {
        String host = "dual.conscrypt.test";
        IssuedCertificate ec = PKI.ec(host);
        IssuedCertificate rsa = PKI.rsa(host);
        put(host, ec);
        put(host, rsa);

        TlsClient.Result jdk13 = client.protocols("TLSv1.3").handshake(server.port(), host);
        assertEquals(ec.fingerprint(), fp(jdk13.leaf()), String.valueOf(jdk13.failure()));
        TlsClient.Result jdk12 = client.protocols("TLSv1.2").handshake(server.port(), host);
        assertEquals(ec.fingerprint(), fp(jdk12.leaf()), String.valueOf(jdk12.failure()));

        // clients that verify only ECDSA
        assertServed(host, ec, "TLSv1.3", "-tls1_3", "-sigalgs", "ECDSA+SHA256");
        assertServed(host, ec, "TLSv1.2", "-tls1_2", "-sigalgs", "ECDSA+SHA256");
        assertServed(host, ec, "TLSv1.2", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
        // clients that verify only RSA
        assertServed(host, rsa, "TLSv1.3", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256");
        assertServed(host, rsa, "TLSv1.2", "-tls1_2", "-sigalgs", "RSA+SHA256");
        assertServed(host, rsa, "TLSv1.2", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
        // TLS 1.2 and 1.3 offered, RSA-only TLS 1.2 suites: TLS 1.3 is spoken, where EC can be verified
        assertServed(host, ec, "TLSv1.3", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
        // either protocol, only RSA signatures: RSA whichever is spoken
        assertServed(host, rsa, "TLSv1.3", "-sigalgs", "rsa_pss_rsae_sha256:RSA+SHA256");
    }

    @Test
    void singleKeyTypeHosts_serveClientsThatCanVerifyThem() throws Exception
    {
        IssuedCertificate rsaOnly = PKI.rsa("rsa-only.conscrypt.test");
        put("rsa-only.conscrypt.test", rsaOnly);
        assertServed("rsa-only.conscrypt.test", rsaOnly, "TLSv1.3", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256");
        assertServed("rsa-only.conscrypt.test", rsaOnly, "TLSv1.2", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
        IssuedCertificate ecOnly = PKI.ec("ec-only.conscrypt.test");
        put("ec-only.conscrypt.test", ecOnly);
        assertServed("ec-only.conscrypt.test", ecOnly, "TLSv1.2", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
        // a client that cannot verify the only key type the host has fails, as on JSSE
        OpenSslClient.Result refused = OpenSslClient.handshake(server.port(), "ec-only.conscrypt.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256");
        assertFalse(refused.ok(), refused.output());
    }

    @Test
    void rsaOnlyHost_servedOnTls12AndTls13() throws Exception
    {
        IssuedCertificate rsa = PKI.rsa("rsa.conscrypt.test");
        put("rsa.conscrypt.test", rsa);
        for (String protocol : new String[]{"TLSv1.3", "TLSv1.2"})
        {
            TlsClient.Result result = client.protocols(protocol).handshake(server.port(), "rsa.conscrypt.test");
            assertEquals(rsa.fingerprint(), fp(result.leaf()), protocol + ": " + result.failure());
            assertEquals(protocol, result.protocol());
        }
    }

    @Test
    void everyHandshake_resolvedOnce_theKeyManagerTakesThePrefetchHandOver() throws Exception
    {
        IssuedCertificate[] issued = new IssuedCertificate[5];
        for (int i = 0; i < issued.length; i++)
        {
            issued[i] = PKI.ec("h" + i + ".handover.conscrypt.test");
            put("h" + i + ".handover.conscrypt.test", issued[i]);
            // a second key type: Conscrypt asks for both, the handshake must still count once
            put("h" + i + ".handover.conscrypt.test", PKI.rsa("h" + i + ".handover.conscrypt.test"));
        }
        DynamicSniStatistics statistics = factory.getStatistics();
        long servedBefore = statistics.getServedDynamic();
        long l1Before = statistics.getL1Hits() + statistics.getL1Misses() + statistics.getNegativeHits();
        int handshakes = 20;
        for (int i = 0; i < handshakes; i++)
        {
            TlsClient.Result result = client.handshake(server.port(), "h" + (i % 5) + ".handover.conscrypt.test");
            assertEquals(issued[i % 5].fingerprint(), fp(result.leaf()), String.valueOf(result.failure()));
        }
        assertEquals(handshakes, statistics.getServedDynamic() - servedBefore, "one resolution per handshake");
        // one L1 question per handshake, the prefetch's: the key manager used the hand-over
        assertEquals(handshakes, statistics.getL1Hits() + statistics.getL1Misses() + statistics.getNegativeHits() - l1Before);
    }

    @Test
    void l1HoldsConscryptNativeKeys_andServesThem() throws Exception
    {
        IssuedCertificate ec = PKI.ec("native.conscrypt.test");
        IssuedCertificate rsa = PKI.rsa("native.conscrypt.test");
        put("native.conscrypt.test", ec);
        put("native.conscrypt.test", rsa);
        assertEquals(ec.fingerprint(), fp(client.handshake(server.port(), "native.conscrypt.test").leaf()));
        HostCredentials held = factory.getResolver().cache().peek("native.conscrypt.test");
        assertEquals(2, held.credentials.length);
        for (Credential credential : held.credentials)
        {
            String keyClass = credential.getPrivateKey().getClass().getName();
            assertTrue(keyClass.startsWith("org.conscrypt."), credential.getKeyType() + " key held as " + keyClass);
        }
    }

    private void assertServed(String host, IssuedCertificate expected, String protocol, String... options) throws Exception
    {
        OpenSslClient.Result result = OpenSslClient.handshake(server.port(), host, options);
        assertTrue(result.ok(), () -> String.join(" ", options) + ":\n" + result.output());
        assertEquals(expected.fingerprint(), fp(result.leaf()), () -> String.join(" ", options) + ":\n" + result.output());
        assertEquals(protocol, result.protocol(), result.output());
    }

    private static String fp(X509Certificate certificate) throws Exception
    {
        return certificate == null ? null : Pem.fingerprint(certificate);
    }
}
