package dev.dynsni.core;

import java.security.Key;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;

/**
 * Estimates of the heap the objects of a credential retain, for a cache bounded in bytes. The
 * figures are those of a 64-bit HotSpot JVM with compressed references (12-byte headers, 8-byte
 * alignment), the JDK's key classes and the JDK's X.509 parser, as measured by the library's tests
 * (which fail when an estimate drifts from the measured graph); other JVMs differ a little.
 */
public final class HeapEstimate
{
    // Keys as the JDK's factories make them, measured (JDK 17, object graph growth per key) for
    // P-256 and P-384, RSA 2048 and 3072, and fitted as base + per byte of field or modulus size.
    private static final int EC_PRIVATE_BASE = 320;
    private static final int EC_PRIVATE_HALF_BYTES_PER_BYTE = 3;
    private static final int EC_PUBLIC_BASE = 488;
    private static final int EC_PUBLIC_HALF_BYTES_PER_BYTE = 11;
    private static final int RSA_PRIVATE_BASE = 729;
    private static final int RSA_PRIVATE_PER_BYTE = 9;
    private static final int RSA_PUBLIC_BASE = 408;
    private static final int RSA_PUBLIC_PER_BYTE = 3;
    /** EdDSA and others: rare, and small. */
    private static final int OTHER_KEY = 600;
    /** A certificate as the JDK's X.509 parser holds it: about 3.8 KiB for a 417-byte EC leaf. */
    private static final int PARSED_BASE = 2000;
    private static final int PARSED_PER_BYTE = 4;

    private HeapEstimate()
    {
    }

    /** @return the bytes of an object with the given header and field bytes, aligned */
    public static int object(int fieldBytes)
    {
        return align(12 + fieldBytes);
    }

    /** @return the bytes of a {@code byte[]} of that length */
    public static int bytes(int length)
    {
        return align(16 + length);
    }

    /** @return the bytes of an array of that many references */
    public static int references(int length)
    {
        return align(16 + 4 * length);
    }

    /** @return the bytes of a Latin-1 string of that length (the string and its array) */
    public static int string(int length)
    {
        return object(12) + bytes(length);
    }

    /** @return the bytes of a key as the JDK's key factories make it, from its algorithm and size (never from its encoding) */
    static int key(Key key)
    {
        boolean secret = key instanceof PrivateKey;
        if (key instanceof ECKey ec)
        {
            int bytes = (ec.getParams().getCurve().getField().getFieldSize() + 7) / 8;
            return secret ? EC_PRIVATE_BASE + EC_PRIVATE_HALF_BYTES_PER_BYTE * bytes / 2 : EC_PUBLIC_BASE + EC_PUBLIC_HALF_BYTES_PER_BYTE * bytes / 2;
        }
        if (key instanceof RSAKey rsa)
        {
            int bytes = (rsa.getModulus().bitLength() + 7) / 8;
            return secret ? RSA_PRIVATE_BASE + RSA_PRIVATE_PER_BYTE * bytes : RSA_PUBLIC_BASE + RSA_PUBLIC_PER_BYTE * bytes;
        }
        return OTHER_KEY;
    }

    /** @return the bytes of a certificate as the JDK's X.509 parser holds it, from the length of its encoding */
    static int parsedCertificate(X509Certificate certificate)
    {
        try
        {
            return PARSED_BASE + PARSED_PER_BYTE * certificate.getEncoded().length;
        }
        catch (Exception x)
        {
            return PARSED_BASE;
        }
    }

    /** @return the bytes of a certificate of the chain */
    static int certificate(X509Certificate certificate)
    {
        if (certificate instanceof CompactCertificate compact)
            return object(32) + bytes(compact.encodedLength()) + (compact.holdsPublicKey() ? key(compact.getPublicKey()) : 0);
        return parsedCertificate(certificate);
    }

    /** @return the bytes of a key and every certificate of a chain */
    static int parts(PrivateKey key, X509Certificate[] chain)
    {
        int bytes = key(key);
        for (X509Certificate certificate : chain)
        {
            bytes += certificate(certificate);
        }
        return bytes;
    }

    /** @return the bytes of the credential object, its alias and its chain array */
    static int own(int aliasLength, int chainLength)
    {
        return object(44) + string(aliasLength) + references(chainLength);
    }

    private static int align(int bytes)
    {
        return (bytes + 7) & ~7;
    }
}
