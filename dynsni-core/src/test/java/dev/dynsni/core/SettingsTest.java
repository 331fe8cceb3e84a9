package dev.dynsni.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingsTest
{
    @Test
    void unset_readsTheDefinedDefault()
    {
        Settings settings = new Settings(Map.of());
        assertEquals(Setting.CACHE_MAX_ENTRIES.defaultLong(), settings.longValue(Setting.CACHE_MAX_ENTRIES));
        assertEquals("dynsni", settings.string(Setting.JDBC_SCHEMA));
        assertNull(settings.string(Setting.REDIS_ADDRESS));
        assertTrue(settings.booleanValue(Setting.PREFETCH));
        assertEquals("default", settings.choice(Setting.UNKNOWN_HOST_POLICY));
        assertFalse(settings.isSet(Setting.JDBC_SCHEMA));
    }

    @Test
    void text_isParsedByKind_andBadValuesNameTheProperty()
    {
        Settings settings = new Settings(Map.of());
        settings.set(Setting.REDIS_POOL_SIZE, "8").set(Setting.UNKNOWN_HOST_POLICY, "REJECT").set(Setting.PREFETCH, "false");
        assertEquals(8, settings.intValue(Setting.REDIS_POOL_SIZE));
        assertEquals("reject", settings.choice(Setting.UNKNOWN_HOST_POLICY));
        assertFalse(settings.booleanValue(Setting.PREFETCH));
        assertEquals("jetty.dynamicSni.redis.poolSize='many' is not a whole number",
            assertThrows(IllegalArgumentException.class, () -> settings.set(Setting.REDIS_POOL_SIZE, "many")).getMessage());
        assertEquals("jetty.dynamicSni.unknownHostPolicy='maybe' is not valid: use default or reject",
            assertThrows(IllegalArgumentException.class, () -> settings.set(Setting.UNKNOWN_HOST_POLICY, "maybe")).getMessage());
        assertEquals("jetty.dynamicSni.prefetch='yes' is not valid: use true or false",
            assertThrows(IllegalArgumentException.class, () -> settings.set(Setting.PREFETCH, "yes")).getMessage());
        settings.set(Setting.CACHE_MAX_ENTRIES, 0L);
        assertEquals("jetty.dynamicSni.cache.maxEntries=0 must be greater than 0", assertThrows(IllegalStateException.class, settings::validate).getMessage());
        settings.set(Setting.CACHE_MAX_ENTRIES, null).set(Setting.PREFETCH_MAX_CLIENT_HELLO_BYTES, 10);
        assertEquals("jetty.dynamicSni.prefetch.maxClientHelloBytes=10 must be at least 64", assertThrows(IllegalStateException.class, settings::validate).getMessage());
        settings.set(Setting.PREFETCH_MAX_CLIENT_HELLO_BYTES, "").set(Setting.PREFETCH_TIMEOUT_MILLIS, 0L);
        settings.validate();
    }

    @Test
    void secret_fromValue_thenFile_thenEnvironment(@TempDir Path dir) throws Exception
    {
        Path file = Files.writeString(dir.resolve("pw"), "from-file\n");
        Settings settings = new Settings(Map.of("DYNSNI_REDIS_PASSWORD", "from-env")).base(dir);
        assertEquals("from-env", settings.secret(Setting.REDIS_PASSWORD, Setting.REDIS_PASSWORD_FILE));
        settings.set(Setting.REDIS_PASSWORD_FILE, "pw");
        assertEquals("from-file", settings.secret(Setting.REDIS_PASSWORD, Setting.REDIS_PASSWORD_FILE), "relative to the base, stripped");
        settings.set(Setting.REDIS_PASSWORD, "from-value");
        assertEquals("from-value", settings.secret(Setting.REDIS_PASSWORD, Setting.REDIS_PASSWORD_FILE));
        settings.set(Setting.REDIS_PASSWORD, null).set(Setting.REDIS_PASSWORD_FILE, file.resolveSibling("missing").toString());
        String message = assertThrows(IllegalStateException.class, () -> settings.secret(Setting.REDIS_PASSWORD, Setting.REDIS_PASSWORD_FILE)).getMessage();
        assertTrue(message.startsWith("jetty.dynamicSni.redis.passwordFile=" + dir.resolve("missing") + " cannot be read"), message);
    }

    @Test
    void files_resolveAgainstTheBase(@TempDir Path dir)
    {
        Settings settings = new Settings(Map.of()).base(dir);
        settings.set(Setting.PREVIOUS_MASTER_KEY_FILES, "old1.key, /abs/old2.key,");
        assertEquals(List.of(dir.resolve("old1.key"), Path.of("/abs/old2.key")), settings.paths(Setting.PREVIOUS_MASTER_KEY_FILES));
        settings.set(Setting.MASTER_KEY_FILE, "etc/master.key");
        assertEquals(dir.resolve("etc/master.key"), settings.path(Setting.MASTER_KEY_FILE));
    }

    @Test
    void stores_refuseAMissingOrForeignJdbcUrl()
    {
        Settings settings = new Settings(Map.of());
        assertTrue(assertThrows(IllegalStateException.class, () -> Stores.build(settings)).getMessage().startsWith("jetty.dynamicSni.jdbc.url is not set"));
        settings.set(Setting.JDBC_URL, "jdbc:mysql://u:secret@db/x");
        String message = assertThrows(IllegalStateException.class, () -> Stores.build(settings)).getMessage();
        assertTrue(message.contains("is not a PostgreSQL JDBC URL") && !message.contains("secret"), message);
        settings.set(Setting.JDBC_URL, "jdbc:postgresql://db/x").set(Setting.JDBC_SCHEMA, "Bad-Name");
        assertTrue(assertThrows(IllegalStateException.class, () -> Stores.build(settings)).getMessage().contains("is not a valid schema name"));
    }
}
