package dev.dynsni;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;

import dev.dynsni.core.Credential;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key manager the TLS engine asks during each handshake: it asks the {@link CertificateResolver}
 * once per handshake (the answer is memoised on the handshake session, since JSSE asks once per
 * candidate key type) and answers with the alias of the credential of the requested key type.
 *
 * <p>{@link #getPrivateKey(String)} and {@link #getCertificateChain(String)} are called on the same
 * thread right after a non-null alias; the chosen credential is kept in a thread-local so both
 * return parts of exactly that credential, whatever the cache holds by then. Nothing thrown here
 * reaches the engine: errors are counted and answered with {@code null}, which makes it send an alert.</p>
 */
final class SniKeyManager extends X509ExtendedKeyManager
{
    private static final Logger LOG = LoggerFactory.getLogger(SniKeyManager.class);
    static final String RESOLUTION_ATTRIBUTE = "dev.dynsni.resolution";

    private final CertificateResolver resolver;
    private final DynamicSniStatistics statistics;
    private final ThreadLocal<Credential> chosen = new ThreadLocal<>();

    SniKeyManager(CertificateResolver resolver, DynamicSniStatistics statistics)
    {
        this.resolver = resolver;
        this.statistics = statistics;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine)
    {
        return choose(keyType, engine == null ? null : engine.getHandshakeSession(), engine);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket)
    {
        return choose(keyType, socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null, null);
    }

    private String choose(String keyType, SSLSession session, SSLEngine engine)
    {
        try
        {
            if (session == null || keyType == null)
                return null;
            CertificateResolver.Resolution resolution = (CertificateResolver.Resolution)session.getValue(RESOLUTION_ATTRIBUTE);
            if (resolution == null)
            {
                resolution = resolver.resolve(session, engine);
                session.putValue(RESOLUTION_ATTRIBUTE, resolution);
                if (resolution.host() != null)
                    session.putValue(SslContextFactory.Server.SNI_HOST, resolution.host());
            }
            Credential credential = resolution.select(keyType, System.currentTimeMillis());
            if (credential == null)
                return null;
            chosen.set(credential);
            return credential.getAlias();
        }
        catch (Throwable x)
        {
            statistics.keyManagerErrors.increment();
            if (LOG.isDebugEnabled())
                LOG.debug("Key manager failed keyType={}", keyType, x);
            return null;
        }
    }

    private Credential credentialFor(String alias)
    {
        if (alias == null)
            return null;
        Credential credential = chosen.get();
        if (credential != null && credential.getAlias().equals(alias))
            return credential;
        // Not the thread that chose it: only if the resolver still holds exactly that credential.
        return resolver.byAlias(alias);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias)
    {
        try
        {
            Credential credential = credentialFor(alias);
            return credential == null ? null : credential.getChain();
        }
        catch (Throwable x)
        {
            statistics.keyManagerErrors.increment();
            return null;
        }
    }

    @Override
    public PrivateKey getPrivateKey(String alias)
    {
        try
        {
            Credential credential = credentialFor(alias);
            return credential == null ? null : credential.getPrivateKey();
        }
        catch (Throwable x)
        {
            statistics.keyManagerErrors.increment();
            return null;
        }
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers)
    {
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers)
    {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket)
    {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine)
    {
        return null;
    }
}
