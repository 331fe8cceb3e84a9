package dev.dynsni.core;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoreUrlsTest
{
    /** Passwords a URL may hold, each with a character that ends the user-info for a naive reader. */
    private static final String[] PASSWORDS = {"s3cret", "pa/ss", "pa?ss", "pa#ss", "pa@ss", "p:a:ss", "p%40ss", "@/?#:", "p ss"};

    static Stream<Arguments> redisUrls()
    {
        return Stream.of(
            Arguments.of("redis://cache:6379", false, "cache", 6379, null, null, null),
            Arguments.of("redis://cache", false, "cache", 6379, null, null, null),
            Arguments.of("rediss://cache:6380/2", true, "cache", 6380, null, null, 2),
            Arguments.of("REDIS://Cache:1/0", false, "Cache", 1, null, null, 0),
            Arguments.of("redis://user:s3cret@cache:6379", false, "cache", 6379, "user", "s3cret", null),
            Arguments.of("redis://:s3cret@cache:6379/3", false, "cache", 6379, null, "s3cret", 3),
            Arguments.of("redis://user@cache", false, "cache", 6379, "user", null, null),
            Arguments.of("redis://u:pa/ss@cache:6379", false, "cache", 6379, "u", "pa/ss", null),
            Arguments.of("redis://u:pa?ss@cache:6379", false, "cache", 6379, "u", "pa?ss", null),
            Arguments.of("redis://u:pa#ss@cache:6379", false, "cache", 6379, "u", "pa#ss", null),
            Arguments.of("redis://u:pa@ss@cache:6379", false, "cache", 6379, "u", "pa@ss", null),
            Arguments.of("redis://u:p:a:ss@cache:6379", false, "cache", 6379, "u", "p:a:ss", null),
            Arguments.of("redis://u:p%40ss@cache:6379", false, "cache", 6379, "u", "p@ss", null),
            Arguments.of("redis://[::1]:6379/1", false, "::1", 6379, null, null, 1),
            Arguments.of("  redis://cache:6379  ", false, "cache", 6379, null, null, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("redisUrls")
    void redis_readsEveryPart(String url, boolean tls, String host, int port, String user, String password, Integer database)
    {
        StoreUrls.RedisUrl parsed = StoreUrls.redis(url);
        assertEquals(tls, parsed.tls());
        assertEquals(host, parsed.host());
        assertEquals(port, parsed.port());
        assertEquals(user, parsed.user());
        assertEquals(password, parsed.password());
        assertEquals(database, parsed.database());
        if (password != null)
        {
            assertFalse(parsed.toString().contains(password), parsed.toString());
            assertFalse(parsed.address().contains(password), parsed.address());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://u:%s@cache:6379", "redis://u:%s@cache:port", "redis://u:%s@cache:6379/zero", "redis://u:%s@:6379",
        "redis://u:%s@cache:6379?x=1", "redis://u:%s@cache:99999", "u:%s@cache:6379", "redis:/u:%s@cache", "redis://u:%s@[::1:6379", "redis://u:%s@ca che"})
    void redis_malformed_neverPrintsThePassword(String pattern)
    {
        for (String password : PASSWORDS)
        {
            String url = String.format(pattern, password);
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> StoreUrls.redis(url), url);
            assertTrue(x.getMessage().startsWith(Setting.REDIS_ADDRESS.property() + "='"), x.getMessage());
            assertFalse(x.getMessage().contains(password), x.getMessage());
            assertTrue(x.getMessage().contains("redis://"), "says what to use: " + x.getMessage());
        }
    }

    @Test
    void redis_blank_saysItIsNotSet()
    {
        assertEquals("jetty.dynamicSni.redis.address is not set: set it to redis://host:port or rediss://host:port",
            assertThrows(IllegalArgumentException.class, () -> StoreUrls.redis(" ")).getMessage());
    }

    @Test
    void jdbc_checksTheScheme_andMasks()
    {
        assertEquals("jdbc:postgresql://db:5432/x?user=a&password=b", StoreUrls.jdbc(" jdbc:postgresql://db:5432/x?user=a&password=b "));
        for (String password : PASSWORDS)
        {
            String url = "jdbc:mysql://u:" + password + "@db/x?password=" + password;
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> StoreUrls.jdbc(url));
            assertFalse(x.getMessage().contains(password), x.getMessage());
            assertTrue(x.getMessage().contains("is not a PostgreSQL JDBC URL"), x.getMessage());
        }
        assertNull(StoreUrls.jdbcProblem("jdbc:postgresql://db/x"));
    }

    @Test
    void mask_hidesUserInfoAndPasswordParameters_whateverTheyHold()
    {
        for (String password : PASSWORDS)
        {
            for (String url : new String[]{"redis://user:" + password + "@cache:6379/0", "rediss://:" + password + "@cache", "jdbc:postgresql://db/x?user=u&password=" + password.replace("&", ""),
                "jdbc:postgresql://db/x?sslpassword=" + password + "&ssl=true", "redis:user:" + password + "@cache"})
            {
                String masked = StoreUrls.mask(url);
                assertFalse(masked.contains(password), url + " -> " + masked);
                assertTrue(masked.contains("***"), masked);
            }
        }
        assertEquals("redis://***@cache:6379", StoreUrls.mask("redis://user:pa@ss@cache:6379"));
        assertEquals("redis://***@a:1,redis://***@b:2", StoreUrls.mask("redis://u:p1@a:1,redis://u:p,2@b:2"));
        assertEquals("redis://***@a:1, rediss://b:2", StoreUrls.mask("redis://u:p/,x@a:1, rediss://b:2"));
        assertEquals("redis://cache:6379", StoreUrls.mask("redis://cache:6379"));
        assertEquals("jdbc:postgresql://db/x?user=jetty&password=***&ssl=true", StoreUrls.mask("jdbc:postgresql://db/x?user=jetty&password=s3cret&ssl=true"));
    }
}
