package demo.dynsni;

import java.io.IOException;
import java.lang.reflect.Method;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLSession;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * One page per tenant: the tenant named by the request's host, and what its TLS connection really
 * used (the certificate the server sent, TLS protocol, cipher suite, HTTP version negotiated by
 * ALPN). HTML by default; JSON for {@code ?format=json}, {@code /info.json} or
 * {@code Accept: application/json}.
 *
 * <p>A host is a tenant when it lies under the demo domain (context parameter
 * {@code demo.domain}, default {@code demo.test}) and the certificate actually served on the
 * connection covers it. Anything else (another domain, the default certificate, a plain
 * connection) gets a plain 404.</p>
 *
 * <p>The certificate comes from the TLS session that Jetty exposes as the request attribute
 * {@value #SSL_SESSION_DATA_ATTRIBUTE}. Jetty's classes are hidden from web applications, so the
 * session is read through the public interface by reflection; everything used afterwards is JDK API.</p>
 */
public class TenantServlet extends HttpServlet
{
    static final String SSL_SESSION_DATA_ATTRIBUTE = "org.eclipse.jetty.io.Endpoint.SslSessionData";
    private static final List<String> ISOLATION_PROBES = List.of("org.redisson.Redisson", "io.netty.channel.Channel", "dev.dynsni.DynamicSniSslContextFactory", "org.postgresql.Driver", "org.eclipse.jetty.server.Server");

    private String domain = "demo.test";

    @Override
    public void init()
    {
        String configured = getServletContext().getInitParameter("demo.domain");
        if (configured != null && !configured.isBlank())
            domain = configured.trim().toLowerCase(Locale.ROOT);
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException
    {
        boolean json = "json".equalsIgnoreCase(request.getParameter("format"))
            || request.getRequestURI().endsWith("/info.json")
            || String.valueOf(request.getHeader("Accept")).startsWith("application/json");
        String host = normalize(request.getServerName());
        SSLSession session = sslSession(request);
        X509Certificate certificate = localCertificate(session);
        String tenant = tenantOf(host);
        response.setHeader("Cache-Control", "no-store");

        if (tenant == null || certificate == null || !covers(certificate, host))
        {
            response.setStatus(HttpServletResponse.SC_NOT_FOUND);
            if (json)
            {
                Map<String, Object> error = new LinkedHashMap<>();
                error.put("error", "no tenant here");
                error.put("host", host);
                write(response, "application/json", Json.write(error));
            }
            else
            {
                write(response, "text/plain", "404 Not Found\n\nNo tenant is served at " + host + ".\n");
            }
            return;
        }

        Map<String, Object> facts = facts(request, host, tenant, session, certificate);
        if (json)
            write(response, "application/json", Json.write(facts));
        else
            write(response, "text/html", Html.page(facts));
    }

    private Map<String, Object> facts(HttpServletRequest request, String host, String tenant, SSLSession session, X509Certificate certificate)
    {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("tenant", tenant);
        facts.put("host", host);
        Map<String, Object> cert = new LinkedHashMap<>();
        cert.put("subject", certificate.getSubjectX500Principal().getName());
        cert.put("issuer", certificate.getIssuerX500Principal().getName());
        cert.put("sans", dnsNames(certificate));
        cert.put("serial", certificate.getSerialNumber().toString(16));
        cert.put("keyType", keyType(certificate.getPublicKey()));
        cert.put("notBefore", certificate.getNotBefore().toInstant().toString());
        cert.put("notAfter", certificate.getNotAfter().toInstant().toString());
        cert.put("sha256", fingerprint(certificate));
        facts.put("certificate", cert);
        Map<String, Object> tls = new LinkedHashMap<>();
        tls.put("protocol", session.getProtocol());
        tls.put("cipherSuite", session.getCipherSuite());
        facts.put("tls", tls);
        facts.put("httpVersion", request.getProtocol());
        facts.put("alpn", "HTTP/2.0".equals(request.getProtocol()) ? "h2" : "http/1.1");
        Map<String, Object> isolation = new LinkedHashMap<>();
        for (String probe : ISOLATION_PROBES)
        {
            isolation.put(probe, visible(probe));
        }
        facts.put("serverClassesVisible", isolation);
        return facts;
    }

    private String tenantOf(String host)
    {
        if (host == null || !host.endsWith("." + domain))
            return null;
        String tenant = host.substring(0, host.length() - domain.length() - 1);
        if (tenant.isEmpty() || tenant.equals("default"))
            return null;
        return tenant;
    }

    private static String normalize(String host)
    {
        if (host == null)
            return null;
        String normalized = host.toLowerCase(Locale.ROOT);
        return normalized.endsWith(".") ? normalized.substring(0, normalized.length() - 1) : normalized;
    }

    /**
     * @return whether one of the certificate's DNS names covers the host (a wildcard covers exactly one label)
     */
    static boolean covers(X509Certificate certificate, String host)
    {
        for (String name : dnsNames(certificate))
        {
            String pattern = name.toLowerCase(Locale.ROOT);
            if (pattern.equals(host))
                return true;
            if (pattern.startsWith("*."))
            {
                int dot = host.indexOf('.');
                if (dot > 0 && host.substring(dot + 1).equals(pattern.substring(2)))
                    return true;
            }
        }
        return false;
    }

    static List<String> dnsNames(X509Certificate certificate)
    {
        List<String> names = new ArrayList<>();
        try
        {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null)
            {
                for (List<?> san : sans)
                {
                    if (Integer.valueOf(2).equals(san.get(0)))
                        names.add(String.valueOf(san.get(1)));
                }
            }
        }
        catch (CertificateParsingException x)
        {
            // no names
        }
        return names;
    }

    private static String keyType(PublicKey key)
    {
        if (key instanceof ECPublicKey ec)
            return "EC P-" + ec.getParams().getCurve().getField().getFieldSize();
        if (key instanceof RSAPublicKey rsa)
            return "RSA " + rsa.getModulus().bitLength();
        return key.getAlgorithm();
    }

    private static String fingerprint(X509Certificate certificate)
    {
        try
        {
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        }
        catch (NoSuchAlgorithmException | CertificateEncodingException x)
        {
            return null;
        }
    }

    private boolean visible(String className)
    {
        try
        {
            Class.forName(className, false, getClass().getClassLoader());
            return true;
        }
        catch (ClassNotFoundException | LinkageError x)
        {
            return false;
        }
    }

    /**
     * @return the TLS session of the request's connection, or null on a plain connection
     */
    static SSLSession sslSession(HttpServletRequest request)
    {
        Object data = request.getAttribute(SSL_SESSION_DATA_ATTRIBUTE);
        if (data == null)
            return null;
        for (Class<?> type = data.getClass(); type != null; type = type.getSuperclass())
        {
            for (Class<?> contract : type.getInterfaces())
            {
                try
                {
                    Method method = contract.getMethod("sslSession");
                    if (method.invoke(data) instanceof SSLSession sslSession)
                        return sslSession;
                }
                catch (ReflectiveOperationException | RuntimeException x)
                {
                    // try the next interface
                }
            }
        }
        return null;
    }

    private static X509Certificate localCertificate(SSLSession session)
    {
        if (session == null)
            return null;
        Certificate[] certificates = session.getLocalCertificates();
        if (certificates == null || certificates.length == 0 || !(certificates[0] instanceof X509Certificate certificate))
            return null;
        return certificate;
    }

    private static void write(HttpServletResponse response, String contentType, String body) throws IOException
    {
        response.setContentType(contentType);
        response.setCharacterEncoding("UTF-8");
        response.getWriter().write(body);
    }
}
