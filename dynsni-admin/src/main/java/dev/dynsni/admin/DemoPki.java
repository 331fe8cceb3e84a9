package dev.dynsni.admin;

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
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
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
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
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
 * A demo certificate authority (EC P-256) that issues server certificates quickly: keys and
 * signatures through BouncyCastle's lightweight API on the P-256 custom curve with fixed-base comb
 * multiplication (about 0.15 ms per certificate, against about 0.7 ms through the JDK provider).
 * Thread-safe; each call uses its own generator and signer. Demo use only: keys are written unencrypted.
 */
final class DemoPki
{
    static final AlgorithmIdentifier SHA256_WITH_ECDSA = new DefaultSignatureAlgorithmIdentifierFinder().find("SHA256withECDSA");
    private static final AlgorithmIdentifier SHA256 = new DefaultDigestAlgorithmIdentifierFinder().find(SHA256_WITH_ECDSA);
    private static final X9ECParameters P256 = CustomNamedCurves.getByName("secp256r1");
    private static final ECNamedDomainParameters DOMAIN = new ECNamedDomainParameters(SECObjectIdentifiers.secp256r1, P256);
    private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(DemoPki::newRandom);

    private final ECPrivateKeyParameters caKey;
    private final X509CertificateHolder caCertificate;
    private final String caPem;
    private final AuthorityKeyIdentifier authorityKeyIdentifier;

    /** A certificate and its key in PEM: {@code chainPem} is leaf then CA. */
    record Issued(String chainPem, String keyPem)
    {
    }

    private DemoPki(ECPrivateKeyParameters caKey, X509CertificateHolder caCertificate) throws IOException
    {
        this.caKey = caKey;
        this.caCertificate = caCertificate;
        this.caPem = CertificateLoader.pem("CERTIFICATE", caCertificate.getEncoded());
        SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(caCertificate.getExtensions());
        this.authorityKeyIdentifier = ski != null
            ? new AuthorityKeyIdentifier(ski.getKeyIdentifier())
            : new BcX509ExtensionUtils().createAuthorityKeyIdentifier(caCertificate.getSubjectPublicKeyInfo());
    }

    /** A new CA, valid from an hour ago for {@code years}. */
    static DemoPki create(String commonName, int years)
    {
        try
        {
            AsymmetricCipherKeyPair keys = generateEcKeys();
            ECPublicKeyParameters publicKey = (ECPublicKeyParameters)keys.getPublic();
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(publicKey);
            X500Name name = new X500Name("CN=" + commonName + ",O=jetty-dynamic-sni demo");
            Instant notBefore = Instant.now().minusSeconds(3600);
            X509v3CertificateBuilder builder = new X509v3CertificateBuilder(name, serial(), Date.from(notBefore),
                Date.from(notBefore.plusSeconds(years * 366L * 86400)), name, spki);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, new BcX509ExtensionUtils().createSubjectKeyIdentifier(spki));
            ECPrivateKeyParameters privateKey = (ECPrivateKeyParameters)keys.getPrivate();
            return new DemoPki(privateKey, builder.build(signer(privateKey)));
        }
        catch (IOException | OperatorCreationException x)
        {
            throw new IllegalStateException("cannot create the demo CA: " + x, x);
        }
    }

    /**
     * Loads a CA written by {@link #writeCa}.
     */
    static DemoPki load(Path certificateFile, Path keyFile)
    {
        try (PEMParser certificateParser = new PEMParser(new StringReader(Files.readString(certificateFile, StandardCharsets.US_ASCII)));
             PEMParser keyParser = new PEMParser(new StringReader(Files.readString(keyFile, StandardCharsets.US_ASCII))))
        {
            if (!(certificateParser.readObject() instanceof X509CertificateHolder certificate))
                throw CliException.rejected(certificateFile + ": not a certificate; delete the demo CA files to create a new CA");
            Object keyObject = keyParser.readObject();
            PrivateKeyInfo keyInfo = keyObject instanceof PEMKeyPair pair ? pair.getPrivateKeyInfo() : keyObject instanceof PrivateKeyInfo info ? info : null;
            AsymmetricKeyParameter key = keyInfo == null ? null : PrivateKeyFactory.createKey(keyInfo);
            if (!(key instanceof ECPrivateKeyParameters ec) || !ec.getParameters().getN().equals(P256.getN()))
                throw CliException.rejected(keyFile + ": not an EC P-256 private key; delete the demo CA files to create a new CA");
            ECPrivateKeyParameters caKey = new ECPrivateKeyParameters(ec.getD(), DOMAIN);
            SubjectPublicKeyInfo derived = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(new ECPublicKeyParameters(publicPoint(caKey.getD()), DOMAIN));
            if (!derived.equals(certificate.getSubjectPublicKeyInfo()))
                throw CliException.rejected(keyFile + " does not belong to " + certificateFile + "; delete both to create a new CA");
            if (!certificate.isValidOn(new Date()))
                throw CliException.rejected(certificateFile + " is outside its validity period; delete it and " + keyFile + " to create a new CA");
            return new DemoPki(caKey, certificate);
        }
        catch (IOException x)
        {
            throw CliException.rejected("cannot read the demo CA " + certificateFile + ": " + x.getMessage());
        }
    }

    /** Writes {@code ca.pem} (what clients trust) and {@code ca.key}. */
    void writeCa(Path certificateFile, Path keyFile) throws IOException
    {
        Files.writeString(certificateFile, caPem, StandardCharsets.US_ASCII);
        DemoFiles.writePrivate(keyFile, ecKeyPem(caKey, publicPoint(caKey.getD())));
    }

    String caPem()
    {
        return caPem;
    }

    /** An EC P-256 server certificate for the DNS names (the first is also the CN). */
    Issued issueEc(List<String> dnsNames, Instant notBefore, Instant notAfter)
    {
        AsymmetricCipherKeyPair keys = generateEcKeys();
        ECPublicKeyParameters publicKey = (ECPublicKeyParameters)keys.getPublic();
        try
        {
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(publicKey);
            String chain = issue(dnsNames, notBefore, notAfter, spki, KeyUsage.digitalSignature);
            return new Issued(chain, ecKeyPem((ECPrivateKeyParameters)keys.getPrivate(), publicKey.getQ()));
        }
        catch (IOException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /** An RSA 2048 server certificate for the DNS names. */
    Issued issueRsa(List<String> dnsNames, Instant notBefore, Instant notAfter)
    {
        try
        {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048, RANDOM.get());
            KeyPair keys = generator.generateKeyPair();
            String chain = issue(dnsNames, notBefore, notAfter, SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()),
                KeyUsage.digitalSignature | KeyUsage.keyEncipherment);
            return new Issued(chain, CertificateLoader.pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
        }
        catch (GeneralSecurityException | IOException x)
        {
            throw new IllegalStateException(x);
        }
    }

    private String issue(List<String> dnsNames, Instant notBefore, Instant notAfter, SubjectPublicKeyInfo spki, int keyUsage) throws IOException
    {
        X500Name subject = new X500Name("CN=" + dnsNames.get(0));
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(caCertificate.getSubject(), serial(), Date.from(notBefore), Date.from(notAfter), subject, spki);
        GeneralName[] names = new GeneralName[dnsNames.size()];
        for (int i = 0; i < names.length; i++)
        {
            names[i] = new GeneralName(GeneralName.dNSName, dnsNames.get(i));
        }
        try
        {
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            builder.addExtension(Extension.authorityKeyIdentifier, false, authorityKeyIdentifier);
            X509CertificateHolder certificate = builder.build(signer(caKey));
            return CertificateLoader.pem("CERTIFICATE", certificate.getEncoded()) + caPem;
        }
        catch (CertIOException | OperatorCreationException x)
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
    private static String ecKeyPem(ECPrivateKeyParameters key, ECPoint q) throws IOException
    {
        PrivateKeyInfo info = new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, SECObjectIdentifiers.secp256r1),
            new org.bouncycastle.asn1.sec.ECPrivateKey(256, key.getD(), new DERBitString(q.getEncoded(false)), null));
        return CertificateLoader.pem("PRIVATE KEY", info.getEncoded());
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
