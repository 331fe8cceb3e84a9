package dev.dynsni.admin;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A malformed Redis or JDBC URL given to the tool is named with its credentials masked, whatever
 * the password holds, and read by the same parser as the library's ({@code StoreUrls}).
 */
class MaskedUrlsTest extends AdminTestBase
{
    @ParameterizedTest
    @ValueSource(strings = {"pa/ss", "pa?ss", "pa#ss", "pa@ss", "p:a:ss", "@/?#:"})
    void malformedRedisUrl_isNamedMasked(String password)
    {
        for (String url : new String[]{"redis://u:" + password + "@cache:port", "redis://u:" + password + "@cache:6379/zero", "http://u:" + password + "@cache:6379",
            "redis://u:" + password + "@ca che:6379"})
        {
            Result result = run("evict", "nobody.example.com", "--redis-url", url);
            assertEquals(DynSni.EXIT_USAGE, result.exit(), result::toString);
            assertTrue(result.err().contains("jetty.dynamicSni.redis.address='") && result.err().contains("***@"), result::toString);
            assertFalse(result.toString().contains(password), result::toString);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pa/ss", "pa?ss", "pa#ss", "pa@ss", "@/?#:"})
    void malformedJdbcUrl_isNamedMasked(String password)
    {
        Result result = run("list", "--jdbc-url", "jdbc:mysql://u:" + password + "@db/x?password=" + password);
        assertEquals(DynSni.EXIT_USAGE, result.exit(), result::toString);
        assertTrue(result.err().contains("is not a PostgreSQL JDBC URL"), result::toString);
        assertFalse(result.toString().contains(password), result::toString);
    }
}
