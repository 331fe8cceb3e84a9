package dev.dynsni.core;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * A parsed, validated credential: a leaf-first certificate chain and the private key that matches
 * its leaf, for one stored name and one key type. Immutable.
 *
 * <p>The {@link #alias()} identifies exactly this credential (name, key type and leaf fingerprint),
 * so the chain and key handed to TLS for one alias always belong together, even while the stored
 * certificate is being replaced.</p>
 */
public final class Credential
{
    private final String name;
    private final String keyType;
    private final X509Certificate[] chain;
    private final PrivateKey privateKey;
    private final String fingerprint;
    private final String alias;
    private final long notBeforeMillis;
    private final long notAfterMillis;
    private final long version;

    public Credential(String name, String keyType, X509Certificate[] chain, PrivateKey privateKey, String fingerprint, long version)
    {
        this.name = name;
        this.keyType = keyType;
        this.chain = chain.clone();
        this.privateKey = privateKey;
        this.fingerprint = fingerprint;
        this.version = version;
        this.alias = "dynsni|" + name + "|" + keyType + "|" + fingerprint;
        this.notBeforeMillis = chain[0].getNotBefore().getTime();
        this.notAfterMillis = chain[0].getNotAfter().getTime();
    }

    /** @return the stored name this credential was found under: an exact host or {@code *.parent} */
    public String getName()
    {
        return name;
    }

    /** @return {@code EC}, {@code RSA}, {@code RSASSA-PSS} or {@code EdDSA} */
    public String getKeyType()
    {
        return keyType;
    }

    /** @return the chain, leaf first (a copy) */
    public X509Certificate[] getChain()
    {
        return chain.clone();
    }

    /** @return the leaf certificate */
    public X509Certificate getLeaf()
    {
        return chain[0];
    }

    /** @return the private key; never log it */
    public PrivateKey getPrivateKey()
    {
        return privateKey;
    }

    /** @return SHA-256 of the leaf's DER encoding, lower-case hex */
    public String getFingerprint()
    {
        return fingerprint;
    }

    /** @return the alias that names exactly this credential in the key manager */
    public String getAlias()
    {
        return alias;
    }

    /** @return the store version this credential was parsed from */
    public long getVersion()
    {
        return version;
    }

    public Instant getNotBefore()
    {
        return Instant.ofEpochMilli(notBeforeMillis);
    }

    public Instant getNotAfter()
    {
        return Instant.ofEpochMilli(notAfterMillis);
    }

    /**
     * @param nowMillis the current time
     * @return whether the leaf is inside its validity period at that time
     */
    public boolean isValidAt(long nowMillis)
    {
        return nowMillis >= notBeforeMillis && nowMillis <= notAfterMillis;
    }

    @Override
    public String toString()
    {
        return "Credential[name=" + name + ", keyType=" + keyType + ", fingerprint=" + fingerprint + ", notAfter=" + getNotAfter() + "]";
    }
}
