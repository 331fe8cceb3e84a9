package dev.dynsni.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImportDirCommandTest extends AdminTestBase
{
    @TempDir
    Path dir;

    @Test
    void importDir_2000PairsWith3BadInTheMiddle_imports1997AndReportsTheThree() throws Exception
    {
        // 1,999 tenants + the wildcard = 2,000 pairs
        Result generated = run("gen-demo", "--tenants", "1999", "--out", dir.toString(), "--domain", "bulk.test", "--no-progress");
        assertEquals(0, generated.exit(), generated::toString);
        Path certs = dir.resolve("certs");
        Files.copy(certs.resolve("t1001.bulk.test.key"), certs.resolve("t1000.bulk.test.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String chain = Files.readString(certs.resolve("t1100.bulk.test.crt"));
        Files.writeString(certs.resolve("t1100.bulk.test.crt"), chain.substring(0, 200) + "%%%" + chain.substring(203));
        Files.delete(certs.resolve("t1200.bulk.test.key"));

        Result result = run("import-dir", certs.toString(), "--batch-size", "300");

        assertEquals(DynSni.EXIT_REJECTED, result.exit(), result::toString);
        List<String> errors = result.errLines().stream().filter(line -> line.startsWith("error: ")).toList();
        assertEquals(3, errors.size(), result::toString);
        assertTrue(errors.contains("error: t1200.bulk.test.crt: no matching t1200.bulk.test.key (or a combined t1200.bulk.test.pem)"), result::toString);
        assertTrue(errors.contains("error: t1000.bulk.test.crt+.key: private key does not match any of the 2 certificates"), result::toString);
        assertTrue(errors.stream().anyMatch(line -> line.startsWith("error: t1100.bulk.test.crt+.key: certificate PEM does not parse")), result::toString);
        assertTrue(result.out().startsWith("imported 1,997 of 2,000 certificates from " + certs), result::toString);
        assertTrue(result.out().contains("3 rejected"), result::toString);

        Set<String> expected = new HashSet<>();
        for (int i = 1; i <= 1999; i++)
        {
            if (i != 1000 && i != 1100 && i != 1200)
                expected.add("t" + i + ".bulk.test");
        }
        expected.add("*.wild.bulk.test");
        assertEquals(expected, new HashSet<>(column("SELECT host FROM ${schema}.certificate WHERE host LIKE '%bulk.test'")));
        assertEquals(0, count("host LIKE '%bulk.test' AND (not_after IS NULL OR fingerprint IS NULL OR key_type <> 'EC')"));

        // Repaired files: the second run writes only what changed (t1100); t1000's files now hold t1001's pair.
        Files.copy(certs.resolve("t1001.bulk.test.crt"), certs.resolve("t1000.bulk.test.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(certs.resolve("t1100.bulk.test.crt"), chain);
        Files.delete(certs.resolve("t1200.bulk.test.crt"));
        Result again = run("import-dir", certs.toString(), "--no-progress");
        assertEquals(0, again.exit(), again::toString);
        assertTrue(again.out().contains("1,999 host entries, 1 new or changed"), again::toString);
        assertTrue(again.err().contains("warning: t1001.bulk.test.crt+.key: host t1001.bulk.test (EC) is also in t1000.bulk.test.crt+.key; the later file wins"), again::toString);
    }

    @Test
    void importDir_combinedPemAndOrphans_importsPemReportsOrphans() throws Exception
    {
        Result generated = run("gen-demo", "--tenants", "3", "--out", dir.toString(), "--domain", "orphan.test", "--no-progress");
        assertEquals(0, generated.exit(), generated::toString);
        Path certs = dir.resolve("certs");
        Files.writeString(certs.resolve("t1.orphan.test.pem"), Files.readString(certs.resolve("t1.orphan.test.key")) + Files.readString(certs.resolve("t1.orphan.test.crt")));
        Files.delete(certs.resolve("t1.orphan.test.crt"));
        Files.delete(certs.resolve("t1.orphan.test.key"));
        Files.delete(certs.resolve("t2.orphan.test.crt"));
        Files.writeString(certs.resolve("README.txt"), "not a certificate");

        Result result = run("import-dir", certs.toString(), "--no-progress");

        assertEquals(DynSni.EXIT_REJECTED, result.exit(), result::toString);
        assertEquals(List.of("error: t2.orphan.test.key: no matching t2.orphan.test.crt or t2.orphan.test.pem", "ignored: README.txt (not .crt, .key or .pem)"),
            result.errLines(), result::toString);
        assertTrue(result.out().contains("1 files ignored (see above)"), result::toString);
        assertEquals(List.of("*.wild.orphan.test", "t1.orphan.test", "t3.orphan.test"), column("SELECT host FROM ${schema}.certificate WHERE host LIKE '%orphan.test' ORDER BY host"));
    }

    @Test
    void importDir_pemBesideACrtAndKeyPair_isReportedAsIgnored_andASubdirectoryToo() throws Exception
    {
        Result generated = run("gen-demo", "--tenants", "2", "--out", dir.toString(), "--domain", "shadow.test", "--no-progress");
        assertEquals(0, generated.exit(), generated::toString);
        Path certs = dir.resolve("certs");
        Files.writeString(certs.resolve("t1.shadow.test.pem"), Files.readString(certs.resolve("t2.shadow.test.key")) + Files.readString(certs.resolve("t2.shadow.test.crt")));
        Files.createDirectory(certs.resolve("old.crt"));

        Result result = run("import-dir", certs.toString(), "--no-progress");

        assertEquals(0, result.exit(), result::toString);
        assertEquals(List.of("ignored: old.crt (not a regular file)", "ignored: t1.shadow.test.pem (t1.shadow.test.crt + t1.shadow.test.key are imported instead)"),
            result.errLines(), result::toString);
        assertTrue(result.out().contains("2 files ignored (see above)"), result::toString);
        assertEquals(List.of("*.wild.shadow.test", "t1.shadow.test", "t2.shadow.test"), column("SELECT host FROM ${schema}.certificate WHERE host LIKE '%shadow.test' ORDER BY host"));
    }

    @Test
    void importDir_again_repairsARowWhoseStoredKeyIsCorrupt_andLeavesSoundRowsAlone() throws Exception
    {
        Result generated = run("gen-demo", "--tenants", "3", "--out", dir.toString(), "--domain", "repair.test", "--no-progress");
        assertEquals(0, generated.exit(), generated::toString);
        Path certs = dir.resolve("certs");
        Result first = run("import-dir", certs.toString(), "--no-progress");
        assertEquals(0, first.exit(), first::toString);
        String sound = column("SELECT version FROM ${schema}.certificate WHERE host = 't2.repair.test'").get(0);
        try (var connection = dev.dynsni.testing.TestServices.connect(); var statement = connection.createStatement())
        {
            statement.execute("UPDATE " + schema + ".certificate SET key_pem = substr(key_pem, 1, 60) || 'AAAA' || substr(key_pem, 65) WHERE host = 't1.repair.test'");
        }
        String corrupt = column("SELECT key_pem FROM ${schema}.certificate WHERE host = 't1.repair.test'").get(0);

        Result again = run("import-dir", certs.toString(), "--no-progress");

        assertEquals(0, again.exit(), again::toString);
        assertTrue(again.out().contains("1 new or changed (1 of them repaired"), again::toString);
        String repaired = column("SELECT key_pem FROM ${schema}.certificate WHERE host = 't1.repair.test'").get(0);
        assertTrue(!repaired.equals(corrupt), "the corrupt key was rewritten");
        assertTrue(java.util.Arrays.equals(dev.dynsni.core.Pem.readPrivateKey(Files.readString(certs.resolve("t1.repair.test.key"))).getEncoded(),
            dev.dynsni.core.Pem.readPrivateKey(repaired).getEncoded()), "the stored key is the imported one again");
        assertEquals(sound, column("SELECT version FROM ${schema}.certificate WHERE host = 't2.repair.test'").get(0), "sound rows are left alone");
    }

    @Test
    void importDir_emptyDirectory_rejected()
    {
        Result result = run("import-dir", dir.toString());
        assertEquals(DynSni.EXIT_REJECTED, result.exit(), result::toString);
        assertEquals(List.of("dynsni import-dir: error: " + dir + ": no certificate files found (NAME.crt + NAME.key, or NAME.pem)"), result.errLines());
    }

    @Test
    void importDir_missingDirectory_rejected()
    {
        Result result = run("import-dir", dir.resolve("nope").toString());
        assertEquals(DynSni.EXIT_REJECTED, result.exit(), result::toString);
        assertEquals(List.of("dynsni import-dir: error: " + dir.resolve("nope") + ": no such directory"), result.errLines());
    }

    @Test
    void importDir_badBatchSize_usageError()
    {
        Result result = run("import-dir", dir.toString(), "--batch-size", "0");
        assertEquals(DynSni.EXIT_USAGE, result.exit(), result::toString);
    }
}
