package dev.dynsni;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;

import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection of a {@link PrefetchingSslConnectionFactory} from its opening to the end of its TLS
 * handshake: its share of the factory's budget and its deadline.
 *
 * <p><b>Budget.</b> A {@link Budget} per factory counts the connections in this phase and the bytes
 * they buffer; a connection is admitted only within both bounds, with its first buffer reserved, and
 * each larger buffer is reserved before it is taken. So the memory of the pre-handshake phase never
 * passes the bound, whatever clients send: beyond it new connections are closed at once.</p>
 *
 * <p><b>Deadline.</b> One timer, scheduled when the connection opens (connector's scheduler, no
 * thread waits), closes the endpoint unless the handshake ended first. It holds whoever owns the
 * endpoint by then: the ClientHello reader, a lookup, or the TLS connection, and whatever the
 * client sent (a trickled ClientHello, a record announcing more than it sends, bytes that are not
 * TLS). Jetty's idle timeout, reset by every byte, no longer decides how long this phase lasts.</p>
 *
 * <p>Thread-safety: {@link #end()} runs once (compare-and-set) from whichever thread sees the end
 * first (handshake listener, close, deadline); the counters are atomics.</p>
 */
final class PendingHandshake
{
    private static final Logger LOG = LoggerFactory.getLogger(PendingHandshake.class);

    /** The bounds shared by the connections of one factory. */
    static final class Budget
    {
        private final AtomicInteger connections = new AtomicInteger();
        private final AtomicLong bytes = new AtomicLong();
        private volatile int maxConnections;
        private volatile long maxBytes;

        void limits(int maxConnections, long maxBytes)
        {
            this.maxConnections = maxConnections;
            this.maxBytes = maxBytes;
        }

        /** @return whether the bytes fit, and then they are counted */
        boolean reserve(long n)
        {
            while (true)
            {
                long current = bytes.get();
                if (current + n > maxBytes)
                    return false;
                if (bytes.compareAndSet(current, current + n))
                    return true;
            }
        }

        void unreserve(long n)
        {
            bytes.addAndGet(-n);
        }

        int connections()
        {
            return connections.get();
        }

        long bytes()
        {
            return bytes.get();
        }
    }

    private final Budget budget;
    private final PrefetchStatistics statistics;
    private final long deadlineMillis;
    private final long startNanos = System.nanoTime();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final AtomicLong reserved = new AtomicLong();
    private volatile Scheduler.Task deadline;

    private PendingHandshake(Budget budget, PrefetchStatistics statistics, long deadlineMillis)
    {
        this.budget = budget;
        this.statistics = statistics;
        this.deadlineMillis = deadlineMillis;
    }

    /**
     * @return a pending handshake holding one connection and {@code initialBytes} of the budget, or
     *     null when either is exhausted
     */
    static PendingHandshake admit(Budget budget, PrefetchStatistics statistics, long deadlineMillis, int initialBytes)
    {
        if (budget.connections.incrementAndGet() > budget.maxConnections)
        {
            budget.connections.decrementAndGet();
            return null;
        }
        if (!budget.reserve(initialBytes))
        {
            budget.connections.decrementAndGet();
            return null;
        }
        PendingHandshake pending = new PendingHandshake(budget, statistics, deadlineMillis);
        pending.reserved.set(initialBytes);
        return pending;
    }

    /** @return whether {@code n} more bytes fit in the budget, and then they are held by this connection */
    boolean reserve(long n)
    {
        if (!budget.reserve(n))
            return false;
        reserved.addAndGet(n);
        return true;
    }

    void unreserve(long n)
    {
        reserved.addAndGet(-n);
        budget.unreserve(n);
    }

    /** Gives back every byte this connection holds (its buffer was released). */
    void unreserveAll()
    {
        long n = reserved.getAndSet(0);
        if (n != 0)
            budget.unreserve(n);
    }

    /** Starts the deadline; the endpoint is closed when it passes before {@link #end()}. */
    void startDeadline(Scheduler scheduler, EndPoint endPoint)
    {
        if (ended.get() || deadline != null)
            return;
        deadline = scheduler.schedule(() -> expire(endPoint), deadlineMillis, TimeUnit.MILLISECONDS);
        if (ended.get())
            deadline.cancel();
    }

    private void expire(EndPoint endPoint)
    {
        if (ended.get())
            return;
        statistics.handshakeTimeouts.increment();
        if (LOG.isDebugEnabled())
            LOG.debug("No TLS handshake within {} ms, closing {}", deadlineMillis, endPoint);
        endPoint.close(new TimeoutException("TLS handshake not completed within " + deadlineMillis + " ms"));
    }

    /** The handshake ended (completed, failed or the connection closed): frees the connection's place. */
    void end()
    {
        if (!ended.compareAndSet(false, true))
            return;
        Scheduler.Task task = deadline;
        if (task != null)
            task.cancel();
        budget.connections.decrementAndGet();
    }

    /** @return what is left of the deadline, ms (negative once passed) */
    long remainingMillis()
    {
        return deadlineMillis - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    boolean isEnded()
    {
        return ended.get();
    }

    /**
     * The stock TLS connection, plus what the prefetch hands it: the bytes it read beyond the first
     * packet (fed before any byte from the network) and the end of the pending phase when the
     * handshake ends.
     */
    static final class HandOverSslConnection extends SslConnection implements SslHandshakeListener
    {
        private final Object lock = new Object();
        private PendingHandshake pending;
        private RetainableByteBuffer pooled;
        private ByteBuffer leftover;
        private Runnable onHandshakeEnd;

        HandOverSslConnection(ByteBufferPool pool, Executor executor, SslContextFactory sslContextFactory, EndPoint endPoint, SSLEngine engine,
                              boolean directEncryption, boolean directDecryption)
        {
            super(pool, executor, sslContextFactory, endPoint, engine, directEncryption, directDecryption);
            addHandshakeListener(this);
        }

        /**
         * @param buffer the ClientHello bytes (flush mode); what {@code onUpgradeFrom} does not give
         *     to {@link #onUpgradeTo} is fed by {@link #networkFill}
         */
        void takeOver(PendingHandshake pending, RetainableByteBuffer pooled, ByteBuffer buffer)
        {
            synchronized (lock)
            {
                this.pending = pending;
                this.pooled = pooled;
                this.leftover = buffer;
            }
        }

        void onHandshakeEnd(Runnable task)
        {
            this.onHandshakeEnd = task;
        }

        @Override
        protected int networkFill(ByteBuffer input) throws IOException
        {
            synchronized (lock)
            {
                if (leftover != null)
                {
                    int n = 0;
                    if (leftover.hasRemaining())
                    {
                        int position = BufferUtil.flipToFill(input);
                        n = Math.min(input.remaining(), leftover.remaining());
                        input.put(leftover.slice(leftover.position(), n));
                        leftover.position(leftover.position() + n);
                        BufferUtil.flipToFlush(input, position);
                    }
                    if (!leftover.hasRemaining())
                        releaseBuffer();
                    if (n > 0)
                        return n;
                }
            }
            return super.networkFill(input);
        }

        /** Under the lock. */
        private void releaseBuffer()
        {
            leftover = null;
            if (pooled != null)
            {
                pooled.release();
                pooled = null;
            }
            if (pending != null)
                pending.unreserveAll();
        }

        @Override
        public void handshakeSucceeded(Event event)
        {
            ended();
        }

        @Override
        public void handshakeFailed(Event event, Throwable failure)
        {
            ended();
        }

        private void ended()
        {
            PendingHandshake p;
            synchronized (lock)
            {
                p = pending;
            }
            if (p != null)
                p.end();
            Runnable task = onHandshakeEnd;
            if (task != null)
                task.run();
        }

        @Override
        public void onClose(Throwable cause)
        {
            synchronized (lock)
            {
                releaseBuffer();
            }
            ended();
            super.onClose(cause);
        }
    }
}
