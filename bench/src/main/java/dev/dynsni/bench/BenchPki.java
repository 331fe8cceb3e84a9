package dev.dynsni.bench;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.PBEParameterSpec;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Benchmark PKI: one ECDSA P-256 CA and a pool of P-256 key pairs; every host gets its own
 * certificate (own serial, own name, signed by the CA) but its key pair comes from the pool, since
 * generating a million key pairs would only measure key generation.
 */
final class BenchPki
{
    private static final SecureRandom RANDOM = new SecureRandom();
    /** BouncyCastle signs P-256 several times faster than the JDK 17 provider: it matters at a million certificates. */
    private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();
    private final AtomicLong serial = new AtomicLong(System.currentTimeMillis() * 1000);
    private final KeyPair caKeys;
    private final X509Certificate ca;
    private final String caPem;
    private final KeyPair[] pool;
    private final String[] poolKeyPem;
    private final byte[][] poolProtected;
    private final Instant notBefore = Instant.now().minus(Duration.ofDays(1));
    private final Instant notAfter = Instant.now().plus(Duration.ofDays(365));

    /** A generated host certificate. */
    record Leaf(String host, int keyIndex, byte[] der)
    {
    }

    BenchPki(int poolSize)
    {
        try
        {
            caKeys = ecKeys();
            X500Name name = new X500Name("CN=dynsni bench CA");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(serial.incrementAndGet()),
                Date.from(notBefore), Date.from(notAfter.plus(Duration.ofDays(365))), name, caKeys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            ca = certificate(builder.build(signer()).getEncoded());
            caPem = pem("CERTIFICATE", ca.getEncoded());
            pool = new KeyPair[poolSize];
            poolKeyPem = new String[poolSize];
            poolProtected = new byte[poolSize][];
            for (int i = 0; i < poolSize; i++)
            {
                pool[i] = ecKeys();
                poolKeyPem[i] = pem("PRIVATE KEY", pool[i].getPrivate().getEncoded());
            }
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    int poolSize()
    {
        return pool.length;
    }

    X509Certificate ca()
    {
        return ca;
    }

    Leaf leaf(String host, int keyIndex)
    {
        try
        {
            int index = Math.floorMod(keyIndex, pool.length);
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, BigInteger.valueOf(serial.incrementAndGet()), Date.from(notBefore),
                Date.from(notAfter), new X500Name("CN=" + host), pool[index].getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, host)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            return new Leaf(host, index, builder.build(signer()).getEncoded());
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    String chainPem(Leaf leaf)
    {
        return pem("CERTIFICATE", leaf.der()) + caPem;
    }

    String keyPem(Leaf leaf)
    {
        return poolKeyPem[leaf.keyIndex()];
    }

    PrivateKey key(Leaf leaf)
    {
        return pool[leaf.keyIndex()].getPrivate();
    }

    Instant notBefore()
    {
        return notBefore;
    }

    Instant notAfter()
    {
        return notAfter;
    }

    /**
     * The pool key encrypted as keytool does by default on JDK 17 (PBES2, PBKDF2-HmacSHA256,
     * AES-256, the given iterations), for {@code KeyStore.setKeyEntry(alias, byte[], chain)}: the
     * store still decrypts every entry on load, but the benchmark encrypts each pool key only once.
     */
    synchronized byte[] protectedKey(Leaf leaf, char[] password, int iterations)
    {
        int index = leaf.keyIndex();
        if (poolProtected[index] == null)
        {
            try
            {
                byte[] salt = new byte[16];
                byte[] iv = new byte[16];
                RANDOM.nextBytes(salt);
                RANDOM.nextBytes(iv);
                String algorithm = "PBEWithHmacSHA256AndAES_256";
                PBEParameterSpec spec = new PBEParameterSpec(salt, iterations, new IvParameterSpec(iv));
                SecretKey secret = SecretKeyFactory.getInstance(algorithm).generateSecret(new PBEKeySpec(password));
                Cipher cipher = Cipher.getInstance(algorithm);
                cipher.init(Cipher.ENCRYPT_MODE, secret, spec);
                byte[] encrypted = cipher.doFinal(pool[index].getPrivate().getEncoded());
                // Named PBES2 (its OID), with the PBKDF2/AES parameters the cipher used.
                AlgorithmParameters parameters = AlgorithmParameters.getInstance("PBES2");
                parameters.init(cipher.getParameters().getEncoded());
                poolProtected[index] = new EncryptedPrivateKeyInfo(parameters, encrypted).getEncoded();
            }
            catch (Exception x)
            {
                throw new IllegalStateException(x);
            }
        }
        return poolProtected[index];
    }

    static X509Certificate certificate(byte[] der)
    {
        try
        {
            return (X509Certificate)CertificateFactory.getInstance("X.509").generateCertificate(new java.io.ByteArrayInputStream(der));
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    static String fingerprint(byte[] der)
    {
        try
        {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der));
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    static String pem(String type, byte[] der)
    {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    private ContentSigner signer() throws Exception
    {
        return new JcaContentSignerBuilder("SHA256withECDSA").setProvider(BC).build(caKeys.getPrivate());
    }

    private static KeyPair ecKeys() throws Exception
    {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }
}
