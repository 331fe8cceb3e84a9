package dev.dynsni.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;

import dev.dynsni.core.Pem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** gen-demo needs no store; it runs without any settings. */
class GenDemoCommandTest
{
    @TempDir
    Path dir;

    private static AdminTestBase.Result run(String... args)
    {
        return AdminTestBase.runWith(java.util.Map.of(), args);
    }

    @Test
    void genDemo_writesCaDefaultTenantsRsaAndWildcard_allSignedByTheCa() throws Exception
    {
        AdminTestBase.Result result = run("gen-demo", "--tenants", "5", "--rsa", "2", "--out", dir.toString(), "--no-progress");
        assertEquals(0, result.exit(), result::toString);

        X509Certificate ca = Pem.readCertificates(Files.readString(dir.resolve("ca.pem"))).get(0);
        assertEquals(1, Pem.readCertificates(Files.readString(dir.resolve("ca.pem"))).size());
        assertTrue(ca.getBasicConstraints() >= 0);
        assertTrue(Pem.matches(Pem.readPrivateKey(Files.readString(dir.resolve("ca.key"))), ca.getPublicKey()));
        assertLeaf(dir.resolve("default.crt"), dir.resolve("default.key"), ca, "default.demo.test", "EC");
        Path certs = dir.resolve("certs");
        for (int i = 1; i <= 5; i++)
        {
            assertLeaf(certs.resolve("t" + i + ".demo.test.crt"), certs.resolve("t" + i + ".demo.test.key"), ca, "t" + i + ".demo.test", "EC");
        }
        assertLeaf(certs.resolve("t1.demo.test-rsa.crt"), certs.resolve("t1.demo.test-rsa.key"), ca, "t1.demo.test", "RSA");
        assertLeaf(certs.resolve("t2.demo.test-rsa.crt"), certs.resolve("t2.demo.test-rsa.key"), ca, "t2.demo.test", "RSA");
        assertFalse(Files.exists(certs.resolve("t3.demo.test-rsa.crt")));
        assertLeaf(certs.resolve("wild.demo.test.crt"), certs.resolve("wild.demo.test.key"), ca, "*.wild.demo.test", "EC");
        try (var files = Files.list(certs))
        {
            assertEquals(2 * (5 + 2 + 1), files.count());
        }
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(certs.resolve("t1.demo.test.key")));
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(dir.resolve("ca.key")));
    }

    private static void assertLeaf(Path crt, Path key, X509Certificate ca, String san, String keyType) throws Exception
    {
        List<X509Certificate> chain = Pem.readCertificates(Files.readString(crt));
        assertEquals(2, chain.size(), crt::toString);
        assertEquals(ca, chain.get(1));
        X509Certificate leaf = chain.get(0);
        leaf.verify(ca.getPublicKey());
        leaf.checkValidity();
        assertEquals(List.of(san), CertificateLoader.dnsNames(leaf));
        assertEquals(-1, leaf.getBasicConstraints());
        assertTrue(leaf.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"));
        var privateKey = Pem.readPrivateKey(Files.readString(key));
        assertEquals(keyType, Pem.keyType(privateKey));
        assertTrue(Pem.matches(privateKey, leaf.getPublicKey()), crt::toString);
    }

    @Test
    void genDemo_secondRun_reusesTheCaAndReplacesTenantFiles() throws Exception
    {
        assertEquals(0, run("gen-demo", "--tenants", "4", "--out", dir.toString(), "--no-progress").exit());
        String ca = Files.readString(dir.resolve("ca.pem"));
        String t1 = Files.readString(dir.resolve("certs/t1.demo.test.crt"));

        AdminTestBase.Result second = run("gen-demo", "--tenants", "2", "--out", dir.toString(), "--domain", "Example.ORG", "--no-progress");

        assertEquals(0, second.exit(), second::toString);
        assertTrue(second.out().startsWith("reused demo CA"), second::toString);
        assertEquals(ca, Files.readString(dir.resolve("ca.pem")));
        assertFalse(Files.exists(dir.resolve("certs/t1.demo.test.crt")));
        assertTrue(Files.exists(dir.resolve("certs/t2.example.org.crt")));
        assertFalse(Files.exists(dir.resolve("certs/t3.example.org.crt")));
        assertFalse(t1.isEmpty());
    }

    @Test
    void genDemo_invalidArguments_usageErrors()
    {
        assertEquals(DynSni.EXIT_USAGE, run("gen-demo", "--tenants", "2", "--rsa", "3", "--out", dir.toString()).exit());
        assertEquals(DynSni.EXIT_USAGE, run("gen-demo", "--tenants", "2", "--domain", "bad_domain", "--out", dir.toString()).exit());
        assertEquals(DynSni.EXIT_USAGE, run("gen-demo", "--tenants", "2").exit());
        assertEquals(DynSni.EXIT_USAGE, run("gen-demo", "--tenants", "x", "--out", dir.toString()).exit());
    }

    @Test
    void genDemo_caKeyNotMatchingCa_rejected() throws Exception
    {
        Path other = dir.resolve("other");
        assertEquals(0, run("gen-demo", "--tenants", "1", "--out", dir.toString(), "--no-progress").exit());
        assertEquals(0, run("gen-demo", "--tenants", "1", "--out", other.toString(), "--no-progress").exit());
        Files.copy(other.resolve("ca.key"), dir.resolve("ca.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        AdminTestBase.Result result = run("gen-demo", "--tenants", "1", "--out", dir.toString(), "--no-progress");

        assertEquals(DynSni.EXIT_REJECTED, result.exit(), result::toString);
        assertTrue(result.err().contains("ca.key does not belong to"), result::toString);
    }
}
