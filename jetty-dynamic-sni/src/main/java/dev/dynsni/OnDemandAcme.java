package dev.dynsni;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.dynsni.core.acme.AcmeChallenges;
import dev.dynsni.core.acme.OnDemandIssuance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ACME side of the handshake path, owned by {@link CertificateResolver}: answers tls-alpn-01
 * validations and asks for certificates of names that have none, over the two contracts of the
 * ACME service ({@link AcmeChallenges}, {@link OnDemandIssuance}). Nothing here blocks: every
 * answer is a future, bounded in time by the caller's wait.
 *
 * <p><b>After an issuance.</b> {@link OnDemandIssuance.Result#ISSUED} means the certificate is
 * committed to PostgreSQL, but this node may still hold "no certificate" for the name: the host
 * index, L1's negative entry, Redis's "no certificate" entry. The change feed clears all three in
 * the right order (index first, then L1, with the name marked pending so that reads skip Redis until
 * it is fenced), and its NOTIFY may arrive after the request completed, or before. So a waiting
 * connection waits for the name's change event ({@link #onChange}, registered before the request
 * so an early NOTIFY is not missed), then looks the host up again; the wait stays within the
 * connection's own bound. When the event does not come in time (feed down) the caller drops L1's
 * entry itself and looks up anyway; Redis may then still answer "none" until its negative TTL.</p>
 *
 * <p>Thread-safety: every method may be called from many threads at once.</p>
 */
final class OnDemandAcme
{
    private static final Logger LOG = LoggerFactory.getLogger(OnDemandAcme.class);

    private final AcmeChallenges challenges;
    private final OnDemandIssuance issuance;
    private final long waitMillis;
    private final AcmeHandshakeStatistics statistics;
    private final TlsAlpn01Responder responder = new TlsAlpn01Responder();
    /**
     * Change events awaited by connections asking for a certificate, by host: registered before the
     * request (a NOTIFY may come before its answer), dropped when the wait ends; the expiry only
     * bounds what a lost completion would leave.
     */
    private final Cache<String, CompletableFuture<Void>> changes;

    /**
     * @param waitMillis the longest a connection waits for a new certificate ({@code acme.waitMillis})
     */
    OnDemandAcme(AcmeChallenges challenges, OnDemandIssuance issuance, long waitMillis, AcmeHandshakeStatistics statistics)
    {
        this.challenges = challenges;
        this.issuance = issuance;
        this.waitMillis = waitMillis;
        this.statistics = statistics;
        this.changes = Caffeine.newBuilder().expireAfterWrite(Duration.ofMillis(waitMillis + 60_000)).maximumSize(100_000).build();
    }

    long getWaitMillis()
    {
        return waitMillis;
    }

    /**
     * A tls-alpn-01 validation arrived for a host.
     *
     * @return a future of the engine that answers it with the host's challenge certificate, null when
     *     no challenge is pending for the host (or the shared state could not tell): refuse it
     */
    CompletableFuture<SSLEngine> tlsAlpn01(String host)
    {
        statistics.tlsAlpn01Validations.increment();
        CompletableFuture<byte[]> digest;
        try
        {
            digest = challenges.tlsAlpn01(host);
        }
        catch (Throwable x)
        {
            digest = CompletableFuture.failedFuture(x);
        }
        return digest.handle((d, failure) ->
        {
            if (failure != null && LOG.isDebugEnabled())
                LOG.debug("tls-alpn-01 challenge lookup failed sni={}", host, failure);
            if (d == null)
            {
                statistics.tlsAlpn01Refused.increment();
                return null;
            }
            try
            {
                SSLEngine engine = responder.newEngine(host, d);
                statistics.tlsAlpn01Answered.increment();
                LOG.info("ACME validation answered type=tls-alpn-01 sni={}", host);
                return engine;
            }
            catch (Throwable x)
            {
                statistics.tlsAlpn01Refused.increment();
                LOG.warn("Cannot answer a tls-alpn-01 validation sni={} reason={}", host, String.valueOf(x));
                return null;
            }
        });
    }

    /**
     * An http-01 validation asked for a token.
     *
     * @return a future of the key authorization, null when none is pending (or unknown)
     */
    CompletableFuture<String> http01(String token)
    {
        statistics.http01Requests.increment();
        CompletableFuture<String> answer;
        try
        {
            answer = challenges.http01(token);
        }
        catch (Throwable x)
        {
            answer = CompletableFuture.failedFuture(x);
        }
        return answer.handle((authorization, failure) ->
        {
            if (authorization != null)
            {
                statistics.http01Answered.increment();
                LOG.info("ACME validation answered type=http-01 token={}", token);
            }
            return authorization;
        });
    }

    /** Asks for a certificate without waiting for it (a handshake without the prefetch). */
    void requestOnly(String host)
    {
        statistics.issuanceRequests.increment();
        request(host).thenAccept(statistics::count);
    }

    /**
     * Asks for a certificate and waits, without a thread, for the answer and then for the host's
     * change event.
     *
     * @param maxWaitMillis the longest to wait, in all
     * @return a future completing within {@code maxWaitMillis}: true when the certificate is issued and
     *     this node's caches have heard of it (or the change event did not come in time: look up
     *     anyway), false otherwise (denied, deferred, failed, or not issued in time)
     */
    CompletableFuture<Boolean> issue(String host, long maxWaitMillis)
    {
        statistics.issuanceRequests.increment();
        if (maxWaitMillis <= 0)
        {
            request(host).thenAccept(statistics::count);
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Void> changed = changes.get(host, h -> new CompletableFuture<>());
        long start = System.nanoTime();
        // The answer within the bound (null: none in time); after ISSUED, the change event within
        // what is left, then true whether it came or not: the two phases never race.
        return request(host).completeOnTimeout(null, maxWaitMillis, TimeUnit.MILLISECONDS).thenCompose(result ->
        {
            if (result == null)
            {
                statistics.waitsExpired.increment();
                changes.asMap().remove(host, changed);
                return CompletableFuture.completedFuture(false);
            }
            statistics.count(result);
            if (result != OnDemandIssuance.Result.ISSUED)
            {
                changes.asMap().remove(host, changed);
                return CompletableFuture.completedFuture(false);
            }
            long left = maxWaitMillis - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            return changed.copy().completeOnTimeout(null, Math.max(0, left), TimeUnit.MILLISECONDS).thenApply(v ->
            {
                // only waits in progress stay registered: a flood of denied names leaves nothing behind
                changes.asMap().remove(host, changed);
                return true;
            });
        });
    }

    /** A connection is handed the certificate issued while it waited. */
    void countServedAfterIssuance()
    {
        statistics.servedAfterIssuance.increment();
    }

    /** @return the service's answer, never failing (a failure is {@code FAILED}); a copy, so no caller completes the shared one */
    private CompletableFuture<OnDemandIssuance.Result> request(String host)
    {
        try
        {
            return issuance.request(host).copy().exceptionally(x ->
            {
                if (LOG.isDebugEnabled())
                    LOG.debug("Issuance request failed sni={}", host, x);
                return OnDemandIssuance.Result.FAILED;
            });
        }
        catch (Throwable x)
        {
            return CompletableFuture.completedFuture(OnDemandIssuance.Result.FAILED);
        }
    }

    /** A stored name changed (the caches have dropped it): connections waiting for it look it up again. */
    void onChange(String name)
    {
        CompletableFuture<Void> waiting = changes.asMap().remove(name);
        if (waiting != null)
            waiting.complete(null);
    }

    /** Changes may have been missed: every waiting connection looks its host up again. */
    void onChangesLost()
    {
        for (String host : changes.asMap().keySet())
        {
            onChange(host);
        }
    }
}
