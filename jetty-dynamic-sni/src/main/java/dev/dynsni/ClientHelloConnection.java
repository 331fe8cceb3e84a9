package dev.dynsni;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;

import dev.dynsni.core.HostNames;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first connection of a TLS endpoint under {@link PrefetchingSslConnectionFactory}: reads the
 * ClientHello, resolves its SNI host, then upgrades the endpoint to the stock {@code SslConnection},
 * handing over the bytes read ({@link Connection.UpgradeFrom}, then {@link PendingHandshake.HandOverSslConnection}'s
 * network fill for what does not fit in one TLS packet).
 *
 * <p>Concurrency design: one state machine, advanced by compare-and-set, decides who hands over or
 * closes, exactly once: {@code READING -> RESOLVING -> HANDING_OVER}, or {@code -> CLOSED} from
 * either. Reading happens in {@link #onFillable()}, one call at a time (fill interest); it is
 * non-blocking (a fill and an incremental parse of the new bytes), so it runs where Jetty calls it,
 * possibly a selector thread, and every hand-over to TLS is dispatched to the connector's executor.
 * The lookup's completion, the lookup time bound and the connection's deadline run on whatever
 * thread completes them (Redisson, JDBC executor, scheduler); they only win the state and then
 * dispatch. The pooled buffer is touched under a lock, so a close on another thread never releases
 * it under a reader. Nothing here ever blocks or sleeps.</p>
 *
 * <p>ACME (when the resolver has it on): RESOLVING also covers the wait for a certificate issued on
 * demand ({@link #awaitIssuance}) and, for a ClientHello offering {@code acme-tls/1}, the lookup of
 * the host's pending tls-alpn-01 challenge ({@link #validate}), which hands over to a TLS connection
 * of its own, never to the tenant one. Both complete on ACME's threads and win the state like a
 * lookup does.</p>
 *
 * <p>Bounds: the connection is admitted only within the factory's budget ({@link PendingHandshake});
 * a ClientHello arriving in many small pieces is read at a bounded pace ({@link #readMore()}), so its
 * cost stays close to that of one sent at once;
 * its buffer starts small and doubles as the ClientHello arrives, each growth reserved against the
 * budget first (a refused growth closes the connection), and never beyond {@code maxClientHelloBytes};
 * the deadline scheduled at open closes the connection if its TLS handshake has not ended by then.</p>
 */
final class ClientHelloConnection extends AbstractConnection.NonBlocking implements Connection.UpgradeFrom, Connection.UpgradeTo
{
    private static final Logger LOG = LoggerFactory.getLogger(ClientHelloConnection.class);
    /** A TLS record: alert, TLS 1.2 record version, length 2, fatal, unrecognized_name (112). */
    private static final byte[] UNRECOGNIZED_NAME_ALERT = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70};
    /** The first buffer: most ClientHellos fit, and a stalled connection holds no more. */
    static final int INITIAL_BUFFER_BYTES = 1024;
    /** Reads after which an incomplete ClientHello is read at most every {@link #PACE_MILLIS}: real clients need one or two. */
    static final int PACE_AFTER_READS = 8;
    static final long PACE_MILLIS = 10;
    /** What a connection waiting for a new certificate keeps of its deadline for the TLS handshake itself. */
    static final long HANDSHAKE_RESERVE_MILLIS = 1000;

    private enum State
    {
        READING, RESOLVING, HANDING_OVER, CLOSED
    }

    private final PrefetchingSslConnectionFactory factory;
    private final Connector connector;
    private final PrefetchStatistics statistics;
    private final PendingHandshake pending;
    private final int maxBytes;
    private final ClientHelloParser parser;
    private final AtomicReference<State> state = new AtomicReference<>(State.READING);
    private final Object lock = new Object();
    private RetainableByteBuffer pooled;
    private ByteBuffer buffer;
    private boolean overflow;
    private volatile Scheduler.Task lookupTimer;
    private int reads;
    private long lookupNanos;
    private String host;
    private ClientKeyTypes keyTypes;
    private volatile HostCredentials found;

    ClientHelloConnection(PrefetchingSslConnectionFactory factory, Connector connector, EndPoint endPoint, PendingHandshake pending)
    {
        super(endPoint, connector.getExecutor());
        this.factory = factory;
        this.connector = connector;
        this.statistics = factory.getPrefetchStatistics();
        this.pending = pending;
        this.maxBytes = factory.getMaxClientHelloBytes();
        this.parser = factory.newParser();
        int initial = Math.min(INITIAL_BUFFER_BYTES, maxBytes);
        this.pooled = connector.getByteBufferPool().acquire(initial, false);
        // A view of exactly the reserved size: fill() can never buffer more than was reserved.
        this.buffer = pooled.getByteBuffer().duplicate().clear().slice(0, initial);
        BufferUtil.clear(buffer);
    }

    @Override
    public void onUpgradeTo(ByteBuffer prefilled)
    {
        // Bytes a detector (e.g. the proxy protocol) read past its own header.
        synchronized (lock)
        {
            if (buffer == null)
                return;
            while (prefilled.remaining() > BufferUtil.space(buffer))
            {
                if (!grow())
                {
                    overflow = true;
                    return;
                }
            }
            BufferUtil.append(buffer, prefilled);
        }
    }

    @Override
    public ByteBuffer onUpgradeFrom()
    {
        synchronized (lock)
        {
            if (buffer == null || !buffer.hasRemaining())
                return null;
            // The TLS connection copies these into its encrypted input buffer, one packet big: give
            // it at most that, the rest reaches it through its network fill.
            int n = Math.min(buffer.remaining(), factory.getPacketBufferSize());
            ByteBuffer first = ByteBuffer.allocate(n);
            first.put(buffer.slice(buffer.position(), n)).flip();
            buffer.position(buffer.position() + n);
            return first;
        }
    }

    @Override
    public void onOpen()
    {
        super.onOpen();
        statistics.connections.increment();
        pending.startDeadline(connector.getScheduler(), getEndPoint());
        if (overflow)
        {
            statistics.tooBig.increment();
            close(State.READING, new IOException("bytes before the ClientHello exceed the buffer budget"));
            return;
        }
        boolean buffered;
        synchronized (lock)
        {
            buffered = buffer != null && buffer.hasRemaining();
        }
        // onOpen may run on a selector thread: parse bytes handed over by a detector on the executor.
        if (buffered)
            execute(this::onFillable);
        else
            fillInterested();
    }

    @Override
    public void onFillable()
    {
        ClientHelloParser.Result result;
        boolean refusedGrowth = false;
        try
        {
            synchronized (lock)
            {
                if (buffer == null || state.get() != State.READING)
                    return;
                result = parser.resume(buffer);
                while (!result.isFinal())
                {
                    if (BufferUtil.space(buffer) == 0 && !grow())
                    {
                        refusedGrowth = true;
                        break;
                    }
                    int filled = getEndPoint().fill(buffer);
                    if (filled < 0)
                    {
                        result = null;
                        break;
                    }
                    if (filled == 0)
                        break;
                    reads++;
                    result = parser.resume(buffer);
                }
            }
        }
        catch (Throwable x)
        {
            statistics.closedEarly.increment();
            close(State.READING, x);
            return;
        }
        if (refusedGrowth)
        {
            statistics.overBudget.increment();
            close(State.READING, new IOException("pre-handshake buffer budget exhausted"));
        }
        else if (result == null)
        {
            statistics.closedEarly.increment();
            close(State.READING, null);
        }
        else if (!result.isFinal())
            readMore();
        else
            onClientHello(result);
    }

    /**
     * Waits for more of the ClientHello. A client that sends it in many small pieces (1-byte records,
     * one byte per write) would otherwise cost a wake-up per piece: after {@link #PACE_AFTER_READS}
     * reads, the next read waits {@link #PACE_MILLIS}, so the pieces pile up in the socket and each
     * wake-up reads many. The deadline still bounds the whole phase.
     */
    private void readMore()
    {
        int n;
        synchronized (lock)
        {
            n = reads;
        }
        if (n < PACE_AFTER_READS)
        {
            fillInterested();
            return;
        }
        try
        {
            connector.getScheduler().schedule(() ->
            {
                if (state.get() == State.READING && getEndPoint().isOpen())
                    fillInterested();
            }, PACE_MILLIS, TimeUnit.MILLISECONDS);
        }
        catch (Throwable x)
        {
            fillInterested();
        }
    }

    /**
     * Doubles the buffer, within {@code maxClientHelloBytes} and the factory's byte budget. Under the lock.
     *
     * @return false when it cannot grow: at the per-connection bound (the parser then answers
     *     TOO_BIG), or when the budget refuses
     */
    private boolean grow()
    {
        int capacity = buffer.capacity();
        if (capacity >= maxBytes)
            return false;
        int larger = (int)Math.min(maxBytes, 2L * capacity);
        // Both buffers exist during the copy: reserve the larger before taking it.
        if (!pending.reserve(larger))
            return false;
        RetainableByteBuffer bigger = connector.getByteBufferPool().acquire(larger, false);
        ByteBuffer view = bigger.getByteBuffer().duplicate().clear().slice(0, larger);
        BufferUtil.clear(view);
        // Keep the consumed bytes too: the parser's offsets and the hand-over count from the start.
        int position = buffer.position();
        ByteBuffer all = buffer.duplicate();
        all.position(0);
        BufferUtil.append(view, all);
        view.position(position);
        pooled.release();
        pending.unreserve(capacity);
        pooled = bigger;
        buffer = view;
        return true;
    }

    private void onClientHello(ClientHelloParser.Result result)
    {
        keyTypes = result.keyTypes();
        switch (result.status())
        {
            case SNI ->
            {
                String normalized = HostNames.normalize(result.host());
                if (normalized == null)
                {
                    statistics.invalidSni.increment();
                    handOverLater(State.READING);
                }
                else if (TlsAlpn01Responder.isValidation(result.alpn()))
                    validate(normalized);
                else
                    prefetch(normalized);
            }
            case NO_SNI ->
            {
                statistics.noSni.increment();
                handOverLater(State.READING);
            }
            case NOT_TLS ->
            {
                statistics.notTls.increment();
                handOverLater(State.READING);
            }
            case TOO_BIG ->
            {
                statistics.tooBig.increment();
                handOverLater(State.READING);
            }
            default ->
            {
                statistics.malformed.increment();
                handOverLater(State.READING);
            }
        }
    }

    private void prefetch(String host)
    {
        this.host = host;
        CertificateResolver resolver = factory.getResolver();
        CompletableFuture<HostCredentials> lookup;
        try
        {
            lookup = resolver == null ? CompletableFuture.failedFuture(new IllegalStateException("not started")) : resolver.lookup(host);
        }
        catch (Throwable x)
        {
            if (LOG.isDebugEnabled())
                LOG.debug("Prefetch failed to start sni={}", host, x);
            lookup = CompletableFuture.failedFuture(x);
        }
        if (lookup.isDone())
        {
            if (lookup.isCompletedExceptionally())
            {
                statistics.misses.increment();
                statistics.failures.increment();
                if (state.compareAndSet(State.READING, State.HANDING_OVER))
                    execute(() -> handOver(true));
                return;
            }
            statistics.hits.increment();
            found = lookup.join();
            if (found == null && resolver.mayIssue(host))
            {
                if (state.compareAndSet(State.READING, State.RESOLVING))
                    awaitIssuance(resolver);
                return;
            }
            if (resolver.refuses(host, found))
            {
                if (state.compareAndSet(State.READING, State.HANDING_OVER))
                    refuse(resolver);
                return;
            }
            handOverLater(State.READING);
            return;
        }
        statistics.misses.increment();
        lookupNanos = System.nanoTime();
        if (!state.compareAndSet(State.READING, State.RESOLVING))
            return;
        if (LOG.isDebugEnabled())
            LOG.debug("Prefetching sni={} {}", host, getEndPoint());
        lookupTimer = connector.getScheduler().schedule(this::onLookupTimeout, factory.effectivePrefetchTimeoutMillis(), TimeUnit.MILLISECONDS);
        lookup.whenComplete((credentials, failure) ->
        {
            if (failure == null && credentials == null && state.get() == State.RESOLVING && resolver.mayIssue(host))
            {
                // Still RESOLVING: the issuance's own bound replaces the lookup's.
                cancelLookupTimer();
                statistics.waitNanos.add(System.nanoTime() - lookupNanos);
                statistics.completed.increment();
                awaitIssuance(resolver);
                return;
            }
            if (!state.compareAndSet(State.RESOLVING, State.HANDING_OVER))
                return;
            statistics.waitNanos.add(System.nanoTime() - lookupNanos);
            if (failure == null)
                statistics.completed.increment();
            else
                statistics.failures.increment();
            found = credentials;
            if (failure == null && resolver.refuses(host, credentials))
            {
                refuse(resolver);
                return;
            }
            // Completed on a Redisson or JDBC thread: TLS starts on the connector's executor.
            execute(() -> handOver(failure != null));
        });
    }

    /**
     * The stores have no certificate for the host and ACME may issue one: asks for it, and waits
     * without a thread up to {@code acme.waitMillis}, within what is left of the connection's deadline
     * (less {@link #HANDSHAKE_RESERVE_MILLIS} for the handshake). A certificate issued in time is
     * handed to this handshake; otherwise the unknown-host policy answers, as without ACME. Called in
     * state RESOLVING; the resolver's future completes within the wait, so no timer of ours is needed.
     */
    private void awaitIssuance(CertificateResolver resolver)
    {
        long wait = Math.min(resolver.getAcmeWaitMillis(), pending.remainingMillis() - HANDSHAKE_RESERVE_MILLIS);
        if (LOG.isDebugEnabled())
            LOG.debug("No certificate, asking ACME sni={} waitMillis={} {}", host, wait, getEndPoint());
        CompletableFuture<HostCredentials> issued;
        try
        {
            issued = resolver.issue(host, wait);
        }
        catch (Throwable x)
        {
            issued = CompletableFuture.completedFuture(null);
        }
        issued.whenComplete((credentials, failure) ->
        {
            if (!state.compareAndSet(State.RESOLVING, State.HANDING_OVER))
                return;
            found = failure == null ? credentials : null;
            if (resolver.refuses(host, found))
            {
                refuse(resolver);
                return;
            }
            execute(() -> handOver(false));
        });
    }

    /**
     * An ACME tls-alpn-01 validation ({@code acme-tls/1} offered): never the tenant path. With a
     * challenge pending for the host it is handed to a TLS connection of its own that presents the
     * challenge certificate ({@link TlsAlpn01Responder}); otherwise (none pending, ACME off) it is
     * refused like an unknown name. The connection's deadline bounds the wait for the shared state.
     */
    private void validate(String host)
    {
        this.host = host;
        if (!state.compareAndSet(State.READING, State.RESOLVING))
            return;
        CertificateResolver resolver = factory.getResolver();
        CompletableFuture<SSLEngine> answer;
        try
        {
            answer = resolver == null ? CompletableFuture.completedFuture(null) : resolver.tlsAlpn01(host);
        }
        catch (Throwable x)
        {
            answer = CompletableFuture.completedFuture(null);
        }
        answer.whenComplete((engine, failure) ->
        {
            if (!state.compareAndSet(State.RESOLVING, State.HANDING_OVER))
                return;
            if (engine == null || failure != null)
            {
                if (LOG.isDebugEnabled())
                    LOG.debug("Refusing tls-alpn-01 validation, no challenge pending sni={} {}", host, getEndPoint());
                alertAndClose();
                return;
            }
            execute(() -> handOverValidation(engine));
        });
    }

    /** Upgrades the endpoint to the validation's own TLS connection, with the bytes read. */
    private void handOverValidation(SSLEngine engine)
    {
        EndPoint endPoint = getEndPoint();
        try
        {
            if (!endPoint.isOpen())
                return;
            PendingHandshake.HandOverSslConnection tls = factory.newValidationConnection(connector, endPoint, engine);
            synchronized (lock)
            {
                tls.takeOver(pending, pooled, buffer);
                pooled = null;
            }
            endPoint.upgrade(tls);
        }
        catch (Throwable x)
        {
            handOverFailed(endPoint, "of a tls-alpn-01 validation", x);
        }
    }

    /**
     * The stores say the host has no certificate and the unknown-host policy refuses it: answer the
     * ClientHello with a fatal {@code unrecognized_name} alert (RFC 6066) and close, without any TLS
     * work. A flood of unknown names then costs no key exchange at all.
     */
    private void refuse(CertificateResolver resolver)
    {
        cancelLookupTimer();
        statistics.refused.increment();
        resolver.countRefused(found);
        if (LOG.isDebugEnabled())
            LOG.debug("Refusing unknown host before TLS sni={} {}", host, getEndPoint());
        alertAndClose();
    }

    /** Sends a fatal {@code unrecognized_name} alert and closes, without any TLS work. */
    private void alertAndClose()
    {
        EndPoint endPoint = getEndPoint();
        state.set(State.CLOSED);
        endPoint.write(Callback.from(() -> endPoint.close(), endPoint::close), ByteBuffer.wrap(UNRECOGNIZED_NAME_ALERT.clone()));
    }

    private void onLookupTimeout()
    {
        if (!state.compareAndSet(State.RESOLVING, State.HANDING_OVER))
            return;
        statistics.timeouts.increment();
        statistics.waitNanos.add(System.nanoTime() - lookupNanos);
        if (LOG.isDebugEnabled())
            LOG.debug("Prefetch timed out sni={} timeoutMillis={}", host, factory.effectivePrefetchTimeoutMillis());
        execute(() -> handOver(true));
    }

    /** Hands over on a thread of the executor (this one may be a selector thread). */
    private void handOverLater(State from)
    {
        if (state.compareAndSet(from, State.HANDING_OVER))
            execute(() -> handOver(false));
    }

    /**
     * Upgrades the endpoint to the stock TLS connection; the bytes read reach it through
     * {@link #onUpgradeFrom()} and {@code SslConnection.onUpgradeTo(ByteBuffer)}, and what does not
     * fit there through its network fill. The prefetch's answer (also "no answer": an invalid or
     * missing SNI, a ClientHello it could not read) is left for the key manager, which then never
     * waits on a store for a name the prefetch did not resolve.
     *
     * @param gaveUp whether the lookup failed or timed out (the key manager must not wait for it)
     */
    private void handOver(boolean gaveUp)
    {
        cancelLookupTimer();
        EndPoint endPoint = getEndPoint();
        try
        {
            if (!endPoint.isOpen())
                return;
            PendingHandshake.HandOverSslConnection tls = factory.newTlsConnection(connector, endPoint);
            CertificateResolver resolver = factory.getResolver();
            if (resolver != null)
            {
                SSLEngine engine = tls.getSSLEngine();
                resolver.handOver(engine, host, found, gaveUp, keyTypes);
                tls.onHandshakeEnd(() -> resolver.forgetHandOver(engine));
            }
            synchronized (lock)
            {
                // A ClientHello in many records reaches TLS in the fewest: one engine pass, not one per record.
                if (buffer != null && parser.reframe(buffer) > 0)
                    statistics.reframed.increment();
                // The buffer now belongs to the TLS connection, which feeds what onUpgradeFrom() leaves.
                tls.takeOver(pending, pooled, buffer);
                pooled = null;
            }
            endPoint.upgrade(tls);
        }
        catch (Throwable x)
        {
            handOverFailed(endPoint, "to TLS", x);
        }
    }

    /** The upgrade to a TLS connection failed: release what the connection holds and close it. */
    private void handOverFailed(EndPoint endPoint, String what, Throwable x)
    {
        pending.unreserveAll();
        pending.end();
        statistics.upgradeErrors.increment();
        if (LOG.isDebugEnabled())
            LOG.debug("Hand-over {} failed sni={} {}", what, host, endPoint, x);
        endPoint.close(x);
    }

    private void execute(Runnable task)
    {
        try
        {
            getExecutor().execute(task);
        }
        catch (Throwable x)
        {
            // Executor stopping or saturated beyond its queue: nothing can serve this connection.
            statistics.upgradeErrors.increment();
            state.set(State.CLOSED);
            getEndPoint().close(x);
        }
    }

    private void close(State from, Throwable cause)
    {
        if (state.compareAndSet(from, State.CLOSED))
            getEndPoint().close(cause);
    }

    private void cancelLookupTimer()
    {
        Scheduler.Task task = lookupTimer;
        if (task != null)
            task.cancel();
    }

    @Override
    public void onClose(Throwable cause)
    {
        // Called on a close of the endpoint, and by the upgrade after onUpgradeFrom() copied the bytes.
        state.compareAndSet(State.READING, State.CLOSED);
        state.compareAndSet(State.RESOLVING, State.CLOSED);
        cancelLookupTimer();
        boolean handedOver;
        synchronized (lock)
        {
            handedOver = pooled == null && buffer != null;
            if (pooled != null)
            {
                pooled.release();
                pooled = null;
                pending.unreserveAll();
            }
            buffer = null;
        }
        // Not handed over: the connection is over before its handshake.
        if (!handedOver)
            pending.end();
        super.onClose(cause);
    }

    @Override
    public String toConnectionString()
    {
        return String.format("%s@%x[%s,sni=%s]", getClass().getSimpleName(), hashCode(), state.get(), host);
    }
}
