package dev.dynsni;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLSocket;

import dev.dynsni.core.RedisKeys;
import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keys encrypted at rest in PostgreSQL and Redis, master key rotation, floods of unknown names,
 * removal with session resumption, and configuration errors that must fail the start clearly.
 */
class SecurityTest
{
    private final CertificateAuthority pki = CertificateAuthority.create("dynsni test CA");
    private TestStore store;
    private final List<AutoCloseable> closeables = new java.util.ArrayList<>();

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception
    {
        store = new TestStore();
    }

    @AfterEach
    void stop() throws Exception
    {
        for (AutoCloseable closeable : closeables)
        {
            closeable.close();
        }
        store.close();
    }

    private Path keyFile(String name, byte[] key) throws Exception
    {
        Path file = Files.writeString(dir.resolve(name), Base64.getEncoder().encodeToString(key));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static byte[] random32()
    {
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        return key;
    }

    private TestServer serve(DynamicSniSslContextFactory factory) throws Exception
    {
        TestServer server = new TestServer(factory);
        closeables.add(server);
        return server;
    }

    private void putEncrypted(MasterKeys keys, String name, IssuedCertificate cert) throws Exception
    {
        store.execute("INSERT INTO " + store.schema + ".certificate (host, key_type, chain_pem, key_pem, key_encoding) VALUES (?, ?, ?, ?, ?) " +
                "ON CONFLICT (host, key_type) DO UPDATE SET chain_pem = excluded.chain_pem, key_pem = excluded.key_pem, key_encoding = excluded.key_encoding",
            name, cert.keyType(), cert.chainPem(), keys.encrypt(name, cert.keyType(), cert.pkcs8KeyPem()), keys.currentEncoding());
        store.awaitKnown(name);
    }

    @Test
    void encryptedKeys_areServed_andNeverPlainInPostgresOrRedis() throws Exception
    {
        byte[] master = random32();
        MasterKeys keys = MasterKeys.of(master);
        IssuedCertificate cert = pki.ec("secret.example.com");
        putEncrypted(keys, "secret.example.com", cert);

        DynamicSniSslContextFactory factory = store.newFactory(true);
        factory.setMasterKeyFile(keyFile("master.key", master).toString());
        TestServer server = serve(factory);
        TlsClient client = TlsClient.trusting(pki.caCertificate());
        TlsClient.Result result = client.handshake(server.port(), "secret.example.com");
        assertTrue(result.ok(), () -> String.valueOf(result.failure()));
        assertEquals(Pem.fingerprint(cert.certificate()), Pem.fingerprint(result.leaf()));

        // what the stores hold is ciphertext
        try (var connection = TestServices.connect();
             var rs = connection.createStatement().executeQuery("SELECT key_pem FROM " + store.schema + ".certificate"))
        {
            rs.next();
            assertFalse(rs.getString(1).contains("PRIVATE KEY"));
        }
        String redisValue = awaitRedisValue(RedisKeys.dataKey(store.keyPrefix, "secret.example.com"));
        assertNotNull(redisValue);
        assertFalse(redisValue.contains(Base64.getEncoder().encodeToString(cert.pkcs8KeyPem().getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 40)));
        assertTrue(redisValue.contains(keys.currentEncoding()));
    }

    private String awaitRedisValue(String key) throws InterruptedException
    {
        Config config = new Config();
        config.useSingleServer().setAddress(TestServices.redisUrl());
        RedissonClient redisson = Redisson.create(config);
        try
        {
            for (int i = 0; i < 50; i++)
            {
                Object value = redisson.getBucket(key, StringCodec.INSTANCE).get();
                if (value != null)
                    return value.toString();
                Thread.sleep(50);
            }
            return null;
        }
        finally
        {
            redisson.shutdown();
        }
    }

    @Test
    void encryptedRow_withoutTheKey_orCopiedToAnotherHost_isNotServed() throws Exception
    {
        MasterKeys keys = MasterKeys.of(random32());
        IssuedCertificate cert = pki.ec("copied.example.com", "victim.example.com");
        putEncrypted(keys, "victim.example.com", cert);
        // an attacker with write access copies the victim's encrypted row to another name
        store.execute("INSERT INTO " + store.schema + ".certificate (host, key_type, chain_pem, key_pem, key_encoding) " +
            "SELECT 'copied.example.com', key_type, chain_pem, key_pem, key_encoding FROM " + store.schema + ".certificate WHERE host = 'victim.example.com'");

        DynamicSniSslContextFactory noKey = store.newFactory(false);
        noKey.setUnknownHostPolicy("reject");
        TestServer server = serve(noKey);
        TlsClient client = TlsClient.trusting(pki.caCertificate());
        assertFalse(client.handshake(server.port(), "victim.example.com").ok(), "no master key: encrypted rows are not served");

        DynamicSniSslContextFactory withKey = store.newFactory(false);
        withKey.setUnknownHostPolicy("reject");
        Path file = dir.resolve("k");
        Files.writeString(file, Base64.getEncoder().encodeToString(new byte[32]));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        byte[] real = random32();
        keys = MasterKeys.of(real);
        putEncrypted(keys, "victim.example.com", cert);
        store.execute("UPDATE " + store.schema + ".certificate c SET key_pem = v.key_pem, key_encoding = v.key_encoding FROM " + store.schema +
            ".certificate v WHERE c.host = 'copied.example.com' AND v.host = 'victim.example.com'");
        withKey.setMasterKeyFile(keyFile("real.key", real).toString());
        TestServer keyed = serve(withKey);
        assertTrue(client.handshake(keyed.port(), "victim.example.com").ok());
        assertFalse(client.handshake(keyed.port(), "copied.example.com").ok(), "a row copied to another host does not decrypt");
        assertTrue(withKey.getStatistics().getInvalidCredentials() >= 1);
    }

    @Test
    void rotation_nodeHoldingBothKeys_servesRowsOfEither() throws Exception
    {
        byte[] oldKey = random32();
        byte[] newKey = random32();
        IssuedCertificate a = pki.ec("old.example.com");
        IssuedCertificate b = pki.ec("new.example.com");
        putEncrypted(MasterKeys.of(oldKey), "old.example.com", a);
        putEncrypted(MasterKeys.of(newKey), "new.example.com", b);
        DynamicSniSslContextFactory factory = store.newFactory(false);
        factory.setMasterKeyFile(keyFile("new.key", newKey).toString());
        factory.setPreviousMasterKeyFiles(keyFile("old.key", oldKey).toString());
        TestServer server = serve(factory);
        TlsClient client = TlsClient.trusting(pki.caCertificate());
        assertEquals(Pem.fingerprint(a.certificate()), Pem.fingerprint(client.handshake(server.port(), "old.example.com").leaf()));
        assertEquals(Pem.fingerprint(b.certificate()), Pem.fingerprint(client.handshake(server.port(), "new.example.com").leaf()));
    }

    @Test
    void badConfiguration_failsTheStartWithTheProperty() throws Exception
    {
        Path loose = Files.writeString(dir.resolve("loose.key"), Base64.getEncoder().encodeToString(random32()));
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        DynamicSniSslContextFactory factory = store.newFactory(false);
        factory.setMasterKeyFile(loose.toString());
        IllegalStateException x = assertThrows(IllegalStateException.class, factory::start);
        assertTrue(x.getMessage().contains("jetty.dynamicSni.masterKeyFile") && x.getMessage().contains("chmod 600"), x.getMessage());

        DynamicSniSslContextFactory noUrl = new DynamicSniSslContextFactory();
        assertTrue(assertThrows(IllegalStateException.class, noUrl::start).getMessage().contains("jetty.dynamicSni.jdbc.url is not set"));

        DynamicSniSslContextFactory badUrl = new DynamicSniSslContextFactory();
        badUrl.setJdbcUrl("jdbc:mysql://db/x?password=hunter2");
        String message = assertThrows(IllegalStateException.class, badUrl::start).getMessage();
        assertTrue(message.contains("not a PostgreSQL JDBC URL"), message);
        assertFalse(message.contains("hunter2"), "passwords never appear in messages");

        assertThrows(IllegalArgumentException.class, () -> new DynamicSniSslContextFactory().setUnknownHostPolicy("maybe"));

        DynamicSniSslContextFactory missingDefault = store.newFactory(false);
        missingDefault.setDefaultCertificatePath(dir.resolve("nope.crt").toString());
        missingDefault.setDefaultKeyPath(dir.resolve("nope.key").toString());
        assertTrue(assertThrows(IllegalStateException.class, missingDefault::start).getMessage().contains("does not exist"));
    }

    @Test
    void floodOfUnknownNames_costsNoLookupOnceTheIndexIsBuilt_andMemoryStaysBounded() throws Exception
    {
        IssuedCertificate real = pki.ec("real.example.com");
        store.put("real.example.com", real);
        DynamicSniSslContextFactory factory = store.newFactory(true);
        factory.setNegativeCacheMaxEntries(100);
        factory.setCacheMaxEntries(50);
        TestServer server = serve(factory);
        TlsClient client = TlsClient.trusting(pki.caCertificate());
        for (int i = 0; i < 400 && !factory.getStatistics().isIndexReady(); i++)
        {
            Thread.sleep(25);
        }
        assertTrue(factory.getStatistics().isIndexReady(), "host index built");
        int names = 300;
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 50; i++)
            {
                client.handshake(server.port(), "flood" + i + ".attacker.example");
            }
        }
        for (int i = 50; i < names; i++)
        {
            client.handshake(server.port(), "flood" + i + ".attacker.example");
        }
        // every unknown name answered by the index: no load, no store query, no negative entry
        assertEquals(0, factory.getStatistics().getLoads());
        assertEquals(0, factory.getStatistics().getPostgresQueries() + factory.getStatistics().getRedisQueries());
        assertEquals(150 + names - 50, factory.getStatistics().getIndexRejections());
        awaitCleanup(factory);
        assertTrue(factory.getStatistics().getNegativeSize() <= 100, "negative cache bounded: " + factory.getStatistics().getNegativeSize());
        TlsClient.Result result = client.handshake(server.port(), "real.example.com");
        assertTrue(result.ok());
        assertEquals(Pem.fingerprint(real.certificate()), Pem.fingerprint(result.leaf()), "real tenants keep working");
    }

    private static void awaitCleanup(DynamicSniSslContextFactory factory) throws InterruptedException
    {
        // Caffeine evicts asynchronously on its executor
        for (int i = 0; i < 50 && factory.getStatistics().getNegativeSize() > 100; i++)
        {
            Thread.sleep(20);
        }
    }

    @Test
    void removal_withRebuildOnChange_endsResumption() throws Exception
    {
        IssuedCertificate cert = pki.ec("gone.example.com");
        store.put("gone.example.com", cert);
        DynamicSniSslContextFactory factory = store.newFactory(false);
        factory.setUnknownHostPolicy("reject");
        factory.setRebuildContextOnChange(true);
        factory.setRebuildDelayMillis(50);
        TestServer server = serve(factory);
        // The change feed's first subscription ("changes may have been lost") rebuilds the context
        // too: let that happen first, or it can pass for the removal's rebuild below.
        for (int i = 0; i < 500 && factory.getStatistics().getContextRebuilds() == 0; i++)
        {
            Thread.sleep(20);
        }
        assertEquals(1, factory.getStatistics().getContextRebuilds(), "the change feed's first subscription rebuilds the context once");

        // one client with a session cache, so sessions can be resumed
        TlsClient client = resumingClient();

        assertTrue(connect(client, server.port(), "gone.example.com"), "first handshake");
        assertTrue(connect(client, server.port(), "gone.example.com"), "resumed or full, still served");

        long rebuilds = factory.getStatistics().getContextRebuilds();
        store.execute("DELETE FROM " + store.schema + ".certificate WHERE host = 'gone.example.com'");
        for (int i = 0; i < 100 && factory.getStatistics().getContextRebuilds() == rebuilds; i++)
        {
            Thread.sleep(20);
        }
        assertTrue(factory.getStatistics().getContextRebuilds() > rebuilds, "context rebuilt after the removal");
        assertFalse(connect(client, server.port(), "gone.example.com"), "no resumption of the removed host's session");
    }

    @Test
    void removal_withoutRebuild_resumptionEndsWithTheSessionTimeout() throws Exception
    {
        IssuedCertificate cert = pki.ec("timeout.example.com");
        store.put("timeout.example.com", cert);
        DynamicSniSslContextFactory factory = store.newFactory(false);
        assertEquals(DynamicSniSslContextFactory.DEFAULT_SESSION_TIMEOUT_SECONDS, factory.getSslSessionTimeout());
        factory.setUnknownHostPolicy("reject");
        factory.setSslSessionTimeout(2);
        TestServer server = serve(factory);
        TlsClient client = resumingClient();
        assertTrue(connect(client, server.port(), "timeout.example.com"));
        store.execute("DELETE FROM " + store.schema + ".certificate WHERE host = 'timeout.example.com'");
        Thread.sleep(200);
        // a full handshake from another client is refused at once
        assertFalse(connect(resumingClient(), server.port(), "timeout.example.com"), "new full handshakes no longer get the removed certificate");
        // the documented limit: a session resumed within the timeout still works, after it it does not
        assertTrue(connect(client, server.port(), "timeout.example.com"), "resumption within the session timeout");
        Thread.sleep(2500);
        assertFalse(connect(client, server.port(), "timeout.example.com"), "no resumption after the session timeout");
    }

    private TlsClient resumingClient()
    {
        return TlsClient.trusting(pki.caCertificate()).resumingSessions().applicationProtocols().timeoutMillis(5000);
    }

    private static boolean connect(TlsClient client, int port, String host)
    {
        try (SSLSocket socket = client.connect(port, host))
        {
            // TLS 1.3 tickets arrive after the handshake: read to let the client store them
            TlsClient.request(socket, host);
            return true;
        }
        catch (java.io.IOException x)
        {
            return false;
        }
    }
}
