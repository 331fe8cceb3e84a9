package dev.dynsni.admin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Private keys written encrypted with a master key, and the master key rotated in place. */
class EncryptionCommandTest extends AdminTestBase
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");

    @TempDir
    Path dir;

    @org.junit.jupiter.api.BeforeEach
    void emptyTable() throws Exception
    {
        // rotation works on every row of the schema: each test starts from an empty table of its own class
        try (var connection = dev.dynsni.testing.TestServices.connect(); var statement = connection.createStatement())
        {
            statement.execute("DELETE FROM " + schema + ".certificate");
        }
    }

    private Path keyFile(String name, byte[] key, String permissions) throws IOException
    {
        Path file = Files.writeString(dir.resolve(name), Base64.getEncoder().encodeToString(key));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        return file;
    }

    private static byte[] random()
    {
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        return key;
    }

    private String decryptStored(MasterKeys keys, String host) throws Exception
    {
        String keyPem = column("SELECT key_pem FROM ${schema}.certificate WHERE host = '" + host + "'").get(0);
        String encoding = column("SELECT key_encoding FROM ${schema}.certificate WHERE host = '" + host + "'").get(0);
        return keys.decrypt(new CertificateRecord(host, "EC", "", keyPem, encoding, 0));
    }

    @Test
    void importWithMasterKey_thenRotate_reencryptsEveryRow() throws Exception
    {
        byte[] oldKey = random();
        byte[] newKey = random();
        Path oldFile = keyFile("old.key", oldKey, "rw-------");
        Path newFile = keyFile("new.key", newKey, "rw-------");

        IssuedCertificate a = PKI.ec("a.enc.test");
        Path cert = Files.writeString(dir.resolve("a.crt"), a.chainPem());
        Path key = Files.writeString(dir.resolve("a.key"), a.pkcs8KeyPem());
        Result imported = run("import", "--cert", cert.toString(), "--key", key.toString(), "--master-key", oldFile.toString());
        assertEquals(0, imported.exit(), imported::toString);
        IssuedCertificate b = PKI.ec("b.enc.test");
        Files.writeString(dir.resolve("b.crt"), b.chainPem());
        Files.writeString(dir.resolve("b.key"), b.pkcs8KeyPem());
        Result plain = run("import", "--cert", dir.resolve("b.crt").toString(), "--key", dir.resolve("b.key").toString());
        assertEquals(0, plain.exit(), plain::toString);

        MasterKeys old = MasterKeys.of(oldKey);
        assertEquals(List.of(old.currentEncoding()), column("SELECT key_encoding FROM ${schema}.certificate WHERE host = 'a.enc.test'"));
        assertFalse(column("SELECT key_pem FROM ${schema}.certificate WHERE host = 'a.enc.test'").get(0).contains("PRIVATE KEY"));
        assertTrue(Pem.matches(Pem.readPrivateKey(decryptStored(old, "a.enc.test")), a.certificate().getPublicKey()));

        Result rotated = run("rotate-master-key", "--master-key", oldFile.toString(), "--new-key", newFile.toString(), "--batch-size", "1");
        assertEquals(0, rotated.exit(), rotated::toString);
        assertTrue(rotated.out().contains("re-encrypted 2 private keys"), rotated::toString);
        MasterKeys fresh = MasterKeys.of(newKey);
        assertEquals(List.of(fresh.currentEncoding(), fresh.currentEncoding()), column("SELECT key_encoding FROM ${schema}.certificate WHERE host LIKE '_.enc.test' ORDER BY host"));
        assertTrue(Pem.matches(Pem.readPrivateKey(decryptStored(fresh, "a.enc.test")), a.certificate().getPublicKey()));
        assertTrue(Pem.matches(Pem.readPrivateKey(decryptStored(fresh, "b.enc.test")), b.certificate().getPublicKey()));
        assertFalse(rotated.out().contains(Base64.getEncoder().encodeToString(newKey)));

        Result again = run("rotate-master-key", "--new-key", newFile.toString());
        assertEquals(0, again.exit(), again::toString);
        assertTrue(again.out().contains("re-encrypted 0 private keys"), again::toString);
    }

    @Test
    void rotateWithoutTheOldKey_reportsTheRowsAndChangesNothing() throws Exception
    {
        byte[] oldKey = random();
        Path oldFile = keyFile("lost.key", oldKey, "rw-------");
        IssuedCertificate c = PKI.ec("c.enc.test");
        Files.writeString(dir.resolve("c.crt"), c.chainPem());
        Files.writeString(dir.resolve("c.key"), c.pkcs8KeyPem());
        assertEquals(0, run("import", "--cert", dir.resolve("c.crt").toString(), "--key", dir.resolve("c.key").toString(), "--master-key", oldFile.toString()).exit());
        String before = column("SELECT key_pem FROM ${schema}.certificate WHERE host = 'c.enc.test'").get(0);

        Result rotated = run("rotate-master-key", "--new-key", keyFile("other.key", random(), "rw-------").toString());
        assertEquals(1, rotated.exit(), rotated::toString);
        assertTrue(rotated.err().contains("c.enc.test EC: private key is encrypted with master key"), rotated::toString);
        assertEquals(before, column("SELECT key_pem FROM ${schema}.certificate WHERE host = 'c.enc.test'").get(0));
    }

    @Test
    void looseMasterKeyFile_isAUsageError() throws Exception
    {
        Path loose = keyFile("loose.key", random(), "rw-r--r--");
        IssuedCertificate d = PKI.ec("d.enc.test");
        Files.writeString(dir.resolve("d.crt"), d.chainPem() + d.pkcs8KeyPem());
        Map<String, String> env = env();
        env.put("DYNSNI_MASTER_KEY_FILE", loose.toString());
        Result result = runWith(env, "import", "--cert", dir.resolve("d.crt").toString());
        assertEquals(2, result.exit(), result::toString);
        assertTrue(result.err().contains("chmod 600"), result::toString);
        assertEquals(0, count("host = 'd.enc.test'"));
    }

    /** Rows under the old key with placeholder keys: rotation decrypts and re-encrypts, it does not parse them. */
    private static void insertRows(MasterKeys old, String prefix, int rows) throws Exception
    {
        try (var connection = dev.dynsni.testing.TestServices.connect();
             var insert = connection.prepareStatement("INSERT INTO " + schema + ".certificate (host, key_type, chain_pem, key_pem, key_encoding) VALUES (?, 'EC', 'chain', ?, ?)"))
        {
            for (int i = 0; i < rows; i++)
            {
                String host = String.format("%s%03d.rot.test", prefix, i);
                insert.setString(1, host);
                insert.setString(2, old.encrypt(host, "EC", "key of " + host));
                insert.setString(3, old.currentEncoding());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    /** Writes a row under the old key on the given connection (its transaction stays open unless auto-commit). */
    private static void writeWithOldKey(java.sql.Connection connection, MasterKeys old, String host) throws Exception
    {
        try (var update = connection.prepareStatement("UPDATE " + schema + ".certificate SET key_pem = ?, key_encoding = ? WHERE host = ?"))
        {
            update.setString(1, old.encrypt(host, "EC", "key of " + host));
            update.setString(2, old.currentEncoding());
            update.setString(3, host);
            assertEquals(1, update.executeUpdate());
        }
    }

    @Test
    void rotate_revisitsRowsWrittenDuringTheRun_andEndsWithEveryRowUnderTheNewKey() throws Exception
    {
        byte[] oldKey = random();
        byte[] newKey = random();
        Path oldFile = keyFile("old-r.key", oldKey, "rw-------");
        Path newFile = keyFile("new-r.key", newKey, "rw-------");
        MasterKeys old = MasterKeys.of(oldKey);
        MasterKeys fresh = MasterKeys.of(newKey);
        insertRows(old, "r", 400);
        Result rotated;
        try (var writer = dev.dynsni.testing.TestServices.connect())
        {
            writer.setAutoCommit(false);
            writeWithOldKey(writer, old, "r000.rot.test"); // locked by a writer when the rotation comes by
            java.util.concurrent.CompletableFuture<Result> rotation = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                run("rotate-master-key", "--master-key", oldFile.toString(), "--new-key", newFile.toString(), "--batch-size", "10"));
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (count("key_encoding = '" + fresh.currentEncoding() + "'") < 200)
            {
                assertTrue(System.nanoTime() < deadline && !rotation.isDone(), "rotation did not get half way");
                Thread.sleep(5);
            }
            try (var other = dev.dynsni.testing.TestServices.connect())
            {
                writeWithOldKey(other, old, "r001.rot.test"); // behind the cursor, committed at once
            }
            writer.commit();
            rotated = rotation.get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertEquals(0, rotated.exit(), rotated::toString);
        assertTrue(rotated.err().contains("revisiting"), rotated::toString);
        assertEquals(0, count("key_encoding <> '" + fresh.currentEncoding() + "'"));
        for (String host : List.of("r000.rot.test", "r001.rot.test", "r399.rot.test"))
        {
            String keyPem = column("SELECT key_pem FROM ${schema}.certificate WHERE host = '" + host + "'").get(0);
            assertEquals("key of " + host, fresh.decrypt(new CertificateRecord(host, "EC", "", keyPem, fresh.currentEncoding(), 0)));
        }
    }

    @Test
    void rotate_whileAWriterKeepsARowUnderTheOldKey_exitsNonZero_andDoctorCountsRowsPerKeyId() throws Exception
    {
        byte[] oldKey = random();
        byte[] newKey = random();
        Path oldFile = keyFile("old-w.key", oldKey, "rw-------");
        Path newFile = keyFile("new-w.key", newKey, "rw-------");
        MasterKeys old = MasterKeys.of(oldKey);
        MasterKeys fresh = MasterKeys.of(newKey);
        insertRows(old, "w", 20);
        try (var writer = dev.dynsni.testing.TestServices.connect())
        {
            writer.setAutoCommit(false);
            writeWithOldKey(writer, old, "w007.rot.test");
            Result rotated = run("rotate-master-key", "--master-key", oldFile.toString(), "--new-key", newFile.toString());
            assertEquals(DynSni.EXIT_REJECTED, rotated.exit(), rotated::toString);
            assertTrue(rotated.err().contains("error: 1 rows are still not under master key " + fresh.currentKeyId() + " (1 under key " + old.currentKeyId() + ")"), rotated::toString);
            writer.commit();
        }
        Map<String, String> env = env();
        env.put("DYNSNI_MASTER_KEY_FILE", newFile.toString());
        Result doctor = runWith(env, "doctor");
        assertTrue(doctor.out().contains("ok    19 rows under master key " + fresh.currentKeyId() + " (the current one)"), doctor::toString);
        assertTrue(doctor.out().contains("warn  1 rows under master key " + old.currentKeyId() + ", not the current key " + fresh.currentKeyId()), doctor::toString);

        Result again = run("rotate-master-key", "--master-key", oldFile.toString(), "--new-key", newFile.toString());
        assertEquals(0, again.exit(), again::toString);
        assertTrue(again.out().contains("re-encrypted 1 private keys"), again::toString);
        assertEquals(0, count("key_encoding <> '" + fresh.currentEncoding() + "'"));
    }
}
