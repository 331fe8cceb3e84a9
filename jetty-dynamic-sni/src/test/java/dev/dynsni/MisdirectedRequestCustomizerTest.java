package dev.dynsni;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;

import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream.Listener;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FuturePromise;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The 421 customizer in an embedded Jetty laid out like the {@code dynamic-sni} module lays out a
 * distribution: customizer on the shared {@code httpConfig}, the TLS configuration copied from it,
 * then Jetty's {@link SecureRequestCustomizer} (host check on). Certificates come from a stock
 * keystore here: the customizer only looks at the certificate the session really used.
 */
class MisdirectedRequestCustomizerTest
{
    private static final String PASSWORD = "secret";
    private static CertificateAuthority pki;
    private static Server server;
    private static ServerConnector tlsConnector;
    private static ServerConnector plainConnector;
    private static HTTP2Client http2Client;

    @BeforeAll
    static void start() throws Exception
    {
        pki = CertificateAuthority.create("421 test CA");
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        add(keyStore, "t1", pki.ec("t1.example"));
        add(keyStore, "t2", pki.ec("t2.example"));
        add(keyStore, "wild", pki.ec("*.wild.example"));

        SslContextFactory.Server sslContextFactory = new SslContextFactory.Server();
        sslContextFactory.setKeyStore(keyStore);
        sslContextFactory.setKeyStorePassword(PASSWORD);

        server = new Server();
        HttpConfiguration httpConfig = new HttpConfiguration();
        httpConfig.addCustomizer(new MisdirectedRequestCustomizer());
        HttpConfiguration sslHttpConfig = new HttpConfiguration(httpConfig);
        sslHttpConfig.addCustomizer(new SecureRequestCustomizer(true));

        HttpConnectionFactory http11 = new HttpConnectionFactory(sslHttpConfig);
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(sslHttpConfig);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        SslConnectionFactory tls = new SslConnectionFactory(sslContextFactory, alpn.getProtocol());
        tlsConnector = new ServerConnector(server, tls, alpn, h2, http11);
        tlsConnector.setHost("127.0.0.1");
        plainConnector = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
        plainConnector.setHost("127.0.0.1");
        server.addConnector(tlsConnector);
        server.addConnector(plainConnector);
        server.setHandler(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.setStatus(200);
                response.write(true, StandardCharsets.UTF_8.encode("tenant " + Request.getServerName(request)), callback);
                return true;
            }
        });
        server.start();

        http2Client = new HTTP2Client();
        http2Client.start();
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (http2Client != null)
            http2Client.stop();
        if (server != null)
            server.stop();
    }

    static Stream<Arguments> http11Cases()
    {
        return Stream.of(
            Arguments.of("t1.example", "t1.example", 200),
            Arguments.of("t1.example", "T1.Example", 200),
            Arguments.of("t1.example", "t1.example:443", 200),
            Arguments.of("t1.example", "t2.example", 421),
            Arguments.of("t2.example", "t1.example", 421),
            Arguments.of("a.wild.example", "a.wild.example", 200),
            Arguments.of("a.wild.example", "b.wild.example", 200),
            Arguments.of("a.wild.example", "x.a.wild.example", 421),
            Arguments.of("a.wild.example", "t1.example", 421),
            Arguments.of("t1.example", "127.0.0.1", 421)
        );
    }

    @ParameterizedTest(name = "SNI {0}, Host {1} -> {2}")
    @MethodSource("http11Cases")
    void http11_hostNotCoveredByServedCertificate_gets421(String sni, String host, int expected) throws Exception
    {
        assertEquals(expected, http11Status(sni, "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"));
    }

    @Test
    void http10_withoutHost_isLeftToJetty() throws Exception
    {
        // No authority named: nothing misdirected; Jetty's own SNI host check then answers 400.
        assertEquals(400, http11Status("t1.example", "GET / HTTP/1.0\r\n\r\n"));
    }

    @Test
    void http11_fullyQualifiedHostWithTrailingDot_isNotMisdirected() throws Exception
    {
        // Covered by the certificate once the dot is stripped; Jetty's host check (no stripping) then answers 400.
        assertEquals(400, http11Status("t1.example", "GET / HTTP/1.1\r\nHost: t1.example.\r\nConnection: close\r\n\r\n"));
    }

    @Test
    void plainConnection_isNotChecked() throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", plainConnector.getLocalPort()))
        {
            assertEquals(200, exchange(socket, "GET / HTTP/1.1\r\nHost: t2.example\r\nConnection: close\r\n\r\n"));
        }
    }

    static Stream<Arguments> http2Cases()
    {
        return Stream.of(
            Arguments.of("t1.example", "t1.example", 200),
            Arguments.of("t1.example", "t2.example", 421),
            Arguments.of("a.wild.example", "b.wild.example", 200),
            Arguments.of("a.wild.example", "t2.example", 421)
        );
    }

    @ParameterizedTest(name = "SNI {0}, :authority {1} -> {2}")
    @MethodSource("http2Cases")
    void http2_authorityNotCoveredByServedCertificate_gets421(String sni, String authority, int expected) throws Exception
    {
        assertEquals(expected, http2Status(sni, authority));
    }

    @Test
    void http2_coalescedRequestsOnOneConnection_eachChecked() throws Exception
    {
        Session session = http2Session("t1.example");
        try
        {
            assertEquals(200, http2Status(session, "t1.example"));
            assertEquals(421, http2Status(session, "t2.example"));
            assertEquals(200, http2Status(session, "t1.example"));
        }
        finally
        {
            session.close(0, "done", Callback.NOOP);
        }
    }

    private static int http11Status(String sni, String rawRequest) throws Exception
    {
        TlsClient client = TlsClient.trusting(pki.caCertificate()).applicationProtocols("http/1.1").timeoutMillis(5000);
        try (SSLSocket socket = client.connect(tlsConnector.getLocalPort(), sni))
        {
            return exchange(socket, rawRequest);
        }
    }

    private static int exchange(Socket socket, String rawRequest) throws Exception
    {
        OutputStream out = socket.getOutputStream();
        out.write(rawRequest.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        String statusLine = in.readLine();
        return Integer.parseInt(statusLine.split(" ")[1]);
    }

    private static int http2Status(String sni, String authority) throws Exception
    {
        Session session = http2Session(sni);
        try
        {
            return http2Status(session, authority);
        }
        finally
        {
            session.close(0, "done", Callback.NOOP);
        }
    }

    private static Session http2Session(String sni) throws Exception
    {
        SslContextFactory.Client clientTls = new SslContextFactory.Client();
        clientTls.setTrustStore(TlsClient.trustStore(pki.caCertificate()));
        clientTls.setEndpointIdentificationAlgorithm(null);
        http2Client.addBean(clientTls);
        clientTls.start();
        // The TLS client sends the host string of the address as SNI; the address itself is loopback.
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByAddress(sni, new byte[]{127, 0, 0, 1}), tlsConnector.getLocalPort());
        FuturePromise<Session> promise = new FuturePromise<>();
        http2Client.connect(clientTls, address, new Session.Listener()
        {
        }, promise);
        Session session = promise.get(5, TimeUnit.SECONDS);
        return session;
    }

    private static int http2Status(Session session, String authority) throws Exception
    {
        HttpURI uri = HttpURI.from("https", authority, tlsConnector.getLocalPort(), "/");
        MetaData.Request request = new MetaData.Request("GET", uri, HttpVersion.HTTP_2, HttpFields.EMPTY);
        CompletableFuture<Integer> status = new CompletableFuture<>();
        session.newStream(new HeadersFrame(request, null, true), new Listener()
        {
            @Override
            public void onHeaders(org.eclipse.jetty.http2.api.Stream stream, HeadersFrame frame)
            {
                if (frame.getMetaData() instanceof MetaData.Response response)
                    status.complete(response.getStatus());
            }

            @Override
            public void onDataAvailable(org.eclipse.jetty.http2.api.Stream stream)
            {
                org.eclipse.jetty.http2.api.Stream.Data data = stream.readData();
                if (data != null)
                    data.release();
                if (data == null || !data.frame().isEndStream())
                    stream.demand();
            }
        });
        return status.get(5, TimeUnit.SECONDS);
    }

    private static void add(KeyStore keyStore, String alias, IssuedCertificate issued) throws Exception
    {
        keyStore.setKeyEntry(alias, issued.key(), PASSWORD.toCharArray(), new Certificate[]{issued.certificate(), issued.ca()});
    }
}
