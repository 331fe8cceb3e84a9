package dev.dynsni.core.acme;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import dev.dynsni.core.Setting;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

/**
 * acme4j sessions for a directory URL, trusting {@link Setting#ACME_CA_FILE} for the directory's
 * HTTPS when set (a private CA such as Pebble's), else the JDK's trust store.
 *
 * <p>acme4j 4 talks through {@code java.net.http.HttpClient}, which its provider creates
 * ({@code AcmeProvider.createHttpClient}); the generic provider is extended here only to give that
 * client our SSL context, keeping acme4j's redirect, timeout and proxy settings.</p>
 */
public final class AcmeSessions
{
    private AcmeSessions()
    {
    }

    /**
     * acme4j creates keys, CSRs and reads key pairs through the BouncyCastle JCA provider by name
     * ("BC"), as its documentation requires. Added last, so no other lookup (JSSE's) prefers it.
     */
    static void requireBouncyCastle()
    {
        synchronized (AcmeSessions.class)
        {
            if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null)
                Security.addProvider(new BouncyCastleProvider());
        }
    }

    /**
     * @param caFile  PEM of the CAs to trust for the directory's HTTPS, or null for the JDK's
     * @param timeout connect and request timeout of each HTTP exchange with the CA
     * @throws IllegalStateException when the CA file cannot be read, naming the setting
     */
    public static Session open(String directoryUrl, Path caFile, Duration timeout)
    {
        URI uri;
        try
        {
            uri = URI.create(directoryUrl);
        }
        catch (IllegalArgumentException x)
        {
            throw new IllegalStateException(Setting.ACME_DIRECTORY_URL.property() + "='" + directoryUrl + "' is not a URL: " + x.getMessage());
        }
        if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()))
            throw new IllegalStateException(Setting.ACME_DIRECTORY_URL.property() + "='" + directoryUrl + "' is not an https URL of an ACME directory, e.g. https://acme-staging-v02.api.letsencrypt.org/directory");
        requireBouncyCastle();
        SSLContext sslContext = caFile == null ? null : trusting(caFile);
        Session session = new Session(uri, new GenericAcmeProvider()
        {
            @Override
            public HttpClient createHttpClient(NetworkSettings settings)
            {
                HttpClient.Builder builder = HttpClient.newBuilder()
                    .followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(settings.getTimeout())
                    .proxy(settings.getProxySelector());
                if (settings.getAuthenticator() != null)
                    builder.authenticator(settings.getAuthenticator());
                if (sslContext != null)
                    builder.sslContext(sslContext);
                return builder.build();
            }
        });
        session.networkSettings().setTimeout(timeout);
        return session;
    }

    static SSLContext trusting(Path caFile)
    {
        try (InputStream in = Files.newInputStream(caFile))
        {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certificates.isEmpty())
                throw new IllegalStateException(Setting.ACME_CA_FILE.property() + "=" + caFile + " holds no PEM certificate");
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate certificate : certificates)
            {
                trust.setCertificateEntry("ca" + i++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        }
        catch (IOException x)
        {
            throw new IllegalStateException(Setting.ACME_CA_FILE.property() + "=" + caFile + " cannot be read: " + x.getMessage());
        }
        catch (GeneralSecurityException x)
        {
            throw new IllegalStateException(Setting.ACME_CA_FILE.property() + "=" + caFile + " is not a PEM file of CA certificates: " + x.getMessage());
        }
    }
}
