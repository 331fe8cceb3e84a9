package dev.dynsni.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.dynsni.testing.HttpClients;
import dev.dynsni.testing.TestServices;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ways an operator installs the module into a base: {@code --add-modules} in either order, a single
 * {@code start.ini}, and a base that already holds the stock {@code ssl-context}. Each working base
 * is started and serves a tenant over h2 with the module's {@code sslContextFactory}.
 */
class ModuleInstallIT
{
    static Stream<Arguments> bases()
    {
        return Stream.of(
            Arguments.of("module-first", false, "--add-modules=dynamic-sni,https,http2,ee10-deploy"),
            Arguments.of("module-last", false, "--add-modules=ee10-deploy,http2,https,dynamic-sni"),
            Arguments.of("start-ini", true, "--add-modules=dynamic-sni,https,http2,ee10-deploy")
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bases")
    void newBase_servesTenantOverH2(String name, boolean createStartIni, String addModules) throws Exception
    {
        Path base = createStartIni
            ? JettyDistribution.newBase(name, "--create-start-ini", addModules)
            : JettyDistribution.newBase(name, addModules);
        assertEquals(createStartIni, Files.exists(base.resolve("start.ini")), "start.ini");
        assertEquals(!createStartIni, Files.exists(base.resolve("start.d/dynamic-sni.ini")), "start.d/dynamic-sni.ini");
        assertFalse(Files.exists(base.resolve("start.d/ssl-context.ini")), "the stock ssl-context must not be enabled");

        String listConfig = JettyDistribution.startJar(base, "--list-config").output();
        assertTrue(listConfig.contains("etc/jetty-dynamic-sni.xml"), listConfig);
        assertFalse(listConfig.contains("etc/jetty-ssl-context.xml"), listConfig);

        String schema = TestServices.newSchema();
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("jetty.dynamicSni.jdbc.url", TestServices.jdbcUrl());
        properties.put("jetty.dynamicSni.jdbc.schema", schema);
        if (createStartIni)
        {
            // no Redis tier in this base; and a stock ssl-context setting, which must still apply
            properties.put("jetty.sslContext.includeProtocols", "TLSv1.2");
        }
        else
        {
            properties.put("jetty.dynamicSni.redis.address", TestServices.redisUrl());
            properties.put("jetty.dynamicSni.redis.keyPrefix", TestServices.newKeyPrefix());
        }
        JettyDistribution.appendProperties(createStartIni ? base.resolve("start.ini") : base.resolve("start.d/dynamic-sni.ini"), properties);
        JettyDistribution.deployDemoWar(base);

        Tenants tenants = new Tenants(TestServices.jdbcUrl(), schema);
        try (JettyDistribution.JettyProcess jetty = JettyDistribution.JettyProcess.start(base);
             HttpClients.Jetty client = new HttpClients.Jetty(tenants.trustStore()))
        {
            String host = Tenants.host(1);
            tenants.putEc(host);
            ContentResponse response = client.client().newRequest("https://" + host + ":" + jetty.port() + "/info.json").timeout(20, TimeUnit.SECONDS).send();
            String body = response.getContentAsString();
            assertEquals(200, response.getStatus(), body);
            assertEquals(HttpVersion.HTTP_2, response.getVersion());
            assertEquals("t1", HttpClients.json(body, "tenant"), body);
            assertEquals(Tenants.sha256(tenants.issued(host).certificate()), HttpClients.json(body, "sha256"), body);
            assertEquals(createStartIni ? "TLSv1.2" : "TLSv1.3", HttpClients.json(body, "protocol"), body);
            assertTrue(jetty.log().contains("DynamicSniSslContextFactory"), "the module's sslContextFactory is in use");
            jetty.stopCleanly();
        }
        finally
        {
            tenants.dropSchema();
        }
    }

    @Test
    void baseWithStockSslContextIni_refusedUntilTheFileIsRemoved() throws Exception
    {
        // Since Jetty 12.1, --add-modules=https writes start.d/ssl-context.ini for the indirectly added ssl-context.
        Path base = JettyDistribution.newBase("existing", "--add-modules=https,http2");
        assertTrue(Files.exists(base.resolve("start.d/ssl-context.ini")));

        JettyDistribution.Result refused = JettyDistribution.startJar(base, "--add-modules=dynamic-sni");
        assertNotEquals(0, refused.exitCode(), refused.output());
        assertTrue(refused.output().contains("dynamic-sni provides ssl-context, which is already provided by ssl-context"), refused.output());

        // The documented step (docs/module.md): remove the stock module's ini, then add ours.
        Files.delete(base.resolve("start.d/ssl-context.ini"));
        JettyDistribution.Result added = JettyDistribution.startJar(base, "--add-modules=dynamic-sni");
        assertEquals(0, added.exitCode(), added.output());
        String listConfig = JettyDistribution.startJar(base, "--list-config").output();
        assertTrue(listConfig.contains("etc/jetty-dynamic-sni.xml"), listConfig);
        assertFalse(listConfig.contains("etc/jetty-ssl-context.xml"), listConfig);
    }

    /**
     * The module turns off DefaultHandler's list of contexts (a 404 for an unclaimed name must not
     * show the other tenants) as a default that an ini file or the command line overrides, as
     * docs/module.md and docs/hosting.md say. WarPerTenantIT checks the 404 itself.
     */
    @Test
    void showContexts_offWithTheModule_overriddenByAnIniFileOrTheCommandLine() throws Exception
    {
        Path base = JettyDistribution.newBase("show-contexts", "--add-modules=dynamic-sni,https,ee10-deploy");
        assertEquals("false", showContexts(JettyDistribution.startJar(base, "--list-config").output(), "true"));
        assertEquals("true", showContexts(JettyDistribution.startJar(base, "--list-config", "jetty.server.default.showContexts=true").output(), "false"));
        JettyDistribution.appendProperties(base.resolve("start.d/server.ini"), Map.of("jetty.server.default.showContexts", "true"));
        assertEquals("true", showContexts(JettyDistribution.startJar(base, "--list-config").output(), "false"));
    }

    /** @return the value --list-config shows for jetty.server.default.showContexts, or the fallback when it shows none (the XML default applies) */
    private static String showContexts(String listConfig, String whenUnset)
    {
        Matcher matcher = Pattern.compile("jetty\\.server\\.default\\.showContexts\\s*=\\s*(\\w+)").matcher(listConfig);
        return matcher.find() ? matcher.group(1) : whenUnset;
    }
}
