package dev.dynsni;

import java.lang.ref.WeakReference;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

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
 *
 * <p><b>Conscrypt</b> asks differently: once per key type of the enabled TLS 1.2 cipher suites
 * ({@code EC}, {@code RSA}), installing every non-null answer, the last one winning, and its
 * handshake session forgets {@code putValue} between calls. So on Conscrypt the handshake is
 * resolved on its first call (memoised per thread for the engine, since all calls come from one
 * method on one thread), one credential is picked, and only the call for that key type gets an
 * alias. For a host with both an EC and an RSA certificate the pick follows what the client can
 * verify: Conscrypt 2.6.0's server asks before BoringSSL has read the client's signature algorithms
 * (its handshake session reports a fallback list of every RSA and ECDSA scheme, and TLS 1.2 as the
 * protocol even for TLS 1.3), so the pick uses what the prefetch read from the ClientHello
 * ({@link ClientKeyTypes}, handed over with the resolution) for the version the handshake will
 * speak (TLS 1.3 when the client offers it and the engine enables it): EC when the client can
 * verify EC, else RSA when it can verify RSA. Without the prefetch it has only the session's list,
 * so such a host serves EC and a client that cannot verify ECDSA fails.</p>
 */
final class SniKeyManager extends ServerKeyManager
{
    private static final Logger LOG = LoggerFactory.getLogger(SniKeyManager.class);
    static final String RESOLUTION_ATTRIBUTE = "dev.dynsni.resolution";

    private final CertificateResolver resolver;
    private final DynamicSniStatistics statistics;
    private final ThreadLocal<Credential> chosen = new ThreadLocal<>();
    private final ThreadLocal<ConscryptChoice> conscryptChoice = new ThreadLocal<>();

    /** The credential picked for one Conscrypt handshake (null: none), held for its further calls. */
    private record ConscryptChoice(WeakReference<SSLEngine> engine, Credential credential)
    {
    }

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
            if (Conscrypts.isConscrypt(engine))
                return chooseOnConscrypt(keyType, session, engine);
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

    private String chooseOnConscrypt(String keyType, SSLSession session, SSLEngine engine)
    {
        ConscryptChoice choice = conscryptChoice.get();
        if (choice == null || choice.engine().get() != engine)
        {
            CertificateResolver.Resolution resolution = resolver.resolve(session, engine);
            choice = new ConscryptChoice(new WeakReference<>(engine), pick(resolution, session, engine));
            conscryptChoice.set(choice);
            if (LOG.isDebugEnabled())
                LOG.debug("Conscrypt handshake sni={} keyType={} chosen={} clientKeyTypes={} peerSignatureAlgorithms={}", resolution.host(), keyType,
                    choice.credential() == null ? null : choice.credential().getAlias(), resolution.keyTypes(), String.join(",", peerSignatureAlgorithms(session)));
        }
        Credential credential = choice.credential();
        if (credential == null || !credential.getKeyType().equals(keyType))
            return null;
        chosen.set(credential);
        return credential.getAlias();
    }

    /**
     * @return the one credential a Conscrypt handshake gets, among the key types Conscrypt will ask
     *     for (those of the enabled TLS 1.2 suites): EC unless the client can verify RSA but not EC,
     *     by its ClientHello when the prefetch read it, else by what the session reports
     */
    private static Credential pick(CertificateResolver.Resolution resolution, SSLSession session, SSLEngine engine)
    {
        long now = System.currentTimeMillis();
        boolean asksEc = false;
        boolean asksRsa = false;
        for (String suite : engine.getEnabledCipherSuites())
        {
            asksEc |= suite.contains("_ECDSA_");
            asksRsa |= suite.contains("_RSA_");
        }
        Credential ec = asksEc ? resolution.select("EC", now) : null;
        Credential rsa = asksRsa ? resolution.select("RSA", now) : null;
        if (ec == null || rsa == null)
            return ec != null ? ec : rsa;
        ClientKeyTypes client = resolution.keyTypes();
        if (client != null)
        {
            boolean tls13 = client.offersTls13() && enables(engine, "TLSv1.3");
            return client.ec(tls13) || !client.rsa(tls13) ? ec : rsa;
        }
        boolean clientEc = false;
        boolean clientRsa = false;
        for (String algorithm : peerSignatureAlgorithms(session))
        {
            clientEc |= algorithm.endsWith("withECDSA");
            clientRsa |= algorithm.endsWith("withRSA") || algorithm.equals("RSASSA-PSS");
        }
        return clientEc || !clientRsa ? ec : rsa;
    }

    private static boolean enables(SSLEngine engine, String protocol)
    {
        for (String enabled : engine.getEnabledProtocols())
        {
            if (enabled.equals(protocol))
                return true;
        }
        return false;
    }

    private static String[] peerSignatureAlgorithms(SSLSession session)
    {
        try
        {
            String[] algorithms = session instanceof ExtendedSSLSession extended ? extended.getPeerSupportedSignatureAlgorithms() : null;
            return algorithms == null ? new String[0] : algorithms;
        }
        catch (UnsupportedOperationException x)
        {
            return new String[0];
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
}
