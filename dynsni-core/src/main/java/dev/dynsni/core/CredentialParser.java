package dev.dynsni.core;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.Credential;

/**
 * Turns PEM text into a {@link Credential}: finds the leaf by its match with the private key, puts the
 * chain leaf-first in issuer order, and checks the validity period. Stateless and thread-safe.
 */
public final class CredentialParser
{
    private CredentialParser()
    {
    }

    /**
     * @param record   a stored record whose key is plain PEM
     * @param nowMillis the time against which validity is checked
     * @return the credential
     * @throws InvalidCredentialException with the reason when it cannot be served
     */
    public static Credential parse(CertificateRecord record, long nowMillis) throws InvalidCredentialException
    {
        return parse(record, null, nowMillis);
    }

    /**
     * @param masterKeys the keys that decrypt encrypted private keys, or null when none is configured
     */
    public static Credential parse(CertificateRecord record, MasterKeys masterKeys, long nowMillis) throws InvalidCredentialException
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
        Credential credential = parse(record.name(), record.chainPem(), keyPem, record.version());
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
        PrivateKey key = Pem.readPrivateKey(keyPem);
        String keyType = Pem.keyType(key);
        List<X509Certificate> certificates = Pem.readCertificates(chainPem);
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
        X509Certificate[] chain = orderChain(leaf, certificates);
        return new Credential(name, keyType, chain, key, Pem.fingerprint(leaf), version);
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
