package dev.dynsni.core.pki;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

import dev.dynsni.core.Pem;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * A server certificate from {@link CertificateAuthority} and its private key, in the forms
 * operators meet: the chain leaf then CA (or out of order), the key as PKCS#8 or in its traditional
 * form (PKCS#1 {@code RSA PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}). Holds the encoded forms only;
 * the JDK objects are decoded on request, so issuing many certificates stays cheap.
 */
public final class IssuedCertificate
{
    private final byte[] certificateDer;
    private final byte[] keyDer;
    private final String keyType;
    private final CertificateAuthority issuer;

    IssuedCertificate(byte[] certificateDer, byte[] keyDer, String keyType, CertificateAuthority issuer)
    {
        this.certificateDer = certificateDer;
        this.keyDer = keyDer;
        this.keyType = keyType;
        this.issuer = issuer;
    }

    /** @return the leaf certificate, DER */
    public byte[] certificateDer()
    {
        return certificateDer.clone();
    }

    public X509Certificate certificate()
    {
        try
        {
            return new JcaX509CertificateConverter().getCertificate(new X509CertificateHolder(certificateDer));
        }
        catch (IOException | CertificateException x)
        {
            throw new IllegalStateException(x);
        }
    }

    public PrivateKey key()
    {
        try
        {
            return new JcaPEMKeyConverter().getPrivateKey(PrivateKeyInfo.getInstance(keyDer));
        }
        catch (IOException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /** @return the issuing CA's certificate */
    public X509Certificate ca()
    {
        return issuer.caCertificate();
    }

    /** @return {@code EC} or {@code RSA}, as the certificate table's {@code key_type} */
    public String keyType()
    {
        return keyType;
    }

    /** @return SHA-256 of the leaf's DER encoding, lower-case hex (as {@link Pem#fingerprint}) */
    public String fingerprint()
    {
        try
        {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificateDer));
        }
        catch (GeneralSecurityException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /** @return the leaf alone, PEM */
    public String certificatePem()
    {
        return Pem.encode("CERTIFICATE", certificateDer);
    }

    /** @return leaf then CA, PEM */
    public String chainPem()
    {
        return certificatePem() + issuer.caPem();
    }

    /** @return CA then leaf: out of order on purpose */
    public String reversedChainPem()
    {
        return issuer.caPem() + certificatePem();
    }

    /** @return the key as PKCS#8 {@code PRIVATE KEY} */
    public String pkcs8KeyPem()
    {
        return Pem.encode("PRIVATE KEY", keyDer);
    }

    /** @return the key in its traditional form: PKCS#1 {@code RSA PRIVATE KEY}, or SEC1 {@code EC PRIVATE KEY} with the curve inside */
    public String traditionalKeyPem()
    {
        try
        {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(keyDer);
            if (keyType.equals("RSA"))
                return Pem.encode("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded());
            // SEC1 as OpenSSL writes it: the curve inside the structure (PKCS#8 keeps it outside)
            org.bouncycastle.asn1.sec.ECPrivateKey inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
            org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(), inner.getPublicKey(),
                info.getPrivateKeyAlgorithm().getParameters());
            return Pem.encode("EC PRIVATE KEY", sec1.getEncoded());
        }
        catch (IOException x)
        {
            throw new IllegalStateException(x);
        }
    }
}
