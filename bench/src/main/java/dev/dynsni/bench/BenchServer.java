package dev.dynsni.bench;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.security.Security;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.Credential;
import dev.dynsni.DynamicSniSslContextFactory;
import dev.dynsni.DynamicSniStatistics;
import dev.dynsni.PrefetchingSslConnectionFactory;
import org.conscrypt.Conscrypt;
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
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An embedded Jetty for the handshake benchmarks, run in its own JVM by the harness: one TLS
 * connector laid out like the stock {@code https} + {@code http2} modules (SSL, ALPN, h2,
 * http/1.1, {@code SecureRequestCustomizer}), answering {@code 200 ok}, plus a plain HTTP control
 * connector on another port ({@code /stats}, {@code /heap}, {@code /prefetch}).
 *
 * <p>{@code --mode static --keystore FILE --password PW}: Jetty's stock {@code SslContextFactory.Server}
 * with that keystore. {@code --mode dynamic --jdbc-url URL --schema S [--redis ADDR --prefix P]
 * [--cache N] [--cache-refresh-seconds S] [--redis-ttl-seconds S] (both 3600 unless given) [--acme-directory URL --acme-ca-file F [--acme-wait-millis N]]}: {@link DynamicSniSslContextFactory}. {@code --provider Conscrypt}, in either mode: TLS on
 * Conscrypt (BoringSSL). Prints {@code READY tls=PORT control=PORT}.</p>
 */
public final class BenchServer
{
    private BenchServer()
    {
    }

    public static void main(String[] arguments) throws Exception
    {
        Args args = new Args(arguments);
        SslContextFactory.Server ssl;
        DynamicSniSslContextFactory dynamic = null;
        if ("static".equals(args.required("mode")))
        {
            ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(args.required("keystore"));
            ssl.setKeyStorePassword(args.required("password"));
        }
        else
        {
            dynamic = new DynamicSniSslContextFactory();
            dynamic.setJdbcUrl(args.required("jdbc-url"));
            dynamic.setJdbcSchema(args.required("schema"));
            dynamic.setRedisAddress(args.get("redis", ""));
            dynamic.setRedisMode(args.get("redis-mode", "single"));
            dynamic.setRedisKeyPrefix(args.get("prefix", "bench:"));
            dynamic.setCacheMaxEntries(Long.parseLong(args.get("cache", "10000")));
            dynamic.setNegativeCacheMaxEntries(Long.parseLong(args.get("negative-cache", "10000")));
            dynamic.setUnknownHostPolicy("reject");
            // Bench servers live through interleaved tables, idle for minutes between their windows: with the
            // defaults (300 s) each window would pay for reloading, or missing Redis for, every host it meets.
            dynamic.setCacheRefreshSeconds(Long.parseLong(args.get("cache-refresh-seconds", "3600")));
            dynamic.setRedisTtlSeconds(Long.parseLong(args.get("redis-ttl-seconds", "3600")));
            // --acme-directory URL --acme-ca-file F: on-demand ACME (table 12), budgets out of the way
            String acmeDirectory = args.get("acme-directory", "");
            if (!acmeDirectory.isEmpty())
            {
                dynamic.setAcmeDirectoryUrl(acmeDirectory);
                dynamic.setAcmeCaFile(args.required("acme-ca-file"));
                dynamic.setAcmeWaitMillis(Long.parseLong(args.get("acme-wait-millis", "20000")));
                dynamic.setAcmePermissionChecksPerSecond(Long.parseLong(args.get("acme-permission-checks-per-second", "10")));
                dynamic.setAcmeMaxOrdersPerHour(1_000_000);
                dynamic.setAcmeMaxOrdersPerDomainPerWeek(1_000_000);
            }
            ssl = dynamic;
        }

        // --provider Conscrypt: the TLS engine of the dynamic-sni-conscrypt module, for both modes
        String provider = args.get("provider", "");
        if (!provider.isEmpty())
        {
            if ("Conscrypt".equals(provider) && Security.getProvider(provider) == null)
                Security.addProvider(Conscrypt.newProvider());
            ssl.setProvider(provider);
        }

        QueuedThreadPool threads = new QueuedThreadPool(args.integer("max-threads", 200));
        threads.setName("bench");
        Server server = new Server(threads);

        // dynamic nodes run as the module ships them: the SNI prefetch in front of TLS (prefetch=false: stock factory)
        boolean prefetch = dynamic != null && !"false".equals(args.get("prefetch", "true"));
        ServerConnector tls = tlsConnector(server, ssl, prefetch, -1, -1);
        tls.setPort(args.integer("port", 0));
        PrefetchingSslConnectionFactory prefetching = tls.getConnectionFactory(PrefetchingSslConnectionFactory.class);
        if (prefetching != null && args.get("handshake-timeout-millis", null) != null)
            prefetching.setHandshakeTimeoutMillis(args.integer("handshake-timeout-millis", 10_000));
        server.addConnector(tls);

        HttpConfiguration httpConfig = new HttpConfiguration();
        httpConfig.setSendServerVersion(false);
        ServerConnector control = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
        control.setHost("127.0.0.1");
        control.setPort(0);
        server.addConnector(control);

        DynamicSniSslContextFactory factory = dynamic;
        server.setHandler(new Handler.Abstract.NonBlocking()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception
            {
                String body;
                if (request.getConnectionMetaData().getConnector() != control)
                    body = "ok\n";
                else
                {
                    try
                    {
                        body = control(factory, request);
                    }
                    catch (Exception x)
                    {
                        // the harness only sees a 500: say why in this server's log
                        x.printStackTrace();
                        throw x;
                    }
                }
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, body, callback);
                return true;
            }
        });
        server.start();
        System.out.println("READY tls=" + tls.getLocalPort() + " control=" + control.getLocalPort());
        System.out.flush();
        server.join();
    }

    /**
     * The TLS connector on 127.0.0.1 laid out like the stock {@code https} + {@code http2} modules
     * (SSL, ALPN, h2, http/1.1, {@code SecureRequestCustomizer}), with the SNI prefetch
     * ({@link PrefetchingSslConnectionFactory}, the module's default) in front of TLS when
     * {@code prefetch}, else Jetty's stock {@link SslConnectionFactory}.
     *
     * @param acceptors acceptor threads, -1 for Jetty's default
     * @param selectors selectors, -1 for Jetty's default
     */
    public static ServerConnector tlsConnector(Server server, SslContextFactory.Server ssl, boolean prefetch, int acceptors, int selectors)
    {
        HttpConfiguration httpsConfig = new HttpConfiguration();
        httpsConfig.setSendServerVersion(false);
        httpsConfig.addCustomizer(new SecureRequestCustomizer());
        HttpConnectionFactory http11 = new HttpConnectionFactory(httpsConfig);
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(httpsConfig);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        SslConnectionFactory tlsFactory = prefetch
            ? new PrefetchingSslConnectionFactory((DynamicSniSslContextFactory)ssl, alpn.getProtocol())
            : new SslConnectionFactory(ssl, alpn.getProtocol());
        ServerConnector tls = new ServerConnector(server, acceptors, selectors, tlsFactory, alpn, h2, http11);
        tls.setHost("127.0.0.1");
        tls.setAcceptQueueSize(1024);
        return tls;
    }

    private static String control(DynamicSniSslContextFactory factory, Request request) throws Exception
    {
        String path = request.getHttpURI().getPath();
        Fields query = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
        switch (path)
        {
            case "/heap":
                return "heapUsedAfterGc=" + heapAfterGc() + "\n";
            case "/stats":
                return stats(factory);
            case "/prefetch":
            {
                int from = Integer.parseInt(query.getValue("from"));
                int count = Integer.parseInt(query.getValue("count"));
                String domain = query.getValue("domain");
                int found = 0;
                for (int start = from; start < from + count; start += 500)
                {
                    List<CompletableFuture<Credential>> futures = new ArrayList<>();
                    for (int i = start; i < Math.min(from + count, start + 500); i++)
                    {
                        futures.add(factory.prefetch("t" + i + "." + domain, "EC"));
                    }
                    for (CompletableFuture<Credential> future : futures)
                    {
                        if (future.get(60, TimeUnit.SECONDS) != null)
                            found++;
                    }
                }
                return "found=" + found + "\n";
            }
            case "/evict-all":
                factory.evictAll();
                return "evicted\n";
            default:
                return "unknown\n";
        }
    }

    static long heapAfterGc() throws InterruptedException
    {
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static String stats(DynamicSniSslContextFactory factory)
    {
        StringBuilder out = new StringBuilder();
        if (factory == null)
            return out.toString();
        DynamicSniStatistics s = factory.getStatistics();
        out.append("servedDynamic=").append(s.getServedDynamic()).append('\n');
        out.append("rejected=").append(s.getRejected()).append('\n');
        out.append("l1Hits=").append(s.getL1Hits()).append('\n');
        out.append("l1Misses=").append(s.getL1Misses()).append('\n');
        out.append("negativeHits=").append(s.getNegativeHits()).append('\n');
        out.append("loads=").append(s.getLoads()).append('\n');
        out.append("loadErrors=").append(s.getLoadErrors()).append('\n');
        out.append("loadTimeouts=").append(s.getLoadTimeouts()).append('\n');
        out.append("redisHits=").append(s.getRedisHits()).append('\n');
        out.append("redisMisses=").append(s.getRedisMisses()).append('\n');
        out.append("redisErrors=").append(s.getRedisErrors()).append('\n');
        out.append("postgresQueries=").append(s.getPostgresQueries()).append('\n');
        out.append("postgresHits=").append(s.getPostgresHits()).append('\n');
        out.append("postgresMisses=").append(s.getPostgresMisses()).append('\n');
        out.append("l1Size=").append(s.getL1Size()).append('\n');
        out.append("negativeSize=").append(s.getNegativeSize()).append('\n');
        out.append("keyManagerErrors=").append(s.getKeyManagerErrors()).append('\n');
        out.append("redisQueries=").append(s.getRedisQueries()).append('\n');
        out.append("redisWrites=").append(s.getRedisWrites()).append('\n');
        out.append("indexReady=").append(s.isIndexReady() ? 1 : 0).append('\n');
        out.append("indexEntries=").append(s.getIndexEntries()).append('\n');
        out.append("indexBytes=").append(s.getIndexBytes()).append('\n');
        out.append("indexRejections=").append(s.getIndexRejections()).append('\n');
        return out.toString();
    }
}
