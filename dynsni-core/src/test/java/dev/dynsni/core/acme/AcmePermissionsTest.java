package dev.dynsni.core.acme;

import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariDataSource;
import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The permission model against real PostgreSQL (the table the migrations create) and a real HTTP ask
 * endpoint: rules, wildcards one label deep, the ask endpoint's answers, remembering, the per-second
 * check budget under a flood of random names, and an endpoint that is down.
 */
class AcmePermissionsTest
{
    private final String schema = TestServices.newSchema();
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Set<String> asked = ConcurrentHashMap.newKeySet();
    private final AtomicLong askCount = new AtomicLong();
    private HikariDataSource dataSource;
    private HttpServer ask;

    @BeforeEach
    void setUp() throws Exception
    {
        dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(TestServices.jdbcUrl());
        dataSource.setMaximumPoolSize(4);
        try (Connection connection = dataSource.getConnection())
        {
            SchemaMigrations.migrate(connection, schema);
        }
        ask = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        ask.createContext("/ask", exchange ->
        {
            String domain = exchange.getRequestURI().getQuery().replaceFirst("^.*domain=", "");
            asked.add(domain);
            askCount.incrementAndGet();
            exchange.sendResponseHeaders(domain.startsWith("yes.") ? 200 : 403, -1);
            exchange.close();
        });
        ask.start();
    }

    @AfterEach
    void tearDown()
    {
        if (ask != null)
            ask.stop(0);
        executor.shutdownNow();
        if (dataSource != null)
            dataSource.close();
        TestServices.dropSchema(schema);
    }

    private AcmePermissions permissions(String askUrl, long checksPerSecond)
    {
        return new AcmePermissions(dataSource, schema, askUrl, Duration.ofSeconds(600), checksPerSecond, executor, nanos::get);
    }

    private String askUrl()
    {
        return "http://127.0.0.1:" + ask.getAddress().getPort() + "/ask";
    }

    private void allow(String... rules) throws Exception
    {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement insert = connection.prepareStatement("INSERT INTO " + schema + ".acme_allowed (name) VALUES (?)"))
        {
            for (String rule : rules)
            {
                insert.setString(1, rule);
                insert.executeUpdate();
            }
        }
    }

    private static boolean allows(AcmePermissions permissions, String host) throws Exception
    {
        return permissions.allows(host).get(10, TimeUnit.SECONDS);
    }

    @Test
    void table_exactNames_andWildcardsOneLabelDeep() throws Exception
    {
        allow("shop.example.com", "*.tenants.example.net");
        AcmePermissions permissions = permissions(null, 100);
        assertTrue(allows(permissions, "shop.example.com"));
        assertTrue(allows(permissions, "a.tenants.example.net"));
        assertFalse(allows(permissions, "tenants.example.net"), "the parent itself is not below it");
        assertFalse(allows(permissions, "b.a.tenants.example.net"), "two labels below");
        assertFalse(allows(permissions, "www.shop.example.com"));
        assertFalse(allows(permissions, "other.example.com"));
        assertEquals(2, permissions.getAllowed());
        assertEquals(4, permissions.getDenied());
    }

    @Test
    void askEndpoint_decidesWhatTheTableDoesNot_andAnswersAreRemembered() throws Exception
    {
        allow("table.example.com");
        AcmePermissions permissions = permissions(askUrl(), 100);
        assertTrue(allows(permissions, "table.example.com"));
        assertFalse(asked.contains("table.example.com"), "the table allowed it: no ask");
        assertTrue(allows(permissions, "yes.example.com"));
        assertFalse(allows(permissions, "no.example.com"));
        assertEquals(2, askCount.get());
        for (int i = 0; i < 5; i++)
        {
            assertTrue(allows(permissions, "yes.example.com"));
            assertFalse(allows(permissions, "no.example.com"));
        }
        assertEquals(2, askCount.get(), "answers, denials too, are remembered");
        assertEquals(3, permissions.getChecks());
    }

    @Test
    void flood_ofRandomNames_checksAtMostTheRatePerSecond() throws Exception
    {
        AcmePermissions permissions = permissions(askUrl(), 5);
        for (int i = 0; i < 1000; i++)
            assertFalse(allows(permissions, "flood-" + i + ".example.com"));
        assertEquals(5, askCount.get(), "one second's budget");
        assertEquals(995, permissions.getRateLimited());

        nanos.addAndGet(1_000_000_000L);
        // A name refused by the limit was not remembered: it is checked on its next contact.
        assertTrue(allows(permissions, "yes.flood.example.com"));
        assertFalse(allows(permissions, "flood-999.example.com"));
        assertEquals(7, askCount.get());
    }

    @Test
    void askEndpointDown_denies_andIsAskedAgainLater() throws Exception
    {
        String url = askUrl();
        ask.stop(0);
        ask = null;
        AcmePermissions permissions = permissions(url, 100);
        assertFalse(allows(permissions, "yes.example.com"));
        assertFalse(allows(permissions, "yes.example.com"));
        assertEquals(2, permissions.getChecks(), "a failure is not remembered");
        assertEquals(2, permissions.getAskErrors());
    }

    @Test
    void forget_dropsRememberedAnswers() throws Exception
    {
        AcmePermissions permissions = permissions(null, 100);
        assertFalse(allows(permissions, "late.example.com"));
        allow("late.example.com");
        assertFalse(allows(permissions, "late.example.com"), "remembered");
        permissions.forget("late.example.com");
        assertTrue(allows(permissions, "late.example.com"));
        assertFalse(allows(permissions, "x.wild.example.com"));
        allow("*.wild.example.com");
        permissions.forget("*.wild.example.com");
        assertTrue(allows(permissions, "x.wild.example.com"));
    }

    @Test
    void rules_normalised_badOnesNamed()
    {
        assertEquals("shop.example.com", AcmePermissions.normalizeRule(" Shop.Example.COM. "));
        assertEquals("*.example.com", AcmePermissions.normalizeRule("*.EXAMPLE.com"));
        for (String bad : List.of("", "*.com", "*", "a.*.example.com", "*example.com", "exa mple.com", "-x.example.com"))
        {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> AcmePermissions.normalizeRule(bad), bad);
            assertTrue(x.getMessage().contains("'" + bad + "'"), x.getMessage());
        }
        IllegalArgumentException url = assertThrows(IllegalArgumentException.class, () -> AcmePermissions.askUri("ftp://x/ask"));
        assertTrue(url.getMessage().startsWith("jetty.dynamicSni.acme.askUrl='ftp://x/ask' is not valid"), url.getMessage());
    }
}
