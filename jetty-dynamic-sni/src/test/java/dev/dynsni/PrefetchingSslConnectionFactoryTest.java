package dev.dynsni;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.HttpClients;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PrefetchingSslConnectionFactory} in a real Jetty against the test PostgreSQL and Redis:
 * HTTP/1.1 and HTTP/2 through ALPN, the proxy protocol in front, and bad input (no SNI, invalid
 * SNI, non-TLS bytes, a malformed or oversized ClientHello, a client that trickles its hello).
 */
class PrefetchingSslConnectionFactoryTest
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");
    private static TestStore store;
    private static DynamicSniSslContextFactory factory;
    private static PrefetchTestServer server;
    private static PrefetchTestServer proxied;
    private static IssuedCertificate shop;
    private static IssuedCertificate blog;

    @BeforeAll
    static void start() throws Exception
    {
        store = new TestStore();
        shop = PKI.ec("shop.example.com");
        blog = PKI.rsa("blog.example.com");
        store.put("shop.example.com", shop);
        store.put("blog.example.com", blog);
        factory = store.newFactory(true);
        // the deadline covers the whole TLS handshake: long enough for a cold handshake on a loaded machine
        server = new PrefetchTestServer(factory, true, false, 32, p -> p.setHandshakeTimeoutMillis(3000));
        // a second connector's worth of server sharing the factory, with the proxy protocol in front
        proxied = new PrefetchTestServer(factory, true, true, 32, null);
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (proxied != null)
            proxied.close();
        if (server != null)
            server.close();
        if (store != null)
            store.close();
    }

    @Test
    void constructor_rejectsOtherContextFactories()
    {
        assertThrows(IllegalArgumentException.class, () -> new PrefetchingSslConnectionFactory(new SslContextFactory.Server(), "http/1.1"));
        assertEquals("SSL", new PrefetchingSslConnectionFactory(new DynamicSniSslContextFactory(), "alpn").getProtocol());
    }

    @Test
    void handshake_coldThenWarm_servesTheHostsCertificate() throws Exception
    {
        PrefetchStatistics stats = server.prefetchStatistics();
        long misses = stats.getMisses();
        long hits = stats.getHits();
        TlsClient client = TlsClient.trusting(PKI.caCertificate());
        TlsClient.Result cold = client.handshake(server.port(), "blog.example.com");
        assertTrue(cold.ok(), () -> String.valueOf(cold.failure()));
        assertEquals(Pem.fingerprint(blog.certificate()), Pem.fingerprint(cold.leaf()));
        TlsClient.Result warm = client.handshake(server.port(), "blog.example.com");
        assertTrue(warm.ok(), () -> String.valueOf(warm.failure()));
        assertEquals(misses + 1, stats.getMisses(), stats::toString);
        assertEquals(hits + 1, stats.getHits(), stats::toString);
    }

    @Test
    void http11AndH2_work() throws Exception
    {
        for (boolean h2 : new boolean[]{false, true})
        {
            HttpClients.Versions versions = h2 ? HttpClients.Versions.HTTP_2 : HttpClients.Versions.HTTP_1_1;
            try (HttpClients.Jetty client = new HttpClients.Jetty(TlsClient.trustStore(PKI.caCertificate()), versions))
            {
                ContentResponse response = client.client().newRequest("https://shop.example.com:" + server.port() + "/").timeout(10, TimeUnit.SECONDS).send();
                assertEquals(200, response.getStatus());
                assertEquals("host=shop.example.com protocol=" + (h2 ? "HTTP/2.0" : "HTTP/1.1") + " remote=127.0.0.1", response.getContentAsString());
            }
        }
    }

    @Test
    void proxyProtocolV1_thenTls_work() throws Exception
    {
        // PROXY line written on its own, then in the same write as the ClientHello (prefilled bytes)
        for (boolean coalesce : new boolean[]{false, true})
        {
            String body = proxiedRequest("shop.example.com", coalesce);
            assertTrue(body.endsWith("host=shop.example.com protocol=HTTP/1.1 remote=192.0.2.7"), body);
        }
        assertTrue(proxied.prefetchStatistics().getPrefetches() >= 2, proxied.prefetchStatistics()::toString);
    }

    @Test
    void unknownHost_withoutDefault_isRefusedBeforeTls_withUnrecognizedName() throws Exception
    {
        PrefetchStatistics stats = server.prefetchStatistics();
        long refused = stats.getRefused();
        long rejected = factory.getStatistics().getRejected();
        TlsClient client = TlsClient.trusting(PKI.caCertificate());
        // cold (the lookup goes to the stores), then warm (the negative cache answers at once)
        for (int i = 0; i < 2; i++)
        {
            TlsClient.Result result = client.handshake(server.port(), "nobody.example.com");
            assertFalse(result.ok());
            assertTrue(String.valueOf(result.failure()).contains("unrecognized_name"), String.valueOf(result.failure()));
        }
        assertEquals(refused + 2, stats.getRefused(), stats::toString);
        assertEquals(rejected + 2, factory.getStatistics().getRejected());
        // a known host on the same server is unaffected
        assertEquals(Pem.fingerprint(shop.certificate()), Pem.fingerprint(client.handshake(server.port(), "shop.example.com").leaf()));
    }

    @Test
    void noSni_isHandedToTls_andRefusedWithoutDefault() throws Exception
    {
        long before = server.prefetchStatistics().getNoSni();
        TlsClient.Result result = TlsClient.trusting(PKI.caCertificate()).handshake(server.port(), null);
        assertFalse(result.ok());
        assertEquals(before + 1, server.prefetchStatistics().getNoSni());
    }

    @Test
    void invalidSni_isHandedToTls_withoutLookup() throws Exception
    {
        long before = server.prefetchStatistics().getInvalidSni();
        long malformed = server.prefetchStatistics().getMalformed();
        long loads = factory.getStatistics().getLoads();
        // JSSE accepts this name (it would ask the key manager for it), the module's rules do not
        TlsClient.Result result = TlsClient.trusting(PKI.caCertificate()).handshakeRawSni(server.port(), "ab--cd.example.com");
        assertFalse(result.ok());
        assertEquals(before + 1, server.prefetchStatistics().getInvalidSni());
        // JSSE refuses this one (illegal_parameter): so does the prefetch, before TLS
        assertFalse(TlsClient.trusting(PKI.caCertificate()).handshakeRawSni(server.port(), "bad_name.example.com").ok());
        assertEquals(malformed + 1, server.prefetchStatistics().getMalformed());
        assertEquals(loads, factory.getStatistics().getLoads(), "no store lookup for an invalid name");
    }

    @Test
    void plainHttp_isClosed() throws Exception
    {
        long before = server.prefetchStatistics().getNotTls();
        byte[] answer = exchange("GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(answer.length == 0 || answer[0] == 21, "nothing or a TLS alert, got " + answer.length + " bytes");
        assertEquals(before + 1, server.prefetchStatistics().getNotTls());
    }

    @Test
    void malformedClientHello_isAlertedOrClosed() throws Exception
    {
        long before = server.prefetchStatistics().getMalformed();
        // a handshake record holding a ServerHello-typed message
        byte[] bogus = {22, 3, 1, 0, 8, 2, 0, 0, 4, 3, 3, 0, 0};
        byte[] answer = exchange(bogus);
        assertTrue(answer.length == 0 || answer[0] == 21, "nothing or a TLS alert, got " + answer.length + " bytes");
        assertEquals(before + 1, server.prefetchStatistics().getMalformed());
    }

    @Test
    void oversizedClientHello_isHandedToTlsWithoutPrefetch() throws Exception
    {
        long before = server.prefetchStatistics().getTooBig();
        byte[] header = {22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00};
        try (Socket socket = new Socket("127.0.0.1", server.port()))
        {
            socket.getOutputStream().write(header);
            socket.getOutputStream().write(new byte[0x4000 - 4]);
            socket.getOutputStream().flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (server.prefetchStatistics().getTooBig() == before && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
        }
        assertEquals(before + 1, server.prefetchStatistics().getTooBig());
        assertTrue(TlsClient.trusting(PKI.caCertificate()).handshake(server.port(), "shop.example.com").ok(), "server still serves");
    }

    @Test
    void slowClient_isClosedAfterHandshakeTimeout() throws Exception
    {
        long before = server.prefetchStatistics().getHandshakeTimeouts();
        byte[] hello = helloBytes();
        try (Socket socket = new Socket("127.0.0.1", server.port()))
        {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            long start = System.nanoTime();
            Thread trickle = new Thread(() ->
            {
                try
                {
                    for (byte b : hello)
                    {
                        out.write(b);
                        out.flush();
                        Thread.sleep(250);
                    }
                }
                catch (IOException | InterruptedException ignored)
                {
                    // closed by the server
                }
            });
            trickle.setDaemon(true);
            trickle.start();
            int read;
            try
            {
                read = socket.getInputStream().read();
            }
            catch (SocketException x)
            {
                read = -1;
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            trickle.interrupt();
            assertEquals(-1, read, "closed without an answer");
            assertTrue(millis >= 2900 && millis < 6000, "closed after " + millis + " ms, deadline 3000 ms");
        }
        assertEquals(before + 1, server.prefetchStatistics().getHandshakeTimeouts());
    }

    /** Writes bytes on a raw connection; returns what the server sent back before closing. */
    private byte[] exchange(byte[] bytes) throws IOException
    {
        try (Socket socket = new Socket("127.0.0.1", server.port()))
        {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[1024];
            int n;
            try
            {
                while ((n = in.read(buffer)) >= 0)
                {
                    answer.write(buffer, 0, n);
                }
            }
            catch (SocketException reset)
            {
                // closed by the server
            }
            return answer.toByteArray();
        }
    }

    private static byte[] helloBytes() throws IOException
    {
        try (InputStream in = PrefetchingSslConnectionFactoryTest.class.getResourceAsStream("/clienthello/jdk17-sslsocket.bin"))
        {
            return in.readAllBytes();
        }
    }

    private String proxiedRequest(String host, boolean coalesce) throws Exception
    {
        String proxyLine = "PROXY TCP4 192.0.2.7 127.0.0.1 40000 443\r\n";
        Socket raw = coalesce ? new CoalescingSocket(proxyLine.getBytes(StandardCharsets.US_ASCII)) : new Socket();
        raw.connect(new InetSocketAddress("127.0.0.1", proxied.port()), 5000);
        if (!coalesce)
        {
            raw.getOutputStream().write(proxyLine.getBytes(StandardCharsets.US_ASCII));
            raw.getOutputStream().flush();
        }
        try (SSLSocket socket = TlsClient.trusting(PKI.caCertificate()).applicationProtocols("http/1.1").connect(raw, host))
        {
            String response = TlsClient.get(socket, host, "/");
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            return response.strip();
        }
    }

    /** A socket whose first write is prefixed with the given bytes, so both leave in one segment. */
    private static final class CoalescingSocket extends Socket
    {
        private final byte[] prefix;
        private OutputStream output;

        CoalescingSocket(byte[] prefix)
        {
            this.prefix = prefix;
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException
        {
            if (output == null)
            {
                OutputStream raw = super.getOutputStream();
                output = new OutputStream()
                {
                    private boolean first = true;

                    @Override
                    public void write(int b) throws IOException
                    {
                        write(new byte[]{(byte)b}, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException
                    {
                        if (first)
                        {
                            first = false;
                            byte[] joined = new byte[prefix.length + len];
                            System.arraycopy(prefix, 0, joined, 0, prefix.length);
                            System.arraycopy(b, off, joined, prefix.length, len);
                            raw.write(joined);
                        }
                        else
                        {
                            raw.write(b, off, len);
                        }
                    }

                    @Override
                    public void flush() throws IOException
                    {
                        raw.flush();
                    }
                };
            }
            return output;
        }
    }
}
