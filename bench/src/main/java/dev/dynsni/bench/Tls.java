package dev.dynsni.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The benchmark's TLS client: one new TCP connection and one full handshake per call, SNI set
 * explicitly, no session resumption.
 *
 * <p>Resumption is ruled out on the client side: the JDK client only offers a session (TLS 1.2 id or
 * ticket, TLS 1.3 PSK) cached under the same peer host and port, and every socket here is created
 * with a fresh peer-host key, so nothing is ever found; the client session cache holds one entry.
 * The server's key-manager resolution counter, reported next to the results, confirms it.
 * Certificates are not verified (the server's signature still is), so the client spends its CPU on
 * the handshake itself.</p>
 */
final class Tls
{
    static final String TLS13 = "TLSv1.3";
    static final String TLS12 = "TLSv1.2";
    static final String TLS12_CIPHER = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    private static final AtomicLong PEER_KEYS = new AtomicLong();

    private final SSLSocketFactory factory;
    private final String protocol;
    private final String cipher;

    Tls(String protocol)
    {
        this.protocol = protocol;
        this.cipher = TLS12.equals(protocol) ? TLS12_CIPHER : null;
        try
        {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[]{new TrustAll()}, null);
            context.getClientSessionContext().setSessionCacheSize(1);
            factory = context.getSocketFactory();
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    /**
     * Connects, handshakes with the given SNI and returns the connected socket.
     */
    SSLSocket connect(InetSocketAddress address, String sni, int timeoutMillis) throws IOException
    {
        Socket plain = new Socket();
        try
        {
            plain.setTcpNoDelay(true);
            plain.setSoTimeout(timeoutMillis);
            plain.connect(address, timeoutMillis);
            String peerKey = "peer" + PEER_KEYS.incrementAndGet() + ".invalid";
            SSLSocket socket = (SSLSocket)factory.createSocket(plain, peerKey, address.getPort(), true);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(sni)));
            parameters.setProtocols(new String[]{protocol});
            if (cipher != null)
                parameters.setCipherSuites(new String[]{cipher});
            parameters.setApplicationProtocols(new String[]{"http/1.1"});
            parameters.setEndpointIdentificationAlgorithm(null);
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return socket;
        }
        catch (IOException | RuntimeException x)
        {
            plain.close();
            throw x;
        }
    }

    /**
     * One handshake, returning the leaf certificate served.
     */
    X509Certificate leaf(InetSocketAddress address, String sni, int timeoutMillis) throws IOException
    {
        try (SSLSocket socket = connect(address, sni, timeoutMillis))
        {
            return (X509Certificate)socket.getSession().getPeerCertificates()[0];
        }
    }

    /**
     * Sends one HTTP/1.1 request with Connection: close and reads the response to the end.
     *
     * @return the status code
     */
    static int request(SSLSocket socket, String host) throws IOException
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
            if (status < 0 && total == 0 && read >= 12)
                status = Integer.parseInt(new String(buffer, 9, 3, StandardCharsets.US_ASCII));
            total += read;
        }
        return status;
    }

    /** Accepts any server certificate: this client measures handshakes, not PKI. */
    static final class TrustAll extends X509ExtendedTrustManager
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
