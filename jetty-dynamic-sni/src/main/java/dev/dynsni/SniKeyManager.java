package dev.dynsni;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

import dev.dynsni.internal.HostNames;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key manager JSSE asks during each handshake: it reads the SNI host from the handshake session,
 * resolves the host's credentials once per handshake (memoised on the session, since JSSE asks once
 * per candidate key type), and answers with the alias of the credential of the requested key type.
 *
 * <p>{@link #getPrivateKey(String)} and {@link #getCertificateChain(String)} are called on the same
 * thread right after a non-null alias; the chosen credential is kept in a thread-local so both
 * return parts of exactly that credential, whatever the cache holds by then. Nothing thrown here
 * reaches JSSE: errors are counted and answered with {@code null}, which makes JSSE send an alert.</p>
 */
final class SniKeyManager extends X509ExtendedKeyManager
{
    private static final Logger LOG = LoggerFactory.getLogger(SniKeyManager.class);
    static final String RESOLUTION_ATTRIBUTE = "dev.dynsni.resolution";
    private static final Resolution REJECT = new Resolution(null, null, false);

    private final DynamicSniSslContextFactory factory;
    private final ThreadLocal<Credential> chosen = new ThreadLocal<>();

    SniKeyManager(DynamicSniSslContextFactory factory)
    {
        this.factory = factory;
    }

    /** One handshake's answer: the host and its credentials, or the default, or nothing. */
    record Resolution(String host, HostCredentials credentials, boolean isDefault)
    {
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine)
    {
        return choose(keyType, engine == null ? null : engine.getHandshakeSession());
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket)
    {
        return choose(keyType, socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null);
    }

    private String choose(String keyType, SSLSession session)
    {
        try
        {
            if (session == null || keyType == null)
                return null;
            Resolution resolution = (Resolution)session.getValue(RESOLUTION_ATTRIBUTE);
            if (resolution == null)
            {
                resolution = resolve(session);
                session.putValue(RESOLUTION_ATTRIBUTE, resolution);
                if (resolution.host() != null)
                    session.putValue(SslContextFactory.Server.SNI_HOST, resolution.host());
            }
            if (resolution.credentials() == null)
                return null;
            Credential credential = resolution.credentials().select(keyType, System.currentTimeMillis());
            if (credential == null)
                return null;
            chosen.set(credential);
            return credential.getAlias();
        }
        catch (Throwable x)
        {
            factory.getStatistics().keyManagerErrors.increment();
            if (LOG.isDebugEnabled())
                LOG.debug("Key manager failed keyType={}", keyType, x);
            return null;
        }
    }

    private Resolution resolve(SSLSession session)
    {
        DynamicSniStatistics statistics = factory.getStatistics();
        String raw = requestedHost(session);
        if (raw == null)
        {
            statistics.noSni.increment();
            return factory.isSniRequired() ? reject(null, "no SNI") : unknown(null, "no SNI");
        }
        String host = HostNames.normalize(raw);
        if (host == null)
        {
            statistics.invalidSni.increment();
            return unknown(null, "invalid SNI");
        }
        HostCredentials credentials = await(factory.getCredentialCache().resolve(host), host);
        if (credentials != null)
        {
            statistics.servedDynamic.increment();
            return new Resolution(host, credentials, false);
        }
        return factory.isSniRequired() ? reject(host, "unknown host") : unknown(host, "unknown host");
    }

    private HostCredentials await(CompletableFuture<HostCredentials> future, String host)
    {
        if (future.isDone())
            return future.isCompletedExceptionally() ? null : future.join();
        try
        {
            return future.get(factory.getLookupTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
        catch (TimeoutException x)
        {
            factory.getStatistics().loadTimeouts.increment();
            if (LOG.isDebugEnabled())
                LOG.debug("Lookup timed out sni={} timeoutMillis={}", host, factory.getLookupTimeoutMillis());
            return null;
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            return null;
        }
        catch (Exception x)
        {
            return null;
        }
    }

    private Resolution unknown(String host, String why)
    {
        Credential defaultCredential = factory.getDefaultCredential();
        if (factory.getUnknownHostPolicyValue() == DynamicSniSslContextFactory.UnknownHostPolicy.DEFAULT && defaultCredential != null)
        {
            factory.getStatistics().servedDefault.increment();
            if (LOG.isDebugEnabled())
                LOG.debug("Serving default certificate sni={} reason={}", host, why);
            return new Resolution(host, new HostCredentials(defaultCredential.getName(), new Credential[]{defaultCredential}, 0), true);
        }
        return reject(host, why);
    }

    private Resolution reject(String host, String why)
    {
        factory.getStatistics().rejected.increment();
        if (LOG.isDebugEnabled())
            LOG.debug("Rejecting handshake sni={} reason={}", host, why);
        return host == null ? REJECT : new Resolution(host, null, false);
    }

    /**
     * @return the host name the client asked for, as ASCII, or null when it sent none (or a form
     *     JSSE cannot decode, which counts as invalid later)
     */
    static String requestedHost(SSLSession session)
    {
        if (!(session instanceof ExtendedSSLSession extended))
            return null;
        List<SNIServerName> names = extended.getRequestedServerNames();
        if (names == null)
            return null;
        for (SNIServerName name : names)
        {
            if (name.getType() != StandardConstants.SNI_HOST_NAME)
                continue;
            if (name instanceof SNIHostName hostName)
                return hostName.getAsciiName();
            // Not decodable as a host name: hand back something normalize() will reject.
            return new String(name.getEncoded(), StandardCharsets.ISO_8859_1) + "\u0000";
        }
        return null;
    }

    private Credential credentialFor(String alias)
    {
        if (alias == null)
            return null;
        Credential credential = chosen.get();
        if (credential != null && credential.getAlias().equals(alias))
            return credential;
        // Not the thread that chose it: find it by name, and only if it is still exactly that one.
        Credential defaultCredential = factory.getDefaultCredential();
        if (defaultCredential != null && defaultCredential.getAlias().equals(alias))
            return defaultCredential;
        String[] parts = alias.split("\\|");
        if (parts.length != 4)
            return null;
        String name = parts[1];
        HostCredentials held = factory.getCredentialCache().peek(name);
        return held == null ? null : held.byAlias(alias);
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
            factory.getStatistics().keyManagerErrors.increment();
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
            factory.getStatistics().keyManagerErrors.increment();
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
