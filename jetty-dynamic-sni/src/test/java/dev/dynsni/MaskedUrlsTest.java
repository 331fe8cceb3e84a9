package dev.dynsni;

import dev.dynsni.testing.TestServices;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server whose Redis or JDBC URL is malformed fails to start with a message naming the setting and
 * the URL with its credentials masked, whatever the password holds.
 */
class MaskedUrlsTest
{
    @ParameterizedTest
    @ValueSource(strings = {"pa/ss", "pa?ss", "pa#ss", "pa@ss", "p:a:ss", "@/?#:", "p ss"})
    void malformedRedisUrl_startFailureIsMasked(String password)
    {
        for (String url : new String[]{"redis://u:" + password + "@cache:port", "redis://u:" + password + "@cache:6379/zero", "http://u:" + password + "@cache:6379"})
        {
            DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
            factory.setJdbcUrl(TestServices.jdbcUrl());
            factory.setJdbcSchema(TestServices.newSchema());
            factory.setRedisAddress(url);
            String messages = startFailure(factory);
            assertTrue(messages.contains("jetty.dynamicSni.redis.address='"), messages);
            assertFalse(messages.contains(password), messages);
            assertFalse(factory.getRedisAddress() != null && factory.getRedisAddress().contains(password), "JMX shows it masked");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pa/ss", "pa@ss", "@/?#:"})
    void malformedJdbcUrl_startFailureIsMasked(String password)
    {
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factory.setJdbcUrl("jdbc:mysql://u:" + password + "@db/x?password=" + password);
        String messages = startFailure(factory);
        assertTrue(messages.contains("is not a PostgreSQL JDBC URL"), messages);
        assertFalse(messages.contains(password), messages);
    }

    /** @return every message of the start failure's causes */
    private static String startFailure(DynamicSniSslContextFactory factory)
    {
        Server server = new Server();
        server.addBean(factory);
        Throwable failure = assertThrows(Throwable.class, server::start);
        StringBuilder messages = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause())
            messages.append(t).append('\n');
        try
        {
            server.stop();
        }
        catch (Exception ignored)
        {
            // not started
        }
        return messages.toString();
    }
}
