package dev.dynsni;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.RedisProcess;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Transport security to Redis on servers of the test's own: ACL user and password, wrong
 * credentials (the Redis tier is down, PostgreSQL still serves), and TLS ({@code rediss://}) with a
 * CA file.
 */
class RedisTransportTest
{
    private final CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");

    @TempDir
    Path dir;

    private static void requireRedisBinary()
    {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        if (ci)
            assertTrue(RedisProcess.binaryAvailable(), "redis-server must be on the PATH in CI");
        else
            Assumptions.assumeTrue(RedisProcess.binaryAvailable(), "redis-server not on the PATH");
    }

    private void assertServedTwice(DynamicSniSslContextFactory factory, TestStore store, String host) throws Exception
    {
        IssuedCertificate cert = pki.ec(host);
        store.put(host, cert);
        try (TestServer server = new TestServer(factory))
        {
            TlsClient client = TlsClient.trusting(pki.caCertificate());
            TlsClient.Result first = client.handshake(server.port(), host);
            assertTrue(first.ok(), () -> String.valueOf(first.failure()));
            assertEquals(Pem.fingerprint(cert.certificate()), Pem.fingerprint(first.leaf()));
            // the second read comes from Redis once L1 is dropped
            for (int i = 0; i < 50 && factory.getStatistics().getRedisHits() == 0; i++)
            {
                factory.evict(host);
                TlsClient.Result again = client.handshake(server.port(), host);
                assertEquals(Pem.fingerprint(cert.certificate()), Pem.fingerprint(again.leaf()));
                Thread.sleep(20);
            }
            assertTrue(factory.getStatistics().getRedisHits() > 0, "served from Redis: " + factory.getStatistics());
        }
    }

    @Test
    void aclUserAndPassword_areUsed_wrongPasswordLeavesPostgresServing() throws Exception
    {
        requireRedisBinary();
        // the ACL user comes from the server's configuration: no client needed to create it
        try (TestStore store = new TestStore();
             RedisProcess redis = new RedisProcess("--requirepass", "defaultpw", "--user", "alice", "on", ">alicepw", "~*", "+@all").start())
        {
            DynamicSniSslContextFactory factory = store.newFactory(false);
            factory.setRedisAddress(redis.url());
            factory.setRedisKeyPrefix(store.keyPrefix);
            factory.setRedisUser("alice");
            factory.setRedisPassword("alicepw");
            assertServedTwice(factory, store, "acl.example.com");

            // the password may come from a file instead of the configuration
            java.nio.file.Path passwordFile = java.nio.file.Files.writeString(dir.resolve("redis.password"), "alicepw\n");
            DynamicSniSslContextFactory fromFile = store.newFactory(false);
            fromFile.setRedisAddress(redis.url());
            fromFile.setRedisKeyPrefix(store.keyPrefix);
            fromFile.setRedisUser("alice");
            fromFile.setRedisPasswordFile(passwordFile.toString());
            assertServedTwice(fromFile, store, "pwfile.example.com");

            DynamicSniSslContextFactory wrong = store.newFactory(false);
            wrong.setRedisAddress("redis://alice:wrong@127.0.0.1:" + redis.port());
            wrong.setRedisKeyPrefix(store.keyPrefix);
            IssuedCertificate cert = pki.ec("wrongpw.example.com");
            store.put("wrongpw.example.com", cert);
            try (TestServer server = new TestServer(wrong))
            {
                TlsClient.Result result = TlsClient.trusting(pki.caCertificate()).handshake(server.port(), "wrongpw.example.com");
                assertEquals(Pem.fingerprint(cert.certificate()), Pem.fingerprint(result.leaf()), "PostgreSQL serves when Redis refuses the credentials");
                assertEquals("down", wrong.getStatistics().getRedisState());
                assertTrue(!wrong.getRedisAddress().contains("wrong"), "password redacted: " + wrong.getRedisAddress());
            }
        }
    }

    @Test
    void rediss_withCaFile() throws Exception
    {
        requireRedisBinary();
        CertificateAuthority redisPki = CertificateAuthority.create("redis CA");
        IssuedCertificate serverCert = redisPki.ec("localhost");
        Path cert = Files.writeString(dir.resolve("redis.crt"), serverCert.chainPem());
        Path key = Files.writeString(dir.resolve("redis.key"), serverCert.pkcs8KeyPem());
        Path ca = Files.writeString(dir.resolve("ca.crt"), redisPki.caPem());
        try (TestStore store = new TestStore();
             RedisProcess redis = new RedisProcess("--tls-port", "--tls-cert-file", cert.toString(), "--tls-key-file", key.toString(),
                 "--tls-ca-cert-file", ca.toString(), "--tls-auth-clients", "no").start())
        {
            DynamicSniSslContextFactory factory = store.newFactory(false);
            factory.setRedisAddress("rediss://localhost:" + redis.port());
            factory.setRedisKeyPrefix(store.keyPrefix);
            factory.setRedisCaFile(ca.toString());
            assertServedTwice(factory, store, "tls.example.com");
        }
    }
}
