package dev.dynsni;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.ManagedOperation;

/**
 * Counters of the ClientHello prefetch stage of {@link PrefetchingSslConnectionFactory}, exposed over
 * JMX with Jetty's {@code jmx} module (a bean of the connection factory). All counters are cumulative
 * since start (or the last {@link #reset()}); updates are lock-free.
 *
 * <p>Every connection ends the stage in exactly one of: handed to TLS after a lookup
 * ({@link #getHits() hits} + {@link #getMisses() misses}), handed to TLS without a lookup
 * ({@link #getNoSni() noSni}, {@link #getInvalidSni() invalidSni}, {@link #getNotTls() notTls},
 * {@link #getMalformed() malformed}, {@link #getTooBig() tooBig}), or closed
 * ({@link #getHandshakeTimeouts() handshakeTimeouts}, {@link #getClosedEarly() closedEarly},
 * {@link #getOverBudget() overBudget}). {@link #getHandshakeTimeouts() handshakeTimeouts} also counts
 * connections already handed to TLS whose handshake did not end within the deadline.</p>
 */
@ManagedObject("ClientHello prefetch statistics")
public class PrefetchStatistics
{
    final LongAdder connections = new LongAdder();
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder completed = new LongAdder();
    final LongAdder failures = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder waitNanos = new LongAdder();
    final LongAdder noSni = new LongAdder();
    final LongAdder invalidSni = new LongAdder();
    final LongAdder notTls = new LongAdder();
    final LongAdder malformed = new LongAdder();
    final LongAdder tooBig = new LongAdder();
    final LongAdder handshakeTimeouts = new LongAdder();
    final LongAdder overBudget = new LongAdder();
    final LongAdder reframed = new LongAdder();

    @ManagedAttribute("ClientHellos that came in several records, handed to TLS in the fewest (full) records")
    public long getReframed()
    {
        return reframed.sum();
    }
    private volatile IntSupplier pendingHandshakes = () -> 0;
    private volatile LongSupplier bufferedBytes = () -> 0;

    void setGauges(IntSupplier pendingHandshakes, LongSupplier bufferedBytes)
    {
        this.pendingHandshakes = pendingHandshakes;
        this.bufferedBytes = bufferedBytes;
    }

    @ManagedAttribute("Connections between their opening and the end of their TLS handshake, now")
    public int getPendingHandshakes()
    {
        return pendingHandshakes.getAsInt();
    }

    @ManagedAttribute("Bytes buffered by connections before TLS reads them, now")
    public long getBufferedBytes()
    {
        return bufferedBytes.getAsLong();
    }

    @ManagedAttribute("Connections closed at once, or while reading their ClientHello, because maxPendingHandshakes or maxBufferedBytes was reached")
    public long getOverBudget()
    {
        return overBudget.sum();
    }
    final LongAdder closedEarly = new LongAdder();
    final LongAdder upgradeErrors = new LongAdder();
    final LongAdder refused = new LongAdder();

    @ManagedAttribute("Unknown hosts refused with an unrecognized_name alert before any TLS work (policy reject, or no default certificate)")
    public long getRefused()
    {
        return refused.sum();
    }

    @ManagedAttribute("Connections that entered the ClientHello prefetch stage")
    public long getConnections()
    {
        return connections.sum();
    }

    @ManagedAttribute("Lookups started for a valid SNI host (hits + misses)")
    public long getPrefetches()
    {
        return hits.sum() + misses.sum();
    }

    @ManagedAttribute("Lookups answered from memory at once (L1 or negative cache): TLS started without waiting")
    public long getHits()
    {
        return hits.sum();
    }

    @ManagedAttribute("Lookups that had to go to Redis/PostgreSQL (TLS started when they completed, failed or timed out)")
    public long getMisses()
    {
        return misses.sum();
    }

    @ManagedAttribute("Misses that completed (with a certificate or a definite 'none') within the time bound")
    public long getCompleted()
    {
        return completed.sum();
    }

    @ManagedAttribute("Misses whose lookup failed: the handshake continued under the unknown-host policy")
    public long getFailures()
    {
        return failures.sum();
    }

    @ManagedAttribute("Misses not answered within the time bound: the handshake continued under the unknown-host policy")
    public long getTimeouts()
    {
        return timeouts.sum();
    }

    @ManagedAttribute("Mean time a miss held its connection before TLS started, in microseconds (no thread waits)")
    public long getMissMeanMicros()
    {
        long n = misses.sum();
        return n == 0 ? 0 : waitNanos.sum() / n / 1000;
    }

    @ManagedAttribute("ClientHellos without SNI, handed to TLS at once")
    public long getNoSni()
    {
        return noSni.sum();
    }

    @ManagedAttribute("ClientHellos whose SNI is not a valid DNS host name, handed to TLS at once (no lookup)")
    public long getInvalidSni()
    {
        return invalidSni.sum();
    }

    @ManagedAttribute("Connections whose first bytes are not a TLS handshake record, handed to TLS at once (it alerts or closes)")
    public long getNotTls()
    {
        return notTls.sum();
    }

    @ManagedAttribute("Malformed ClientHellos, handed to TLS at once (it alerts)")
    public long getMalformed()
    {
        return malformed.sum();
    }

    @ManagedAttribute("ClientHellos larger than the JDK accepts or than maxClientHelloBytes, handed to TLS without a prefetch")
    public long getTooBig()
    {
        return tooBig.sum();
    }

    @ManagedAttribute("Connections closed because their TLS handshake did not end within handshakeTimeoutMillis of their opening")
    public long getHandshakeTimeouts()
    {
        return handshakeTimeouts.sum();
    }

    @ManagedAttribute("Connections closed by the client (or failing) before a complete ClientHello")
    public long getClosedEarly()
    {
        return closedEarly.sum();
    }

    @ManagedAttribute("Hand-overs to TLS that failed (the connection was closed)")
    public long getUpgradeErrors()
    {
        return upgradeErrors.sum();
    }

    @ManagedOperation(value = "Resets all counters", impact = "ACTION")
    public void reset()
    {
        for (LongAdder adder : new LongAdder[]{connections, hits, misses, completed, failures, timeouts, waitNanos, noSni, invalidSni, refused,
            notTls, malformed, tooBig, handshakeTimeouts, overBudget, reframed, closedEarly, upgradeErrors})
        {
            adder.reset();
        }
    }

    @Override
    public String toString()
    {
        return String.format("PrefetchStatistics[connections=%d, hits=%d, misses=%d, completed=%d, failures=%d, timeouts=%d, noSni=%d, invalidSni=%d, notTls=%d, malformed=%d, tooBig=%d, handshakeTimeouts=%d, overBudget=%d, closedEarly=%d]",
            getConnections(), getHits(), getMisses(), getCompleted(), getFailures(), getTimeouts(), getNoSni(), getInvalidSni(), getNotTls(),
            getMalformed(), getTooBig(), getHandshakeTimeouts(), getOverBudget(), getClosedEarly());
    }
}
