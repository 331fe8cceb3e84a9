package dev.dynsni;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.StandardConstants;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.ChangeFeed;
import dev.dynsni.core.Credential;
import dev.dynsni.core.HostNames;
import dev.dynsni.core.MasterKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers "what does this connection get for this host?": the one place that normalises SNI, holds
 * the in-process caches, applies the default certificate, {@code sniRequired} and the unknown-host
 * policy, and counts the outcome. The SNI prefetch and the key manager both ask it; neither knows
 * the other.
 *
 * <p><b>Hosted names.</b> When a {@link HostedNames} is given ({@code hostedNames=deployed}), a host
 * it does not host is an unknown host even when the stores hold a certificate for it: the decision
 * ({@link #refuses}, {@link #resolve}) asks it after the lookup. Without one, every stored name is
 * hosted.</p>
 *
 * <p>The handshake path reads one way: connection (prefetch or key manager) &rarr; resolver &rarr;
 * {@link CredentialCache} (L1) &rarr; {@link CertificateStore} (Redis, then PostgreSQL).</p>
 *
 * <p><b>Hand-over.</b> With the prefetch, the lookup happens before the TLS engine exists. When the
 * prefetch hands the connection to TLS it leaves its answer here, keyed by the new engine
 * ({@link #handOver}); the key manager takes it back ({@link #resolve(SSLSession, SSLEngine)}) and
 * uses it when it is for the SNI the engine parsed, so a handshake reads each tier at most once,
 * whatever L1 evicted meanwhile. The hand-over also carries the key types the client can verify, as
 * its ClientHello said ({@link Resolution#keyTypes()}), for an engine that asks before it knows
 * (Conscrypt). Every connection the prefetch hands over leaves an answer, also
 * "nothing resolved": for a name the prefetch did not look up, the key manager answers from L1 or by
 * the policy and never waits on a store. Answers are dropped when the handshake ends or its
 * connection closes ({@link #forgetHandOver}), and held with weak keys: an engine that never
 * reaches the key manager (a resumed session, a client gone) costs nothing. Conscrypt hands the key
 * manager the engine it wraps, not Jetty's: its answers wait under the peer address both engines
 * report, for 30 s at most.</p>
 *
 * <p><b>Start.</b> The in-process tables (Caffeine loads a hundred classes for them, about half a
 * second on a fresh JVM) are built on a thread of their own, in parallel with the rest of the
 * server's start; a lookup arriving before they are ready waits for them without a thread, a key
 * manager without a prefetch waits at most {@code lookupTimeoutMillis}.</p>
 *
 * <p>Concurrency: every method is thread-safe and lock-free on the hit path; only
 * {@link #resolve(SSLSession, SSLEngine)} may wait, on a miss on a connection without a prefetch, at
 * most {@code lookupTimeoutMillis}.</p>
 */
final class CertificateResolver
{
    private static final Logger LOG = LoggerFactory.getLogger(CertificateResolver.class);

    /** What a handshake gets. */
    enum Outcome
    {
        /** The host's own certificate (exact or wildcard). */
        TENANT,
        /** The default certificate. */
        DEFAULT,
        /** Nothing: the handshake fails with an alert. */
        REJECT
    }

    /**
     * One handshake's answer: the normalised host (null without a valid SNI), what it is served, why,
     * and what the client can verify as its ClientHello said (null when no prefetch read it).
     */
    record Resolution(String host, HostCredentials credentials, Outcome outcome, ClientKeyTypes keyTypes)
    {
        /** @return the credential of the key type valid now, or null */
        Credential select(String keyType, long nowMillis)
        {
            return credentials == null ? null : credentials.select(keyType, nowMillis);
        }
    }

    /** What a prefetch learned before the engine existed; a null host: it resolved nothing. */
    private record HandOver(String host, HostCredentials credentials, boolean gaveUp, ClientKeyTypes keyTypes)
    {
    }

    /**
     * Where a Conscrypt engine's hand-over waits: Conscrypt asks the key manager with the engine it
     * wraps, not the one Jetty holds, but both answer the same peer address.
     */
    private record Peer(String host, int port)
    {
        static Peer of(SSLEngine engine)
        {
            String host = engine.getPeerHost();
            int port = engine.getPeerPort();
            return host == null || port <= 0 ? null : new Peer(host, port);
        }
    }

    /**
     * L1 and the prefetch's hand-overs, built at start on a thread of their own: JSSE's by engine
     * (weak keys), Conscrypt's by peer address (a short expiry bounds what is never taken back).
     */
    private record Tables(CredentialCache cache, Cache<SSLEngine, HandOver> handOvers, Cache<Peer, HandOver> peerHandOvers)
    {
        HandOver take(SSLEngine engine)
        {
            if (!Conscrypts.isConscrypt(engine))
                return handOvers.asMap().remove(engine);
            Peer peer = Peer.of(engine);
            return peer == null ? null : peerHandOvers.asMap().remove(peer);
        }

        void put(SSLEngine engine, HandOver handOver)
        {
            if (!Conscrypts.isConscrypt(engine))
            {
                handOvers.put(engine, handOver);
                return;
            }
            Peer peer = Peer.of(engine);
            if (peer != null)
                peerHandOvers.put(peer, handOver);
        }
    }

    private final CompletableFuture<Tables> built = new CompletableFuture<>();
    private volatile Tables tables;
    private final HostCredentials defaultCredentials;
    private final boolean policyRejects;
    private final HostedNames hostedNames;
    private final boolean sniRequired;
    private final long lookupTimeoutMillis;
    private final DynamicSniStatistics statistics;
    private final HostIndex index;
    /** The ACME side; null while ACME is off. Set once, before the resolver answers any handshake. */
    private volatile OnDemandAcme acme;

    /**
     * @param defaultCredential served under the {@code default} policy and without SNI; null for none
     * @param policyRejects     whether the unknown-host policy is {@code reject}
     * @param hostedNames       the names hosted here; null: every stored name
     * @param index             the stored names, to answer the others without a lookup; null: none
     */
    CertificateResolver(CertificateStore store, HostIndex index, MasterKeys masterKeys, Credential defaultCredential, boolean policyRejects, HostedNames hostedNames, boolean sniRequired,
                        long lookupTimeoutMillis, CacheSizing sizing, DynamicSniStatistics statistics, Executor executor, Ticker ticker)
    {
        this(store, index, masterKeys, defaultCredential, policyRejects, hostedNames, sniRequired, lookupTimeoutMillis, sizing, statistics, executor, ticker, UnaryOperator.identity());
    }

    /**
     * @param engineForm gives each credential (the default one, and each one entering L1) the form
     *                   the TLS engine uses as it is; identity on JSSE
     */
    CertificateResolver(CertificateStore store, HostIndex index, MasterKeys masterKeys, Credential defaultCredential, boolean policyRejects, HostedNames hostedNames, boolean sniRequired,
                        long lookupTimeoutMillis, CacheSizing sizing, DynamicSniStatistics statistics, Executor executor, Ticker ticker,
                        UnaryOperator<Credential> engineForm)
    {
        Thread builder = new Thread(() ->
        {
            try
            {
                Tables t = new Tables(new CredentialCache(store, index, masterKeys, statistics, sizing.maxEntries(), sizing.maxBytes(), sizing.refreshAfterWrite(),
                    sizing.negativeMaxEntries(), sizing.negativeTtl(), executor, ticker, engineForm),
                    Caffeine.newBuilder().weakKeys().build(),
                    Caffeine.newBuilder().expireAfterWrite(Duration.ofSeconds(30)).maximumSize(100_000).build());
                tables = t;
                built.complete(t);
            }
            catch (Throwable x)
            {
                LOG.warn("In-process certificate cache cannot be built reason={}", String.valueOf(x));
                built.completeExceptionally(x);
            }
        }, "dynsni-resolver-start");
        builder.setDaemon(true);
        builder.start();
        this.defaultCredentials = defaultCredential == null ? null : new HostCredentials(defaultCredential.getName(), new Credential[]{engineForm.apply(defaultCredential)}, 0);
        this.policyRejects = policyRejects;
        this.hostedNames = hostedNames;
        this.sniRequired = sniRequired;
        this.lookupTimeoutMillis = lookupTimeoutMillis;
        this.statistics = statistics;
        this.index = index;
    }

    /** Turns ACME on: validations are answered and names without a certificate ask for one. Before start. */
    void setAcme(OnDemandAcme acme)
    {
        this.acme = acme;
    }

    /** Sizes and lifetimes of the in-process caches. */
    record CacheSizing(long maxEntries, long maxBytes, Duration refreshAfterWrite, long negativeMaxEntries, Duration negativeTtl)
    {
    }

    // ---- the prefetch's side

    /**
     * Starts (or joins) the lookup of a host, without waiting.
     *
     * @param host a normalised host name
     * @return a future of the host's credentials, null when it has none; completed at once on an L1 hit
     */
    CompletableFuture<HostCredentials> lookup(String host)
    {
        Tables t = tables;
        return t != null ? t.cache().resolve(host) : built.thenCompose(b -> b.cache().resolve(host));
    }

    /**
     * @param host        a normalised host
     * @param credentials what its lookup found (null: none)
     * @return whether a handshake for it fails whatever happens, so it can be refused before TLS
     */
    boolean refuses(String host, HostCredentials credentials)
    {
        return decide(host, credentials) == Outcome.REJECT;
    }

    /**
     * Counts a handshake refused before TLS started.
     *
     * @param found what the lookup found: not null when the host was refused for not being hosted
     */
    void countRefused(HostCredentials found)
    {
        statistics.rejected.increment();
        if (found != null)
            statistics.notHosted.increment();
    }

    /**
     * Leaves a prefetch's answer for the handshake of the engine. Every connection the prefetch
     * hands to TLS leaves one, also when it resolved nothing (no, or an invalid, SNI; a ClientHello
     * it could not read): the key manager then answers from L1 or by policy and never waits on a store.
     *
     * @param host     the normalised host the prefetch looked up, null when it looked nothing up
     * @param gaveUp   whether the lookup failed or timed out: the key manager must not wait again
     * @param keyTypes what the client can verify, as its ClientHello says; null when it was not read
     */
    void handOver(SSLEngine engine, String host, HostCredentials credentials, boolean gaveUp, ClientKeyTypes keyTypes)
    {
        Tables t = tables;
        if (t != null && engine != null)
            t.put(engine, new HandOver(host, credentials, gaveUp, keyTypes));
    }

    /** The handshake of the engine ended (or its connection closed): drop what the prefetch left for it. */
    void forgetHandOver(SSLEngine engine)
    {
        Tables t = tables;
        if (t != null && engine != null)
            t.take(engine);
    }

    /** @return the longest a connection or handshake waits for a lookup, ms */
    long getLookupTimeoutMillis()
    {
        return lookupTimeoutMillis;
    }

    // ---- the key manager's side

    /**
     * Resolves a handshake: its SNI from the handshake session, the prefetch's answer when there
     * was one for that host, else a lookup (waiting at most {@code lookupTimeoutMillis}), then the
     * unknown-host policy. Counted once; call once per handshake.
     *
     * @param engine the handshake's engine, null for a socket
     */
    Resolution resolve(SSLSession session, SSLEngine engine)
    {
        Tables t = tables;
        if (t == null)
            t = awaitTables();
        HandOver handed = engine == null || t == null ? null : t.take(engine);
        ClientKeyTypes keyTypes = handed == null ? null : handed.keyTypes();
        String raw = requestedHost(session);
        if (raw == null)
        {
            statistics.noSni.increment();
            return count(null, null, "no SNI", keyTypes);
        }
        String host = HostNames.normalize(raw);
        if (host == null)
        {
            statistics.invalidSni.increment();
            return count(null, null, "invalid SNI", keyTypes);
        }
        HostCredentials found;
        if (t == null)
            found = null;
        else if (handed != null && host.equals(handed.host()))
            found = handed.gaveUp() ? now(t.cache(), host) : handed.credentials();
        else if (handed != null)
            found = held(t.cache(), host);
        else
        {
            found = await(t.cache(), host);
            OnDemandAcme a = acme;
            // No prefetch: nothing may wait here for an order; the next connection gets the certificate.
            if (found == null && a != null && isHosted(host))
                a.requestOnly(host);
        }
        return count(host, found, found == null ? "unknown host" : null, keyTypes);
    }

    /** @return the tables once built, waiting at most {@code lookupTimeoutMillis}; null if not by then */
    private Tables awaitTables()
    {
        try
        {
            return built.get(lookupTimeoutMillis, TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            return null;
        }
        catch (Exception x)
        {
            statistics.loadTimeouts.increment();
            return null;
        }
    }

    /**
     * A name the prefetch did not resolve (it read another name, or none, from the ClientHello): what
     * L1 holds for it, else nothing, so the policy answers. No store is asked, so no Jetty thread
     * waits on I/O, and a name that reached the engine by a path the prefetch does not follow costs
     * no store work.
     */
    private HostCredentials held(CredentialCache cache, String host)
    {
        HostCredentials held = cache.peek(host);
        if (held == null)
        {
            statistics.unresolvedByPrefetch.increment();
            if (LOG.isDebugEnabled())
                LOG.debug("Name not resolved by the prefetch, answered by policy sni={}", host);
        }
        return held;
    }

    /** The lookup's result if it is already there: the prefetch already waited its time for it. */
    private HostCredentials now(CredentialCache cache, String host)
    {
        CompletableFuture<HostCredentials> future = cache.resolve(host);
        if (future.isDone() && !future.isCompletedExceptionally())
            return future.join();
        statistics.loadTimeouts.increment();
        if (LOG.isDebugEnabled())
            LOG.debug("Prefetch gave up, not waiting sni={}", host);
        return null;
    }

    private HostCredentials await(CredentialCache cache, String host)
    {
        CompletableFuture<HostCredentials> future = cache.resolve(host);
        if (future.isDone())
            return future.isCompletedExceptionally() ? null : future.join();
        try
        {
            return future.get(lookupTimeoutMillis, TimeUnit.MILLISECONDS);
        }
        catch (TimeoutException x)
        {
            statistics.loadTimeouts.increment();
            if (LOG.isDebugEnabled())
                LOG.debug("Lookup timed out sni={} timeoutMillis={}", host, lookupTimeoutMillis);
            return null;
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            return null;
        }
        catch (Exception x)
        {
            return null;
        }
    }

    // ---- ACME: the prefetch's side (the key manager's is in resolve)

    /**
     * A tls-alpn-01 validation (a ClientHello offering {@code acme-tls/1}) for a host.
     *
     * @return a future of the engine answering it, null when it must be refused (no challenge
     *     pending for the host, or ACME off): such a connection never reaches the tenant path
     */
    CompletableFuture<SSLEngine> tlsAlpn01(String host)
    {
        OnDemandAcme a = acme;
        return a == null ? CompletableFuture.completedFuture(null) : a.tlsAlpn01(host);
    }

    /** @return a future of the http-01 key authorization of a token, null when none is pending or ACME is off */
    CompletableFuture<String> http01(String token)
    {
        OnDemandAcme a = acme;
        return a == null ? CompletableFuture.completedFuture(null) : a.http01(token);
    }

    /** @return whether ACME is on: validations are answered and names without a certificate ask for one */
    boolean isAcmeOn()
    {
        return acme != null;
    }

    /** @return whether a host the stores have no certificate for asks for one before its handshake goes on */
    boolean mayIssue(String host)
    {
        return acme != null && isHosted(host);
    }

    /** @return the longest a connection waits for a new certificate ({@code acme.waitMillis}); 0 while ACME is off */
    long getAcmeWaitMillis()
    {
        OnDemandAcme a = acme;
        return a == null ? 0 : a.getWaitMillis();
    }

    /**
     * Asks for a certificate for a host the stores have none for, and once it is issued (and this
     * node's caches have heard of it, see {@link OnDemandAcme}) looks the host up again. Never waits
     * on a thread.
     *
     * @param maxWaitMillis the longest to wait for the issuance
     * @return a future of the host's new credentials, null when none came in time (the unknown-host
     *     policy then answers); never failing
     */
    CompletableFuture<HostCredentials> issue(String host, long maxWaitMillis)
    {
        OnDemandAcme a = acme;
        if (a == null)
            return CompletableFuture.completedFuture(null);
        return a.issue(host, maxWaitMillis).thenCompose(issued ->
        {
            if (!issued)
                return CompletableFuture.<HostCredentials>completedFuture(null);
            Tables t = tables;
            if (t == null)
                return CompletableFuture.<HostCredentials>completedFuture(null);
            // The change event normally did this already; when it did not come in time, do it here.
            if (index != null)
                index.add(host);
            if (t.cache().peek(host) == null)
                t.cache().invalidate(host, 0);
            return t.cache().resolve(host);
        }).handle((credentials, failure) ->
        {
            if (credentials != null)
                a.countServedAfterIssuance();
            return failure == null ? credentials : null;
        });
    }

    /** The unknown-host decision, the only one. */
    private Outcome decide(String host, HostCredentials found)
    {
        if (found != null && isHosted(host))
            return Outcome.TENANT;
        if (sniRequired || policyRejects || defaultCredentials == null)
            return Outcome.REJECT;
        return Outcome.DEFAULT;
    }

    /** @return whether the host is hosted here; false for a policy that fails (counted, never thrown into TLS) */
    private boolean isHosted(String host)
    {
        if (hostedNames == null)
            return true;
        try
        {
            return hostedNames.isHosted(host);
        }
        catch (Throwable x)
        {
            statistics.keyManagerErrors.increment();
            if (LOG.isDebugEnabled())
                LOG.debug("Hosted names failed sni={}", host, x);
            return false;
        }
    }

    private Resolution count(String host, HostCredentials found, String why, ClientKeyTypes keyTypes)
    {
        Outcome outcome = decide(host, found);
        if (found != null && outcome != Outcome.TENANT)
        {
            statistics.notHosted.increment();
            why = "not hosted";
        }
        switch (outcome)
        {
            case TENANT -> statistics.servedDynamic.increment();
            case DEFAULT -> statistics.servedDefault.increment();
            default -> statistics.rejected.increment();
        }
        if (why != null && LOG.isDebugEnabled())
            LOG.debug("Handshake outcome={} sni={} reason={}", outcome, host, why);
        return switch (outcome)
        {
            case TENANT -> new Resolution(host, found, outcome, keyTypes);
            case DEFAULT -> new Resolution(host, defaultCredentials, outcome, keyTypes);
            default -> new Resolution(host, null, outcome, keyTypes);
        };
    }

    /**
     * @return the host name the client asked for, as ASCII, or null when it sent none (or a form
     *     JSSE cannot decode, which normalisation then rejects)
     */
    static String requestedHost(SSLSession session)
    {
        if (!(session instanceof ExtendedSSLSession extended))
            return null;
        List<SNIServerName> names = extended.getRequestedServerNames();
        if (names == null)
            return null;
        for (SNIServerName name : names)
        {
            if (name.getType() != StandardConstants.SNI_HOST_NAME)
                continue;
            if (name instanceof SNIHostName hostName)
                return hostName.getAsciiName();
            // Not decodable as a host name: hand back something normalize() will reject.
            return new String(name.getEncoded(), StandardCharsets.ISO_8859_1) + "\u0000";
        }
        return null;
    }

    /**
     * @return the credential an alias names, if it is still exactly that one (the default, or what
     *     L1 holds for its name); null otherwise
     */
    Credential byAlias(String alias)
    {
        if (defaultCredentials != null)
        {
            Credential held = defaultCredentials.byAlias(alias);
            if (held != null)
                return held;
        }
        String[] parts = alias.split("\\|");
        if (parts.length != 4)
            return null;
        Tables t = tables;
        HostCredentials held = t == null ? null : t.cache().peek(parts[1]);
        return held == null ? null : held.byAlias(alias);
    }

    // ---- changes and operations

    /** A stored name changed (or {@link ChangeFeed#EVICT_ALL}): drop what L1 holds of it. */
    void onChange(String name, long version)
    {
        Tables t = tables;
        if (t == null)
            return; // nothing is cached before the tables exist
        if (ChangeFeed.EVICT_ALL.equals(name))
            t.cache().invalidateAll();
        else
            t.cache().invalidate(name, version);
        OnDemandAcme a = acme;
        if (a != null)
            a.onChange(name);
    }

    /** Changes may have been missed: reload everything L1 holds, forget every unknown host. */
    void onChangesLost()
    {
        Tables t = tables;
        if (t != null)
            t.cache().refreshAll();
        OnDemandAcme a = acme;
        if (a != null)
            a.onChangesLost();
    }

    /** Drops this node's copy of a stored name: an exact host (normalised here) or {@code *.parent}. */
    void evict(String name)
    {
        Tables t = tables;
        if (t == null)
            return;
        CredentialCache cache = t.cache();
        String trimmed = name.trim();
        if (trimmed.startsWith("*."))
        {
            String parent = HostNames.normalize(trimmed.substring(2));
            if (parent != null)
                cache.invalidate("*." + parent, 0);
        }
        else
        {
            String host = HostNames.normalize(trimmed);
            if (host != null)
                cache.invalidate(host, 0);
        }
    }

    void evictAll()
    {
        Tables t = tables;
        if (t != null)
            t.cache().invalidateAll();
    }

    /** @return L1, for tests and the benchmarks, waiting for it to be built */
    CredentialCache cache()
    {
        return built.join().cache();
    }
}
