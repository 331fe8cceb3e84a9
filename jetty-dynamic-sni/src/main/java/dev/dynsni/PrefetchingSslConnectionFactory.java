package dev.dynsni;

import java.util.concurrent.Executor;
import javax.net.ssl.SSLEngine;

import dev.dynsni.core.Setting;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *   <li>One deadline, {@linkplain #setHandshakeTimeoutMillis(long) handshakeTimeoutMillis} (default
 *   10 s) from the connection's opening to the end of its TLS handshake, whatever the client sends
 *   and however slowly (a trickled ClientHello, a record announcing more bytes than it sends, bytes
 *   that are not TLS, a lookup, a slow key exchange): the connection is closed when it passes. A
 *   timer of the connector's scheduler enforces it: no thread waits.</li>
 *   <li>Bounded memory: at most {@linkplain #setMaxPendingHandshakes(int) maxPendingHandshakes}
 *   connections of this factory are before the end of their handshake, buffering at most
 *   {@linkplain #setMaxBufferedBytes(long) maxBufferedBytes} in all; beyond either, a new connection
 *   is closed at once, and a connection whose ClientHello needs more is closed. One connection
 *   buffers at most {@linkplain #setMaxClientHelloBytes(int) maxClientHelloBytes} (its buffer starts
 *   at 1 KiB and doubles); a longer ClientHello is handed to TLS unchanged, without a prefetch.</li>
 *   <li>The ClientHello is read as the JDK's TLS engine reads it ({@link ClientHelloParser}), once,
 *   incrementally: the work is linear in the bytes received however they are split, and a
 *   ClientHello still incomplete after 8 reads is read at most every 10 ms, so one sent in tiny
 *   pieces costs a few wake-ups, not one per piece; TLS gets such a ClientHello in the fewest full
 *   records (framing carries no meaning in TLS), so the engine makes one pass, not one per record.</li>
 *   <li>A valid SNI host starts one lookup (shared with every concurrent lookup of the host). TLS
 *   starts when it completes, or after {@linkplain #setPrefetchTimeoutMillis(long)
 *   prefetchTimeoutMillis} (default: the factory's {@code lookupTimeoutMillis}); a lookup that
 *   failed or timed out is not waited for again by the key manager: the handshake continues under
 *   the unknown-host policy, and the lookup goes on in the background for the next handshake.</li>
 *   <li>No SNI, an invalid SNI, non-TLS bytes, a malformed or too large ClientHello: TLS starts at
 *   once with the bytes read, and the key manager answers from memory (L1) or by the policy, never
 *   from a store: no Jetty thread waits on I/O in any case.</li>
 *   <li>TLS always starts on a thread of the connector's executor, never a scheduler, Redis or
 *   JDBC thread, and never while a thread is selecting.</li>
 * </ul>
 *
 * <p>Counters are in {@link #getPrefetchStatistics()}, a bean of this factory.</p>
 */
@ManagedObject("SslConnectionFactory that resolves the SNI certificate before the TLS handshake")
public class PrefetchingSslConnectionFactory extends SslConnectionFactory
{
    private static final Logger LOG = LoggerFactory.getLogger(PrefetchingSslConnectionFactory.class);
    private final DynamicSniSslContextFactory dynamicSni;
    private final PrefetchStatistics statistics = new PrefetchStatistics();
    private final PendingHandshake.Budget budget = new PendingHandshake.Budget();
    private int maxClientHelloBytes = Setting.PREFETCH_MAX_CLIENT_HELLO_BYTES.defaultInt();
    private long handshakeTimeoutMillis = Setting.PREFETCH_HANDSHAKE_TIMEOUT_MILLIS.defaultLong();
    private int maxPendingHandshakes = Setting.PREFETCH_MAX_PENDING_HANDSHAKES.defaultInt();
    private long maxBufferedBytes = Setting.PREFETCH_MAX_BUFFERED_BYTES.defaultLong();
    private long prefetchTimeoutMillis = Setting.PREFETCH_TIMEOUT_MILLIS.defaultLong();
    private int packetBufferSize;
    private JsseRules rules = JsseRules.JDK_17;

    /**
     * @param factory      the context factory; must be a {@link DynamicSniSslContextFactory}
     * @param nextProtocol the protocol after TLS, as for {@link SslConnectionFactory}
     */
    public PrefetchingSslConnectionFactory(@Name("sslContextFactory") SslContextFactory.Server factory, @Name("next") String nextProtocol)
    {
        super(requireDynamicSni(factory), nextProtocol);
        this.dynamicSni = (DynamicSniSslContextFactory)factory;
        installBean(statistics);
        statistics.setGauges(budget::connections, budget::bytes);
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
        Setting.PREFETCH_HANDSHAKE_TIMEOUT_MILLIS.check(handshakeTimeoutMillis);
        Setting.PREFETCH_MAX_PENDING_HANDSHAKES.check(maxPendingHandshakes);
        Setting.PREFETCH_MAX_BUFFERED_BYTES.check(maxBufferedBytes);
        super.doStart();
        budget.limits(maxPendingHandshakes, maxBufferedBytes);
        SSLEngine engine = getSslContextFactory().newSSLEngine();
        packetBufferSize = engine.getSession().getPacketBufferSize();
        rules = JsseRules.probe(() ->
        {
            SSLEngine probe = getSslContextFactory().newSSLEngine();
            probe.setUseClientMode(false);
            return probe;
        });
        if (LOG.isDebugEnabled())
            LOG.debug("ClientHello rules of the TLS engine {}", rules);
    }

    /**
     * @return a connection that reads the ClientHello and resolves its SNI host, then upgrades
     *     itself to the {@link SslConnection} of {@link SslConnectionFactory#newConnection(Connector, EndPoint)};
     *     or, beyond {@code maxPendingHandshakes} or {@code maxBufferedBytes}, one that closes at once
     */
    @Override
    public Connection newConnection(Connector connector, EndPoint endPoint)
    {
        int initial = Math.min(ClientHelloConnection.INITIAL_BUFFER_BYTES, maxClientHelloBytes);
        PendingHandshake pending = PendingHandshake.admit(budget, statistics, handshakeTimeoutMillis, initial);
        if (pending == null)
        {
            statistics.overBudget.increment();
            return new RefusedConnection(endPoint, connector.getExecutor());
        }
        return new ClientHelloConnection(this, connector, endPoint, pending);
    }

    /** A connection beyond the budget: closed as soon as it opens, without reading. */
    private static final class RefusedConnection extends AbstractConnection
    {
        RefusedConnection(EndPoint endPoint, Executor executor)
        {
            super(endPoint, executor);
        }

        @Override
        public void onOpen()
        {
            super.onOpen();
            getEndPoint().close();
        }

        @Override
        public void onFillable()
        {
            getEndPoint().close();
        }
    }

    @Override
    protected SslConnection newSslConnection(Connector connector, EndPoint endPoint, SSLEngine engine)
    {
        return new PendingHandshake.HandOverSslConnection(connector.getByteBufferPool(), connector.getExecutor(), getSslContextFactory(), endPoint, engine,
            isDirectBuffersForEncryption(), isDirectBuffersForDecryption());
    }

    /**
     * @return the stock TLS connection, for the hand-over
     */
    PendingHandshake.HandOverSslConnection newTlsConnection(Connector connector, EndPoint endPoint)
    {
        return (PendingHandshake.HandOverSslConnection)super.newConnection(connector, endPoint);
    }

    /**
     * @param engine the engine of {@link TlsAlpn01Responder}: its own JSSE context, never this
     *               factory's, so neither the tenant key manager nor Jetty's ALPN processor takes part
     * @return a TLS connection that answers an ACME tls-alpn-01 validation and closes once its
     *     handshake is done (RFC 8737: the CA sends nothing after it)
     */
    PendingHandshake.HandOverSslConnection newValidationConnection(Connector connector, EndPoint endPoint, SSLEngine engine)
    {
        PendingHandshake.HandOverSslConnection tls = (PendingHandshake.HandOverSslConnection)newSslConnection(connector, endPoint, engine);
        configure(tls, connector, endPoint);
        EndPoint decrypted = tls.getSslEndPoint();
        decrypted.setConnection(new ValidationConnection(decrypted, connector.getExecutor()));
        // Closed outside the handshake's own callback, which runs inside the TLS connection's fill.
        Executor executor = connector.getExecutor();
        tls.onHandshakeEnd(() -> executor.execute(decrypted::close));
        return tls;
    }

    /**
     * The application side of a tls-alpn-01 validation: reads only to drive the handshake; any
     * byte after it, or its end, closes the connection.
     */
    private static final class ValidationConnection extends AbstractConnection
    {
        ValidationConnection(EndPoint endPoint, Executor executor)
        {
            super(endPoint, executor);
        }

        @Override
        public void onOpen()
        {
            super.onOpen();
            fillInterested();
        }

        @Override
        public void onFillable()
        {
            try
            {
                int filled = getEndPoint().fill(BufferUtil.allocate(256));
                if (filled == 0)
                    fillInterested();
                else
                    getEndPoint().close();
            }
            catch (Throwable x)
            {
                getEndPoint().close(x);
            }
        }
    }

    /** @return a parser of one ClientHello, reading as this JVM's TLS engine does */
    ClientHelloParser newParser()
    {
        return new ClientHelloParser(maxClientHelloBytes, rules);
    }

    /** @return the TLS engine's packet buffer size: the most bytes handed over before its first read */
    int getPacketBufferSize()
    {
        return packetBufferSize;
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

    @ManagedAttribute("Most bytes one connection buffers for its ClientHello, record headers included")
    public int getMaxClientHelloBytes()
    {
        return maxClientHelloBytes;
    }

    /**
     * @param maxClientHelloBytes most bytes one connection buffers for its ClientHello, record
     *     headers included (default 65536); a longer ClientHello is handed to TLS without a prefetch
     */
    public void setMaxClientHelloBytes(int maxClientHelloBytes)
    {
        this.maxClientHelloBytes = maxClientHelloBytes;
    }

    @ManagedAttribute("Longest time from a connection's opening to the end of its TLS handshake, ms")
    public long getHandshakeTimeoutMillis()
    {
        return handshakeTimeoutMillis;
    }

    /**
     * @param handshakeTimeoutMillis longest time from a connection's opening to the end of its TLS
     *     handshake (default 10000); the connection is closed after it
     */
    public void setHandshakeTimeoutMillis(long handshakeTimeoutMillis)
    {
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    @ManagedAttribute("Most connections before the end of their TLS handshake; more are closed at once")
    public int getMaxPendingHandshakes()
    {
        return maxPendingHandshakes;
    }

    /**
     * @param maxPendingHandshakes most connections of this factory between their opening and the end
     *     of their handshake (default 10000); a connection beyond it is closed at once
     */
    public void setMaxPendingHandshakes(int maxPendingHandshakes)
    {
        this.maxPendingHandshakes = maxPendingHandshakes;
    }

    @ManagedAttribute("Most bytes buffered by all connections before TLS starts")
    public long getMaxBufferedBytes()
    {
        return maxBufferedBytes;
    }

    /**
     * @param maxBufferedBytes most bytes the connections of this factory buffer before TLS starts
     *     (default 32 MiB); when reached, a new connection is closed at once and a connection
     *     needing more is closed
     */
    public void setMaxBufferedBytes(long maxBufferedBytes)
    {
        this.maxBufferedBytes = maxBufferedBytes;
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
