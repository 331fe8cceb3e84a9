package dev.dynsni.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import dev.dynsni.core.CertificateRecord;

/**
 * Encryption of private keys at rest: AES-256-GCM with a fresh 96-bit nonce per write, the stored
 * name and key type as associated data (a row copied to another host does not decrypt), and the
 * key id in the row's {@code key_encoding} ({@code aes256gcm:<keyId>}) so that the master key can be
 * rotated: a node holds the current key (used for writes) and any previous keys (read only).
 *
 * <p>A master key file holds 32 bytes: raw, or as 64 hex digits, or as base64. It must not be
 * readable by group or others. The key id is the first 16 hex digits of SHA-256 of the key. Key
 * material never appears in messages. Thread-safe: a new {@link Cipher} per call.</p>
 */
public final class MasterKeys
{
    public static final String SCHEME = "aes256gcm";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String currentId;
    private final Map<String, SecretKey> keys;

    private MasterKeys(String currentId, Map<String, SecretKey> keys)
    {
        this.currentId = currentId;
        this.keys = keys;
    }

    /**
     * @param current  the key file used for writes (and reads)
     * @param previous key files still accepted for reads during a rotation
     */
    public static MasterKeys load(Path current, List<Path> previous) throws IOException
    {
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        SecretKey currentKey = readKey(current);
        String currentId = keyId(currentKey);
        keys.put(currentId, currentKey);
        for (Path path : previous)
        {
            SecretKey key = readKey(path);
            keys.putIfAbsent(keyId(key), key);
        }
        return new MasterKeys(currentId, keys);
    }

    /** For tests and the admin tool: keys held in memory. */
    public static MasterKeys of(byte[] current, byte[]... previous)
    {
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        SecretKey currentKey = new SecretKeySpec(check(current), "AES");
        keys.put(keyId(currentKey), currentKey);
        for (byte[] bytes : previous)
        {
            SecretKey key = new SecretKeySpec(check(bytes), "AES");
            keys.putIfAbsent(keyId(key), key);
        }
        return new MasterKeys(keyId(currentKey), keys);
    }

    /** @return a new random 256-bit key, base64 */
    public static String generate()
    {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    public String currentKeyId()
    {
        return currentId;
    }

    public Set<String> keyIds()
    {
        return keys.keySet();
    }

    /** @return the {@code key_encoding} value of rows written with the current key */
    public String currentEncoding()
    {
        return SCHEME + ":" + currentId;
    }

    /**
     * @return base64 of nonce followed by ciphertext and tag
     */
    public String encrypt(String name, String keyType, String keyPem)
    {
        try
        {
            byte[] nonce = new byte[NONCE_BYTES];
            RANDOM.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, keys.get(currentId), new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(aad(name, keyType));
            byte[] sealed = cipher.doFinal(keyPem.getBytes(StandardCharsets.UTF_8));
            byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + sealed.length);
            System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
            return Base64.getEncoder().encodeToString(out);
        }
        catch (GeneralSecurityException x)
        {
            throw new IllegalStateException("AES-GCM unavailable: " + x.getClass().getSimpleName());
        }
    }

    /**
     * @return the plain PEM of the record's private key
     * @throws InvalidCredentialException when the key id is unknown here or the data does not
     *     authenticate (tampered, or copied from another host or key type)
     */
    public String decrypt(CertificateRecord record) throws InvalidCredentialException
    {
        return decrypt(record.name(), record.keyType(), record.keyEncoding(), record.keyPem());
    }

    public String decrypt(String name, String keyType, String encoding, String payload) throws InvalidCredentialException
    {
        String keyId = keyIdOf(encoding);
        if (keyId == null)
            throw new InvalidCredentialException("key encoding '" + encoding + "' is not " + SCHEME + ":<keyId>");
        SecretKey key = keys.get(keyId);
        if (key == null)
            throw new InvalidCredentialException("private key is encrypted with master key " + keyId + ", which this node does not hold");
        try
        {
            byte[] in = Base64.getDecoder().decode(payload.trim());
            if (in.length <= NONCE_BYTES + TAG_BITS / 8)
                throw new InvalidCredentialException("encrypted private key is truncated");
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, NONCE_BYTES));
            cipher.updateAAD(aad(name, keyType));
            return new String(cipher.doFinal(in, NONCE_BYTES, in.length - NONCE_BYTES), StandardCharsets.UTF_8);
        }
        catch (IllegalArgumentException x)
        {
            throw new InvalidCredentialException("encrypted private key is not base64");
        }
        catch (GeneralSecurityException x)
        {
            throw new InvalidCredentialException("encrypted private key does not authenticate for " + name + "/" + keyType + " (tampered, or copied from another host)");
        }
    }

    /** @return the key id of an {@code aes256gcm:<id>} encoding, or null */
    public static String keyIdOf(String encoding)
    {
        if (encoding == null || !encoding.startsWith(SCHEME + ":"))
            return null;
        return encoding.substring(SCHEME.length() + 1);
    }

    private static byte[] aad(String name, String keyType)
    {
        return (name + "\u0000" + keyType).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] check(byte[] key)
    {
        if (key.length != 32)
            throw new IllegalArgumentException("a master key must be 256 bits (32 bytes), got " + key.length + " bytes");
        return key;
    }

    static SecretKey readKey(Path path) throws IOException
    {
        if (!Files.isRegularFile(path))
            throw new IOException("master key file " + path + " does not exist");
        try
        {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
            List<PosixFilePermission> loose = new ArrayList<>();
            for (PosixFilePermission permission : permissions)
            {
                if (permission.name().startsWith("GROUP") || permission.name().startsWith("OTHERS"))
                    loose.add(permission);
            }
            if (!loose.isEmpty())
                throw new IOException("master key file " + path + " is readable by group or others (" + loose + "): run chmod 600 " + path);
        }
        catch (UnsupportedOperationException x)
        {
            // not a POSIX file system: nothing to check
        }
        byte[] raw = Files.readAllBytes(path);
        byte[] key;
        String text = new String(raw, StandardCharsets.US_ASCII).trim();
        if (raw.length == 32)
            key = raw;
        else if (text.matches("[0-9a-fA-F]{64}"))
            key = HexFormat.of().parseHex(text);
        else
        {
            try
            {
                key = Base64.getDecoder().decode(text);
            }
            catch (IllegalArgumentException x)
            {
                throw new IOException("master key file " + path + " holds neither 32 raw bytes, 64 hex digits nor base64");
            }
        }
        if (key.length != 32)
            throw new IOException("master key file " + path + " holds " + key.length + " bytes; a master key is 32 bytes (256 bits)");
        return new SecretKeySpec(key, "AES");
    }

    static String keyId(SecretKey key)
    {
        try
        {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return HexFormat.of().formatHex(digest, 0, 8);
        }
        catch (GeneralSecurityException x)
        {
            throw new IllegalStateException(x);
        }
    }

    @Override
    public String toString()
    {
        return "MasterKeys[current=" + currentId + ", known=" + keys.keySet() + "]";
    }
}
