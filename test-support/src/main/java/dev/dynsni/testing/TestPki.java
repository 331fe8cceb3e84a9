package dev.dynsni.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Test PKI generated at run time with BouncyCastle: a CA, and leaf certificates (EC P-256 or RSA
 * 2048) for given DNS names, with a chosen validity period. PEM output in the forms operators meet:
 * PKCS#8, PKCS#1 ({@code RSA PRIVATE KEY}) and SEC1 ({@code EC PRIVATE KEY}).
 */
public final class TestPki
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
    private final KeyPair caKeys;
    private final X509Certificate caCertificate;

    /** A generated certificate and its key. */
    public record Issued(X509Certificate certificate, PrivateKey key, X509Certificate ca)
    {
        /** @return leaf then CA, PEM */
        public String chainPem()
        {
            return TestPki.pem(certificate) + TestPki.pem(ca);
        }

        /** @return CA then leaf: out of order on purpose */
        public String reversedChainPem()
        {
            return TestPki.pem(ca) + TestPki.pem(certificate);
        }

        /** @return the key as PKCS#8 {@code PRIVATE KEY} */
        public String pkcs8KeyPem()
        {
            return TestPki.pemObject(new PemObject("PRIVATE KEY", key.getEncoded()));
        }

        /** @return the key in its traditional form: PKCS#1 for RSA, SEC1 for EC */
        public String traditionalKeyPem()
        {
            return TestPki.pemKey(key);
        }

        public String keyType()
        {
            return key.getAlgorithm().equals("EC") ? "EC" : key.getAlgorithm();
        }
    }

    public TestPki()
    {
        this("dynsni test CA");
    }

    public TestPki(String caName)
    {
        try
        {
            caKeys = ecKeys();
            Instant now = Instant.now();
            X500Name name = new X500Name("CN=" + caName);
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minus(Duration.ofDays(1))),
                Date.from(now.plus(Duration.ofDays(3650))), name, caKeys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            caCertificate = sign(builder, caKeys.getPrivate());
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    public X509Certificate caCertificate()
    {
        return caCertificate;
    }

    public String caPem()
    {
        return pem(caCertificate);
    }

    /** An EC P-256 leaf valid from a day ago for 90 days. */
    public Issued ec(String... dnsNames)
    {
        return issue(false, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(90)), dnsNames);
    }

    /** An RSA 2048 leaf valid from a day ago for 90 days. */
    public Issued rsa(String... dnsNames)
    {
        return issue(true, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(90)), dnsNames);
    }

    public Issued issue(boolean rsa, Instant notBefore, Instant notAfter, String... dnsNames)
    {
        try
        {
            KeyPair keys = rsa ? rsaKeys() : ecKeys();
            X500Name subject = new X500Name("CN=" + dnsNames[0]);
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCertificate, serial(), Date.from(notBefore), Date.from(notAfter), subject, keys.getPublic());
            List<GeneralName> names = new ArrayList<>();
            for (String dnsName : dnsNames)
            {
                names.add(new GeneralName(GeneralName.dNSName, dnsName));
            }
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            return new Issued(sign(builder, caKeys.getPrivate()), keys.getPrivate(), caCertificate);
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    private static BigInteger serial()
    {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey caKey) throws Exception
    {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(caKey);
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    public static KeyPair ecKeys() throws GeneralSecurityException
    {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    public static KeyPair rsaKeys() throws GeneralSecurityException
    {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048, RANDOM);
        return generator.generateKeyPair();
    }

    public static String pem(X509Certificate certificate)
    {
        try
        {
            return pemObject(new JcaMiscPEMGenerator(certificate).generate());
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
    }

    static String pemKey(PrivateKey key)
    {
        if (key.getAlgorithm().equals("EC"))
        {
            // SEC1 as OpenSSL writes it: the curve inside the structure (the JDK keeps it outside)
            try
            {
                PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
                org.bouncycastle.asn1.sec.ECPrivateKey inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
                org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(), inner.getPublicKey(),
                    info.getPrivateKeyAlgorithm().getParameters());
                return pemObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
            }
            catch (IOException x)
            {
                throw new UncheckedIOException(x);
            }
        }
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out))
        {
            writer.writeObject(key);
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
        return out.toString();
    }

    static String pemObject(PemObject object)
    {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out))
        {
            writer.writeObject(object);
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
        return out.toString();
    }
}
