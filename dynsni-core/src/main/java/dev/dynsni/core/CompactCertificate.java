package dev.dynsni.core;

import java.lang.ref.WeakReference;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.security.Principal;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SignatureException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * An X.509 certificate held as its DER encoding, plus the public key when it is a leaf: all that a
 * TLS server handshake reads from the chain its key manager returns (the encoding of each
 * certificate, the leaf's public key). The JDK's parsed form keeps the encoding twice and every
 * field and extension as objects, several times the encoding's size; an in-process cache holding
 * tens of thousands of chains need not keep it.
 *
 * <p>Every other accessor parses the encoding on demand and answers from the parsed form, which is
 * kept weakly: a burst of calls (Jetty reads the names of the local certificate once per TLS session)
 * parses once, and the parsed form is garbage by the next collection. Immutable and thread-safe
 * (two threads may both parse; both get equal answers). Equal to, and hashed as, any certificate
 * with the same encoding; serialised as any certificate (type and encoding).</p>
 */
final class CompactCertificate extends X509Certificate
{
    private static final long serialVersionUID = 1L;

    private final byte[] encoded;
    /** The leaf's public key, read on every handshake; null for a CA certificate (parsed on demand). */
    private final PublicKey publicKey;
    /** The hash of the stored name whose credential brought it in (for size estimates of shared certificates). */
    private final int owner;
    private transient volatile WeakReference<X509Certificate> parsed;

    /**
     * @param parsed        the certificate, already parsed and checked
     * @param encoded       its DER encoding (not copied: the caller hands it over)
     * @param keepPublicKey whether to hold its public key (a leaf's)
     * @param owner         the stored name of the credential it is parsed for
     */
    CompactCertificate(X509Certificate parsed, byte[] encoded, boolean keepPublicKey, String owner)
    {
        this.encoded = encoded;
        this.publicKey = keepPublicKey ? parsed.getPublicKey() : null;
        this.owner = owner.hashCode();
    }

    /** @return whether it was parsed for a credential of that stored name (an earlier version of it, say) */
    boolean ownedBy(String name)
    {
        return owner == name.hashCode();
    }

    /** @return whether it holds its public key (as a leaf does) */
    boolean holdsPublicKey()
    {
        return publicKey != null;
    }

    /** @return the length of the encoding, for size estimates */
    int encodedLength()
    {
        return encoded.length;
    }

    /** @return whether the encoding is exactly {@code der} (no copy) */
    boolean hasEncoding(byte[] der)
    {
        return Arrays.equals(encoded, der);
    }

    private X509Certificate parsed()
    {
        WeakReference<X509Certificate> reference = parsed;
        X509Certificate certificate = reference == null ? null : reference.get();
        if (certificate == null)
        {
            try
            {
                certificate = Pem.parseCertificate(encoded);
            }
            catch (InvalidCredentialException x)
            {
                // It parsed when it was built from these very bytes.
                throw new IllegalStateException(x.getMessage(), x);
            }
            parsed = new WeakReference<>(certificate);
        }
        return certificate;
    }

    @Override
    public byte[] getEncoded() throws CertificateEncodingException
    {
        return encoded.clone();
    }

    @Override
    public PublicKey getPublicKey()
    {
        return publicKey != null ? publicKey : parsed().getPublicKey();
    }

    @Override
    public boolean equals(Object other)
    {
        if (this == other)
            return true;
        if (other instanceof CompactCertificate compact)
            return Arrays.equals(encoded, compact.encoded);
        return super.equals(other);
    }

    @Override
    public int hashCode()
    {
        return Arrays.hashCode(encoded);
    }

    @Override
    public String toString()
    {
        return parsed().toString();
    }

    @Override
    public void checkValidity() throws CertificateExpiredException, CertificateNotYetValidException
    {
        parsed().checkValidity();
    }

    @Override
    public void checkValidity(Date date) throws CertificateExpiredException, CertificateNotYetValidException
    {
        parsed().checkValidity(date);
    }

    @Override
    public int getVersion()
    {
        return parsed().getVersion();
    }

    @Override
    public BigInteger getSerialNumber()
    {
        return parsed().getSerialNumber();
    }

    @Override
    @SuppressWarnings("deprecation")
    public Principal getIssuerDN()
    {
        return parsed().getIssuerDN();
    }

    @Override
    @SuppressWarnings("deprecation")
    public Principal getSubjectDN()
    {
        return parsed().getSubjectDN();
    }

    @Override
    public X500Principal getIssuerX500Principal()
    {
        return parsed().getIssuerX500Principal();
    }

    @Override
    public X500Principal getSubjectX500Principal()
    {
        return parsed().getSubjectX500Principal();
    }

    @Override
    public Date getNotBefore()
    {
        return parsed().getNotBefore();
    }

    @Override
    public Date getNotAfter()
    {
        return parsed().getNotAfter();
    }

    @Override
    public byte[] getTBSCertificate() throws CertificateEncodingException
    {
        return parsed().getTBSCertificate();
    }

    @Override
    public byte[] getSignature()
    {
        return parsed().getSignature();
    }

    @Override
    public String getSigAlgName()
    {
        return parsed().getSigAlgName();
    }

    @Override
    public String getSigAlgOID()
    {
        return parsed().getSigAlgOID();
    }

    @Override
    public byte[] getSigAlgParams()
    {
        return parsed().getSigAlgParams();
    }

    @Override
    public boolean[] getIssuerUniqueID()
    {
        return parsed().getIssuerUniqueID();
    }

    @Override
    public boolean[] getSubjectUniqueID()
    {
        return parsed().getSubjectUniqueID();
    }

    @Override
    public boolean[] getKeyUsage()
    {
        return parsed().getKeyUsage();
    }

    @Override
    public List<String> getExtendedKeyUsage() throws CertificateParsingException
    {
        return parsed().getExtendedKeyUsage();
    }

    @Override
    public int getBasicConstraints()
    {
        return parsed().getBasicConstraints();
    }

    @Override
    public Collection<List<?>> getSubjectAlternativeNames() throws CertificateParsingException
    {
        return parsed().getSubjectAlternativeNames();
    }

    @Override
    public Collection<List<?>> getIssuerAlternativeNames() throws CertificateParsingException
    {
        return parsed().getIssuerAlternativeNames();
    }

    @Override
    public boolean hasUnsupportedCriticalExtension()
    {
        return parsed().hasUnsupportedCriticalExtension();
    }

    @Override
    public Set<String> getCriticalExtensionOIDs()
    {
        return parsed().getCriticalExtensionOIDs();
    }

    @Override
    public Set<String> getNonCriticalExtensionOIDs()
    {
        return parsed().getNonCriticalExtensionOIDs();
    }

    @Override
    public byte[] getExtensionValue(String oid)
    {
        return parsed().getExtensionValue(oid);
    }

    @Override
    public void verify(PublicKey key) throws CertificateException, NoSuchAlgorithmException, InvalidKeyException, NoSuchProviderException, SignatureException
    {
        parsed().verify(key);
    }

    @Override
    public void verify(PublicKey key, String sigProvider) throws CertificateException, NoSuchAlgorithmException, InvalidKeyException, NoSuchProviderException,
        SignatureException
    {
        parsed().verify(key, sigProvider);
    }

    @Override
    public void verify(PublicKey key, Provider sigProvider) throws CertificateException, NoSuchAlgorithmException, InvalidKeyException, SignatureException
    {
        parsed().verify(key, sigProvider);
    }
}
