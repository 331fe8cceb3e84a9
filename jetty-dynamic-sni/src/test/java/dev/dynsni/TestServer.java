package dev.dynsni;

import java.nio.charset.StandardCharsets;

import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An embedded Jetty with one TLS connector on a free port offering h2 and http/1.1 through ALPN,
 * using the factory under test; answers every request with the request's Host.
 */
final class TestServer implements AutoCloseable
{
    final Server server;
    final ServerConnector connector;

    TestServer(DynamicSniSslContextFactory factory) throws Exception
    {
        this(factory, null);
    }

    TestServer(DynamicSniSslContextFactory factory, Object bean) throws Exception
    {
        QueuedThreadPool threads = new QueuedThreadPool(64);
        threads.setName("test-server");
        server = new Server(threads);
        if (bean != null)
            server.addBean(bean);
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer(false));
        HttpConnectionFactory http11 = new HttpConnectionFactory(config);
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(config);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        SslConnectionFactory tls = new SslConnectionFactory(factory, alpn.getProtocol());
        connector = new ServerConnector(server, 1, 1, tls, alpn, h2, http11);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, "host=" + Request.getServerName(request) + " protocol=" + request.getConnectionMetaData().getProtocol(), callback);
                return true;
            }
        });
        server.start();
    }

    int port()
    {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception
    {
        server.stop();
    }

    static String utf8(byte[] bytes)
    {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
