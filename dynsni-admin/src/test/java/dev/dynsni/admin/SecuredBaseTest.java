package dev.dynsni.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.RedisKeys;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.RedisCertificateStore;
import dev.dynsni.testing.RedisProcess;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A secured Jetty base, as the README's security section recommends it: the PostgreSQL password in
 * {@code jdbc.passwordFile}, Redis over TLS ({@code rediss://} with {@code redis.caFile}) as an ACL
 * user ({@code redis.user}) whose password is in {@code redis.passwordFile}, all paths relative to
 * the base. The tool, given only {@code --jetty-base}, imports and evicts through it.
 *
 * <p>Redis is a server of this test's own ({@link RedisProcess}): TLS only, the default user
 * disabled, and the user {@code alice} allowed only the keys of the test's prefix, so a command that
 * ignored the user, the password or the CA file could not do its work. PostgreSQL is the shared test
 * server, which trusts local connections: any password is accepted there, so what is verified for
 * PostgreSQL is that the password read from the file is what the tool hands the driver (the JDBC
 * properties) and what {@code doctor} reports as its source, not that the server checked it.</p>
 */
class SecuredBaseTest extends AdminTestBase
{
    private static final String REDIS_PASSWORD = "alice-Secret-7";
    private static final String PG_PASSWORD = "pg-Secret-9";
    private static final CertificateAuthority PKI = CertificateAuthority.create("dynsni test CA");

    @TempDir
    static Path base;

    static Path ini;
    static RedisProcess redis;
    static RedisCertificateStore verifier;
    static RedissonClient client;

    @BeforeAll
    static void securedRedisAndBase() throws Exception
    {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        if (ci)
            assertTrue(RedisProcess.binaryAvailable(), "redis-server must be on the PATH in CI");
        else
            Assumptions.assumeTrue(RedisProcess.binaryAvailable(), "redis-server not on the PATH");

        CertificateAuthority redisPki = CertificateAuthority.create("redis CA");
        IssuedCertificate serverCert = redisPki.ec("localhost");
        Path tls = Files.createDirectories(base.resolve("tls"));
        Path cert = Files.writeString(tls.resolve("redis.crt"), serverCert.chainPem());
        Path key = Files.writeString(tls.resolve("redis.key"), serverCert.pkcs8KeyPem());
        Files.createDirectories(base.resolve("etc"));
        Path ca = Files.writeString(base.resolve("etc/redis-ca.pem"), redisPki.caPem());
        redis = new RedisProcess("--tls-port", "--tls-cert-file", cert.toString(), "--tls-key-file", key.toString(),
            "--tls-ca-cert-file", ca.toString(), "--tls-auth-clients", "no",
            "--user", "default", "off",
            // the keys of the prefix and the commands the admin README lists, nothing else
            "--user", "alice", "on", ">" + REDIS_PASSWORD, "~" + keyPrefix + "*",
            "-@all", "+evalsha", "+script|load", "+get", "+set", "+del", "+exists", "+scan", "+unlink", "+ping", "+info").start();

        Files.createDirectories(base.resolve("secrets"));
        Files.writeString(base.resolve("secrets/pg.password"), PG_PASSWORD + "\n");
        Files.writeString(base.resolve("secrets/redis.password"), REDIS_PASSWORD + "\n");
        Files.createDirectories(base.resolve("start.d"));
        ini = Files.writeString(base.resolve("start.d/dynamic-sni.ini"), String.join("\n",
            "--module=dynamic-sni",
            "jetty.dynamicSni.jdbc.url=" + TestServices.jdbcUrl(),
            "jetty.dynamicSni.jdbc.passwordFile=secrets/pg.password",
            "jetty.dynamicSni.jdbc.schema=" + schema,
            "jetty.dynamicSni.redis.address=rediss://localhost:" + redis.port(),
            "jetty.dynamicSni.redis.user=alice",
            "jetty.dynamicSni.redis.passwordFile=secrets/redis.password",
            "jetty.dynamicSni.redis.caFile=etc/redis-ca.pem",
            "jetty.dynamicSni.redis.keyPrefix=" + keyPrefix,
            "jetty.dynamicSni.redis.timeoutMillis=3000",
            ""));

        // what a node would see, to check what the tool did
        verifier = new RedisCertificateStore();
        verifier.setAddress("rediss://localhost:" + redis.port());
        verifier.setUser("alice");
        verifier.setPassword(REDIS_PASSWORD);
        verifier.setCaFile(ca.toString());
        verifier.setKeyPrefix(keyPrefix);
        verifier.setTimeoutMillis(3000);
        verifier.start();
        client = verifier.getRedissonClient();
    }

    @AfterAll
    static void stopRedis() throws Exception
    {
        if (verifier != null)
            verifier.stop();
        if (redis != null)
            redis.close();
    }

    private static String get(String key)
    {
        return client.<String>getBucket(key, StringCodec.INSTANCE).get();
    }

    private static void set(String key, String value)
    {
        client.getBucket(key, StringCodec.INSTANCE).set(value);
    }

    private Path pem(String host) throws Exception
    {
        IssuedCertificate issued = PKI.ec(host);
        return Files.writeString(base.resolve(host + ".pem"), issued.chainPem() + issued.pkcs8KeyPem());
    }

    @Test
    void importAndEvict_withOnlyTheJettyBase_beforeOrAfterTheCommand() throws Exception
    {
        set(RedisKeys.dataKey(keyPrefix, "a.secured.test"), "stale");
        Result imported = runWith(Map.of(), "--jetty-base", base.toString(), "import", "--cert", pem("a.secured.test").toString());
        assertEquals(0, imported.exit(), imported::toString);
        assertEquals("", imported.err(), imported::toString);
        assertTrue(imported.out().startsWith("imported a.secured.test "), imported::toString);
        assertEquals(1, count("host = 'a.secured.test'"));
        assertNull(get(RedisKeys.dataKey(keyPrefix, "a.secured.test")), "the import dropped the Redis entry through TLS as alice");
        assertTrue(Long.parseLong(get(RedisKeys.fenceKey(keyPrefix, "a.secured.test"))) > 0, "and fenced it");

        set(RedisKeys.dataKey(keyPrefix, "a.secured.test"), "stale again");
        Result evicted = runWith(Map.of(), "evict", "a.secured.test", "--jetty-base", base.toString());
        assertEquals(0, evicted.exit(), evicted::toString);
        assertEquals("evicted a.secured.test: notified all nodes, dropped its Redis entry\n", evicted.out());
        assertNull(get(RedisKeys.dataKey(keyPrefix, "a.secured.test")));

        for (int i = 0; i < 5; i++)
        {
            set(RedisKeys.dataKey(keyPrefix, "h" + i + ".secured.test"), "x");
        }
        Result all = runWith(Map.of(), "evict", "--all", "--jetty-base", base.toString());
        assertEquals(0, all.exit(), all::toString);
        assertEquals("evicted everything: notified all nodes, deleted 5 Redis entries under " + keyPrefix + "\n", all.out());
        assertNull(get(RedisKeys.dataKey(keyPrefix, "h0.secured.test")));
    }

    @Test
    void importDir_withOnlyTheJettyBase() throws Exception
    {
        Path dir = Files.createDirectories(base.resolve("bulk"));
        for (String host : List.of("b1.secured.test", "b2.secured.test"))
        {
            Files.copy(pem(host), dir.resolve(host + ".pem"));
            set(RedisKeys.dataKey(keyPrefix, host), "stale");
        }
        Result result = runWith(Map.of(), "import-dir", dir.toString(), "--no-progress", "--jetty-base", base.toString());
        assertEquals(0, result.exit(), result::toString);
        assertEquals("", result.err(), result::toString);
        assertNull(get(RedisKeys.dataKey(keyPrefix, "b1.secured.test")));
        assertNull(get(RedisKeys.dataKey(keyPrefix, "b2.secured.test")));
    }

    @Test
    void doctor_namesEverySecuredSettingsSource_neverThePasswords()
    {
        Result result = runWith(Map.of(), "doctor", "--jetty-base", base.toString());
        assertEquals(0, result.exit(), result::toString);
        String out = result.out();
        assertEquals("jdbc.password ***  [read from jdbc.passwordFile (jetty.dynamicSni.jdbc.passwordFile in " + ini + ")]", CommandsTest.settingLine(out, "jdbc.password"), out);
        assertEquals("jdbc.passwordFile " + base.resolve("secrets/pg.password") + "  [jetty.dynamicSni.jdbc.passwordFile in " + ini + "]", CommandsTest.settingLine(out, "jdbc.passwordFile"), out);
        assertEquals("redis.user alice  [jetty.dynamicSni.redis.user in " + ini + "]", CommandsTest.settingLine(out, "redis.user"), out);
        assertEquals("redis.password ***  [read from redis.passwordFile (jetty.dynamicSni.redis.passwordFile in " + ini + ")]", CommandsTest.settingLine(out, "redis.password"), out);
        assertEquals("redis.caFile " + base.resolve("etc/redis-ca.pem") + "  [jetty.dynamicSni.redis.caFile in " + ini + "]", CommandsTest.settingLine(out, "redis.caFile"), out);
        assertTrue(out.contains("reachable at rediss://localhost:" + redis.port()), out);
        assertFalse(out.contains(REDIS_PASSWORD), out);
        assertFalse(out.contains(PG_PASSWORD), out);

        // PostgreSQL trusts local connections here: what can be checked is what the driver is given
        Settings settings = Settings.resolve(Map.of(), Map.of(), base);
        assertEquals(PG_PASSWORD, Database.properties(settings).getProperty("password"));
    }

    @Test
    void theBasesRedisUserPasswordAndCaFileAreWhatMakesItWork() throws Exception
    {
        Map<String, String> env = new HashMap<>();
        // a wrong password (the environment outranks the base's password file)
        env.put("DYNSNI_REDIS_PASSWORD", "wrong");
        Result wrong = runWith(env, "evict", "--all", "--jetty-base", base.toString());
        assertEquals(DynSni.EXIT_UNREACHABLE, wrong.exit(), wrong::toString);
        assertTrue(wrong.err().contains("cannot connect to Redis at rediss://localhost:" + redis.port() + ": WRONGPASS"), wrong::toString);
        assertFalse(wrong.err().contains("wrong"), wrong::toString);

        // another user: the default one is disabled
        Result noUser = runWith(Map.of("DYNSNI_REDIS_USER", "default"), "evict", "--all", "--jetty-base", base.toString());
        assertEquals(DynSni.EXIT_UNREACHABLE, noUser.exit(), noUser::toString);

        // without the CA file, the server's certificate is not trusted
        Path otherCa = Files.writeString(base.resolve("other-ca.pem"), CertificateAuthority.create("other CA").caPem());
        Result untrusted = runWith(Map.of(), "evict", "--all", "--jetty-base", base.toString(), "--redis-ca-file", otherCa.toString());
        assertEquals(DynSni.EXIT_UNREACHABLE, untrusted.exit(), untrusted::toString);
        assertTrue(untrusted.err().startsWith("dynsni evict: error: notified all nodes, but the Redis entries were not deleted: cannot connect to Redis at rediss://localhost:"),
            untrusted::toString);
        assertEquals(1, untrusted.errLines().size(), untrusted::toString);

        // a password file that cannot be read is named, with where it was set
        Files.writeString(base.resolve("start.d/zz-override.ini"), "jetty.dynamicSni.redis.passwordFile=secrets/nope\n");
        try
        {
            Result missing = runWith(Map.of(), "evict", "--all", "--jetty-base", base.toString());
            assertEquals(DynSni.EXIT_USAGE, missing.exit(), missing::toString);
            assertEquals(List.of("dynsni evict: error: jetty.dynamicSni.redis.passwordFile=" + base.resolve("secrets/nope") + " (from jetty.dynamicSni.redis.passwordFile in " +
                base.resolve("start.d/zz-override.ini") + ") cannot be read: no such file: point it at a readable file holding the Redis password"), missing.errLines());
        }
        finally
        {
            Files.delete(base.resolve("start.d/zz-override.ini"));
        }
    }
}
