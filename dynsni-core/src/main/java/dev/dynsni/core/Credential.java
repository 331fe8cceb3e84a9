package dev.dynsni.core;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * A parsed, validated credential: a leaf-first certificate chain and the private key that matches
 * its leaf, for one stored name and one key type. Immutable.
 *
 * <p>The {@link #getAlias() alias} identifies exactly this credential (name, key type and leaf fingerprint),
 * so the chain and key handed to TLS for one alias always belong together, even while the stored
 * certificate is being replaced.</p>
 *
 * <p>Held by the tens of thousands in the in-process cache, so it keeps only what a handshake reads
 * (the alias, key type, chain, key and validity period); the name and fingerprint are read back from
 * the alias. The chain {@link CredentialParser} builds holds each certificate as its encoding and
 * shares certificates through a {@link CertificatePool}; {@link #getEstimatedBytes()} is what this
 * credential added to the heap.</p>
 */
public final class Credential
{
    private static final String ALIAS_PREFIX = "dynsni|";

    private final String keyType;
    private final X509Certificate[] chain;
    private final PrivateKey privateKey;
    private final String alias;
    private final long notBeforeMillis;
    private final long notAfterMillis;
    private final long version;
    private final int estimatedBytes;

    /**
     * @param name        the stored name: an exact host or {@code *.parent} (no {@code |})
     * @param fingerprint SHA-256 of the leaf's DER encoding, lower-case hex
     */
    public Credential(String name, String keyType, X509Certificate[] chain, PrivateKey privateKey, String fingerprint, long version)
    {
        this(name, keyType, chain.clone(), privateKey, fingerprint, version, chain[0].getNotBefore().getTime(), chain[0].getNotAfter().getTime(), -1);
    }

    /**
     * @param chain     held as given (not copied)
     * @param partBytes what its key and its certificates add to the heap; negative: all of them, estimated here
     */
    Credential(String name, String keyType, X509Certificate[] chain, PrivateKey privateKey, String fingerprint, long version,
               long notBeforeMillis, long notAfterMillis, int partBytes)
    {
        if (name.indexOf('|') >= 0)
            throw new IllegalArgumentException("a credential name cannot contain '|'");
        this.keyType = keyType;
        this.chain = chain;
        this.privateKey = privateKey;
        this.version = version;
        this.alias = ALIAS_PREFIX + name + "|" + keyType + "|" + fingerprint;
        this.notBeforeMillis = notBeforeMillis;
        this.notAfterMillis = notAfterMillis;
        this.estimatedBytes = HeapEstimate.own(alias.length(), chain.length) + (partBytes >= 0 ? partBytes : HeapEstimate.parts(privateKey, chain));
    }

    /**
     * @param key the same private key in another form (e.g. a TLS engine's native one)
     * @return this credential holding that key; same alias, chain and estimated heap
     */
    public Credential withPrivateKey(PrivateKey key)
    {
        String fingerprint = alias.substring(alias.lastIndexOf('|') + 1);
        return new Credential(getName(), keyType, chain, key, fingerprint, version, notBeforeMillis, notAfterMillis,
            estimatedBytes - HeapEstimate.own(alias.length(), chain.length));
    }

    /** @return the stored name this credential was found under: an exact host or {@code *.parent} */
    public String getName()
    {
        int end = alias.lastIndexOf('|', alias.lastIndexOf('|') - 1);
        return alias.substring(ALIAS_PREFIX.length(), end);
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
        return alias.substring(alias.lastIndexOf('|') + 1);
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

    /**
     * An estimate of the heap this credential retains: its own objects, its private key, and each
     * certificate of its chain, except the certificates it shares through the
     * {@link CertificatePool} with credentials of other names (a shared certificate is counted for
     * the name that brought it in, also when that name reloads, and for no other). Checked against
     * the measured heap by the library's tests.
     *
     * @return the estimate, in bytes
     */
    public int getEstimatedBytes()
    {
        return estimatedBytes;
    }

    @Override
    public String toString()
    {
        return "Credential[name=" + getName() + ", keyType=" + keyType + ", fingerprint=" + getFingerprint() + ", notAfter=" + getNotAfter() + "]";
    }
}
