package dev.dynsni;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An embedded Jetty for the prefetch tests: one TLS connector (ALPN h2 + http/1.1)
 * with either {@link PrefetchingSslConnectionFactory} or the stock {@link SslConnectionFactory},
 * optionally behind the proxy-protocol detector, on a {@link QueuedThreadPool} of a given size.
 * Answers every request with its host, protocol and remote address.
 */
final class PrefetchTestServer implements AutoCloseable
{
    static final String THREAD_NAME = "jetty-pool";

    final Server server;
    final ServerConnector connector;
    final SslConnectionFactory tls;
    final QueuedThreadPool threads;

    PrefetchTestServer(DynamicSniSslContextFactory factory, boolean prefetch, boolean proxyProtocol, int maxThreads,
                       Consumer<PrefetchingSslConnectionFactory> configure) throws Exception
    {
        threads = new QueuedThreadPool(maxThreads, Math.min(maxThreads, 8));
        threads.setName(THREAD_NAME);
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer(false));
        HttpConnectionFactory http11 = new HttpConnectionFactory(config);
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(config);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        if (prefetch)
        {
            PrefetchingSslConnectionFactory prefetching = new PrefetchingSslConnectionFactory(factory, alpn.getProtocol());
            if (configure != null)
                configure.accept(prefetching);
            tls = prefetching;
        }
        else
        {
            tls = new SslConnectionFactory(factory, alpn.getProtocol());
        }
        List<ConnectionFactory> factories = new ArrayList<>();
        if (proxyProtocol)
            factories.add(new ProxyConnectionFactory(tls.getProtocol()));
        factories.addAll(List.of(tls, alpn, h2, http11));
        connector = new ServerConnector(server, 1, 1, factories.toArray(new ConnectionFactory[0]));
        connector.setHost("127.0.0.1");
        connector.setAcceptQueueSize(256);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, "host=" + Request.getServerName(request) +
                    " protocol=" + request.getConnectionMetaData().getProtocol() +
                    " remote=" + Request.getRemoteAddr(request), callback);
                return true;
            }
        });
        server.start();
    }

    int port()
    {
        return connector.getLocalPort();
    }

    PrefetchStatistics prefetchStatistics()
    {
        return ((PrefetchingSslConnectionFactory)tls).getPrefetchStatistics();
    }

    @Override
    public void close() throws Exception
    {
        server.stop();
    }
}
