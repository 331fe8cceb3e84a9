package dev.dynsni.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.RedisKeys;
import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** list, show, remove, evict, doctor, init-db on a small demo data set. */
class CommandsTest extends AdminTestBase
{
    @TempDir
    static Path demo;

    @BeforeAll
    static void importDemo()
    {
        Result generated = run("gen-demo", "--tenants", "12", "--rsa", "1", "--domain", "cmd.test", "--out", demo.toString(), "--no-progress");
        assertEquals(0, generated.exit(), generated::toString);
        Result imported = run("import-dir", demo.resolve("certs").toString(), "--no-progress");
        assertEquals(0, imported.exit(), imported::toString);
    }

    /**
     * @return the line of {@code doctor}'s settings section for a setting, e.g. {@code jdbc.schema},
     *     with one space after the name
     */
    static String settingLine(String doctorOut, String key)
    {
        return doctorOut.lines().filter(line -> line.startsWith("  " + key + " ")).findFirst().orElse("(no line for " + key + ")").trim().replaceFirst("^(\\S+) +", "$1 ");
    }

    @Test
    void initDb_again_upToDate()
    {
        Result result = run("init-db");
        assertEquals(0, result.exit(), result::toString);
        assertEquals("schema " + schema + " is up to date (version " + dev.dynsni.core.SchemaMigrations.latestVersion() + ")\n", result.out());
    }

    @Test
    void list_hostLikeAndLimit_tableOfMatchingRows()
    {
        Result result = run("list", "--host-like", "t1%.cmd.test", "--limit", "3");
        assertEquals(0, result.exit(), result::toString);
        List<String> lines = result.out().lines().toList();
        assertEquals(4, lines.size(), result::toString);
        assertTrue(lines.get(0).startsWith("HOST"), result::toString);
        assertTrue(lines.get(1).startsWith("t1.cmd.test") && lines.get(1).contains(" EC "), result::toString);
        assertTrue(lines.get(2).startsWith("t1.cmd.test") && lines.get(2).contains(" RSA "), result::toString);
        assertTrue(lines.get(3).startsWith("t10.cmd.test"), result::toString);
        assertTrue(result.err().contains("more than 3 rows"), result::toString);
        assertFalse(result.out().contains("PRIVATE KEY"));
    }

    @Test
    void list_expiringWithin_onlyThoseSoonestFirst() throws Exception
    {
        assertEquals("no certificates match\n", run("list", "--expiring-within", "30", "--host-like", "%.cmd.test").err());
        Result all = run("list", "--expiring-within", "400", "--host-like", "%.cmd.test", "--limit", "0");
        assertEquals(0, all.exit(), all::toString);
        assertEquals(1 + count("host LIKE '%.cmd.test'"), all.out().lines().count(), all::toString);
    }

    @Test
    void show_host_describesEveryKeyTypeWithoutKeyMaterial()
    {
        Result result = run("show", "T1.cmd.test");
        assertEquals(0, result.exit(), result::toString);
        assertTrue(result.out().contains("key type      EC"), result::toString);
        assertTrue(result.out().contains("key type      RSA"), result::toString);
        assertTrue(result.out().contains("public key    RSA 2048 bits"), result::toString);
        assertTrue(result.out().contains("SANs          t1.cmd.test"), result::toString);
        assertTrue(result.out().contains("issuer        O=jetty-dynamic-sni demo,CN=dynsni demo CA cmd.test"), result::toString);
        assertTrue(result.out().contains("fingerprint   SHA-256 "), result::toString);
        assertTrue(result.out().contains("days left"), result::toString);
        assertFalse(result.out().contains("PRIVATE"), result::toString);
    }

    @Test
    void show_hostUnderWildcard_namesTheWildcard()
    {
        Result result = run("show", "shop.wild.cmd.test");
        assertEquals(0, result.exit(), result::toString);
        assertTrue(result.out().startsWith("shop.wild.cmd.test has no certificate of its own; it is served by *.wild.cmd.test:"), result::toString);
    }

    @Test
    void show_unknownHost_rejected()
    {
        Result result = run("show", "nobody.cmd.test");
        assertEquals(DynSni.EXIT_REJECTED, result.exit());
        assertEquals(List.of("dynsni show: error: no certificate stored for nobody.cmd.test (nor *.cmd.test)"), result.errLines());
    }

    @Test
    void remove_oneKeyTypeThenAll_deletesRowsAndFencesRedis() throws Exception
    {
        TestRedis.set(RedisKeys.dataKey(keyPrefix, "t2.cmd.test"), "stale");
        Result rsa = run("remove", "t2.cmd.test", "--key-type", "rsa");
        assertEquals(DynSni.EXIT_REJECTED, rsa.exit(), rsa::toString);
        assertEquals(List.of("dynsni remove: error: nothing stored for t2.cmd.test with key type RSA"), rsa.errLines());

        Result result = run("remove", "t2.cmd.test");
        assertEquals(0, result.exit(), result::toString);
        assertEquals("removed t2.cmd.test (EC)\n", result.out());
        assertEquals(0, count("host = 't2.cmd.test'"));
        assertNull(TestRedis.get(RedisKeys.dataKey(keyPrefix, "t2.cmd.test")));
        assertTrue(Long.parseLong(TestRedis.get(RedisKeys.fenceKey(keyPrefix, "t2.cmd.test"))) > 0);
        assertEquals(DynSni.EXIT_USAGE, run("remove", "t3.cmd.test", "--key-type", "DSA").exit());
    }

    @Test
    void evict_oneHost_dropsItsRedisEntryAndNotifies() throws Exception
    {
        TestRedis.set(RedisKeys.dataKey(keyPrefix, "t4.cmd.test"), "stale");
        TestRedis.set(RedisKeys.dataKey(keyPrefix, "t5.cmd.test"), "kept");
        Result result = run("evict", "t4.cmd.test");
        assertEquals(0, result.exit(), result::toString);
        assertEquals("evicted t4.cmd.test: notified all nodes, dropped its Redis entry\n", result.out());
        assertNull(TestRedis.get(RedisKeys.dataKey(keyPrefix, "t4.cmd.test")));
        assertEquals("kept", TestRedis.get(RedisKeys.dataKey(keyPrefix, "t5.cmd.test")));
        assertTrue(Long.parseLong(TestRedis.get(RedisKeys.fenceKey(keyPrefix, "t4.cmd.test"))) > 0, "fenced");
    }

    @Test
    void evict_all_deletesEveryRedisEntryUnderThePrefixOnly() throws Exception
    {
        String otherPrefix = TestServices.newKeyPrefix();
        // a prefix with glob characters must match itself only
        String globPrefix = keyPrefix.substring(0, keyPrefix.length() - 1) + "*";
        java.util.Map<String, Object> values = new java.util.HashMap<>();
        for (int i = 0; i < 2500; i++)
        {
            values.put(RedisKeys.dataKey(keyPrefix, "h" + i + ".cmd.test"), "x");
        }
        TestRedis.client().getBuckets(org.redisson.client.codec.StringCodec.INSTANCE).set(values);
        TestRedis.set(RedisKeys.dataKey(otherPrefix, "h1.cmd.test"), "other");
        TestRedis.set(RedisKeys.fenceKey(keyPrefix, "h1.cmd.test"), "42");
        int cached = TestRedis.dataKeys(keyPrefix).size();
        assertTrue(cached >= 2500, "cached " + cached);
        try
        {
            Result glob = run("evict", "--all", "--redis-key-prefix", globPrefix);
            assertEquals(0, glob.exit(), glob::toString);
            assertEquals(cached, TestRedis.dataKeys(keyPrefix).size(), "the prefix's * is not a wildcard");

            Result result = run("evict", "--all");
            assertEquals(0, result.exit(), result::toString);
            assertEquals("evicted everything: notified all nodes, deleted " + cached + " Redis entries under " + keyPrefix + "\n", result.out());
            assertEquals(List.of(), TestRedis.dataKeys(keyPrefix));
            assertEquals("other", TestRedis.get(RedisKeys.dataKey(otherPrefix, "h1.cmd.test")));
            assertEquals("42", TestRedis.get(RedisKeys.fenceKey(keyPrefix, "h1.cmd.test")), "fences are left to expire");
        }
        finally
        {
            TestRedis.delete(RedisKeys.dataKey(otherPrefix, "h1.cmd.test"));
        }
        assertEquals(DynSni.EXIT_USAGE, run("evict").exit());
        assertEquals(DynSni.EXIT_USAGE, run("evict", "a.cmd.test", "--all").exit());
    }

    @Test
    void doctor_healthy_reportsVersionsCountsAndNoPassword()
    {
        Map<String, String> env = new HashMap<>(env());
        env.put("DYNSNI_JDBC_PASSWORD", "very-secret");
        Result result = runWith(env, "doctor");
        assertEquals(0, result.exit(), result::toString);
        assertTrue(result.out().contains("ok    PostgreSQL "), result::toString);
        assertTrue(result.out().contains("ok    schema '" + schema + "' at version " + dev.dynsni.core.SchemaMigrations.latestVersion()), result::toString);
        assertTrue(result.out().matches("(?s).*ok    \\d+ certificates for \\d+ names.*"), result::toString);
        assertTrue(result.out().contains("ok    Redis "), result::toString);
        assertEquals("jdbc.password ***  [$DYNSNI_JDBC_PASSWORD]", settingLine(result.out(), "jdbc.password"), result::toString);
        assertFalse(result.out().contains("very-secret"), result::toString);
        assertTrue(result.out().endsWith("all checks passed\n"), result::toString);
    }

    @Test
    void doctor_storesDown_exit3InPlainWords()
    {
        Result result = run("doctor", "--jdbc-url", "jdbc:postgresql://127.0.0.1:" + FreePorts.next() + "/test",
            "--redis-url", "redis://:pw@127.0.0.1:" + FreePorts.next());
        assertEquals(DynSni.EXIT_UNREACHABLE, result.exit(), result::toString);
        assertTrue(result.out().contains("FAIL  cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:"), result::toString);
        assertTrue(result.out().contains("FAIL  cannot connect to Redis at redis://***@127.0.0.1:"), result::toString);
        assertFalse(result.out().contains("pw@"), result::toString);
    }

    @Test
    void doctor_schemaMissing_tellsToRunInitDb()
    {
        Result result = run("doctor", "--jdbc-schema", "t_missing_schema");
        assertEquals(DynSni.EXIT_REJECTED, result.exit(), result::toString);
        assertTrue(result.out().contains("FAIL  schema 't_missing_schema' does not exist: run 'dynsni init-db'"), result::toString);
        Result list = run("list", "--jdbc-schema", "t_missing_schema");
        assertEquals(DynSni.EXIT_UNREACHABLE, list.exit(), list::toString);
        assertTrue(list.err().contains("run 'dynsni init-db' first"), list::toString);
    }

    @Test
    void settings_jettyBaseIniUsedWhenNoFlagOrEnv(@TempDir Path base) throws Exception
    {
        Files.createDirectories(base.resolve("start.d"));
        Files.writeString(base.resolve("start.d/dynamic-sni.ini"), String.join("\n",
            "# dynamic-sni",
            "--module=dynamic-sni",
            "## the JDBC URL",
            "jetty.dynamicSni.jdbc.url=" + TestServices.jdbcUrl(),
            "jetty.dynamicSni.jdbc.schema=" + schema,
            "# jetty.dynamicSni.redis.address=redis://nowhere:1",
            "jetty.dynamicSni.redis.keyPrefix?=" + keyPrefix,
            ""));
        Result result = runWith(Map.of(), "list", "--jetty-base", base.toString(), "--host-like", "t3.cmd.test");
        assertEquals(0, result.exit(), result::toString);
        assertTrue(result.out().contains("t3.cmd.test"), result::toString);

        // env wins over the base, flags win over env
        Result env = runWith(Map.of("DYNSNI_JDBC_SCHEMA", "t_nope"), "list", "--jetty-base", base.toString());
        assertEquals(DynSni.EXIT_UNREACHABLE, env.exit(), env::toString);
        Result flag = runWith(Map.of("DYNSNI_JDBC_SCHEMA", "t_nope"), "list", "--jetty-base", base.toString(), "--jdbc-schema", schema, "--host-like", "t3.cmd.test");
        assertEquals(0, flag.exit(), flag::toString);

        Result doctor = runWith(Map.of(), "doctor", "--jetty-base", base.toString());
        assertEquals("jdbc.schema " + schema + "  [jetty.dynamicSni.jdbc.schema in " + base.resolve("start.d/dynamic-sni.ini") + "]",
            settingLine(doctor.out(), "jdbc.schema"), doctor::toString);
        assertEquals("redis.address (not set: no Redis tier)  [default]", settingLine(doctor.out(), "redis.address"), doctor::toString);

        Result noIni = runWith(Map.of(), "list", "--jetty-base", base.resolve("start.d").toString());
        assertEquals(DynSni.EXIT_USAGE, noIni.exit(), noIni::toString);
        assertEquals(List.of("dynsni list: error: --jetty-base " + base.resolve("start.d") + " has neither start.ini nor start.d/*.ini: is it a Jetty base? " +
            "(java -jar $JETTY_HOME/start.jar --add-modules=dynamic-sni creates one)"), noIni.errLines());
    }
}
