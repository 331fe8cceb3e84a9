package dev.dynsni;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import dev.dynsni.core.HostNames;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first connection of a TLS endpoint under {@link PrefetchingSslConnectionFactory}: reads the
 * ClientHello, resolves its SNI host, then upgrades the endpoint to the stock {@code SslConnection},
 * handing over the bytes read ({@link Connection.UpgradeFrom}).
 *
 * <p>Concurrency design: one state machine, advanced by compare-and-set, decides who hands over or
 * closes, exactly once: {@code READING -> RESOLVING -> HANDING_OVER}, or {@code -> CLOSED} from
 * either. Reading happens in {@link #onFillable()} (one thread at a time, by fill interest, on the
 * executor: the default blocking invocation type). The lookup's completion, the lookup time bound
 * and the ClientHello time bound run on whatever thread completes them (Redisson, JDBC executor,
 * scheduler); they only win the state and then dispatch the hand-over to the connector's executor.
 * The pooled buffer is touched under a lock, so a close on another thread never releases it under a
 * reader. Nothing here ever blocks or sleeps.</p>
 */
final class ClientHelloConnection extends AbstractConnection implements Connection.UpgradeFrom, Connection.UpgradeTo
{
    private static final Logger LOG = LoggerFactory.getLogger(ClientHelloConnection.class);
    /** A TLS record: alert, TLS 1.2 record version, length 2, fatal, unrecognized_name (112). */
    private static final byte[] UNRECOGNIZED_NAME_ALERT = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70};

    private enum State
    {
        READING, RESOLVING, HANDING_OVER, CLOSED
    }

    private final PrefetchingSslConnectionFactory factory;
    private final Connector connector;
    private final PrefetchStatistics statistics;
    private final int maxBytes;
    private final AtomicReference<State> state = new AtomicReference<>(State.READING);
    private final Object lock = new Object();
    private RetainableByteBuffer pooled;
    private ByteBuffer buffer;
    private boolean overflow;
    private volatile Scheduler.Task receiveTimer;
    private volatile Scheduler.Task lookupTimer;
    private long openedNanos;
    private long lookupNanos;
    private String host;
    private volatile HostCredentials found;

    ClientHelloConnection(PrefetchingSslConnectionFactory factory, Connector connector, EndPoint endPoint)
    {
        super(endPoint, connector.getExecutor());
        this.factory = factory;
        this.connector = connector;
        this.statistics = factory.getPrefetchStatistics();
        this.maxBytes = factory.getMaxClientHelloBytes();
        this.pooled = connector.getByteBufferPool().acquire(maxBytes, false);
        // A view of exactly maxBytes: fill() can never buffer more than the bound.
        this.buffer = pooled.getByteBuffer().duplicate().clear().slice(0, maxBytes);
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
            if (prefilled.remaining() > BufferUtil.space(buffer))
                overflow = true;
            else
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
            ByteBuffer unconsumed = ByteBuffer.allocate(buffer.remaining());
            unconsumed.put(buffer).flip();
            return unconsumed;
        }
    }

    @Override
    public void onOpen()
    {
        super.onOpen();
        openedNanos = System.nanoTime();
        statistics.connections.increment();
        if (overflow)
        {
            statistics.tooBig.increment();
            close(State.READING, new IOException("ClientHello larger than " + maxBytes + " bytes"));
            return;
        }
        receiveTimer = connector.getScheduler().schedule(this::onReceiveTimeout, factory.getClientHelloTimeoutMillis(), TimeUnit.MILLISECONDS);
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
        try
        {
            synchronized (lock)
            {
                if (buffer == null || state.get() != State.READING)
                    return;
                result = ClientHelloParser.parse(buffer, maxBytes);
                while (!result.isFinal())
                {
                    int filled = getEndPoint().fill(buffer);
                    if (filled < 0)
                    {
                        result = null;
                        break;
                    }
                    if (filled == 0)
                        break;
                    result = ClientHelloParser.parse(buffer, maxBytes);
                }
            }
        }
        catch (Throwable x)
        {
            statistics.closedEarly.increment();
            close(State.READING, x);
            return;
        }
        if (result == null)
        {
            statistics.closedEarly.increment();
            close(State.READING, null);
        }
        else if (!result.isFinal())
            fillInterested();
        else
            onClientHello(result);
    }

    private void onClientHello(ClientHelloParser.Result result)
    {
        switch (result.status())
        {
            case SNI ->
            {
                String normalized = HostNames.normalize(result.host());
                if (normalized == null)
                {
                    statistics.invalidSni.increment();
                    handOverNow(State.READING);
                }
                else
                    prefetch(normalized);
            }
            case NO_SNI ->
            {
                statistics.noSni.increment();
                handOverNow(State.READING);
            }
            case NOT_TLS ->
            {
                statistics.notTls.increment();
                handOverNow(State.READING);
            }
            case TOO_BIG ->
            {
                statistics.tooBig.increment();
                handOverNow(State.READING);
            }
            default ->
            {
                statistics.malformed.increment();
                handOverNow(State.READING);
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
                    handOver(true);
                return;
            }
            statistics.hits.increment();
            found = lookup.join();
            if (resolver.refuses(host, found))
            {
                if (state.compareAndSet(State.READING, State.HANDING_OVER))
                    refuse(resolver);
                return;
            }
            handOverNow(State.READING);
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
     * The stores say the host has no certificate and the unknown-host policy refuses it: answer the
     * ClientHello with a fatal {@code unrecognized_name} alert (RFC 6066) and close, without any TLS
     * work. A flood of unknown names then costs no key exchange at all.
     */
    private void refuse(CertificateResolver resolver)
    {
        cancelTimers();
        statistics.refused.increment();
        resolver.countRefused(found);
        if (LOG.isDebugEnabled())
            LOG.debug("Refusing unknown host before TLS sni={} {}", host, getEndPoint());
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

    private void onReceiveTimeout()
    {
        if (state.get() != State.READING)
            return;
        statistics.receiveTimeouts.increment();
        if (LOG.isDebugEnabled())
            LOG.debug("No complete ClientHello within {} ms, closing {}", factory.getClientHelloTimeoutMillis(), getEndPoint());
        close(State.READING, new TimeoutException("no complete ClientHello within " + factory.getClientHelloTimeoutMillis() + " ms"));
    }

    /** Hands over on this thread, which is an executor thread. */
    private void handOverNow(State from)
    {
        if (state.compareAndSet(from, State.HANDING_OVER))
            handOver(false);
    }

    /**
     * Upgrades the endpoint to the stock TLS connection; the bytes read reach it through
     * {@link #onUpgradeFrom()} and {@code SslConnection.onUpgradeTo(ByteBuffer)}.
     *
     * @param gaveUp whether the lookup failed or timed out (the key manager must not wait for it)
     */
    private void handOver(boolean gaveUp)
    {
        cancelTimers();
        EndPoint endPoint = getEndPoint();
        try
        {
            if (!endPoint.isOpen())
                return;
            SslConnection tls = factory.newTlsConnection(connector, endPoint);
            CertificateResolver resolver = factory.getResolver();
            if (resolver != null)
                resolver.handOver(tls.getSSLEngine(), host, found, gaveUp);
            endPoint.upgrade(tls);
        }
        catch (Throwable x)
        {
            statistics.upgradeErrors.increment();
            if (LOG.isDebugEnabled())
                LOG.debug("Hand-over to TLS failed sni={} {}", host, endPoint, x);
            endPoint.close(x);
        }
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

    private void cancelTimers()
    {
        Scheduler.Task task = receiveTimer;
        if (task != null)
            task.cancel();
        task = lookupTimer;
        if (task != null)
            task.cancel();
    }

    @Override
    public void onClose(Throwable cause)
    {
        // Called on a close of the endpoint, and by the upgrade after onUpgradeFrom() copied the bytes.
        state.compareAndSet(State.READING, State.CLOSED);
        state.compareAndSet(State.RESOLVING, State.CLOSED);
        cancelTimers();
        synchronized (lock)
        {
            if (pooled != null)
            {
                pooled.release();
                pooled = null;
                buffer = null;
            }
        }
        super.onClose(cause);
    }

    @Override
    public String toConnectionString()
    {
        return String.format("%s@%x[%s,sni=%s]", getClass().getSimpleName(), hashCode(), state.get(), host);
    }
}
