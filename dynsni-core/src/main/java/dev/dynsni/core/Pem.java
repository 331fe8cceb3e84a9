package dev.dynsni.core;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.math.BigInteger;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * PEM decoding through BouncyCastle: certificate chains, and RSA / EC private keys in PKCS#1,
 * PKCS#8 and SEC1 form; and PEM encoding of DER blocks. Stateless and thread-safe. Error messages
 * never contain key material.
 */
public final class Pem
{
    private static final String BEGIN = "-----BEGIN ";
    private static final String END = "-----END ";
    private static final String DASHES = "-----";
    private static final List<String> PKCS8_ALGORITHMS = List.of("EC", "RSA", "RSASSA-PSS", "EdDSA");
    private static final Base64.Encoder PEM_BASE64 = Base64.getMimeEncoder(64, new byte[]{'\n'});

    private Pem()
    {
    }

    /**
     * @param pem one or more {@code CERTIFICATE} blocks
     * @return the certificates in file order
     * @throws InvalidCredentialException when the text holds no certificate or one does not parse
     */
    public static List<X509Certificate> readCertificates(String pem) throws InvalidCredentialException
    {
        // The JDK's X.509 factory, not BouncyCastle's PEM parser: it is loaded by TLS anyway, and
        // BouncyCastle's first certificate costs about half a second of class loading on a fresh node.
        List<X509Certificate> certificates = new ArrayList<>();
        try
        {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            int from = 0;
            while (true)
            {
                int begin = pem.indexOf(BEGIN, from);
                if (begin < 0)
                    break;
                int labelEnd = pem.indexOf(DASHES, begin + BEGIN.length());
                if (labelEnd < 0)
                    throw new InvalidCredentialException("certificate PEM does not parse: unterminated BEGIN line");
                String label = pem.substring(begin + BEGIN.length(), labelEnd);
                String end = END + label + DASHES;
                int endAt = pem.indexOf(end, labelEnd);
                if (endAt < 0)
                    throw new InvalidCredentialException("certificate PEM does not parse: no END line for " + label);
                if (!"CERTIFICATE".equals(label))
                    throw new InvalidCredentialException("certificate PEM holds an unexpected " + label + " block");
                byte[] der = Base64.getMimeDecoder().decode(pem.substring(labelEnd + DASHES.length(), endAt));
                certificates.add((X509Certificate)factory.generateCertificate(new ByteArrayInputStream(der)));
                from = endAt + end.length();
            }
        }
        catch (CertificateException | RuntimeException x)
        {
            throw new InvalidCredentialException("certificate PEM does not parse: " + safeMessage(x));
        }
        if (certificates.isEmpty())
            throw new InvalidCredentialException("certificate PEM holds no certificate");
        return certificates;
    }

    /**
     * Splits a chain into its certificates' DER encodings without decoding them (the chain parser
     * parses each once, then may share it: see {@link CertificatePool}).
     *
     * @param pem one or more {@code CERTIFICATE} blocks
     * @return the encodings in file order
     * @throws InvalidCredentialException when the text holds no certificate block, another block, or a block that is not base64
     */
    public static List<byte[]> readCertificateEncodings(String pem) throws InvalidCredentialException
    {
        List<byte[]> encodings = new ArrayList<>();
        try (PemReader reader = new PemReader(new StringReader(pem)))
        {
            PemObject block;
            while ((block = reader.readPemObject()) != null)
            {
                if (!"CERTIFICATE".equals(block.getType()) && !"X509 CERTIFICATE".equals(block.getType()))
                    throw new InvalidCredentialException("certificate PEM holds an unexpected " + block.getType() + " block");
                encodings.add(block.getContent());
            }
        }
        catch (IOException | RuntimeException x)
        {
            throw new InvalidCredentialException("certificate PEM does not parse: " + safeMessage(x));
        }
        if (encodings.isEmpty())
            throw new InvalidCredentialException("certificate PEM holds no certificate");
        return encodings;
    }

    /**
     * @param der the DER encoding of exactly one certificate
     * @return the certificate, parsed by the JDK's X.509 certificate factory
     * @throws InvalidCredentialException when the bytes are not one well-formed certificate
     */
    public static X509Certificate parseCertificate(byte[] der) throws InvalidCredentialException
    {
        try
        {
            ByteArrayInputStream in = new ByteArrayInputStream(der);
            X509Certificate certificate = (X509Certificate)CertificateFactory.getInstance("X.509").generateCertificate(in);
            if (in.available() != 0)
                throw new InvalidCredentialException("certificate PEM does not parse: " + in.available() + " bytes after the certificate");
            return certificate;
        }
        catch (CertificateException | RuntimeException x)
        {
            throw new InvalidCredentialException("certificate PEM does not parse: " + safeMessage(x));
        }
    }

    /** @return the SHA-256 digest of the bytes */
    public static byte[] sha256(byte[] bytes)
    {
        try
        {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        }
        catch (GeneralSecurityException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /**
     * @param pem a private key: {@code RSA PRIVATE KEY} (PKCS#1), {@code EC PRIVATE KEY} (SEC1, with or
     *            without an {@code EC PARAMETERS} block) or {@code PRIVATE KEY} (PKCS#8)
     * @return the key
     * @throws InvalidCredentialException when there is no key, more than one, an encrypted one, or it does not parse
     */
    public static PrivateKey readPrivateKey(String pem) throws InvalidCredentialException
    {
        PrivateKey pkcs8 = readPkcs8(pem);
        if (pkcs8 != null)
            return pkcs8;
        PrivateKey key = null;
        try (PEMParser parser = new PEMParser(new StringReader(pem)))
        {
            Object object;
            while ((object = parser.readObject()) != null)
            {
                PrivateKey found;
                if (object instanceof PEMKeyPair pair)
                    found = BouncyCastle.KEYS.getPrivateKey(pair.getPrivateKeyInfo());
                else if (object instanceof PrivateKeyInfo info)
                    found = BouncyCastle.KEYS.getPrivateKey(info);
                else if (object instanceof ASN1ObjectIdentifier)
                    continue; // EC PARAMETERS before a SEC1 key
                else if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo)
                    throw new InvalidCredentialException("private key PEM is password-protected; store it unencrypted (the store encrypts keys at rest)");
                else if (object instanceof X509CertificateHolder)
                    continue; // tolerate a combined file; certificates are read separately
                else
                    throw new InvalidCredentialException("private key PEM holds an unexpected " + kind(object) + " block");
                if (key != null)
                    throw new InvalidCredentialException("private key PEM holds more than one key");
                key = found;
            }
        }
        catch (IOException | RuntimeException x)
        {
            throw new InvalidCredentialException("private key PEM does not parse: " + safeMessage(x));
        }
        if (key == null)
            throw new InvalidCredentialException("private key PEM holds no private key");
        return key;
    }

    /**
     * The common case, a single unencrypted PKCS#8 {@code PRIVATE KEY} block (what the admin tool
     * stores), through the JDK's key factories; anything else is left to BouncyCastle.
     *
     * @return the key, or null when the text is not exactly one such block the JDK reads
     */
    private static PrivateKey readPkcs8(String pem)
    {
        String begin = BEGIN + "PRIVATE KEY" + DASHES;
        String end = END + "PRIVATE KEY" + DASHES;
        int from = pem.indexOf(begin);
        int to = from < 0 ? -1 : pem.indexOf(end, from);
        if (from < 0 || to < 0 || pem.indexOf(begin, to) >= 0 || pem.indexOf(BEGIN, 0) != from && pem.substring(0, from).contains(BEGIN + "EC"))
            return null;
        byte[] der;
        try
        {
            der = Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
        }
        catch (IllegalArgumentException x)
        {
            return null;
        }
        for (String algorithm : PKCS8_ALGORITHMS)
        {
            try
            {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            }
            catch (GeneralSecurityException | RuntimeException x)
            {
                // not this algorithm: try the next, then BouncyCastle
            }
        }
        return null;
    }

    /**
     * @param key a private key
     * @return the TLS key type it serves: {@code RSA}, {@code RSASSA-PSS}, {@code EC} or {@code EdDSA}
     * @throws InvalidCredentialException for other algorithms
     */
    public static String keyType(PrivateKey key) throws InvalidCredentialException
    {
        return switch (key.getAlgorithm())
        {
            case "RSA" -> "RSA";
            case "RSASSA-PSS" -> "RSASSA-PSS";
            case "EC", "ECDSA" -> "EC";
            case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
            default -> throw new InvalidCredentialException("unsupported private key algorithm " + key.getAlgorithm());
        };
    }

    /** BouncyCastle's parts, loaded on first use only: the common path (PKCS#8, X.509) needs none. */
    private static final class BouncyCastle
    {
        static final JcaPEMKeyConverter KEYS = new JcaPEMKeyConverter();
    }

    /** One holder per curve, so a node serving P-256 only never builds the others' tables. */
    private static final class P256
    {
        static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp256r1");
    }

    private static final class P384
    {
        static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp384r1");
    }

    private static final class P521
    {
        static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp521r1");
    }

    /** @return BouncyCastle's parameters of a NIST curve by its field size, or null for other curves */
    private static X9ECParameters curve(int fieldSize)
    {
        return switch (fieldSize)
        {
            case 256 -> P256.CURVE;
            case 384 -> P384.CURVE;
            case 521 -> P521.CURVE;
            default -> null;
        };
    }

    /**
     * @return whether {@code key} is the private half of {@code publicKey}. For EC keys on P-256,
     *     P-384 and P-521 the public point is derived from the private scalar (fixed-base comb, about
     *     50 µs for P-256, against about 1 ms for a JDK sign-and-verify) and compared; for RSA the
     *     modulus and exponent are compared; anything else is proven by a signature
     */
    public static boolean matches(PrivateKey key, PublicKey publicKey)
    {
        try
        {
            if (key instanceof ECPrivateKey ec && publicKey instanceof ECPublicKey pub)
            {
                BigInteger order = ec.getParams().getOrder();
                X9ECParameters curve = curve(ec.getParams().getCurve().getField().getFieldSize());
                if (curve != null && order.equals(curve.getN()) && order.equals(pub.getParams().getOrder()))
                {
                    BigInteger d = ec.getS();
                    if (d.signum() <= 0 || d.compareTo(order) >= 0)
                        return false;
                    ECPoint q = new FixedPointCombMultiplier().multiply(curve.getG(), d).normalize();
                    return q.getAffineXCoord().toBigInteger().equals(pub.getW().getAffineX()) &&
                        q.getAffineYCoord().toBigInteger().equals(pub.getW().getAffineY());
                }
            }
            if (key instanceof RSAPrivateCrtKey rsa)
            {
                return publicKey instanceof RSAPublicKey pub &&
                    rsa.getModulus().equals(pub.getModulus()) &&
                    rsa.getPublicExponent().equals(pub.getPublicExponent());
            }
            String algorithm = switch (keyType(key))
            {
                case "EC" -> "SHA256withECDSA";
                case "EdDSA" -> key.getAlgorithm();
                case "RSASSA-PSS" -> null;
                default -> "SHA256withRSA";
            };
            if (algorithm == null)
                return publicKey.getAlgorithm().equals(key.getAlgorithm());
            byte[] challenge = "dynsni key match".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        }
        catch (GeneralSecurityException | InvalidCredentialException | RuntimeException x)
        {
            return false;
        }
    }

    /**
     * @return SHA-256 of the certificate's DER encoding, lower-case hex
     */
    public static String fingerprint(X509Certificate certificate)
    {
        try
        {
            return HexFormat.of().formatHex(sha256(certificate.getEncoded()));
        }
        catch (CertificateException x)
        {
            throw new IllegalStateException(x);
        }
    }

    /**
     * @param type the block's label, e.g. {@code CERTIFICATE} or {@code PRIVATE KEY}
     * @param der the block's content
     * @return one PEM block as OpenSSL writes it: base64 in lines of 64 characters, {@code \n} line ends
     */
    public static String encode(String type, byte[] der)
    {
        return "-----BEGIN " + type + "-----\n" + PEM_BASE64.encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** @return the certificate as one {@code CERTIFICATE} PEM block */
    public static String encode(X509Certificate certificate)
    {
        try
        {
            return encode("CERTIFICATE", certificate.getEncoded());
        }
        catch (CertificateException x)
        {
            throw new IllegalStateException(x);
        }
    }

    private static String kind(Object object)
    {
        return object.getClass().getSimpleName();
    }

    private static String safeMessage(Throwable x)
    {
        String message = x.getMessage();
        if (message == null || message.isBlank())
            return x.getClass().getSimpleName();
        // BouncyCastle messages name the structure that failed; cut anything long to stay free of data.
        return message.length() > 160 ? message.substring(0, 160) : message;
    }
}
