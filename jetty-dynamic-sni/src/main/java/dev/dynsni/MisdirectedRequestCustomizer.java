package dev.dynsni;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLSession;

import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.util.HostPort;
import org.eclipse.jetty.util.StringUtil;
import org.eclipse.jetty.util.ssl.X509;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code 421 Misdirected Request} (RFC 9110 §15.5.20) when the host a request names
 * (HTTP/1.1 {@code Host}, HTTP/2 {@code :authority}) is not covered by the certificate served on the
 * request's TLS connection.
 *
 * <p>With certificates chosen per SNI, one connection serves one tenant's certificate. An HTTP/2
 * client may reuse ("coalesce") that connection for another host, and a client may send an SNI that
 * differs from its {@code Host}: both must never reach another tenant's content. A 421 tells the
 * client to retry on a fresh connection, which then gets its own certificate. Jetty's
 * {@link SecureRequestCustomizer} answers such requests with {@code 400 Invalid SNI}, so this
 * customizer must run before it: add it to the shared {@code httpConfig} before the TLS
 * {@code HttpConfiguration} is copied from it (the {@code dynamic-sni} module does), or insert it
 * ahead of the {@code SecureRequestCustomizer}.</p>
 *
 * <p>Requests on plain connections, and requests without an authority (HTTP/1.0 without
 * {@code Host}), pass unchanged. The certificate is read from the TLS session (the local
 * certificate really sent), parsed once per session and kept in the session under
 * {@link SecureRequestCustomizer#X509_ATTRIBUTE}, where Jetty looks for it too. Thread-safe and
 * allocation-free for a session already seen.</p>
 */
public class MisdirectedRequestCustomizer implements HttpConfiguration.Customizer
{
    private static final Logger LOG = LoggerFactory.getLogger(MisdirectedRequestCustomizer.class);

    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders)
    {
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        EndPoint.SslSessionData sslSessionData = endPoint == null ? null : endPoint.getSslSessionData();
        SSLSession session = sslSessionData == null ? null : sslSessionData.sslSession();
        if (session == null)
            return request;

        // HTTP/1.0 without Host: Jetty fills the authority from the local address; nothing was named.
        HttpURI uri = request.getHttpURI();
        String host = uri.hasAuthority() ? uri.getHost() : null;
        if (StringUtil.isBlank(host) || (request.getConnectionMetaData().getHttpVersion().getVersion() < 20 && !request.getHeaders().contains(HttpHeader.HOST)))
            return request;
        host = normalize(host);

        X509 x509 = getX509(session);
        if (x509 != null && x509.matches(host))
            return request;

        if (LOG.isDebugEnabled())
            LOG.debug("Misdirected request host={} certificate={} remote={}", host, x509, request.getConnectionMetaData().getRemoteSocketAddress());
        throw new HttpException.RuntimeException(HttpStatus.MISDIRECTED_REQUEST_421, "Misdirected Request");
    }

    private static String normalize(String host)
    {
        String normalized = HostPort.normalizeHost(host);
        if (normalized.startsWith("[") && normalized.endsWith("]"))
            normalized = normalized.substring(1, normalized.length() - 1);
        if (normalized.endsWith("."))
            normalized = normalized.substring(0, normalized.length() - 1);
        return normalized;
    }

    /**
     * @return the parsed local certificate of the session, or null when the session has none
     */
    protected X509 getX509(SSLSession session)
    {
        Object cached = session.getValue(SecureRequestCustomizer.X509_ATTRIBUTE);
        if (cached instanceof X509 x509)
            return x509;
        Certificate[] certificates = session.getLocalCertificates();
        if (certificates == null || certificates.length == 0 || !(certificates[0] instanceof X509Certificate certificate))
            return null;
        try
        {
            X509 x509 = new X509(null, certificate);
            session.putValue(SecureRequestCustomizer.X509_ATTRIBUTE, x509);
            return x509;
        }
        catch (Exception x)
        {
            if (LOG.isDebugEnabled())
                LOG.debug("Cannot parse local certificate subject={}", certificate.getSubjectX500Principal(), x);
            return null;
        }
    }

    @Override
    public String toString()
    {
        return getClass().getSimpleName();
    }
}
