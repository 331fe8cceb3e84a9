package dev.dynsni.admin;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * A certificate and key that passed every check of an import, ready to be written: the chain
 * leaf-first as PEM, the key as PKCS#8 PEM, and the stored names it goes under.
 *
 * @param source      where it came from, for messages (a file name)
 * @param names       the stored names (exact hosts or {@code *.parent}) to write it under
 * @param keyType     {@code EC}, {@code RSA}, {@code RSASSA-PSS} or {@code EdDSA}
 * @param chainPem    leaf-first chain
 * @param keyPem      private key, PKCS#8; never print it
 * @param leaf        the leaf certificate
 * @param fingerprint SHA-256 of the leaf, hex
 */
record ParsedCertificate(String source, List<String> names, String keyType, String chainPem, String keyPem,
                         X509Certificate leaf, String fingerprint)
{
    Instant notBefore()
    {
        return leaf.getNotBefore().toInstant();
    }

    Instant notAfter()
    {
        return leaf.getNotAfter().toInstant();
    }

    @Override
    public String toString()
    {
        return "ParsedCertificate[source=" + source + ", names=" + names + ", keyType=" + keyType + ", fingerprint=" + fingerprint + "]";
    }
}
