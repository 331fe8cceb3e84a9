package dev.dynsni.admin;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.dynsni.DynamicSniSslContextFactory;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TestServices;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An embedded Jetty node with the dynamic SNI factory on the same PostgreSQL schema and Redis prefix:
 * what the tool imports, replaces or removes is served (or no longer served) within a second.
 */
class LiveNodeImportTest extends AdminTestBase
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");
    private static final String HOST = "live.node.test";

    @TempDir
    Path dir;

    private Server server;
    private ServerConnector connector;

    @BeforeEach
    void startNode() throws Exception
    {
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setJdbcUrl(TestServices.jdbcUrl());
        factory.setJdbcSchema(schema);
        factory.setRedisAddress(TestServices.redisUrl());
        factory.setRedisKeyPrefix(keyPrefix);
        server = new Server();
        connector = new ServerConnector(server, 1, 1, new SslConnectionFactory(factory, "http/1.1"), new HttpConnectionFactory());
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.start();
    }

    @AfterEach
    void stopNode() throws Exception
    {
        server.stop();
    }

    @Test
    void importReplaceRemove_whileNodeRuns_servedWithinOneSecond() throws Exception
    {
        // The node has looked the host up and cached "unknown" before the import.
        assertNull(servedFingerprint(HOST));
        assertNull(servedFingerprint(HOST));

        IssuedCertificate first = PKI.ec(HOST);
        Path firstFile = Files.writeString(dir.resolve("first.pem"), first.chainPem() + first.pkcs8KeyPem());
        assertEquals(0, run("import", "--cert", firstFile.toString()).exit());
        long served = awaitServed(HOST, Pem.fingerprint(first.certificate()));
        assertTrue(served < 1000, "first certificate served after " + served + " ms");

        IssuedCertificate second = PKI.ec(HOST, "other.node.test");
        Path secondFile = Files.writeString(dir.resolve("second.pem"), second.chainPem() + second.pkcs8KeyPem());
        assertEquals(0, run("import", "--cert", secondFile.toString(), "--host", HOST).exit());
        served = awaitServed(HOST, Pem.fingerprint(second.certificate()));
        assertTrue(served < 1000, "replacement served after " + served + " ms");

        assertEquals(0, run("remove", HOST).exit());
        served = awaitServed(HOST, null);
        assertTrue(served < 1000, "removal effective after " + served + " ms");
    }

    /** @return milliseconds until the node serves the fingerprint (null: fails the handshake); fails after 3 s */
    private long awaitServed(String host, String fingerprint) throws Exception
    {
        long start = System.nanoTime();
        while (true)
        {
            String actual = servedFingerprint(host);
            long elapsed = (System.nanoTime() - start) / 1_000_000;
            if (fingerprint == null ? actual == null : fingerprint.equals(actual))
                return elapsed;
            if (elapsed > 3000)
                throw new AssertionError("after " + elapsed + " ms the node serves " + actual + " instead of " + fingerprint);
            Thread.sleep(20);
        }
    }

    /** @return the fingerprint of the leaf the node serves for the SNI host, null when the handshake fails */
    private String servedFingerprint(String host) throws Exception
    {
        // no session resumption: every handshake asks the key manager
        TlsClient client = TlsClient.trusting(PKI.caCertificate()).verifyingHostName().applicationProtocols().timeoutMillis(2000);
        try
        {
            return Pem.fingerprint(client.leaf(new InetSocketAddress("127.0.0.1", connector.getLocalPort()), host));
        }
        catch (IOException x)
        {
            return null;
        }
    }
}
