package dev.dynsni;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two transactions changing one host's EC and RSA rows at once, on real PostgreSQL and Redis: the
 * second writer waits for the first to commit, so its version is the larger and is committed last,
 * and no node (neither the one that read between the two writes nor one that starts afterwards and
 * reads Redis) keeps serving a replaced credential beyond the propagation bound.
 */
class HostWriteOrderTest
{
    private static final String HOST = "both.example.com";

    @Test
    void interleavedWritesOfOneHostsEcAndRsaRows_areCommittedInVersionOrder_andNoReplacedKeyIsServed() throws Exception
    {
        CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
        TlsClient client = TlsClient.trusting(pki.caCertificate());
        TlsClient ecClient = client.protocols("TLSv1.2").cipherSuites("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        TlsClient rsaClient = client.protocols("TLSv1.2").cipherSuites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        try (TestStore store = new TestStore())
        {
            IssuedCertificate ec0 = pki.ec(HOST);
            IssuedCertificate rsa0 = pki.rsa(HOST);
            store.put(HOST, ec0);
            store.put(HOST, rsa0);
            try (TestServer node1 = new TestServer(store.newFactory(true)))
            {
                awaitServed(ecClient, node1, ec0, 5000);
                awaitServed(rsaClient, node1, rsa0, 5000);

                IssuedCertificate ec1 = pki.ec(HOST);
                IssuedCertificate rsa1 = pki.rsa(HOST);
                CompletableFuture<Void> second;
                boolean secondCommittedFirst;
                try (Connection first = TestServices.connect())
                {
                    first.setAutoCommit(false);
                    replace(first, store.schema, ec1);
                    second = CompletableFuture.runAsync(() ->
                    {
                        try (Connection connection = TestServices.connect())
                        {
                            replace(connection, store.schema, rsa1);
                        }
                        catch (Exception x)
                        {
                            throw new IllegalStateException(x);
                        }
                    });
                    Thread.sleep(500);
                    secondCommittedFirst = second.isDone();
                    // a node reads between the two writes (and writes what it read back to Redis)
                    for (int i = 0; i < 5; i++)
                    {
                        assertTrue(ecClient.handshake(node1.port(), HOST).ok());
                        assertTrue(rsaClient.handshake(node1.port(), HOST).ok());
                        Thread.sleep(50);
                    }
                    first.commit();
                }
                second.get(10, TimeUnit.SECONDS);
                long start = System.nanoTime();
                awaitServed(ecClient, node1, ec1, 2000);
                awaitServed(rsaClient, node1, rsa1, 2000);
                System.out.println("host write order: new EC and RSA served after " + (System.nanoTime() - start) / 1_000_000 + " ms");
                // and kept: nothing older comes back from L1 or Redis
                for (int i = 0; i < 20; i++)
                {
                    assertServed(ecClient, node1, ec1);
                    assertServed(rsaClient, node1, rsa1);
                    Thread.sleep(100);
                }
                try (TestServer node2 = new TestServer(store.newFactory(true)))
                {
                    for (int i = 0; i < 5; i++)
                    {
                        assertServed(ecClient, node2, ec1);
                        assertServed(rsaClient, node2, rsa1);
                    }
                }
                // why: the second writer waited for the first one's commit, so the later commit has the larger version
                assertFalse(secondCommittedFirst, "the second writer of the name waited for the first one's commit");
                Map<String, Long> versions = versions(store);
                assertTrue(versions.get("RSA") > versions.get("EC"), "the later commit has the larger version: " + versions);
            }
        }
    }

    private static void replace(Connection connection, String schema, IssuedCertificate issued) throws Exception
    {
        try (PreparedStatement statement = connection.prepareStatement("UPDATE " + schema + ".certificate SET chain_pem = ?, key_pem = ? WHERE host = ? AND key_type = ?"))
        {
            statement.setString(1, issued.chainPem());
            statement.setString(2, issued.pkcs8KeyPem());
            statement.setString(3, HOST);
            statement.setString(4, issued.keyType());
            assertEquals(1, statement.executeUpdate());
        }
    }

    private static Map<String, Long> versions(TestStore store) throws Exception
    {
        Map<String, Long> versions = new HashMap<>();
        try (Connection connection = TestServices.connect();
             PreparedStatement statement = connection.prepareStatement("SELECT key_type, version FROM " + store.schema + ".certificate WHERE host = ?"))
        {
            statement.setString(1, HOST);
            try (ResultSet rs = statement.executeQuery())
            {
                while (rs.next())
                {
                    versions.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return versions;
    }

    private static void assertServed(TlsClient client, TestServer node, IssuedCertificate expected)
    {
        TlsClient.Result result = client.handshake(node.port(), HOST);
        assertTrue(result.ok(), () -> "handshake failed: " + result.failure());
        assertEquals(Pem.fingerprint(expected.certificate()), Pem.fingerprint(result.leaf()), expected.keyType() + " certificate");
    }

    private static void awaitServed(TlsClient client, TestServer node, IssuedCertificate expected, long millis) throws InterruptedException
    {
        String fingerprint = Pem.fingerprint(expected.certificate());
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true)
        {
            TlsClient.Result result = client.handshake(node.port(), HOST);
            if (result.ok() && fingerprint.equals(Pem.fingerprint(result.leaf())))
                return;
            if (System.nanoTime() > deadline)
                throw new AssertionError(expected.keyType() + " certificate not served within " + millis + " ms: got " +
                    (result.ok() ? Pem.fingerprint(result.leaf()) : String.valueOf(result.failure())));
            Thread.sleep(20);
        }
    }
}
