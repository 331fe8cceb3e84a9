package dev.dynsni.bench;

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
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.PBEParameterSpec;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;

/**
 * Benchmark PKI: one ECDSA P-256 {@link CertificateAuthority} and a pool of P-256 key pairs; every
 * host gets its own certificate (own serial, own name, signed by the CA) but its key pair comes
 * from the pool, since generating a million key pairs would only measure key generation.
 */
final class BenchPki
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Instant notBefore = Instant.now().minus(Duration.ofDays(1));
    private final Instant notAfter = Instant.now().plus(Duration.ofDays(365));
    private final CertificateAuthority ca = CertificateAuthority.create("dynsni bench CA", null, notBefore, notAfter.plus(Duration.ofDays(365)));
    private final KeyPair[] pool;
    private final String[] poolKeyPem;
    private final byte[][] poolProtected;

    /** A generated host certificate. */
    record Leaf(String host, int keyIndex, byte[] der)
    {
    }

    BenchPki(int poolSize)
    {
        try
        {
            pool = new KeyPair[poolSize];
            poolKeyPem = new String[poolSize];
            poolProtected = new byte[poolSize][];
            for (int i = 0; i < poolSize; i++)
            {
                pool[i] = ecKeys();
                poolKeyPem[i] = Pem.encode("PRIVATE KEY", pool[i].getPrivate().getEncoded());
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
        return ca.caCertificate();
    }

    Leaf leaf(String host, int keyIndex)
    {
        int index = Math.floorMod(keyIndex, pool.length);
        return new Leaf(host, index, ca.issue(pool[index], notBefore, notAfter, host).certificateDer());
    }

    String chainPem(Leaf leaf)
    {
        return Pem.encode("CERTIFICATE", leaf.der()) + ca.caPem();
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

    private static KeyPair ecKeys() throws Exception
    {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }
}
