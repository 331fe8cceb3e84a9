package dev.dynsni.core;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Turns PEM text into a {@link Credential}: finds the leaf by its match with the private key, puts the
 * chain leaf-first in issuer order, and checks the validity period; the chain is held compactly and
 * shared through a {@link CertificatePool} (see {@link Credential}). Stateless and thread-safe.
 */
public final class CredentialParser
{
    private CredentialParser()
    {
    }

    /** A public, self-signed certificate (no secret): only ever parsed by {@link #warmUp()}. */
    private static final String WARM_UP_CERTIFICATE =
        "-----BEGIN CERTIFICATE-----\n" +
        "MIIBizCCATGgAwIBAgIUEGW4fLVSk7odqlKXFqC+xg4A9A8wCgYIKoZIzj0EAwIw\n" +
        "GjEYMBYGA1UEAwwPd2FybS11cC5pbnZhbGlkMCAXDTI2MTEyOTE3MTkxNVoYDzIx\n" +
        "MjYxMTA1MTcxOTE1WjAaMRgwFgYDVQQDDA93YXJtLXVwLmludmFsaWQwWTATBgcq\n" +
        "hkjOPQIBBggqhkjOPQMBBwNCAARi7jIEnlerWQeJm8/ZBjzYa87gKwgsh+yscZo/\n" +
        "HZuEfp496QcKMJdQ03+tGOjwnGNMaQeHnuU5b7mo1OYTaE82o1MwUTAdBgNVHQ4E\n" +
        "FgQUCZwkNfEOe3eVDZfclDlPYLn0fZIwHwYDVR0jBBgwFoAUCZwkNfEOe3eVDZfc\n" +
        "lDlPYLn0fZIwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA5H8D\n" +
        "z6fU3vIN74JyRQ64pp0fDUgIs8SMODk5GcJ2hdsCIHU6mcY1cOIbf+CG+d6TlygD\n" +
        "xAV3f6yWcp7QCBJVR/5E\n" +
        "-----END CERTIFICATE-----\n";

    /**
     * Runs each step of a parse once on throw-away input (the certificate above, a key generated on
     * the spot), so the classes and tables the first real parse needs (BouncyCastle's PEM parser and
     * curve tables, the JDK's X.509 and key factories) are loaded before the first handshake asks:
     * on a fresh JVM that first parse costs about a second, which a node pays in the background at
     * start instead of on its first handshake. Never throws.
     *
     * @return whether every step ran
     */
    public static boolean warmUp()
    {
        try
        {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            String keyPem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(keys.getPrivate().getEncoded()) +
                "\n-----END PRIVATE KEY-----\n";
            X509Certificate certificate = Pem.readCertificates(WARM_UP_CERTIFICATE).get(0);
            PrivateKey key = Pem.readPrivateKey(keyPem);
            Pem.fingerprint(certificate);
            Pem.keyType(key);
            return Pem.matches(key, keys.getPublic()) && !Pem.matches(key, certificate.getPublicKey());
        }
        catch (Throwable x)
        {
            return false;
        }
    }

    /**
     * @param record   a stored record whose key is plain PEM
     * @param nowMillis the time against which validity is checked
     * @return the credential
     * @throws InvalidCredentialException with the reason when it cannot be served
     */
    public static Credential parse(CertificateRecord record, long nowMillis) throws InvalidCredentialException
    {
        return parse(record, null, nowMillis, CertificatePool.NONE);
    }

    /**
     * @param masterKeys the keys that decrypt encrypted private keys, or null when none is configured
     */
    public static Credential parse(CertificateRecord record, MasterKeys masterKeys, long nowMillis) throws InvalidCredentialException
    {
        return parse(record, masterKeys, nowMillis, CertificatePool.NONE);
    }

    /**
     * @param masterKeys the keys that decrypt encrypted private keys, or null when none is configured
     * @param pool       where certificates are shared with other credentials
     */
    public static Credential parse(CertificateRecord record, MasterKeys masterKeys, long nowMillis, CertificatePool pool) throws InvalidCredentialException
    {
        String keyPem;
        if (CertificateRecord.PLAIN.equals(record.keyEncoding()))
            keyPem = record.keyPem();
        else if (MasterKeys.keyIdOf(record.keyEncoding()) != null)
        {
            if (masterKeys == null)
                throw new InvalidCredentialException("private key is encrypted (" + record.keyEncoding() + ") but no master key is configured (jetty.dynamicSni.masterKeyFile)");
            keyPem = masterKeys.decrypt(record);
        }
        else
            throw new InvalidCredentialException("key encoding '" + record.keyEncoding() + "' is not supported by this node");
        Credential credential = parse(record.name(), record.chainPem(), keyPem, record.version(), pool);
        if (!record.keyType().equals(credential.getKeyType()))
            throw new InvalidCredentialException("row key_type " + record.keyType() + " does not match the key, which is " + credential.getKeyType());
        checkValidity(credential, nowMillis);
        return credential;
    }

    /**
     * Parses and matches without checking the validity period.
     */
    public static Credential parse(String name, String chainPem, String keyPem, long version) throws InvalidCredentialException
    {
        return parse(name, chainPem, keyPem, version, CertificatePool.NONE);
    }

    /**
     * Parses and matches without checking the validity period. The credential holds each certificate
     * of its chain as its encoding (see {@link Credential}), the one the pool already holds where it
     * holds one.
     */
    public static Credential parse(String name, String chainPem, String keyPem, long version, CertificatePool pool) throws InvalidCredentialException
    {
        if (name.indexOf('|') >= 0)
            throw new InvalidCredentialException("stored name contains '|'");
        PrivateKey key = Pem.readPrivateKey(keyPem);
        String keyType = Pem.keyType(key);
        List<byte[]> encodings = Pem.readCertificateEncodings(chainPem);
        List<X509Certificate> certificates = new ArrayList<>(encodings.size());
        for (byte[] encoding : encodings)
        {
            certificates.add(Pem.parseCertificate(encoding));
        }
        X509Certificate leaf = null;
        for (X509Certificate certificate : certificates)
        {
            if (Pem.matches(key, certificate.getPublicKey()))
            {
                leaf = certificate;
                break;
            }
        }
        if (leaf == null)
            throw new InvalidCredentialException("private key does not match any certificate of the chain");
        X509Certificate[] ordered = orderChain(leaf, certificates);
        X509Certificate[] chain = new X509Certificate[ordered.length];
        String fingerprint = null;
        int estimate = HeapEstimate.key(key);
        for (int i = 0; i < ordered.length; i++)
        {
            byte[] encoding = encodings.get(indexOf(certificates, ordered[i]));
            byte[] sha256 = Pem.sha256(encoding);
            if (i == 0)
                fingerprint = HexFormat.of().formatHex(sha256);
            CompactCertificate own = new CompactCertificate(ordered[i], encoding, i == 0, name);
            X509Certificate held = pool.intern(sha256, own);
            // Shared only when it is exactly this certificate, and a leaf only as a leaf (with its public key).
            CompactCertificate shared = held != own && held instanceof CompactCertificate compact && compact.hasEncoding(encoding) &&
                (i > 0 || compact.holdsPublicKey()) ? compact : null;
            chain[i] = shared != null ? shared : own;
            // Counted for the name that brought it in (also when it reloads), not for the names that share it.
            if (shared == null || shared.ownedBy(name))
                estimate += HeapEstimate.certificate(chain[i]) + pool.entryBytes();
        }
        return new Credential(name, keyType, chain, key, fingerprint, version, leaf.getNotBefore().getTime(), leaf.getNotAfter().getTime(), estimate);
    }

    private static int indexOf(List<X509Certificate> certificates, X509Certificate certificate)
    {
        for (int i = 0; i < certificates.size(); i++)
        {
            if (certificates.get(i) == certificate)
                return i;
        }
        throw new IllegalStateException("not in the list");
    }

    public static void checkValidity(Credential credential, long nowMillis) throws InvalidCredentialException
    {
        if (nowMillis < credential.getNotBefore().toEpochMilli())
            throw new InvalidCredentialException("certificate is not valid before " + credential.getNotBefore());
        if (nowMillis > credential.getNotAfter().toEpochMilli())
            throw new InvalidCredentialException("certificate expired at " + credential.getNotAfter());
    }

    /**
     * Leaf first, then each certificate's issuer as found in the list; certificates that are not on
     * the leaf's path are dropped (they would only confuse clients).
     */
    public static X509Certificate[] orderChain(X509Certificate leaf, List<X509Certificate> certificates)
    {
        List<X509Certificate> remaining = new ArrayList<>(certificates);
        remaining.remove(leaf);
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(leaf);
        X509Certificate current = leaf;
        while (!remaining.isEmpty() && !current.getIssuerX500Principal().equals(current.getSubjectX500Principal()))
        {
            X509Certificate issuer = null;
            for (X509Certificate candidate : remaining)
            {
                if (candidate.getSubjectX500Principal().equals(current.getIssuerX500Principal()))
                {
                    issuer = candidate;
                    break;
                }
            }
            if (issuer == null)
                break;
            remaining.remove(issuer);
            chain.add(issuer);
            current = issuer;
        }
        return chain.toArray(new X509Certificate[0]);
    }
}
