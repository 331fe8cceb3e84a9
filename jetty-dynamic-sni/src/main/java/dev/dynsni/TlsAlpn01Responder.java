package dev.dynsni;

import java.net.Socket;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.shredzone.acme4j.Identifier;
import org.shredzone.acme4j.util.CertificateUtils;

/**
 * Answers ACME tls-alpn-01 validations (RFC 8737) on the serving port: a TLS engine of its own per
 * validation connection, that presents the challenge certificate of the host (self-signed, the
 * {@code acmeIdentifier} extension carrying the SHA-256 digest of the key authorization, made by
 * acme4j's {@link CertificateUtils#createTlsAlpn01Certificate}) and negotiates {@code acme-tls/1}.
 *
 * <p><b>Why an engine of its own.</b> A validation connection never reaches the tenant path: it runs
 * on a dedicated JSSE {@link SSLContext} (provider {@code SunJSSE}, whatever engine the tenants'
 * handshakes use, JSSE or Conscrypt) with its own key manager and ALPN list ({@code acme-tls/1}
 * only), handed over by the SNI prefetch, which alone sees the ClientHello's ALPN before any engine
 * exists. So Jetty's ALPN processor (which refuses a protocol no connection factory serves) is not
 * involved, a challenge certificate can never be served to a tenant connection (the tenant key
 * manager never sees one), and a validation connection never gets a tenant certificate (this key
 * manager knows nothing else).</p>
 *
 * <p>One key pair per node (RSA 2048, as acme4j signs with SHA256withRSA; made at start, never
 * stored): the CA checks only the
 * certificate's name and extension. Challenge certificates are made once per (host, digest) and
 * kept one minute: the CA connects a few times per validation, from several places.</p>
 *
 * <p>Thread-safety: every method may be called from many threads; {@link #newEngine} is pure
 * memory and CPU (the certificate of a new digest is signed on the calling thread: about a
 * millisecond; the first validation after start may wait for the key pair).</p>
 */
final class TlsAlpn01Responder
{
    /** The ALPN protocol of a tls-alpn-01 validation (RFC 8737 section 6.2). */
    static final String ACME_TLS_1 = "acme-tls/1";
    private static final String ALIAS_PREFIX = "acme-tls-alpn-01|";

    /** Made on a background thread at start: an RSA key takes a few hundred milliseconds. */
    private final CompletableFuture<KeyPair> keyPair = CompletableFuture.supplyAsync(TlsAlpn01Responder::newKeyPair);
    private final SSLContext context;
    /** Challenge certificates by alias ({@code prefix|host|digest}). */
    private final Cache<String, X509Certificate> certificates = Caffeine.newBuilder().expireAfterWrite(Duration.ofMinutes(1)).maximumSize(10_000).build();
    /** The alias each engine presents; weak keys: an engine gone costs nothing. */
    private final Cache<SSLEngine, String> engines = Caffeine.newBuilder().weakKeys().expireAfterWrite(Duration.ofMinutes(1)).build();

    TlsAlpn01Responder()
    {
        try
        {
            context = SSLContext.getInstance("TLS", "SunJSSE");
            context.init(new KeyManager[]{new ChallengeKeyManager()}, null, new SecureRandom());
        }
        catch (Exception x)
        {
            throw new IllegalStateException("cannot set up the tls-alpn-01 responder", x);
        }
    }

    private static KeyPair newKeyPair()
    {
        try
        {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        }
        catch (Exception x)
        {
            throw new IllegalStateException("cannot make the tls-alpn-01 key pair", x);
        }
    }

    /** @return whether a ClientHello offering these ALPN protocols is an ACME tls-alpn-01 validation */
    static boolean isValidation(java.util.List<String> alpnProtocols)
    {
        return alpnProtocols.contains(ACME_TLS_1);
    }

    /**
     * @param host   the normalised SNI host of the validation
     * @param digest the SHA-256 digest of the key authorization of the host's pending challenge
     * @return a server engine that presents the host's challenge certificate and negotiates
     *     {@code acme-tls/1}, TLS 1.2 or 1.3
     */
    SSLEngine newEngine(String host, byte[] digest)
    {
        String alias = ALIAS_PREFIX + host + "|" + HexFormat.of().formatHex(digest);
        certificates.get(alias, a -> challengeCertificate(host, digest));
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(new String[]{"TLSv1.3", "TLSv1.2"});
        parameters.setApplicationProtocols(new String[]{ACME_TLS_1});
        engine.setSSLParameters(parameters);
        engines.put(engine, alias);
        return engine;
    }

    private X509Certificate challengeCertificate(String host, byte[] digest)
    {
        try
        {
            return CertificateUtils.createTlsAlpn01Certificate(keyPair.join(), Identifier.dns(host), digest);
        }
        catch (Exception x)
        {
            throw new IllegalStateException("cannot make the tls-alpn-01 certificate of " + host + ": " + x, x);
        }
    }

    /** Presents, to each engine, the one challenge certificate it was made for; nothing else. */
    private final class ChallengeKeyManager extends ServerKeyManager
    {
        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine)
        {
            if (!"RSA".equals(keyType) || engine == null)
                return null;
            String alias = engines.getIfPresent(engine);
            return alias != null && certificates.getIfPresent(alias) != null ? alias : null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias)
        {
            X509Certificate certificate = alias == null ? null : certificates.getIfPresent(alias);
            return certificate == null ? null : new X509Certificate[]{certificate};
        }

        @Override
        public PrivateKey getPrivateKey(String alias)
        {
            return alias != null && alias.startsWith(ALIAS_PREFIX) ? keyPair.join().getPrivate() : null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket)
        {
            return null;
        }
    }
}
