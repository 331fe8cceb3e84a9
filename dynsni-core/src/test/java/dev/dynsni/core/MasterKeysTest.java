package dev.dynsni.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

import dev.dynsni.core.CertificateRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MasterKeysTest
{
    private static final String PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

    private static byte[] key(int seed)
    {
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++)
        {
            key[i] = (byte)(seed * 31 + i);
        }
        return key;
    }

    private static CertificateRecord record(String name, String keyType, MasterKeys keys, String payload)
    {
        return new CertificateRecord(name, keyType, "chain", payload, keys.currentEncoding(), 1);
    }

    @Test
    void encryptDecrypt_roundTrips_withFreshNonces() throws Exception
    {
        MasterKeys keys = MasterKeys.of(key(1));
        String a = keys.encrypt("a.example.com", "EC", PEM);
        String b = keys.encrypt("a.example.com", "EC", PEM);
        assertNotEquals(a, b, "a fresh nonce per write");
        assertFalse(a.contains("PRIVATE"));
        assertEquals(PEM, keys.decrypt(record("a.example.com", "EC", keys, a)));
        assertTrue(keys.currentEncoding().startsWith("aes256gcm:"));
    }

    @Test
    void rowCopiedToAnotherHostOrKeyType_doesNotDecrypt()
    {
        MasterKeys keys = MasterKeys.of(key(1));
        String sealed = keys.encrypt("a.example.com", "EC", PEM);
        assertThrows(InvalidCredentialException.class, () -> keys.decrypt(record("b.example.com", "EC", keys, sealed)));
        assertThrows(InvalidCredentialException.class, () -> keys.decrypt(record("a.example.com", "RSA", keys, sealed)));
    }

    @Test
    void tamperedOrTruncated_doesNotDecrypt()
    {
        MasterKeys keys = MasterKeys.of(key(1));
        byte[] sealed = Base64.getDecoder().decode(keys.encrypt("a.example.com", "EC", PEM));
        sealed[20] ^= 1;
        assertThrows(InvalidCredentialException.class, () -> keys.decrypt(record("a.example.com", "EC", keys, Base64.getEncoder().encodeToString(sealed))));
        assertThrows(InvalidCredentialException.class, () -> keys.decrypt(record("a.example.com", "EC", keys, "AAAA")));
        assertThrows(InvalidCredentialException.class, () -> keys.decrypt(record("a.example.com", "EC", keys, "not base64 !")));
    }

    @Test
    void rotation_previousKeysStillDecrypt_unknownKeyIsNamed()
    {
        MasterKeys oldKeys = MasterKeys.of(key(1));
        String sealedWithOld = oldKeys.encrypt("a.example.com", "EC", PEM);
        MasterKeys rotating = MasterKeys.of(key(2), key(1));
        assertNotEquals(oldKeys.currentKeyId(), rotating.currentKeyId());
        assertEquals(PEM, rendered(rotating, new CertificateRecord("a.example.com", "EC", "chain", sealedWithOld, oldKeys.currentEncoding(), 1)));

        MasterKeys newOnly = MasterKeys.of(key(2));
        InvalidCredentialException x = assertThrows(InvalidCredentialException.class,
            () -> newOnly.decrypt(new CertificateRecord("a.example.com", "EC", "chain", sealedWithOld, oldKeys.currentEncoding(), 1)));
        assertTrue(x.getMessage().contains(oldKeys.currentKeyId()), x.getMessage());
    }

    private static String rendered(MasterKeys keys, CertificateRecord record)
    {
        try
        {
            return keys.decrypt(record);
        }
        catch (InvalidCredentialException x)
        {
            throw new AssertionError(x.getMessage());
        }
    }

    @Test
    void keyFile_formatsAndPermissions(@TempDir Path dir) throws Exception
    {
        byte[] raw = key(3);
        Path rawFile = Files.write(dir.resolve("raw.key"), raw);
        Path hexFile = Files.writeString(dir.resolve("hex.key"), HexFormat.of().formatHex(raw) + "\n");
        Path b64File = Files.writeString(dir.resolve("b64.key"), Base64.getEncoder().encodeToString(raw));
        for (Path file : List.of(rawFile, hexFile, b64File))
        {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        String id = MasterKeys.of(raw).currentKeyId();
        assertEquals(id, MasterKeys.load(rawFile, List.of()).currentKeyId());
        assertEquals(id, MasterKeys.load(hexFile, List.of()).currentKeyId());
        assertEquals(id, MasterKeys.load(b64File, List.of()).currentKeyId());

        Files.setPosixFilePermissions(b64File, PosixFilePermissions.fromString("rw-r--r--"));
        java.io.IOException loose = assertThrows(java.io.IOException.class, () -> MasterKeys.load(b64File, List.of()));
        assertTrue(loose.getMessage().contains("chmod 600"), loose.getMessage());
        assertFalse(loose.getMessage().contains(Base64.getEncoder().encodeToString(raw)));

        Path shortFile = Files.writeString(dir.resolve("short.key"), Base64.getEncoder().encodeToString(new byte[16]));
        Files.setPosixFilePermissions(shortFile, PosixFilePermissions.fromString("rw-------"));
        assertTrue(assertThrows(java.io.IOException.class, () -> MasterKeys.load(shortFile, List.of())).getMessage().contains("32 bytes"));
        assertThrows(java.io.IOException.class, () -> MasterKeys.load(dir.resolve("missing.key"), List.of()));
    }

    @Test
    void redactUrl_hidesCredentials()
    {
        assertEquals("jdbc:postgresql://db/x?user=jetty&password=***&ssl=true", Secrets.redactUrl("jdbc:postgresql://db/x?user=jetty&password=s3cret&ssl=true"));
        assertEquals("redis://***@cache:6379", Secrets.redactUrl("redis://user:s3cret@cache:6379"));
        assertEquals("rediss://***@cache:6379/2", Secrets.redactUrl("rediss://:s3cret@cache:6379/2"));
    }
}
