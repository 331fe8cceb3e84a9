package dev.dynsni;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TlsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pre-handshake phase under hostile clients, on a real Jetty with the prefetch, real PostgreSQL
 * and Redis: one deadline closes every shape of stalled connection, the budget refuses connections
 * beyond it, names in full-width or raw UTF-8 are resolved as JSSE converts them, a name the
 * prefetch did not resolve is answered without a store, and {@code sniRequired} refuses an invalid
 * SNI as a missing one.
 */
class PrefetchHardeningTest
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni hardening CA");
    private static final long DEADLINE_MILLIS = 2000;
    private static TestStore store;
    private static DynamicSniSslContextFactory factory;
    private static PrefetchTestServer server;
    private static IssuedCertificate shop;
    private static IssuedCertificate defaultCert;

    @BeforeAll
    static void start() throws Exception
    {
        store = new TestStore();
        shop = PKI.ec("shop.example.com");
        store.put("shop.example.com", shop);
        defaultCert = PKI.ec("default.invalid");
        Path dir = Files.createTempDirectory("dynsni-default");
        factory = store.newFactory(true);
        factory.setDefaultCertificatePath(Files.writeString(dir.resolve("default.crt"), defaultCert.chainPem()).toString());
        factory.setDefaultKeyPath(Files.writeString(dir.resolve("default.key"), defaultCert.traditionalKeyPem()).toString());
        server = new PrefetchTestServer(factory, true, false, 32, p ->
        {
            p.setHandshakeTimeoutMillis(DEADLINE_MILLIS);
            p.setMaxClientHelloBytes(2048);
            p.setMaxPendingHandshakes(40);
        });
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (server != null)
            server.close();
        if (store != null)
            store.close();
    }

    private static TlsClient client()
    {
        return TlsClient.trusting(PKI.caCertificate());
    }

    // ---- item: one deadline, whatever was sent

    /** The first bytes of each shape of stalled connection: none of them is ever completed. */
    static List<byte[]> stalledShapes()
    {
        byte[] hello = ClientHellos.jdk("shop.example.com", "TLSv1.2");
        byte[] message = JsseParityTest.message(hello);
        List<byte[]> shapes = new ArrayList<>();
        shapes.add(new byte[0]);                                             // nothing at all
        shapes.add(Arrays.copyOf(hello, hello.length / 2));                  // half a ClientHello
        shapes.add(new byte[]{22, 3, 1, 0x40, 0x00});                        // a record header announcing 16 KiB, then nothing
        shapes.add(new byte[]{22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00});   // a handshake header announcing 64 KiB (too big)
        shapes.add(Arrays.copyOf(ClientHelloParserTest.sixteenKiBRecordAround(message), 5 + message.length + 100)); // a 16 KiB record around a small hello, cut
        shapes.add(new byte[]{(byte)0x80, 0x2E, 0x01, 0x03, 0x01, 0x00, 0x15}); // an SSLv2-style header, cut
        shapes.add(hello);                                                   // a whole ClientHello, then silence
        return shapes;
    }

    @Test
    void everyStalledShape_isClosedByTheDeadline() throws Exception
    {
        List<byte[]> shapes = stalledShapes();
        long before = server.prefetchStatistics().getHandshakeTimeouts();
        List<Socket> sockets = new ArrayList<>();
        List<CompletableFuture<Long>> closed = new ArrayList<>();
        try
        {
            for (byte[] shape : shapes)
            {
                long start = System.nanoTime();
                Socket socket = new Socket("127.0.0.1", server.port());
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(shape);
                socket.getOutputStream().flush();
                sockets.add(socket);
                closed.add(CompletableFuture.supplyAsync(() -> waitForClose(socket, start)));
            }
            for (int i = 0; i < sockets.size(); i++)
            {
                long closedAfter = closed.get(i).get(15, TimeUnit.SECONDS);
                assertTrue(closedAfter >= DEADLINE_MILLIS - 50 && closedAfter < DEADLINE_MILLIS + 1000,
                    "shape " + i + " closed after " + closedAfter + " ms, deadline " + DEADLINE_MILLIS + " ms");
            }
        }
        finally
        {
            for (Socket socket : sockets)
                socket.close();
        }
        assertEquals(before + shapes.size(), server.prefetchStatistics().getHandshakeTimeouts());
    }

    /** Reads (and drops) what the server sends until it closes; @return ms since start. */
    private static long waitForClose(Socket socket, long start)
    {
        byte[] buffer = new byte[4096];
        try
        {
            InputStream in = socket.getInputStream();
            while (in.read(buffer) >= 0)
            {
                // a ServerHello for the whole-hello shape: keep reading
            }
        }
        catch (SocketTimeoutException x)
        {
            throw new AssertionError("not closed within 10 s", x);
        }
        catch (IOException x)
        {
            // reset by the server: closed too
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    // ---- item: bounded pre-handshake connections

    @Test
    void connectionsBeyondTheBudget_areClosedAtOnce_andServiceRecovers() throws Exception
    {
        long overBefore = server.prefetchStatistics().getOverBudget();
        List<Socket> stalled = new ArrayList<>();
        try
        {
            for (int i = 0; i < 40; i++)
            {
                Socket socket = new Socket("127.0.0.1", server.port());
                socket.getOutputStream().write(22);
                socket.getOutputStream().flush();
                stalled.add(socket);
            }
            // all 40 places taken: the next connection is closed without an answer
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (server.prefetchStatistics().getPendingHandshakes() < 40 && System.nanoTime() < deadline)
                Thread.sleep(10);
            assertEquals(40, server.prefetchStatistics().getPendingHandshakes());
            try (Socket extra = new Socket("127.0.0.1", server.port()))
            {
                extra.setSoTimeout(DEADLINE_MILLIS > 500 ? 500 : 200);
                int read;
                try
                {
                    read = extra.getInputStream().read();
                }
                catch (SocketException x)
                {
                    read = -1;
                }
                assertEquals(-1, read, "closed at once");
            }
            assertTrue(server.prefetchStatistics().getOverBudget() > overBefore);
            assertTrue(server.prefetchStatistics().getBufferedBytes() <= 40L * ClientHelloConnection.INITIAL_BUFFER_BYTES,
                "1 KiB each: " + server.prefetchStatistics().getBufferedBytes());
        }
        finally
        {
            for (Socket socket : stalled)
                socket.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (server.prefetchStatistics().getPendingHandshakes() > 0 && System.nanoTime() < deadline)
            Thread.sleep(10);
        assertEquals(0, server.prefetchStatistics().getPendingHandshakes());
        assertEquals(0, server.prefetchStatistics().getBufferedBytes());
        assertEquals(fp(shop), fp(client().handshake(server.port(), "shop.example.com")), "serves again once the stalled connections are gone");
    }

    // ---- item: the names JSSE asks for, converted as JSSE converts them

    @ParameterizedTest
    @ValueSource(strings = {"\uFF53\uFF48\uFF4F\uFF50.example.com", "shop\uFF0Eexample.com", "SHOP.example.com"})
    void fullWidthAndUpperCaseNames_areResolvedAsTheAsciiName(String name)
    {
        long hits = server.prefetchStatistics().getPrefetches();
        long invalid = server.prefetchStatistics().getInvalidSni();
        TlsClient.Result result = client().handshakeRawSni(server.port(), name.getBytes(StandardCharsets.UTF_8));
        assertEquals(fp(shop), fp(result));
        assertEquals(hits + 1, server.prefetchStatistics().getPrefetches(), "the prefetch resolved it");
        assertEquals(invalid, server.prefetchStatistics().getInvalidSni());
    }

    @Test
    void rawUtf8ULabel_isResolvedAsItsALabel() throws Exception
    {
        IssuedCertificate buecher = PKI.ec("xn--bcher-kva.example.com");
        store.put("xn--bcher-kva.example.com", buecher);
        long unresolved = factory.getStatistics().getUnresolvedByPrefetch();
        TlsClient.Result result = client().handshakeRawSni(server.port(), "b\u00fccher.example.com".getBytes(StandardCharsets.UTF_8));
        assertEquals(fp(buecher), fp(result));
        assertEquals(unresolved, factory.getStatistics().getUnresolvedByPrefetch(), "resolved by the prefetch, not the key manager");
    }

    @Test
    void nameThePrefetchDidNotResolve_isAnsweredByPolicy_withoutAStore() throws Exception
    {
        // stored, never looked up: not in L1
        IssuedCertificate cold = PKI.ec("cold.example.com");
        store.put("cold.example.com", cold);
        // a TLS 1.2 ClientHello padded past this server's maxClientHelloBytes (2048): the prefetch
        // hands it to TLS unread; JSSE reads the name, the key manager must not go to a store for it
        byte[] hello = JsseParityTest.withPadding(JsseParityTest.message(ClientHellos.jdk("cold.example.com", "TLSv1.2")), 3000);
        long pg = factory.getStatistics().getPostgresQueries();
        long redis = factory.getStatistics().getRedisQueries();
        long unresolved = factory.getStatistics().getUnresolvedByPrefetch();
        long tooBig = server.prefetchStatistics().getTooBig();
        X509Certificate served = serverCertificateOf(ClientHellos.records(hello));
        assertEquals(Pem.fingerprint(defaultCert.certificate()), Pem.fingerprint(served), "the unknown-host policy answered");
        assertEquals(tooBig + 1, server.prefetchStatistics().getTooBig());
        assertEquals(unresolved + 1, factory.getStatistics().getUnresolvedByPrefetch());
        assertEquals(pg, factory.getStatistics().getPostgresQueries(), "no PostgreSQL query");
        assertEquals(redis, factory.getStatistics().getRedisQueries(), "no Redis query");
        // a normal ClientHello for the same name is resolved as usual
        assertEquals(fp(cold), fp(client().handshake(server.port(), "cold.example.com")));
    }

    @Test
    void clientHelloInOneByteRecords_oneBytePerWrite_isResolvedAndServed() throws Exception
    {
        // read at a bounded pace after the first reads (ClientHelloConnection.readMore), handed to TLS in one record
        long prefetches = server.prefetchStatistics().getPrefetches();
        long reframed = server.prefetchStatistics().getReframed();
        byte[] hello = ClientHellos.records(JsseParityTest.message(ClientHellos.jdk("shop.example.com", "TLSv1.2")), 1);
        X509Certificate served = serverCertificateOf(hello, true);
        assertEquals(fp(shop), Pem.fingerprint(served));
        assertEquals(prefetches + 1, server.prefetchStatistics().getPrefetches());
        assertEquals(reframed + 1, server.prefetchStatistics().getReframed(), "TLS got it in one record");
    }

    private static X509Certificate serverCertificateOf(byte[] clientHello) throws Exception
    {
        return serverCertificateOf(clientHello, false);
    }

    /** Sends a TLS 1.2 ClientHello and returns the leaf of the server's (plaintext) Certificate message. */
    private static X509Certificate serverCertificateOf(byte[] clientHello, boolean bytePerWrite) throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", server.port()))
        {
            socket.setSoTimeout(5000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            if (bytePerWrite)
            {
                for (byte b : clientHello)
                {
                    out.write(b);
                    out.flush();
                }
            }
            else
                out.write(clientHello);
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream handshake = new ByteArrayOutputStream();
            byte[] header = new byte[5];
            while (true)
            {
                readFully(in, header);
                int length = ((header[3] & 0xFF) << 8) | (header[4] & 0xFF);
                byte[] fragment = new byte[length];
                readFully(in, fragment);
                if (header[0] != 22)
                    throw new AssertionError("record type " + header[0] + " before the Certificate");
                handshake.writeBytes(fragment);
                byte[] messages = handshake.toByteArray();
                int p = 0;
                while (p + 4 <= messages.length)
                {
                    int type = messages[p] & 0xFF;
                    int bodyLength = ((messages[p + 1] & 0xFF) << 16) | ((messages[p + 2] & 0xFF) << 8) | (messages[p + 3] & 0xFF);
                    if (p + 4 + bodyLength > messages.length)
                        break;
                    if (type == 11)
                    {
                        int q = p + 4 + 3;
                        int certLength = ((messages[q] & 0xFF) << 16) | ((messages[q + 1] & 0xFF) << 8) | (messages[q + 2] & 0xFF);
                        byte[] der = Arrays.copyOfRange(messages, q + 3, q + 3 + certLength);
                        return (X509Certificate)CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
                    }
                    p += 4 + bodyLength;
                }
            }
        }
    }

    private static void readFully(InputStream in, byte[] bytes) throws IOException
    {
        int n = 0;
        while (n < bytes.length)
        {
            int r = in.read(bytes, n, bytes.length - n);
            if (r < 0)
                throw new IOException("closed after " + n + " of " + bytes.length + " bytes");
            n += r;
        }
    }

    // ---- item: sniRequired refuses an invalid SNI like a missing one

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void sniRequired_refusesInvalidSni_likeMissingSni(boolean prefetch) throws Exception
    {
        DynamicSniSslContextFactory strict = store.newFactory(false);
        strict.setSniRequired(true);
        strict.setDefaultCertificatePath(factory.getDefaultCertificatePath());
        strict.setDefaultKeyPath(factory.getDefaultKeyPath());
        try (PrefetchTestServer strictServer = new PrefetchTestServer(strict, prefetch, false, 16, null))
        {
            TlsClient client = client();
            long invalidBefore = strict.getStatistics().getInvalidSni();
            assertEquals(fp(shop), fp(client.handshake(strictServer.port(), "shop.example.com")), "a tenant is served");
            assertFalse(client.handshake(strictServer.port(), null).ok(), "no SNI refused");
            // names JSSE accepts but that are not valid DNS host names here (and one JSSE refuses itself)
            for (String invalid : List.of("10.0.0.1", "ab--cd.example.com", "xn--zz.example.com", "a".repeat(64) + ".example.com"))
            {
                TlsClient.Result result = client.handshakeRawSni(strictServer.port(), invalid);
                assertFalse(result.ok(), invalid + " must be refused, was served " + (result.leaf() == null ? null : result.leaf().getSubjectX500Principal()));
                assertNotNull(result.failure());
            }
            assertEquals(invalidBefore + 3, strict.getStatistics().getInvalidSni(), "the three names JSSE accepts reached the resolver as invalid");
        }
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
}
