package dev.dynsni.core;

import java.util.Objects;

/**
 * One stored certificate as the stores hold it: the PEM text of a chain and of its private key,
 * for one stored name (an exact host such as {@code shop.example.com} or a one-label wildcard such
 * as {@code *.example.com}) and one key type.
 *
 * <p>Records are plain data: nothing here is parsed or validated. Parsing happens once, when a
 * record enters the in-process cache, and a record that does not parse, whose key does not match
 * its leaf, or whose leaf is outside its validity period is never served.</p>
 *
 * @param name        the stored name, lower-case: an exact host or {@code *.parent}
 * @param keyType     {@code EC}, {@code RSA}, {@code RSASSA-PSS} or {@code EdDSA}
 * @param chainPem    the certificate chain in PEM, any order
 * @param keyPem      the private key in PEM (PKCS#1, PKCS#8 or SEC1), or its encrypted form
 * @param keyEncoding how {@code keyPem} is stored: {@code plain}, or an encryption scheme with a key id
 * @param version     the store's version of this record; larger is newer
 */
public record CertificateRecord(String name, String keyType, String chainPem, String keyPem, String keyEncoding, long version)
{
    /** The {@link #keyEncoding()} of a private key stored as plain PEM. */
    public static final String PLAIN = "plain";

    public CertificateRecord
    {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keyType, "keyType");
        Objects.requireNonNull(chainPem, "chainPem");
        Objects.requireNonNull(keyPem, "keyPem");
        Objects.requireNonNull(keyEncoding, "keyEncoding");
    }

    /** Never prints key material. */
    @Override
    public String toString()
    {
        return "CertificateRecord[name=" + name + ", keyType=" + keyType + ", keyEncoding=" + keyEncoding + ", version=" + version + "]";
    }
}
