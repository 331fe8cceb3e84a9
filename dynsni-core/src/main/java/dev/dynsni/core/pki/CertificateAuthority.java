package dev.dynsni.core.pki;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import dev.dynsni.core.Pem;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultDigestAlgorithmIdentifierFinder;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.bc.BcECContentSignerBuilder;

/**
 * The project's one certificate generator: an EC P-256 certificate authority that issues server
 * certificates (EC P-256 or RSA 2048, any DNS names including {@code *.parent} wildcards, any
 * validity period, so also expired and not-yet-valid ones). {@code dynsni gen-demo}, every test
 * and the benchmarks use it; nothing on the TLS path does.
 *
 * <p>Keys and signatures go through BouncyCastle's lightweight API on the P-256 custom curve with
 * fixed-base comb multiplication: about 0.15 ms per EC certificate, against about 0.7 ms through
 * the JDK provider, which matters for a million benchmark hosts or 100,000 demo tenants. Server
 * certificates carry the subject alternative names (the first also as CN), basic constraints
 * {@code CA:false}, key usage, extended key usage {@code serverAuth} and the authority key
 * identifier; serial numbers are 16 random bytes. Thread-safe: each call uses its own generator
 * and signer. Keys are held unencrypted: for demos, tests and benchmarks only.</p>
 */
public final class CertificateAuthority
{
    private static final AlgorithmIdentifier SHA256_WITH_ECDSA = new DefaultSignatureAlgorithmIdentifierFinder().find("SHA256withECDSA");
    private static final AlgorithmIdentifier SHA256 = new DefaultDigestAlgorithmIdentifierFinder().find(SHA256_WITH_ECDSA);
    private static final X9ECParameters P256 = CustomNamedCurves.getByName("secp256r1");
    private static final ECNamedDomainParameters DOMAIN = new ECNamedDomainParameters(SECObjectIdentifiers.secp256r1, P256);
    private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(CertificateAuthority::newRandom);
    private static final JcaX509CertificateConverter CERTIFICATES = new JcaX509CertificateConverter();

    private final ECPrivateKeyParameters caKey;
    private final X509CertificateHolder caHolder;
    private final X509Certificate caCertificate;
    private final String caPem;
    private final AuthorityKeyIdentifier authorityKeyIdentifier;

    private CertificateAuthority(ECPrivateKeyParameters caKey, X509CertificateHolder caHolder) throws IOException
    {
        this.caKey = caKey;
        this.caHolder = caHolder;
        try
        {
            this.caCertificate = CERTIFICATES.getCertificate(caHolder);
        }
        catch (CertificateException x)
        {
            throw new IOException(x);
        }
        this.caPem = Pem.encode("CERTIFICATE", caHolder.getEncoded());
        SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(caHolder.getExtensions());
        this.authorityKeyIdentifier = ski != null
            ? new AuthorityKeyIdentifier(ski.getKeyIdentifier())
            : new BcX509ExtensionUtils().createAuthorityKeyIdentifier(caHolder.getSubjectPublicKeyInfo());
    }

    /**
     * A new CA named {@code CN=commonName}, valid from a day ago for ten years.
     */
    public static CertificateAuthority create(String commonName)
    {
        Instant now = Instant.now();
        return create(commonName, null, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(3650)));
    }

    /**
     * A new CA named {@code CN=commonName,O=organization} (no O when {@code organization} is null).
     */
    public static CertificateAuthority create(String commonName, String organization, Instant notBefore, Instant notAfter)
    {
        try
        {
            AsymmetricCipherKeyPair keys = generateEcKeys();
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(keys.getPublic());
            X500NameBuilder nameBuilder = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName);
            if (organization != null)
                nameBuilder.addRDN(BCStyle.O, organization);
            X500Name name = nameBuilder.build();
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(name, serial(), Date.from(notBefore), Date.from(notAfter), name, spki);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, new BcX509ExtensionUtils().createSubjectKeyIdentifier(spki));
            ECPrivateKeyParameters privateKey = (ECPrivateKeyParameters)keys.getPrivate();
            return new CertificateAuthority(privateKey, builder.build(signer(privateKey)));
        }
        catch (IOException | OperatorCreationException x)
        {
            throw new IllegalStateException("cannot create the CA: " + x, x);
        }
    }

    /**
     * Loads a CA written as {@link #caPem()} and {@link #caKeyPem()}: the certificate must be valid
     * now and the key must be its EC P-256 private key.
     *
     * @throws IllegalArgumentException naming the file at fault and what to do, when the files cannot be read or do not fit
     */
    public static CertificateAuthority load(Path certificateFile, Path keyFile)
    {
        try (PEMParser certificateParser = new PEMParser(new StringReader(Files.readString(certificateFile, StandardCharsets.US_ASCII)));
             PEMParser keyParser = new PEMParser(new StringReader(Files.readString(keyFile, StandardCharsets.US_ASCII))))
        {
            if (!(certificateParser.readObject() instanceof X509CertificateHolder certificate))
                throw new IllegalArgumentException(certificateFile + ": not a certificate; delete the demo CA files to create a new CA");
            Object keyObject = keyParser.readObject();
            PrivateKeyInfo keyInfo = keyObject instanceof PEMKeyPair pair ? pair.getPrivateKeyInfo() : keyObject instanceof PrivateKeyInfo info ? info : null;
            AsymmetricKeyParameter key = keyInfo == null ? null : PrivateKeyFactory.createKey(keyInfo);
            if (!(key instanceof ECPrivateKeyParameters ec) || !ec.getParameters().getN().equals(P256.getN()))
                throw new IllegalArgumentException(keyFile + ": not an EC P-256 private key; delete the demo CA files to create a new CA");
            ECPrivateKeyParameters caKey = new ECPrivateKeyParameters(ec.getD(), DOMAIN);
            SubjectPublicKeyInfo derived = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(new ECPublicKeyParameters(publicPoint(caKey.getD()), DOMAIN));
            if (!derived.equals(certificate.getSubjectPublicKeyInfo()))
                throw new IllegalArgumentException(keyFile + " does not belong to " + certificateFile + "; delete both to create a new CA");
            if (!certificate.isValidOn(new Date()))
                throw new IllegalArgumentException(certificateFile + " is outside its validity period; delete it and " + keyFile + " to create a new CA");
            return new CertificateAuthority(caKey, certificate);
        }
        catch (IOException x)
        {
            throw new IllegalArgumentException("cannot read the demo CA " + certificateFile + ": " + x.getMessage(), x);
        }
    }

    /**
     * A new intermediate CA named {@code CN=commonName}, signed by this CA and valid from a day ago
     * until this CA expires: the chains of the certificates it issues are leaf then intermediate,
     * as a public CA serves them (clients trust this CA, the root).
     */
    public CertificateAuthority intermediate(String commonName)
    {
        try
        {
            AsymmetricCipherKeyPair keys = generateEcKeys();
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(keys.getPublic());
            X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
            Date notBefore = Date.from(Instant.now().minus(Duration.ofDays(1)));
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(caHolder.getSubject(), serial(), notBefore, caHolder.getNotAfter(), name, spki);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, new BcX509ExtensionUtils().createSubjectKeyIdentifier(spki));
            builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier);
            return new CertificateAuthority((ECPrivateKeyParameters)keys.getPrivate(), builder.build(signer(caKey)));
        }
        catch (IOException | OperatorCreationException x)
        {
            throw new IllegalStateException("cannot create the intermediate CA: " + x, x);
        }
    }

    public X509Certificate caCertificate()
    {
        return caCertificate;
    }

    /** @return the CA certificate, PEM: what clients trust */
    public String caPem()
    {
        return caPem;
    }

    /** @return the CA's private key, PKCS#8 PEM with the public key inside (as OpenSSL writes it) */
    public String caKeyPem()
    {
        return ecKeyPem(caKey, publicPoint(caKey.getD()));
    }

    /** An EC P-256 server certificate for the DNS names (the first is also the CN), valid from a day ago for 90 days. */
    public IssuedCertificate ec(String... dnsNames)
    {
        Instant now = Instant.now();
        return issue(false, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(90)), dnsNames);
    }

    /** An RSA 2048 server certificate for the DNS names (the first is also the CN), valid from a day ago for 90 days. */
    public IssuedCertificate rsa(String... dnsNames)
    {
        Instant now = Instant.now();
        return issue(true, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(90)), dnsNames);
    }

    /**
     * A server certificate with a new key: RSA 2048 when {@code rsa}, else EC P-256. The period may
     * lie in the past (expired) or the future (not yet valid).
     */
    public IssuedCertificate issue(boolean rsa, Instant notBefore, Instant notAfter, String... dnsNames)
    {
        try
        {
            if (rsa)
            {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(2048, RANDOM.get());
                return issue(generator.generateKeyPair(), notBefore, notAfter, dnsNames);
            }
            AsymmetricCipherKeyPair keys = generateEcKeys();
            ECPublicKeyParameters publicKey = (ECPublicKeyParameters)keys.getPublic();
            byte[] certificate = sign(SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(publicKey), KeyUsage.digitalSignature, notBefore, notAfter, dnsNames);
            return new IssuedCertificate(certificate, ecPrivateKeyInfo((ECPrivateKeyParameters)keys.getPrivate(), publicKey.getQ()).getEncoded(), "EC", this);
        }
        catch (GeneralSecurityException | IOException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /**
     * A server certificate for a key pair the caller holds (EC or RSA), e.g. from a pool reused
     * across many certificates.
     */
    public IssuedCertificate issue(KeyPair keys, Instant notBefore, Instant notAfter, String... dnsNames)
    {
        String keyType = keys.getPrivate().getAlgorithm().equals("RSA") ? "RSA" : "EC";
        int keyUsage = keyType.equals("RSA") ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment : KeyUsage.digitalSignature;
        try
        {
            byte[] certificate = sign(SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()), keyUsage, notBefore, notAfter, dnsNames);
            return new IssuedCertificate(certificate, keys.getPrivate().getEncoded(), keyType, this);
        }
        catch (IOException x)
        {
            throw new IllegalStateException(x);
        }
    }

    private byte[] sign(SubjectPublicKeyInfo spki, int keyUsage, Instant notBefore, Instant notAfter, String... dnsNames) throws IOException
    {
        if (dnsNames.length == 0)
            throw new IllegalArgumentException("a server certificate needs at least one DNS name");
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, dnsNames[0]).build();
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(caHolder.getSubject(), serial(), Date.from(notBefore), Date.from(notAfter), subject, spki);
        GeneralName[] names = new GeneralName[dnsNames.length];
        for (int i = 0; i < names.length; i++)
        {
            names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
        }
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier);
        try
        {
            return builder.build(signer(caKey)).getEncoded();
        }
        catch (OperatorCreationException x)
        {
            throw new IOException(x);
        }
    }

    private static ContentSigner signer(ECPrivateKeyParameters key) throws OperatorCreationException
    {
        return new BcECContentSignerBuilder(SHA256_WITH_ECDSA, SHA256).setSecureRandom(RANDOM.get()).build(key);
    }

    private static AsymmetricCipherKeyPair generateEcKeys()
    {
        ECKeyPairGenerator generator = new ECKeyPairGenerator();
        generator.init(new ECKeyGenerationParameters(DOMAIN, RANDOM.get()));
        return generator.generateKeyPair();
    }

    private static ECPoint publicPoint(BigInteger d)
    {
        return new FixedPointCombMultiplier().multiply(P256.getG(), d).normalize();
    }

    /** PKCS#8 with the public key inside, as OpenSSL writes it; built directly to skip a second multiplication. */
    private static PrivateKeyInfo ecPrivateKeyInfo(ECPrivateKeyParameters key, ECPoint q) throws IOException
    {
        return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, SECObjectIdentifiers.secp256r1),
            new org.bouncycastle.asn1.sec.ECPrivateKey(256, key.getD(), new DERBitString(q.getEncoded(false)), null));
    }

    private static String ecKeyPem(ECPrivateKeyParameters key, ECPoint q)
    {
        try
        {
            return Pem.encode("PRIVATE KEY", ecPrivateKeyInfo(key, q).getEncoded());
        }
        catch (IOException x)
        {
            throw new IllegalStateException(x);
        }
    }

    private static BigInteger serial()
    {
        byte[] bytes = new byte[16];
        RANDOM.get().nextBytes(bytes);
        bytes[0] &= 0x7f;
        bytes[0] |= 0x40;
        return new BigInteger(bytes);
    }

    private static SecureRandom newRandom()
    {
        try
        {
            return SecureRandom.getInstance("DRBG");
        }
        catch (GeneralSecurityException x)
        {
            return new SecureRandom();
        }
    }
}
