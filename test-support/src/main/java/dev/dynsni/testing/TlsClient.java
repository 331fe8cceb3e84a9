package dev.dynsni.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JDK TLS client of the tests and the benchmarks: a new TCP connection (or one the caller
 * opened, e.g. after a PROXY line) and one handshake per call, with the SNI given explicitly,
 * even bytes {@link SNIHostName} would refuse.
 *
 * <p>By default no session is ever resumed, so every handshake is a full one that asks the key
 * manager: the JDK client only offers a session (TLS 1.2 id or ticket, TLS 1.3 PSK) cached under
 * the same peer host and port, and every socket gets a peer host of its own, so nothing is ever
 * found; the session cache holds one entry. {@link #resumingSessions()} gives a client that
 * resumes, as browsers do, per SNI host and port.</p>
 *
 * <p>Immutable: the {@code with}-style methods return a new client sharing this one's trust.</p>
 */
public final class TlsClient
{
    private static final AtomicLong PEER_KEYS = new AtomicLong();

    private final TrustManager[] trustManagers;
    private final SSLContext context;
    private final boolean resume;
    private final String[] protocols;
    private final String[] cipherSuites;
    private final String[] applicationProtocols;
    private final boolean verifyHostName;
    private final int timeoutMillis;

    private TlsClient(TrustManager[] trustManagers, SSLContext context, boolean resume, String[] protocols, String[] cipherSuites,
                      String[] applicationProtocols, boolean verifyHostName, int timeoutMillis)
    {
        this.trustManagers = trustManagers;
        this.context = context;
        this.resume = resume;
        this.protocols = protocols;
        this.cipherSuites = cipherSuites;
        this.applicationProtocols = applicationProtocols;
        this.verifyHostName = verifyHostName;
        this.timeoutMillis = timeoutMillis;
    }

    private static TlsClient create(TrustManager[] trustManagers)
    {
        return create(trustManagers, null);
    }

    private static TlsClient create(TrustManager[] trustManagers, Provider provider)
    {
        return new TlsClient(trustManagers, newContext(trustManagers, false, provider), false, null, null, new String[]{"h2", "http/1.1"}, false, 10_000);
    }

    /** A client that trusts certificates issued by these CAs only. */
    public static TlsClient trusting(X509Certificate... cas)
    {
        return trusting(trustStore(cas));
    }

    /** A client that trusts the certificates of this trust store only. */
    public static TlsClient trusting(KeyStore trustStore)
    {
        try
        {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trustStore);
            return create(factory.getTrustManagers());
        }
        catch (GeneralSecurityException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /**
     * A client that accepts any server certificate (the server's signature over the handshake is
     * still checked): for benchmarks, which measure handshakes, not PKI.
     */
    public static TlsClient trustingAnyCertificate()
    {
        return create(new TrustManager[]{new TrustAll()});
    }

    /**
     * {@link #trustingAnyCertificate()} on another JCA provider's TLS engine (e.g. Conscrypt's, a
     * cheaper client for load generation).
     */
    public static TlsClient trustingAnyCertificate(Provider provider)
    {
        return create(new TrustManager[]{new TrustAll()}, provider);
    }

    /** @return a PKCS12 trust store holding the CAs */
    public static KeyStore trustStore(X509Certificate... cas)
    {
        try
        {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            for (int i = 0; i < cas.length; i++)
            {
                trust.setCertificateEntry(i == 0 ? "ca" : "ca" + i, cas[i]);
            }
            return trust;
        }
        catch (GeneralSecurityException | IOException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /** @return this client offering only these protocols, e.g. {@code TLSv1.2} */
    public TlsClient protocols(String... protocols)
    {
        return new TlsClient(trustManagers, context, resume, protocols, cipherSuites, applicationProtocols, verifyHostName, timeoutMillis);
    }

    /** @return this client offering only these cipher suites */
    public TlsClient cipherSuites(String... cipherSuites)
    {
        return new TlsClient(trustManagers, context, resume, protocols, cipherSuites, applicationProtocols, verifyHostName, timeoutMillis);
    }

    /** @return this client offering these ALPN protocols (default {@code h2, http/1.1}; none: no ALPN) */
    public TlsClient applicationProtocols(String... applicationProtocols)
    {
        return new TlsClient(trustManagers, context, resume, protocols, cipherSuites, applicationProtocols, verifyHostName, timeoutMillis);
    }

    /** @return this client also checking that the certificate covers the SNI host (HTTPS endpoint identification) */
    public TlsClient verifyingHostName()
    {
        return new TlsClient(trustManagers, context, resume, protocols, cipherSuites, applicationProtocols, true, timeoutMillis);
    }

    /** @return this client with this connect and read timeout (default 10 s) */
    public TlsClient timeoutMillis(int timeoutMillis)
    {
        return new TlsClient(trustManagers, context, resume, protocols, cipherSuites, applicationProtocols, verifyHostName, timeoutMillis);
    }

    /** @return a client with a session cache of its own that resumes sessions per SNI host and port */
    public TlsClient resumingSessions()
    {
        return new TlsClient(trustManagers, newContext(trustManagers, true), true, protocols, cipherSuites, applicationProtocols, verifyHostName, timeoutMillis);
    }

    /** What one handshake gave: the leaf served, or the failure. */
    public record Result(X509Certificate leaf, String protocol, String cipherSuite, String alpn, Exception failure)
    {
        public boolean ok()
        {
            return failure == null;
        }

        /** @return the leaf's subject, or null */
        public String cn()
        {
            return leaf == null ? null : leaf.getSubjectX500Principal().getName();
        }

        /** @return the leaf's key algorithm ({@code EC}, {@code RSA}), or null */
        public String keyType()
        {
            return leaf == null ? null : leaf.getPublicKey().getAlgorithm();
        }
    }

    /** One handshake with 127.0.0.1:port; no SNI when {@code sni} is null. Never throws. */
    public Result handshake(int port, String sni)
    {
        return handshakeOffering(port, sni == null ? List.of() : List.of(new SNIHostName(sni)));
    }

    /** One handshake sending these bytes as the host_name, even ones {@link SNIHostName} would refuse. Never throws. */
    public Result handshakeRawSni(int port, String rawSni)
    {
        SNIServerName raw = new SNIServerName(0, rawSni.getBytes(StandardCharsets.ISO_8859_1))
        {
        };
        return handshakeOffering(port, List.of(raw));
    }

    /** One handshake offering these exact bytes as the host_name (e.g. a name in raw UTF-8). */
    public Result handshakeRawSni(int port, byte[] rawSni)
    {
        SNIServerName raw = new SNIServerName(0, rawSni)
        {
        };
        return handshakeOffering(port, List.of(raw));
    }

    private Result handshakeOffering(int port, List<SNIServerName> serverNames)
    {
        try (SSLSocket socket = connectOffering(new InetSocketAddress("127.0.0.1", port), serverNames))
        {
            X509Certificate leaf = (X509Certificate)socket.getSession().getPeerCertificates()[0];
            return new Result(leaf, socket.getSession().getProtocol(), socket.getSession().getCipherSuite(), socket.getApplicationProtocol(), null);
        }
        catch (IOException | RuntimeException x)
        {
            return new Result(null, null, null, null, x);
        }
    }

    /** One handshake; the leaf certificate served. */
    public X509Certificate leaf(InetSocketAddress address, String sni) throws IOException
    {
        try (SSLSocket socket = connect(address, sni))
        {
            return (X509Certificate)socket.getSession().getPeerCertificates()[0];
        }
    }

    /** Connects to 127.0.0.1:port and handshakes with the SNI. */
    public SSLSocket connect(int port, String sni) throws IOException
    {
        return connect(new InetSocketAddress("127.0.0.1", port), sni);
    }

    /** Connects and handshakes with the SNI (none when null). */
    public SSLSocket connect(InetSocketAddress address, String sni) throws IOException
    {
        return connectOffering(address, sni == null ? List.of() : List.of(new SNIHostName(sni)));
    }

    private SSLSocket connectOffering(InetSocketAddress address, List<SNIServerName> serverNames) throws IOException
    {
        Socket plain = new Socket();
        try
        {
            plain.setTcpNoDelay(true);
            plain.connect(address, timeoutMillis);
            return handshakeOver(plain, serverNames);
        }
        catch (IOException | RuntimeException x)
        {
            plain.close();
            throw x;
        }
    }

    /** Handshakes with the SNI over a connection the caller opened (and may have written to); closing the TLS socket closes it. */
    public SSLSocket connect(Socket plain, String sni) throws IOException
    {
        return handshakeOver(plain, sni == null ? List.of() : List.of(new SNIHostName(sni)));
    }

    private SSLSocket handshakeOver(Socket plain, List<SNIServerName> serverNames) throws IOException
    {
        plain.setSoTimeout(timeoutMillis);
        String peerHost = resume ? resumptionKey(plain, serverNames) : "peer" + PEER_KEYS.incrementAndGet() + ".invalid";
        SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket(plain, peerHost, plain.getPort(), true);
        try
        {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(serverNames);
            if (protocols != null)
                parameters.setProtocols(protocols);
            if (cipherSuites != null)
                parameters.setCipherSuites(cipherSuites);
            parameters.setApplicationProtocols(applicationProtocols);
            parameters.setEndpointIdentificationAlgorithm(verifyHostName ? "HTTPS" : null);
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return socket;
        }
        catch (IOException | RuntimeException x)
        {
            socket.close();
            throw x;
        }
    }

    private static String resumptionKey(Socket plain, List<SNIServerName> serverNames)
    {
        for (SNIServerName name : serverNames)
        {
            if (name instanceof SNIHostName host)
                return host.getAsciiName();
        }
        return plain.getInetAddress().getHostAddress();
    }

    /**
     * Sends {@code GET / HTTP/1.1} with {@code Connection: close} and reads the response to the end
     * (which also lets a TLS 1.3 client store the session tickets that follow the handshake).
     *
     * @return the status code, -1 when the answer is not HTTP/1.x
     */
    public static int request(SSLSocket socket, String host) throws IOException
    {
        OutputStream out = socket.getOutputStream();
        out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        int total = 0;
        int status = -1;
        int read;
        while ((read = in.read(buffer)) >= 0)
        {
            if (status < 0 && total == 0 && read >= 12 && new String(buffer, 0, 5, StandardCharsets.US_ASCII).equals("HTTP/"))
                status = Integer.parseInt(new String(buffer, 9, 3, StandardCharsets.US_ASCII));
            total += read;
        }
        return status;
    }

    /**
     * Sends {@code GET path HTTP/1.1} with {@code Connection: close}.
     *
     * @return the whole response, status line, headers and body
     */
    public static String get(SSLSocket socket, String host, String path) throws IOException
    {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static SSLContext newContext(TrustManager[] trustManagers, boolean resume)
    {
        return newContext(trustManagers, resume, null);
    }

    /** @param provider the JCA provider of the TLS engine; null for the JDK's default */
    private static SSLContext newContext(TrustManager[] trustManagers, boolean resume, Provider provider)
    {
        try
        {
            SSLContext context = provider == null ? SSLContext.getInstance("TLS") : SSLContext.getInstance("TLS", provider);
            context.init(null, trustManagers, null);
            if (!resume)
                context.getClientSessionContext().setSessionCacheSize(1);
            return context;
        }
        catch (GeneralSecurityException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /** Accepts any server certificate. */
    private static final class TrustAll extends X509ExtendedTrustManager
    {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType)
        {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType)
        {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers()
        {
            return new X509Certificate[0];
        }
    }
}
