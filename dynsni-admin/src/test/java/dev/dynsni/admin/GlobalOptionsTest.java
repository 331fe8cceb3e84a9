package dev.dynsni.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.RedisKeys;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Global options (--jetty-base, setting flags, --verbose) before or after the command's name. */
class GlobalOptionsTest extends AdminTestBase
{
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");

    @TempDir
    Path dir;

    private Path pem(String host) throws Exception
    {
        IssuedCertificate issued = PKI.ec(host);
        return Files.writeString(dir.resolve(host + ".pem"), issued.chainPem() + issued.pkcs8KeyPem());
    }

    @Test
    void settingFlags_beforeAfterOrAroundTheCommand() throws Exception
    {
        String url = TestServices.jdbcUrl();
        String prefix = keyPrefix;
        List<List<String>> orders = List.of(
            List.of("--jdbc-url", url, "--jdbc-schema", schema, "--redis-url", TestServices.redisUrl(), "--redis-key-prefix", prefix, "import", "--cert", "CERT"),
            List.of("import", "--cert", "CERT", "--jdbc-url", url, "--jdbc-schema", schema, "--redis-url", TestServices.redisUrl(), "--redis-key-prefix", prefix),
            List.of("--jdbc-url", url, "--redis-address", TestServices.redisUrl(), "import", "--jdbc-schema", schema, "--cert", "CERT", "--redis-key-prefix", prefix));
        int i = 0;
        for (List<String> order : orders)
        {
            String host = "order" + i++ + ".global.test";
            Path cert = pem(host);
            TestRedis.set(RedisKeys.dataKey(keyPrefix, host), "stale");
            String[] args = order.stream().map(arg -> arg.equals("CERT") ? cert.toString() : arg).toArray(String[]::new);
            Result result = runWith(Map.of(), args);
            assertEquals(0, result.exit(), () -> String.join(" ", args) + "\n" + result);
            assertTrue(result.out().startsWith("imported " + host + " "), result::toString);
            assertEquals(1, count("host = '" + host + "'"));
            assertEquals(null, TestRedis.get(RedisKeys.dataKey(keyPrefix, host)), "Redis entry dropped under the prefix given: " + String.join(" ", args));
        }
    }

    @Test
    void theCommandsOwnFlagWinsOverTheOneBeforeIt()
    {
        Result result = runWith(Map.of(), "--jdbc-url", TestServices.jdbcUrl(), "--jdbc-schema", "t_not_this_one", "doctor", "--jdbc-schema", schema,
            "--redis-url", TestServices.redisUrl(), "--redis-key-prefix", keyPrefix);
        assertEquals(0, result.exit(), result::toString);
        assertEquals("jdbc.schema " + schema + "  [--jdbc-schema]", CommandsTest.settingLine(result.out(), "jdbc.schema"), result::toString);
        assertEquals("jdbc.url " + TestServices.jdbcUrl() + "  [--jdbc-url]", CommandsTest.settingLine(result.out(), "jdbc.url"), result::toString);
    }

    @Test
    void jettyBase_beforeOrAfterTheCommand(@TempDir Path base) throws Exception
    {
        Files.createDirectories(base.resolve("start.d"));
        Files.writeString(base.resolve("start.d/dynamic-sni.ini"), String.join("\n",
            "--module=dynamic-sni",
            "jetty.dynamicSni.jdbc.url=" + TestServices.jdbcUrl(),
            "jetty.dynamicSni.jdbc.schema=" + schema,
            ""));
        Path cert = pem("base.global.test");
        Result before = runWith(Map.of(), "--jetty-base", base.toString(), "import", "--cert", cert.toString());
        assertEquals(0, before.exit(), before::toString);
        Result after = runWith(Map.of(), "list", "--host-like", "base.global.test", "--jetty-base", base.toString());
        assertEquals(0, after.exit(), after::toString);
        assertTrue(after.out().contains("base.global.test"), after::toString);
        // the command's own --jetty-base wins over the one before it
        Result both = runWith(Map.of(), "--jetty-base", dir.toString(), "show", "base.global.test", "--jetty-base", base.toString());
        assertEquals(0, both.exit(), both::toString);
    }

    @Test
    void verbose_beforeOrAfterTheCommand_showsTheCauses() throws Exception
    {
        Path cert = pem("verbose.global.test");
        String down = "jdbc:postgresql://127.0.0.1:" + FreePorts.next() + "/test";
        for (List<String> args : List.of(
            List.of("--verbose", "import", "--cert", cert.toString(), "--jdbc-url", down),
            List.of("import", "--cert", cert.toString(), "--jdbc-url", down, "-v"),
            List.of("import", "--cert", cert.toString(), "--jdbc-url", down)))
        {
            Result result = runWith(Map.of(), args.toArray(new String[0]));
            assertEquals(DynSni.EXIT_UNREACHABLE, result.exit(), result::toString);
            boolean verbose = args.contains("--verbose") || args.contains("-v");
            assertEquals(verbose, result.err().contains("caused by: org.postgresql.util.PSQLException"), result::toString);
        }
    }

    @Test
    void helpAfterGlobalOptions()
    {
        Result result = runWith(Map.of(), "--jdbc-url", "jdbc:postgresql://nowhere/x", "--jetty-base", "/nonexistent", "evict", "--help");
        assertEquals(0, result.exit(), result::toString);
        assertTrue(result.out().startsWith("Usage: dynsni evict"), result::toString);
    }
}
