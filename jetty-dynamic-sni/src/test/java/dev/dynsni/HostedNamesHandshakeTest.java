package dev.dynsni;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.dynsni.core.Pem;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TlsClient;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.jmx.MBeanContainer;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code hostedNames} on real TLS handshakes: an embedded Jetty whose contexts claim names through
 * {@code virtualHosts}, certificates in a real PostgreSQL. With {@code deployed}, a name no running
 * context claims gets the unknown-host policy although its certificate is stored, through the key
 * manager and through the SNI prefetch alike; a context deployed or stopped while the server runs
 * changes that at once. With {@code stored} (the default) every stored name is served.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostedNamesHandshakeTest
{
    private final CertificateAuthority pki = CertificateAuthority.create("dynsni hosted-names CA");
    private final TlsClient client = TlsClient.trusting(pki.caCertificate());
    private TestStore store;
    private IssuedCertificate defaultCert;
    private Path defaultChain;
    private Path defaultKey;
    private IssuedCertificate claimed;
    private IssuedCertificate unclaimed;
    private IssuedCertificate late;
    private IssuedCertificate wild;
    private Server server;
    private ContextHandlerCollection contexts;
    private DynamicSniSslContextFactory factory;

    @BeforeAll
    void storeCertificates() throws Exception
    {
        store = new TestStore();
        defaultCert = pki.ec("default.invalid");
        Path dir = Files.createTempDirectory("dynsni-hosted");
        defaultChain = Files.writeString(dir.resolve("default.crt"), defaultCert.chainPem());
        defaultKey = Files.writeString(dir.resolve("default.key"), defaultCert.traditionalKeyPem());
        claimed = pki.ec("claimed.example.com");
        unclaimed = pki.ec("unclaimed.example.com");
        late = pki.ec("late.example.com");
        wild = pki.ec("*.wild.example.com");
        store.put("claimed.example.com", claimed);
        store.put("unclaimed.example.com", unclaimed);
        store.put("late.example.com", late);
        store.put("*.wild.example.com", wild);
    }

    @AfterAll
    void dropStore()
    {
        if (store != null)
            store.close();
    }

    @AfterEach
    void stopServer() throws Exception
    {
        if (server != null)
            server.stop();
        server = null;
    }

    private static ContextHandler context(String name, String... virtualHosts)
    {
        ContextHandler context = new ContextHandler(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, "context=" + name, callback);
                return true;
            }
        }, "/");
        context.setVirtualHosts(List.of(virtualHosts));
        return context;
    }

    /** A server with one TLS connector, one tenant context and a catch-all context (which hosts nothing). */
    private void start(String hostedNames, String policy, boolean prefetch) throws Exception
    {
        start(hostedNames, policy, prefetch, null);
    }

    private void start(String hostedNames, String policy, boolean prefetch, Object bean) throws Exception
    {
        server = new Server();
        if (bean != null)
            server.addBean(bean);
        factory = store.newFactory(false);
        factory.setDefaultCertificatePath(defaultChain.toString());
        factory.setDefaultKeyPath(defaultKey.toString());
        factory.setUnknownHostPolicy(policy);
        factory.setHostedNames(hostedNames);
        factory.setDeployedNames(new DeployedHostNames(server));
        HttpConfiguration config = new HttpConfiguration();
        HttpConnectionFactory http11 = new HttpConnectionFactory(config);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        SslConnectionFactory tls = prefetch ? new PrefetchingSslConnectionFactory(factory, alpn.getProtocol()) : new SslConnectionFactory(factory, alpn.getProtocol());
        ServerConnector connector = new ServerConnector(server, 1, 1, tls, alpn, new HTTP2ServerConnectionFactory(config), http11);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        contexts = new ContextHandlerCollection(context("tenant", "claimed.example.com", "*.wild.example.com"), context("catchall"));
        server.setHandler(contexts);
        server.start();
    }

    private int port()
    {
        return ((ServerConnector)server.getConnectors()[0]).getLocalPort();
    }

    private String served(String sni)
    {
        TlsClient.Result result = client.handshake(port(), sni);
        if (!result.ok())
            return "failed";
        String fingerprint = Pem.fingerprint(result.leaf());
        for (IssuedCertificate issued : List.of(defaultCert, claimed, unclaimed, late, wild))
        {
            if (Pem.fingerprint(issued.certificate()).equals(fingerprint))
                return issued == defaultCert ? "default" : issued.certificate().getSubjectX500Principal().getName().replace("CN=", "");
        }
        return "other: " + result.cn();
    }

    @Test
    void stored_everyStoredNameIsServed() throws Exception
    {
        start("stored", "default", true);
        assertEquals("claimed.example.com", served("claimed.example.com"));
        assertEquals("unclaimed.example.com", served("unclaimed.example.com"));
        assertEquals(0, factory.getStatistics().getNotHosted());
    }

    @ParameterizedTest(name = "prefetch={0}")
    @CsvSource({"true", "false"})
    void deployed_nameNoContextClaims_getsTheDefault_althoughStored(boolean prefetch) throws Exception
    {
        start("deployed", "default", prefetch);
        assertEquals("claimed.example.com", served("claimed.example.com"));
        assertEquals("*.wild.example.com", served("shop.wild.example.com"));
        assertEquals("default", served("unclaimed.example.com"));
        assertEquals("default", served("nothing.example.com"));
        assertEquals(1, factory.getStatistics().getNotHosted());
        assertEquals(2, factory.getStatistics().getServedDefault());
    }

    @ParameterizedTest(name = "prefetch={0}")
    @CsvSource({"true", "false"})
    void deployed_rejectPolicy_nameNoContextClaims_failsTheHandshake(boolean prefetch) throws Exception
    {
        start("deployed", "reject", prefetch);
        assertEquals("claimed.example.com", served("claimed.example.com"));
        assertEquals("failed", served("unclaimed.example.com"));
        assertEquals(1, factory.getStatistics().getNotHosted());
        assertEquals(1, factory.getStatistics().getRejected());
    }

    @Test
    void deployed_contextDeployedStoppedUndeployed_whileRunning() throws Exception
    {
        MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        MBeanContainer jmx = new MBeanContainer(mbeans);
        try
        {
            deployStopUndeploy(jmx, mbeans);
        }
        finally
        {
            jmx.destroy();
        }
    }

    private void deployStopUndeploy(MBeanContainer jmx, MBeanServer mbeans) throws Exception
    {
        start("deployed", "default", true, jmx);
        assertEquals("default", served("late.example.com"));
        assertEquals(List.of("*.wild.example.com", "claimed.example.com"), jmxNames(jmx, mbeans), "DeployedHostNames.names over JMX");

        ContextHandler context = context("late", "late.example.com");
        // as Jetty's StandardDeployer deploys: added to the running collection, then started
        FutureCallback deployed = new FutureCallback();
        contexts.deployHandler(context, deployed);
        deployed.get();
        assertEquals("default", served("late.example.com"), "added, not started yet");
        context.start();
        contexts.manage(context);
        assertEquals("late.example.com", served("late.example.com"), "served once a running context claims it");

        context.stop();
        assertEquals("default", served("late.example.com"), "a stopped context claims nothing");
        context.start();
        assertEquals("late.example.com", served("late.example.com"));

        FutureCallback undeployed = new FutureCallback();
        contexts.undeployHandler(context, undeployed);
        undeployed.get();
        assertEquals("default", served("late.example.com"), "undeployed: unknown again");
        assertEquals("claimed.example.com", served("claimed.example.com"));
        assertEquals(List.of("*.wild.example.com", "claimed.example.com"), jmxNames(jmx, mbeans));
        ObjectName statistics = mbeans.queryNames(new ObjectName("dev.dynsni:type=dynamicsnistatistics,*"), null).stream()
            .filter(name -> jmx.findBean(name) == factory.getStatistics()).findFirst().orElseThrow();
        assertEquals(4L, mbeans.getAttribute(statistics, "notHosted"), "the handshakes for late.example.com while no running context claimed it");
    }

    /** @return the names attribute of this server's DeployedHostNames MBean */
    private List<String> jmxNames(MBeanContainer jmx, MBeanServer mbeans) throws Exception
    {
        for (ObjectName name : mbeans.queryNames(new ObjectName("dev.dynsni:type=deployedhostnames,*"), null))
        {
            if (jmx.findBean(name) == factory.getDeployedNames())
            {
                Object value = mbeans.getAttribute(name, "names");
                if (value instanceof Object[] array)
                    return Arrays.stream(array).map(String::valueOf).toList();
                if (value instanceof Collection<?> collection)
                    return collection.stream().map(String::valueOf).toList();
                throw new AssertionError("names over JMX: " + value);
            }
        }
        throw new AssertionError("no DeployedHostNames MBean for this server");
    }

    @Test
    void deployed_withoutDeployedNames_failsTheStartNamingTheProperty() throws Exception
    {
        DynamicSniSslContextFactory bare = store.newFactory(false);
        bare.setHostedNames("deployed");
        IllegalStateException failure = assertThrows(IllegalStateException.class, bare::start);
        assertTrue(failure.getMessage().contains("jetty.dynamicSni.hostedNames=deployed"), failure.getMessage());
        assertFalse(bare.isStarted());
        bare.stop();
    }

    @Test
    void hostedNames_otherWord_isRefusedNamingTheProperty()
    {
        DynamicSniSslContextFactory bare = new DynamicSniSslContextFactory();
        IllegalArgumentException failure = assertThrows(IllegalArgumentException.class, () -> bare.setHostedNames("contexts"));
        assertTrue(failure.getMessage().contains("jetty.dynamicSni.hostedNames='contexts'"), failure.getMessage());
    }
}
