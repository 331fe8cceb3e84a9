package dev.dynsni.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.dynsni.core.Setting;
import dev.dynsni.core.Stores;
import dev.dynsni.core.store.RedisCertificateStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the tool resolves its settings from flags, environment and a Jetty base; no store needed. */
class SettingsTest
{
    @TempDir
    Path base;

    private Path write(String file, String... lines) throws Exception
    {
        Path path = base.resolve(file);
        Files.createDirectories(path.getParent());
        return Files.writeString(path, String.join("\n", lines) + "\n");
    }

    private Settings resolve(Map<Setting, Settings.Flag> flags, Map<String, String> env)
    {
        return Settings.resolve(flags, env, base);
    }

    private static Map<Setting, Settings.Flag> flags(Object... settingAndValue)
    {
        Map<Setting, Settings.Flag> flags = new EnumMap<>(Setting.class);
        for (int i = 0; i < settingAndValue.length; i += 2)
        {
            Setting setting = (Setting)settingAndValue[i];
            flags.put(setting, new Settings.Flag(SettingOptions.names(setting)[0], (String)settingAndValue[i + 1]));
        }
        return flags;
    }

    @Test
    void everySettingRead_hasAFlagMadeFromItsName()
    {
        assertEquals("--jdbc-password-file", SettingOptions.names(Setting.JDBC_PASSWORD_FILE)[0]);
        assertEquals("--redis-ca-file", SettingOptions.names(Setting.REDIS_CA_FILE)[0]);
        assertEquals(List.of("--redis-url", "--redis-address"), List.of(SettingOptions.names(Setting.REDIS_ADDRESS)));
        assertEquals(List.of("--master-key", "--master-key-file"), List.of(SettingOptions.names(Setting.MASTER_KEY_FILE)));
        assertEquals("--previous-master-key-files", SettingOptions.names(Setting.PREVIOUS_MASTER_KEY_FILES)[0]);
        for (Setting setting : Settings.READ)
        {
            String flag = SettingOptions.names(setting)[SettingOptions.names(setting).length - 1];
            assertEquals("--" + SettingOptions.kebab(setting.key()), flag);
        }
    }

    @Test
    void jettyBase_startIniThenStartDInNameOrder_laterWins_ifUnsetOnlyWhenUnset() throws Exception
    {
        write("start.ini",
            "--module=dynamic-sni",
            "jetty.dynamicSni.jdbc.url=jdbc:postgresql://from-start-ini/db",
            "jetty.dynamicSni.jdbc.schema=from_start_ini",
            "jetty.dynamicSni.redis.keyPrefix=from-start-ini:");
        write("start.d/dynamic-sni.ini",
            "# the module's ini",
            "jetty.dynamicSni.jdbc.schema=from_module_ini",
            "jetty.dynamicSni.redis.keyPrefix?=ignored-already-set:",
            "jetty.dynamicSni.jdbc.user?=from-if-unset",
            "jetty.dynamicSni.masterKeyFile=${jetty.base}/etc/master.key");
        write("start.d/zz-local.ini",
            "jetty.dynamicSni.jdbc.schema=from_zz_local",
            "jetty.dynamicSni.previousMasterKeyFiles=etc/old1.key",
            "jetty.dynamicSni.previousMasterKeyFiles+=,etc/old2.key");

        Settings settings = resolve(Map.of(), Map.of());
        assertEquals("jdbc:postgresql://from-start-ini/db", settings.jdbcUrl());
        assertEquals("from_zz_local", settings.schema());
        assertEquals("jetty.dynamicSni.jdbc.schema in " + base.toAbsolutePath().resolve("start.d/zz-local.ini"), settings.source(Setting.JDBC_SCHEMA).text());
        assertEquals("from-start-ini:", settings.redisKeyPrefix());
        assertEquals("from-if-unset", settings.jdbcUser());
        assertEquals(base.toAbsolutePath().resolve("etc/master.key"), settings.masterKeyFile());
        assertEquals(List.of(base.toAbsolutePath().resolve("etc/old1.key"), base.toAbsolutePath().resolve("etc/old2.key")), settings.previousMasterKeyFiles());
        assertEquals(Setting.REDIS_TIMEOUT_MILLIS.defaultLong(), settings.core().longValue(Setting.REDIS_TIMEOUT_MILLIS));
        assertEquals("default", settings.source(Setting.REDIS_TIMEOUT_MILLIS).text());
    }

    @Test
    void flagBeatsEnvironmentBeatsBase_relativePathsFromFlagsResolveAgainstTheWorkingDirectory() throws Exception
    {
        write("start.d/dynamic-sni.ini",
            "jetty.dynamicSni.jdbc.url=jdbc:postgresql://base/db",
            "jetty.dynamicSni.jdbc.schema=base_schema",
            "jetty.dynamicSni.redis.address=redis://base:6379",
            "jetty.dynamicSni.redis.caFile=etc/redis-ca.pem",
            "jetty.dynamicSni.masterKeyFile=etc/master.key");

        Settings env = resolve(Map.of(), Map.of("DYNSNI_JDBC_SCHEMA", "env_schema", "DYNSNI_REDIS_URL", "redis://env:6379", "DYNSNI_MASTER_KEY_FILE", "env.key"));
        assertEquals("env_schema", env.schema());
        assertEquals("$DYNSNI_JDBC_SCHEMA", env.source(Setting.JDBC_SCHEMA).text());
        assertEquals("redis://env:6379", env.redisAddress());
        assertEquals(Path.of("env.key").toAbsolutePath(), env.masterKeyFile());
        assertEquals(base.toAbsolutePath().resolve("etc/redis-ca.pem"), env.core().path(Setting.REDIS_CA_FILE));

        Settings flag = resolve(flags(Setting.JDBC_SCHEMA, "flag_schema", Setting.REDIS_CA_FILE, "ca.pem"), Map.of("DYNSNI_JDBC_SCHEMA", "env_schema"));
        assertEquals("flag_schema", flag.schema());
        assertEquals("--jdbc-schema", flag.source(Setting.JDBC_SCHEMA).text());
        assertEquals(Path.of("ca.pem").toAbsolutePath(), flag.core().path(Setting.REDIS_CA_FILE));
        assertEquals("jdbc:postgresql://base/db", flag.jdbcUrl());
    }

    @Test
    void passwordFileInTheBase_isReadRelativeToTheBase_andIsWhatTheDriverGets() throws Exception
    {
        write("secrets/pg.password", "pg-secret-from-file");
        write("start.d/dynamic-sni.ini",
            "jetty.dynamicSni.jdbc.url=jdbc:postgresql://127.0.0.1:5432/db",
            "jetty.dynamicSni.jdbc.user=dynsni",
            "jetty.dynamicSni.jdbc.passwordFile=secrets/pg.password",
            "jetty.dynamicSni.jdbc.timeoutMillis=7500");
        Settings settings = resolve(Map.of(), Map.of());
        Properties properties = Database.properties(settings);
        assertEquals("dynsni", properties.getProperty("user"));
        assertEquals("pg-secret-from-file", properties.getProperty("password"));
        assertEquals("8", properties.getProperty("connectTimeout"));
        String doctor = String.join("\n", settings.describe());
        assertTrue(doctor.contains("[read from jdbc.passwordFile (jetty.dynamicSni.jdbc.passwordFile in " + base.toAbsolutePath().resolve("start.d/dynamic-sni.ini") + ")]"), doctor);
        assertFalse(doctor.contains("pg-secret-from-file"), doctor);

        // the environment's password outranks the base's file, a flag's file outranks the environment's password
        assertEquals("env-pw", Database.properties(resolve(Map.of(), Map.of("DYNSNI_JDBC_PASSWORD", "env-pw"))).getProperty("password"));
        Path flagFile = Files.writeString(base.resolve("flag.password"), "flag-file-pw\n");
        assertEquals("flag-file-pw", Database.properties(resolve(flags(Setting.JDBC_PASSWORD_FILE, flagFile.toString()), Map.of("DYNSNI_JDBC_PASSWORD", "env-pw"))).getProperty("password"));
    }

    @Test
    void redisSettingsFromTheBase_configureTheCoreStore() throws Exception
    {
        write("secrets/redis.password", "redis-secret");
        write("start.d/dynamic-sni.ini",
            "jetty.dynamicSni.redis.address=rediss://localhost:6390",
            "jetty.dynamicSni.redis.user=alice",
            "jetty.dynamicSni.redis.passwordFile=secrets/redis.password",
            "jetty.dynamicSni.redis.caFile=etc/ca.pem",
            "jetty.dynamicSni.redis.keyPrefix=tenant-a:");
        Settings settings = resolve(Map.of(), Map.of());
        assertEquals("redis-secret", settings.redisPassword());
        RedisCertificateStore store = Stores.redis(settings.core());
        assertNotNull(store);
        assertEquals("tenant-a:", store.getKeyPrefix());
        assertEquals("rediss://localhost:6390", store.getAddress());
        String doctor = String.join("\n", settings.describe());
        assertTrue(doctor.contains("redis.password"), doctor);
        assertFalse(doctor.contains("redis-secret"), doctor);
    }

    @Test
    void badValues_nameThePropertyTheValueAndTheSource() throws Exception
    {
        write("start.d/dynamic-sni.ini",
            "jetty.dynamicSni.jdbc.url=mysql://nope",
            "jetty.dynamicSni.jdbc.schema=Bad-Schema",
            "jetty.dynamicSni.jdbc.passwordFile=secrets/missing",
            "jetty.dynamicSni.redis.adress=redis://typo:6379");
        Settings settings = resolve(Map.of(), Map.of());
        Path ini = base.toAbsolutePath().resolve("start.d/dynamic-sni.ini");
        CliException url = assertThrows(CliException.class, settings::jdbcUrl);
        assertEquals(DynSni.EXIT_USAGE, url.getExitCode());
        assertEquals("jetty.dynamicSni.jdbc.url='mysql://nope' (from jetty.dynamicSni.jdbc.url in " + ini + ") is not a PostgreSQL JDBC URL: use jdbc:postgresql://host:port/database", url.getMessage());
        CliException schema = assertThrows(CliException.class, settings::schema);
        assertTrue(schema.getMessage().startsWith("jetty.dynamicSni.jdbc.schema='Bad-Schema' (from jetty.dynamicSni.jdbc.schema in " + ini + ") is not a valid schema name"), schema.getMessage());
        CliException password = assertThrows(CliException.class, settings::jdbcPassword);
        assertEquals("jetty.dynamicSni.jdbc.passwordFile=" + base.toAbsolutePath().resolve("secrets/missing") + " (from jetty.dynamicSni.jdbc.passwordFile in " + ini +
            ") cannot be read: no such file: point it at a readable file holding the PostgreSQL password", password.getMessage());
        assertEquals(List.of("jetty.dynamicSni.redis.adress in " + ini), settings.jettyBase().unknownModuleProperties());

        CliException number = assertThrows(CliException.class, () -> resolve(flags(Setting.JDBC_TIMEOUT_MILLIS, "soon"), Map.of()));
        assertEquals("jetty.dynamicSni.jdbc.timeoutMillis='soon' is not a whole number (from --jdbc-timeout-millis)", number.getMessage());
    }

    @Test
    void notAJettyBase_orModuleNotEnabled_usageErrors() throws Exception
    {
        CliException empty = assertThrows(CliException.class, () -> resolve(Map.of(), Map.of()));
        assertTrue(empty.getMessage().contains("has neither start.ini nor start.d/*.ini"), empty.getMessage());
        write("start.d/http.ini", "--module=http", "jetty.http.port=8080");
        CliException other = assertThrows(CliException.class, () -> resolve(Map.of(), Map.of()));
        assertTrue(other.getMessage().contains("does not enable the dynamic-sni module"), other.getMessage());
        write("start.d/dynamic-sni.ini", "--module=dynamic-sni");
        assertNull(resolve(Map.of(), Map.of()).redisAddress());
        CliException file = assertThrows(CliException.class, () -> Settings.resolve(Map.of(), Map.of(), base.resolve("start.d/http.ini")));
        assertTrue(file.getMessage().endsWith("is not a directory: give the Jetty base the nodes run with ($JETTY_BASE)"), file.getMessage());
    }
}
