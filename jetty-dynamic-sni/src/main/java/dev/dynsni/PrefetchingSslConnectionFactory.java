package dev.dynsni;

import dev.dynsni.core.Setting;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * An {@link SslConnectionFactory} that resolves the certificate <em>before</em> the TLS handshake,
 * so that no Jetty thread waits for Redis or PostgreSQL: each new connection first reads the
 * ClientHello (without an {@code SSLEngine}), parses its SNI, starts the asynchronous lookup of
 * that host through the {@link DynamicSniSslContextFactory}'s resolver, and only when the lookup
 * has completed (or failed, or timed out) hands the connection, with the bytes already read, to the
 * stock {@link SslConnection}, and the lookup's answer to its handshake: the key manager does not
 * look the host up again. This is the Jetty equivalent of Netty's {@code SniHandler} with an
 * asynchronous mapping.
 *
 * <p><b>Use.</b> A drop-in replacement of {@code SslConnectionFactory} with the same protocol name
 * ({@code "SSL"}), so ALPN, the HTTP/2 factory, the proxy-protocol detector and
 * {@code SecureRequestCustomizer} see nothing new:</p>
 * <pre>
 * SslConnectionFactory tls = new PrefetchingSslConnectionFactory(dynamicSniFactory, alpn.getProtocol());
 * new ServerConnector(server, tls, alpn, h2, http11);
 * </pre>
 * <p>It requires a {@link DynamicSniSslContextFactory}. Embedded users who keep the plain
 * {@code SslConnectionFactory} get the key manager's blocking-with-timeout lookup instead.</p>
 *
 * <p><b>Contract of the prefetch stage</b> (per connection):</p>
 * <ul>
 *   <li>At most {@linkplain #setMaxClientHelloBytes(int) maxClientHelloBytes} are buffered (default
 *   16 KiB + the 5-byte record header). A larger ClientHello is handed to TLS unchanged, without a
 *   prefetch.</li>
 *   <li>The ClientHello must arrive within {@linkplain #setClientHelloTimeoutMillis(long)
 *   clientHelloTimeoutMillis} (default 10 s) of the connection opening, however slowly it trickles;
 *   otherwise the connection is closed. A timer of the connector's scheduler enforces it: no thread
 *   waits.</li>
 *   <li>A valid SNI host starts one lookup (shared with every concurrent lookup of the host). TLS
 *   starts when it completes, or after {@linkplain #setPrefetchTimeoutMillis(long)
 *   prefetchTimeoutMillis} (default: the factory's {@code lookupTimeoutMillis}); a lookup that
 *   failed or timed out is not waited for again by the key manager: the handshake continues under
 *   the unknown-host policy, and the lookup goes on in the background for the next handshake.</li>
 *   <li>No SNI, an invalid SNI, non-TLS bytes, a malformed or too large ClientHello: TLS starts at
 *   once with the bytes read, and behaves exactly as with the stock factory (a default
 *   certificate, an alert, or a close).</li>
 *   <li>TLS always starts on a thread of the connector's executor, never a scheduler, Redis or
 *   JDBC thread, and never while a thread is selecting.</li>
 * </ul>
 *
 * <p>Counters are in {@link #getPrefetchStatistics()}, a bean of this factory.</p>
 */
@ManagedObject("SslConnectionFactory that resolves the SNI certificate before the TLS handshake")
public class PrefetchingSslConnectionFactory extends SslConnectionFactory
{
    private final DynamicSniSslContextFactory dynamicSni;
    private final PrefetchStatistics statistics = new PrefetchStatistics();
    private int maxClientHelloBytes = Setting.PREFETCH_MAX_CLIENT_HELLO_BYTES.defaultInt();
    private long clientHelloTimeoutMillis = Setting.PREFETCH_CLIENT_HELLO_TIMEOUT_MILLIS.defaultLong();
    private long prefetchTimeoutMillis = Setting.PREFETCH_TIMEOUT_MILLIS.defaultLong();

    /**
     * @param factory      the context factory; must be a {@link DynamicSniSslContextFactory}
     * @param nextProtocol the protocol after TLS, as for {@link SslConnectionFactory}
     */
    public PrefetchingSslConnectionFactory(@Name("sslContextFactory") SslContextFactory.Server factory, @Name("next") String nextProtocol)
    {
        super(requireDynamicSni(factory), nextProtocol);
        this.dynamicSni = (DynamicSniSslContextFactory)factory;
        installBean(statistics);
    }

    private static SslContextFactory.Server requireDynamicSni(SslContextFactory.Server factory)
    {
        if (!(factory instanceof DynamicSniSslContextFactory))
            throw new IllegalArgumentException(PrefetchingSslConnectionFactory.class.getSimpleName() + " needs a " +
                DynamicSniSslContextFactory.class.getSimpleName() + ", not " + factory + ": use SslConnectionFactory for other factories");
        return factory;
    }

    @Override
    protected void doStart() throws Exception
    {
        Setting.PREFETCH_MAX_CLIENT_HELLO_BYTES.check(maxClientHelloBytes);
        Setting.PREFETCH_CLIENT_HELLO_TIMEOUT_MILLIS.check(clientHelloTimeoutMillis);
        super.doStart();
        // The buffered bytes are handed to SslConnection's encrypted input buffer, one TLS packet big.
        int packetBufferSize = getSslContextFactory().newSSLEngine().getSession().getPacketBufferSize();
        if (maxClientHelloBytes > packetBufferSize)
            throw new IllegalStateException(Setting.PREFETCH_MAX_CLIENT_HELLO_BYTES.property() + "=" + maxClientHelloBytes +
                " exceeds the TLS packet buffer size " + packetBufferSize + ": use at most " + packetBufferSize);
    }

    /**
     * @return a connection that reads the ClientHello and resolves its SNI host, then upgrades
     *     itself to the {@link SslConnection} of {@link SslConnectionFactory#newConnection(Connector, EndPoint)}
     */
    @Override
    public Connection newConnection(Connector connector, EndPoint endPoint)
    {
        return new ClientHelloConnection(this, connector, endPoint);
    }

    /**
     * @return the stock TLS connection, for the hand-over
     */
    SslConnection newTlsConnection(Connector connector, EndPoint endPoint)
    {
        return (SslConnection)super.newConnection(connector, endPoint);
    }

    /** @return the resolver of the context factory; null before it started */
    CertificateResolver getResolver()
    {
        return dynamicSni.getResolver();
    }

    @ManagedAttribute("Prefetch statistics")
    public PrefetchStatistics getPrefetchStatistics()
    {
        return statistics;
    }

    @ManagedAttribute("Most bytes buffered for a ClientHello, record headers included")
    public int getMaxClientHelloBytes()
    {
        return maxClientHelloBytes;
    }

    /**
     * @param maxClientHelloBytes most bytes buffered for a ClientHello, record headers included
     *     (default 16389: 16 KiB plus one record header; at most the TLS packet buffer size)
     */
    public void setMaxClientHelloBytes(int maxClientHelloBytes)
    {
        this.maxClientHelloBytes = maxClientHelloBytes;
    }

    @ManagedAttribute("Longest time for the whole ClientHello to arrive, ms")
    public long getClientHelloTimeoutMillis()
    {
        return clientHelloTimeoutMillis;
    }

    /**
     * @param clientHelloTimeoutMillis longest time from the connection opening to a complete
     *     ClientHello (default 10000); the connection is closed after it
     */
    public void setClientHelloTimeoutMillis(long clientHelloTimeoutMillis)
    {
        this.clientHelloTimeoutMillis = clientHelloTimeoutMillis;
    }

    @ManagedAttribute("Longest time a connection is held for its lookup before TLS starts, ms (0: lookupTimeoutMillis)")
    public long getPrefetchTimeoutMillis()
    {
        return prefetchTimeoutMillis;
    }

    /**
     * @param prefetchTimeoutMillis longest time a connection is held for its host's lookup before
     *     TLS starts anyway; 0 or less (the default) means the factory's {@code lookupTimeoutMillis}
     */
    public void setPrefetchTimeoutMillis(long prefetchTimeoutMillis)
    {
        this.prefetchTimeoutMillis = prefetchTimeoutMillis;
    }

    long effectivePrefetchTimeoutMillis()
    {
        return prefetchTimeoutMillis > 0 ? prefetchTimeoutMillis : dynamicSni.getLookupTimeoutMillis();
    }
}
