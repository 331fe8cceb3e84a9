package dev.dynsni.admin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.FreePorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImportCommandTest extends AdminTestBase
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException
    {
        return Files.writeString(dir.resolve(name), text);
    }

    private void assertRejected(Result result, String... fragments)
    {
        assertEquals(DynSni.EXIT_REJECTED, result.exit(), result::toString);
        assertEquals(1, result.errLines().size(), result::toString);
        String line = result.errLines().get(0);
        assertTrue(line.startsWith("dynsni import: error: "), line);
        for (String fragment : fragments)
        {
            assertTrue(line.contains(fragment), () -> "'" + fragment + "' not in: " + line);
        }
    }

    @Test
    void import_reversedChainAndSec1Key_storesEverySanLeafFirst() throws Exception
    {
        IssuedCertificate issued = PKI.ec("a.import.test", "b.import.test");
        Path cert = write("ab.pem", issued.reversedChainPem());
        Path key = write("ab.key", issued.traditionalKeyPem());

        Result result = run("import", "--cert", cert.toString(), "--key", key.toString());

        assertEquals(0, result.exit(), result::toString);
        assertTrue(result.out().contains("imported a.import.test key=EC"), result::toString);
        assertTrue(result.out().contains("imported b.import.test key=EC"), result::toString);
        String fingerprint = Pem.fingerprint(issued.certificate());
        assertEquals(List.of(fingerprint, fingerprint), column("SELECT fingerprint FROM ${schema}.certificate WHERE host LIKE '_.import.test' ORDER BY host"));
        String chain = column("SELECT chain_pem FROM ${schema}.certificate WHERE host = 'a.import.test'").get(0);
        List<X509Certificate> stored = Pem.readCertificates(chain);
        assertEquals(issued.certificate(), stored.get(0));
        assertEquals(PKI.caCertificate(), stored.get(1));
        String keyPem = column("SELECT key_pem FROM ${schema}.certificate WHERE host = 'a.import.test'").get(0);
        assertTrue(Pem.matches(Pem.readPrivateKey(keyPem), issued.certificate().getPublicKey()));

        Result again = run("import", "--cert", cert.toString(), "--key", key.toString());
        assertEquals(0, again.exit(), again::toString);
        assertTrue(again.out().contains("unchanged a.import.test"), again::toString);
    }

    @Test
    void import_combinedPemWithRsaAndEc_holdsBothKeyTypes() throws Exception
    {
        IssuedCertificate ec = PKI.ec("both.import.test");
        IssuedCertificate rsa = PKI.rsa("both.import.test");
        Path ecFile = write("ec.pem", ec.chainPem() + ec.pkcs8KeyPem());
        Path rsaFile = write("rsa.pem", rsa.traditionalKeyPem() + rsa.chainPem());

        assertEquals(0, run("import", "--cert", ecFile.toString()).exit());
        assertEquals(0, run("import", "--cert", rsaFile.toString()).exit());

        assertEquals(List.of("EC", "RSA"), column("SELECT key_type FROM ${schema}.certificate WHERE host = 'both.import.test' ORDER BY key_type"));
    }

    @Test
    void import_wildcardCertificateWithHost_storesTheRequestedHostOnly() throws Exception
    {
        IssuedCertificate issued = PKI.ec("*.shop.import.test");
        Path cert = write("w.crt", issued.chainPem());
        Path key = write("w.key", issued.pkcs8KeyPem());

        Result result = run("import", "--cert", cert.toString(), "--key", key.toString(), "--host", "One.Shop.Import.Test.");

        assertEquals(0, result.exit(), result::toString);
        assertEquals(List.of("one.shop.import.test"), column("SELECT host FROM ${schema}.certificate WHERE host LIKE '%shop.import.test'"));
    }

    @Test
    void import_keyOfAnotherCertificate_rejected() throws Exception
    {
        Path cert = write("c.crt", PKI.ec("mismatch.import.test").chainPem());
        Path key = write("c.key", PKI.ec("other.import.test").pkcs8KeyPem());

        assertRejected(run("import", "--cert", cert.toString(), "--key", key.toString()), "c.crt + ", "c.key", "private key does not match any of the 2 certificates");
        assertEquals(0, count("host = 'mismatch.import.test'"));
    }

    @Test
    void import_expired_rejectedUnlessAllowed() throws Exception
    {
        Instant now = Instant.now();
        IssuedCertificate issued = PKI.issue(false, now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)), "expired.import.test");
        Path cert = write("e.crt", issued.chainPem());
        Path key = write("e.key", issued.pkcs8KeyPem());

        assertRejected(run("import", "--cert", cert.toString(), "--key", key.toString()), "certificate expired at", "--allow-expired");
        assertEquals(0, count("host = 'expired.import.test'"));

        Result allowed = run("import", "--cert", cert.toString(), "--key", key.toString(), "--allow-expired");
        assertEquals(0, allowed.exit(), allowed::toString);
        assertEquals(1, count("host = 'expired.import.test'"));
    }

    @Test
    void import_hostNotCoveredBySans_rejectedAndNothingWritten() throws Exception
    {
        IssuedCertificate issued = PKI.ec("covered.import.test", "*.wild.import.test");
        Path cert = write("s.crt", issued.chainPem());
        Path key = write("s.key", issued.pkcs8KeyPem());

        assertRejected(run("import", "--cert", cert.toString(), "--key", key.toString(), "--host", "covered.import.test", "--host", "a.b.wild.import.test"),
            "certificate does not cover host a.b.wild.import.test", "covered.import.test, *.wild.import.test");
        assertEquals(0, count("host = 'covered.import.test'"));
    }

    @Test
    void import_corruptPem_rejected() throws Exception
    {
        IssuedCertificate issued = PKI.ec("corrupt.import.test");
        String chain = issued.chainPem();
        int middle = chain.indexOf('\n', 100);
        Path cert = write("bad.crt", chain.substring(0, middle) + "\n!!!!not base64!!!!\n" + chain.substring(middle + 1));
        Path key = write("bad.key", issued.pkcs8KeyPem());

        assertRejected(run("import", "--cert", cert.toString(), "--key", key.toString()), "bad.crt", "certificate PEM");

        Path garbage = write("garbage.key", "hello\n");
        assertRejected(run("import", "--cert", write("ok.crt", chain).toString(), "--key", garbage.toString()), "private key PEM holds no private key");
    }

    @Test
    void import_missingFile_rejected()
    {
        assertRejected(run("import", "--cert", dir.resolve("nope.crt").toString()), "nope.crt: no such file");
    }

    @Test
    void import_invalidHostName_rejected() throws Exception
    {
        IssuedCertificate issued = PKI.ec("valid.import.test");
        Path cert = write("v.pem", issued.chainPem() + issued.pkcs8KeyPem());
        assertRejected(run("import", "--cert", cert.toString(), "--host", "bad_name.import.test"), "'bad_name.import.test' is not a valid host name");
    }

    @Test
    void import_withoutCert_usageError()
    {
        Result result = run("import", "--key", "x.key");
        assertEquals(DynSni.EXIT_USAGE, result.exit(), result::toString);
        assertEquals(1, result.errLines().size(), result::toString);
        assertTrue(result.err().contains("Missing required option: '--cert=CHAIN.pem'"), result::toString);
    }

    @Test
    void import_noJdbcUrlAnywhere_usageError() throws Exception
    {
        IssuedCertificate issued = PKI.ec("nourl.import.test");
        Path cert = write("n.pem", issued.chainPem() + issued.pkcs8KeyPem());
        Result result = runWith(Map.of(), "import", "--cert", cert.toString());
        assertEquals(DynSni.EXIT_USAGE, result.exit(), result::toString);
        assertTrue(result.err().contains("no PostgreSQL URL: pass --jdbc-url, set DYNSNI_JDBC_URL"), result::toString);
    }

    @Test
    void import_postgresUnreachable_exit3WithoutPassword() throws Exception
    {
        IssuedCertificate issued = PKI.ec("down.import.test");
        Path cert = write("d.pem", issued.chainPem() + issued.pkcs8KeyPem());
        Map<String, String> env = new HashMap<>(env());
        env.put("DYNSNI_JDBC_PASSWORD", "s3cret-password");
        Result result = runWith(env, "import", "--cert", cert.toString(), "--jdbc-url", "jdbc:postgresql://127.0.0.1:" + FreePorts.next() + "/test?password=s3cret-password");
        assertEquals(DynSni.EXIT_UNREACHABLE, result.exit(), result::toString);
        assertEquals(1, result.errLines().size(), result::toString);
        assertTrue(result.err().contains("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:"), result::toString);
        assertTrue(!result.err().contains("s3cret"), result::toString);

        Result verbose = runWith(env, "import", "--verbose", "--cert", cert.toString(), "--jdbc-url", "jdbc:postgresql://127.0.0.1:" + FreePorts.next() + "/test");
        assertEquals(DynSni.EXIT_UNREACHABLE, verbose.exit(), verbose::toString);
        assertTrue(verbose.err().contains("caused by: org.postgresql.util.PSQLException"), verbose::toString);
    }
}
