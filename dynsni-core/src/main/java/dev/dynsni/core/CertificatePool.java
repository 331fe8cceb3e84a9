package dev.dynsni.core;

import java.security.cert.X509Certificate;

/**
 * Where the credential parser shares certificates: a credential holds the certificate the pool
 * already holds for the same encoding (an intermediate or root common to many tenants, a leaf
 * stored under several names) instead of a copy of its own.
 *
 * <p>Implementations are thread-safe, never block for long (the parser runs on cache loader
 * threads), and hold what they hand out weakly, so that a certificate no credential holds any more
 * is collected with the last credential that held it.</p>
 */
@FunctionalInterface
public interface CertificatePool
{
    /** Shares nothing: every credential holds its own certificates. */
    CertificatePool NONE = (sha256, certificate) -> certificate;

    /**
     * @param sha256      the SHA-256 digest of the certificate's DER encoding
     * @param certificate a certificate just parsed from that encoding
     * @return the certificate the pool holds for that digest, or {@code certificate}, which it holds from now on
     */
    X509Certificate intern(byte[] sha256, X509Certificate certificate);

    /** @return the estimated heap each certificate held costs the pool itself (its map entry), in bytes */
    default int entryBytes()
    {
        return 0;
    }
}
