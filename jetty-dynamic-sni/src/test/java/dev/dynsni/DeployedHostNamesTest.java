package dev.dynsni;

import java.util.List;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DeployedHostNames} on a real Jetty server: which virtual hosts make a name hosted, checked
 * against where Jetty itself routes a request for that name, and how the set follows contexts being
 * deployed, started, stopped, failing and undeployed while the server runs.
 */
class DeployedHostNamesTest
{
    private Server server;

    @AfterEach
    void stop() throws Exception
    {
        if (server != null)
            server.stop();
    }

    /** A context answering its own name, so a request shows where Jetty routed it. */
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
        context.setDisplayName(name);
        context.setVirtualHosts(List.of(virtualHosts));
        return context;
    }

    private LocalConnector startServer(Handler handler) throws Exception
    {
        server = new Server();
        LocalConnector connector = new LocalConnector(server);
        server.addConnector(connector);
        server.setHandler(handler);
        server.start();
        return connector;
    }

    private static String routedTo(LocalConnector connector, String host) throws Exception
    {
        String response = connector.getResponse("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
        int at = response.indexOf("context=");
        return at < 0 ? "none" : response.substring(at + "context=".length()).trim();
    }

    @ParameterizedTest(name = "{0} -> routed to {1}, hosted={2}")
    @CsvSource({
        // exact names, case and a trailing dot in the configuration ignored
        "shop.example.com, a, true",
        "www.example.com, catchall, false",
        // *.tenant.test: one label below, as Jetty routes it
        "x.tenant.test, a, true",
        "tenant.test, catchall, false",
        "x.y.tenant.test, catchall, false",
        // *.com: Jetty routes it, but a one-label parent never makes names hosted
        "anything.com, b, false",
        // a connector-bound virtual host names no host for this (unnamed) connector
        "api.example.net, catchall, false",
        "localhost, b, true",
        // the catch-all context (no virtualHosts) answers, but hosts nothing
        "nobody.example.org, catchall, false",
    })
    void isHosted_followsJettyRouting_butOnlyForExplicitNames(String host, String routedTo, boolean hosted) throws Exception
    {
        // the catch-all first: Jetty still tries the contexts naming virtual hosts before it
        ContextHandlerCollection contexts = new ContextHandlerCollection(
            context("catchall"),
            context("a", "Shop.Example.COM.", "*.tenant.test"),
            context("b", "*.com", "127.0.0.1", "@internal", "api.example.net@internal", "localhost"));
        LocalConnector connector = startServer(contexts);
        // started after the server: it finds the contexts already running
        DeployedHostNames names = new DeployedHostNames(server);
        names.start();
        try
        {
            assertEquals(routedTo, routedTo(connector, host), "where Jetty routes " + host);
            assertEquals(hosted, names.isHosted(host), host);
            assertEquals(List.of("*.tenant.test", "localhost", "shop.example.com"), names.getNames());
        }
        finally
        {
            names.stop();
        }
    }

    @Test
    void deployStopStartUndeploy_whileRunning_followedAtOnce() throws Exception
    {
        ContextHandlerCollection contexts = new ContextHandlerCollection(context("first", "first.example.com"));
        server = new Server();
        LocalConnector connector = new LocalConnector(server);
        server.addConnector(connector);
        server.setHandler(contexts);
        DeployedHostNames names = new DeployedHostNames(server);
        // as the module does: a bean of the server, started with it
        server.addBean(names);
        server.start();
        assertTrue(names.isHosted("first.example.com"));
        assertFalse(names.isHosted("late.example.com"));

        // deployed the way Jetty's StandardDeployer does: added to the running collection, then started
        ContextHandler late = context("late", "late.example.com", "*.late.example.com");
        FutureCallback added = new FutureCallback();
        contexts.deployHandler(late, added);
        added.get();
        assertFalse(names.isHosted("late.example.com"), "added but not started: Jetty routes nothing to it yet");
        late.start();
        contexts.manage(late);
        assertTrue(names.isHosted("late.example.com"));
        assertTrue(names.isHosted("www.late.example.com"));
        assertEquals("late", routedTo(connector, "www.late.example.com"));

        late.stop();
        assertFalse(names.isHosted("late.example.com"), "a stopped context claims nothing");
        assertEquals("none", routedTo(connector, "late.example.com"));
        late.start();
        assertTrue(names.isHosted("late.example.com"));

        FutureCallback removed = new FutureCallback();
        contexts.undeployHandler(late, removed);
        removed.get();
        assertFalse(names.isHosted("late.example.com"));
        assertFalse(names.isHosted("www.late.example.com"));
        assertTrue(names.isHosted("first.example.com"));
        assertEquals(List.of("first.example.com"), names.getNames());

        server.stop();
        assertFalse(names.isHosted("first.example.com"), "nothing is hosted once stopped");
    }

    @Test
    void contextFailingToStart_claimsNothing() throws Exception
    {
        ContextHandlerCollection contexts = new ContextHandlerCollection(context("first", "first.example.com"));
        server = new Server();
        server.setHandler(contexts);
        DeployedHostNames names = new DeployedHostNames(server);
        server.addBean(names);
        server.start();

        ContextHandler broken = new ContextHandler("/")
        {
            @Override
            protected void doStart() throws Exception
            {
                throw new IllegalStateException("broken on purpose");
            }
        };
        broken.setVirtualHosts(List.of("broken.example.com"));
        contexts.addHandler(broken);
        assertThrows(Exception.class, broken::start);
        assertFalse(names.isHosted("broken.example.com"));
    }

    @Test
    void serverWithASingleContext_isWatchedToo() throws Exception
    {
        server = new Server();
        server.setHandler(context("only", "only.example.com"));
        DeployedHostNames names = new DeployedHostNames(server);
        server.addBean(names);
        server.start();
        assertTrue(names.isHosted("only.example.com"));
        assertFalse(names.isHosted("other.example.com"));
    }
}
