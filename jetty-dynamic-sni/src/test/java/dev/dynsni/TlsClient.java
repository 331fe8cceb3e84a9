package dev.dynsni;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real JDK TLS client for tests: one full handshake on a new connection with the SNI, protocols,
 * cipher suites and ALPN protocols given; reports the leaf certificate the server sent.
 */
final class TlsClient
{
    private final javax.net.ssl.TrustManager[] trustManagers;

    TlsClient(X509Certificate trustedCa) throws Exception
    {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", trustedCa);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        trustManagers = tmf.getTrustManagers();
    }

    /** A context per handshake: no session is ever resumed, every handshake is a full one. */
    private SSLContext newContext() throws java.security.GeneralSecurityException
    {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trustManagers, null);
        return context;
    }

    /** What one handshake gave. */
    record Result(X509Certificate leaf, String protocol, String cipherSuite, String alpn, Exception failure)
    {
        boolean ok()
        {
            return failure == null;
        }

        String cn()
        {
            return leaf == null ? null : leaf.getSubjectX500Principal().getName();
        }

        String keyType()
        {
            return leaf == null ? null : leaf.getPublicKey().getAlgorithm();
        }
    }

    Result handshake(int port, String sni)
    {
        return handshake(port, sni == null ? List.of() : List.of(new SNIHostName(sni)), null, null);
    }

    /** Sends raw bytes as the host_name, even ones JSSE's SNIHostName would refuse. */
    Result handshakeRawSni(int port, String rawSni)
    {
        SNIServerName raw = new SNIServerName(0, rawSni.getBytes(StandardCharsets.ISO_8859_1))
        {
        };
        return handshake(port, List.of(raw), null, null);
    }

    Result handshake(int port, List<SNIServerName> serverNames, String[] protocols, String[] cipherSuites)
    {
        try (SSLSocket socket = (SSLSocket)newContext().getSocketFactory().createSocket())
        {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(serverNames);
            parameters.setApplicationProtocols(new String[]{"h2", "http/1.1"});
            parameters.setEndpointIdentificationAlgorithm(null);
            if (protocols != null)
                parameters.setProtocols(protocols);
            if (cipherSuites != null)
                parameters.setCipherSuites(cipherSuites);
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            X509Certificate leaf = (X509Certificate)socket.getSession().getPeerCertificates()[0];
            Result result = new Result(leaf, socket.getSession().getProtocol(), socket.getSession().getCipherSuite(), socket.getApplicationProtocol(), null);
            // never resume: the next handshake must be a full one that asks the key manager again
            socket.getSession().invalidate();
            return result;
        }
        catch (IOException | RuntimeException | java.security.GeneralSecurityException x)
        {
            return new Result(null, null, null, null, x);
        }
    }
}
