package dev.dynsni;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.Credential;
import dev.dynsni.core.CredentialParser;
import dev.dynsni.core.HostNames;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.Secrets;
import dev.dynsni.core.Setting;
import dev.dynsni.core.Settings;
import dev.dynsni.core.Stores;
import dev.dynsni.core.acme.AcmeChallenges;
import dev.dynsni.core.acme.AcmeService;
import dev.dynsni.core.acme.AcmePermissions;
import dev.dynsni.core.acme.OnDemandIssuance;
import dev.dynsni.core.store.CachingCertificateStore;
import dev.dynsni.core.store.JdbcCertificateStore;
import dev.dynsni.core.store.StoreCounters;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.ManagedOperation;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server {@link SslContextFactory} that needs no keystore: it chooses each connection's certificate
 * during the TLS handshake from the SNI host name, looking it up in an in-process cache (L1), then
 * Redis (L2, optional), then PostgreSQL (L3, the source of truth). Nothing is loaded at start, so
 * start time and memory do not depend on the number of hosts stored.
 *
 * <p>This class holds settings and lifecycle only. Every setting is defined once in {@link Setting}
 * (name, default, documentation) and set here with a JavaBean setter (Jetty XML {@code <Set>});
 * values are checked in {@link #doStart()}, and a bad value fails the start with a message naming
 * the property. At start it builds the {@link CertificateStore} (or uses the one given to
 * {@link #setCertificateStore(CertificateStore)}) and the {@link CertificateResolver} that answers
 * every handshake. Every stock {@code SslContextFactory.Server} setting (protocols, cipher suites,
 * session cache, {@code sniRequired}) keeps its meaning.</p>
 *
 * <p>Hosts without a certificate, clients without SNI and invalid SNI names get the
 * {@linkplain #setUnknownHostPolicy(String) unknown-host policy}: the default certificate
 * ({@code default}, when one is configured) or a failed handshake ({@code reject}). With
 * {@code sniRequired} every handshake without a tenant certificate fails. With
 * {@linkplain #setHostedNames(String) hostedNames=deployed} a host is also unknown when no running
 * context claims it ({@link #setDeployedNames(HostedNames)}), whatever the stores hold.</p>
 */
@ManagedObject("SslContextFactory choosing certificates by SNI at handshake time")
public class DynamicSniSslContextFactory extends SslContextFactory.Server
{
    private static final Logger LOG = LoggerFactory.getLogger(DynamicSniSslContextFactory.class);

    /** How long after start the host index first lists the stored names (the server's start goes first). */
    static final long HOST_INDEX_FIRST_BUILD_DELAY_MILLIS = 3000;

    /** Default TLS session lifetime: how long a resumed session may keep a removed certificate. */
    public static final int DEFAULT_SESSION_TIMEOUT_SECONDS = 3600;

    private final Settings settings = new Settings();
    private final DynamicSniStatistics statistics = new DynamicSniStatistics();
    private final AtomicBoolean rebuildPending = new AtomicBoolean();
    private HostedNames deployedNames;
    private CertificateStore configuredStore;
    private CertificateStore store;
    private Ticker ticker = Ticker.systemTicker();
    private ExecutorService cacheExecutor;
    private ScheduledExecutorService rebuildScheduler;
    private volatile CertificateResolver resolver;
    private volatile String engine = "JSSE";
    private HostIndex hostIndex;
    private final AcmeHandshakeStatistics acmeStatistics = new AcmeHandshakeStatistics();
    private AcmeChallenges configuredChallenges;
    private OnDemandIssuance configuredIssuance;
    private Function<String, CompletableFuture<Boolean>> acmePermission;
    private AcmeService acmeService;
    private ExecutorService acmePermissionExecutor;
    private volatile AcmePermissions acmePermissions;

    public DynamicSniSslContextFactory()
    {
        // Resumption skips the key manager: bound it to an hour rather than the JDK's 24 hours.
        setSslSessionTimeout(DEFAULT_SESSION_TIMEOUT_SECONDS);
        try
        {
            // Jetty only calls getKeyManagers(KeyStore) when some keystore is set: give it an empty one.
            KeyStore empty = KeyStore.getInstance("PKCS12");
            empty.load(null, null);
            setKeyStore(empty);
        }
        catch (Exception x)
        {
            throw new IllegalStateException("cannot create an empty PKCS12 keystore", x);
        }
    }

    // ---- lifecycle

    @Override
    protected void doStart() throws Exception
    {
        settings.validate();
        if (isSet(Setting.DEFAULT_CERTIFICATE) != isSet(Setting.DEFAULT_KEY))
            throw new IllegalStateException(Setting.DEFAULT_CERTIFICATE.property() + " and " + Setting.DEFAULT_KEY.property() + " must be set together (or both left empty)");
        HostedNames hostedNames = hostedNames();
        MasterKeys masterKeys = loadMasterKeys();
        Credential defaultCredential = loadDefaultCredential();
        store = configuredStore != null ? configuredStore : newCertificateStore();
        cacheExecutor = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> daemon(r, "dynsni-cache"));
        // The first parse of a fresh JVM loads BouncyCastle and the JDK's X.509 code: done now, in
        // parallel with the rest of the start, rather than on the first handshake.
        cacheExecutor.execute(CredentialParser::warmUp);
        if (isRebuildContextOnChange())
            rebuildScheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "dynsni-rebuild"));
        CertificateResolver.CacheSizing sizing = new CertificateResolver.CacheSizing(getCacheMaxEntries(), getCacheMaxBytes(), Duration.ofSeconds(getCacheRefreshSeconds()),
            getNegativeCacheMaxEntries(), Duration.ofSeconds(getNegativeCacheTtlSeconds()));
        engine = chooseEngine();
        // On Conscrypt, L1 holds every key in BoringSSL's form: no key conversion per handshake.
        UnaryOperator<Credential> engineForm = engine.startsWith(Conscrypts.PROVIDER) ? Conscrypts::withNativeKey : UnaryOperator.identity();
        HostIndex index = new HostIndex(store, feedConnected(store), HOST_INDEX_FIRST_BUILD_DELAY_MILLIS);
        hostIndex = index;
        statistics.setHostIndex(index);
        CertificateResolver resolver = new CertificateResolver(store, index, masterKeys, defaultCredential, "reject".equals(getUnknownHostPolicy()), hostedNames,
            isSniRequired(), getLookupTimeoutMillis(), sizing, statistics, cacheExecutor, ticker, engineForm);
        startAcme(resolver, masterKeys);
        store.setChangeListener(new CertificateStore.ChangeListener()
        {
            @Override
            public void onChange(String name, long version)
            {
                index.add(name); // first, so that no lookup from now on rules the name out
                resolver.onChange(name, version);
                // after L1: a request completed by another node's order then finds the certificate
                AcmeService acme = acmeService;
                if (acme != null)
                    acme.onCertificateChange(name);
                scheduleRebuild();
            }

            @Override
            public void onChangesLost()
            {
                index.rebuild();
                resolver.onChangesLost();
                scheduleRebuild();
            }
        });
        statistics.setStoreCounters(store.getCounters());
        store.start();
        // after the store: its start migrates the schema, ACME's tables included
        if (acmeService != null)
        {
            startAcmePermissions();
            acmeService.start();
        }
        this.resolver = resolver;
        addBean(store, false);
        addBean(statistics, false);
        super.doStart();
        LOG.info("Dynamic SNI ready engine={} store={} cacheMaxEntries={} cacheMaxBytes={} unknownHostPolicy={} hostedNames={} default={}", engine, store, getCacheMaxEntries(),
            getCacheMaxBytes(), getUnknownHostPolicy(), hostedNames == null ? getHostedNames() : hostedNames, defaultCredential == null ? "none" : defaultCredential);
    }

    @Override
    protected void doStop() throws Exception
    {
        super.doStop();
        resolver = null;
        if (hostIndex != null)
            hostIndex.stop();
        hostIndex = null;
        if (deployedNames != null && contains(deployedNames))
            removeBean(deployedNames);
        removeBean(statistics);
        removeBean(acmeStatistics);
        acmeStatistics.setService(null);
        if (acmeService != null)
            acmeService.stop();
        acmeService = null;
        if (acmePermissionExecutor != null)
            acmePermissionExecutor.shutdownNow();
        acmePermissionExecutor = null;
        acmePermissions = null;
        acmeStatistics.setPermissions(null);
        if (store != null)
        {
            removeBean(store);
            store.stop();
        }
        store = null;
        if (cacheExecutor != null)
            cacheExecutor.shutdownNow();
        if (rebuildScheduler != null)
            rebuildScheduler.shutdownNow();
        rebuildScheduler = null;
    }

    /** On Conscrypt, session tickets stay off: {@link Conscrypts#keepSessionTicketsOff} says why. */
    @Override
    public void customize(SSLEngine sslEngine)
    {
        super.customize(sslEngine);
        if (Conscrypts.isConscrypt(sslEngine))
            Conscrypts.keepSessionTicketsOff(sslEngine);
    }

    /**
     * ACME on when {@code acme.directoryUrl} is set, or when an embedding gave the two contracts
     * ({@link #setAcmeChallenges}, {@link #setOnDemandIssuance}): the resolver then answers
     * validations and asks for certificates of names that have none.
     */
    private void startAcme(CertificateResolver resolver, MasterKeys masterKeys)
    {
        AcmeChallenges challenges = configuredChallenges;
        OnDemandIssuance issuance = configuredIssuance;
        if (challenges == null && issuance == null)
        {
            if (!AcmeService.enabled(settings))
                return;
            acmeService = newAcmeService(masterKeys);
            acmeStatistics.setService(acmeService);
            challenges = acmeService;
            issuance = acmeService;
        }
        if (challenges == null || issuance == null)
            throw new IllegalStateException("ACME needs both the challenges and the issuance of one ACME service: " +
                (challenges == null ? "setAcmeChallenges" : "setOnDemandIssuance") + " was not given");
        resolver.setAcme(new OnDemandAcme(challenges, issuance, getAcmeWaitMillis(), acmeStatistics));
        addBean(acmeStatistics, false);
        LOG.info("ACME on directory={} challengeType={} waitMillis={}", getAcmeDirectoryUrl(), getAcmeChallengeType(), getAcmeWaitMillis());
    }

    /**
     * Builds the node's ACME service from the settings ({@link AcmeService#build}): its account,
     * orders, fleet leases and budgets and the shared challenges live in the PostgreSQL store's
     * schema, reached through the store's pool; a bad ACME setting fails the start, naming it.
     * Override to build it otherwise, or give the two contracts to {@link #setAcmeChallenges} and
     * {@link #setOnDemandIssuance}.
     */
    protected AcmeService newAcmeService(MasterKeys masterKeys)
    {
        JdbcCertificateStore jdbc = jdbcStore(store);
        if (jdbc == null)
            throw new IllegalStateException(Setting.ACME_DIRECTORY_URL.property() + " is set but the certificate store has no PostgreSQL tier (" + store +
                "): ACME keeps its account, orders and challenges in PostgreSQL; set " + Setting.JDBC_URL.property());
        Function<String, CompletableFuture<Boolean>> permission = acmePermission;
        if (permission == null)
        {
            // The table and ask endpoint policy needs the store's pool: made once the store started.
            acmePermissionExecutor = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000), r -> daemon(r, "dynsni-acme-permission"));
            permission = host ->
            {
                AcmePermissions p = acmePermissions;
                return p == null ? CompletableFuture.completedFuture(false) : p.allows(host);
            };
        }
        return AcmeService.build(settings, jdbc, masterKeys, this::storesHealthy, permission);
    }

    /**
     * The default permission policy ({@link AcmePermissions}: the {@code acme_allowed} table, then
     * the ask endpoint; answers cached, checks rate-limited), on the store's pool, which exists
     * once the store started. A bad {@code acme.askUrl} fails the start here, naming it.
     */
    private void startAcmePermissions()
    {
        if (acmePermissionExecutor == null)
            return;
        JdbcCertificateStore jdbc = jdbcStore(store);
        try
        {
            acmePermissions = new AcmePermissions(jdbc.getDataSource(), getJdbcSchema(), getAcmeAskUrl(), Duration.ofSeconds(getAcmePermissionCacheSeconds()),
                getAcmePermissionChecksPerSecond(), acmePermissionExecutor, Ticker.systemTicker());
        }
        catch (IllegalArgumentException x)
        {
            throw new IllegalStateException(x.getMessage(), x);
        }
        acmeStatistics.setPermissions(acmePermissions);
        // dynsni allow / disallow anywhere in the fleet: every node forgets its remembered answers
        AcmePermissions permissions = acmePermissions;
        acmeService.onPermissionRulesChanged(permissions::forgetAll);
    }

    /** @return the PostgreSQL tier of a store: itself, or the source behind a shared cache; null for none */
    private static JdbcCertificateStore jdbcStore(CertificateStore store)
    {
        if (store instanceof JdbcCertificateStore jdbc)
            return jdbc;
        if (store instanceof CachingCertificateStore caching && caching.getSource() instanceof JdbcCertificateStore jdbc)
            return jdbc;
        return null;
    }

    /**
     * @return whether ACME may order now: every tier reachable and PostgreSQL's change feed
     *     listening (an order whose certificate no node would hear of is not placed)
     */
    private boolean storesHealthy()
    {
        CertificateStore s = store;
        if (s == null)
            return false;
        for (StoreCounters counters : s.getCounters())
        {
            if (!counters.isAvailable())
                return false;
            if ("postgres".equals(counters.getTier()) && !counters.isFeedConnected())
                return false;
        }
        return true;
    }

    /** @return whether ACME answers validations and issues certificates (set, or started) */
    boolean isAcmeConfigured()
    {
        return configuredChallenges != null || AcmeService.enabled(settings);
    }

    /**
     * With {@code jetty.sslContext.provider=Conscrypt}: Conscrypt (registered here unless Jetty's ALPN
     * processor already did) when its native library loads on this machine; otherwise the JDK's
     * engine, said in one warning, so that the server still starts.
     *
     * @return the engine the handshakes will run on
     */
    private String chooseEngine()
    {
        String provider = getProvider();
        if (provider == null)
            return "JSSE";
        if (!Conscrypts.PROVIDER.equals(provider))
            return provider;
        String unavailable;
        try
        {
            unavailable = Conscrypts.install();
        }
        catch (LinkageError x)
        {
            unavailable = "the Conscrypt jar is not on the class path (" + x + ")";
        }
        if (unavailable == null)
            return "Conscrypt " + Conscrypts.version();
        LOG.warn("TLS runs on the JDK's engine (JSSE), not Conscrypt: jetty.sslContext.provider=Conscrypt but {}", unavailable);
        setProvider(null);
        return "JSSE";
    }

    /**
     * @return what the resolver asks whether a name is hosted: null with {@code hostedNames=stored};
     *     with {@code deployed}, the {@linkplain #setDeployedNames(HostedNames) deployed names}, added as
     *     a managed bean so that they start (and watch the contexts) before any handshake
     */
    private HostedNames hostedNames()
    {
        if (!"deployed".equals(getHostedNames()))
            return null;
        if (deployedNames == null)
            throw new IllegalStateException(Setting.HOSTED_NAMES.property() + "=deployed but this factory has no deployed names: give it a " +
                DeployedHostNames.class.getSimpleName() + " watching the server (setDeployedNames), as the dynamic-sni module's XML does");
        addBean(deployedNames, true);
        return deployedNames;
    }

    /**
     * Builds the stores from the settings (see {@link Stores#build(Settings)}); override to supply
     * other tiers, or give a store to {@link #setCertificateStore(CertificateStore)}.
     */
    protected CertificateStore newCertificateStore()
    {
        return Stores.build(settings);
    }

    @Override
    protected KeyManager[] getKeyManagers(KeyStore keyStore)
    {
        return new KeyManager[]{new SniKeyManager(resolver, statistics)};
    }

    private MasterKeys loadMasterKeys()
    {
        MasterKeys keys = Stores.masterKeys(settings);
        if (keys == null)
            LOG.warn("No master key configured ({}): private keys are stored and cached unencrypted; encrypted rows will not be served", Setting.MASTER_KEY_FILE.property());
        else
            LOG.info("Private keys encrypted at rest masterKeyId={} readableKeyIds={}", keys.currentKeyId(), keys.keyIds());
        return keys;
    }

    private Credential loadDefaultCredential() throws Exception
    {
        Path chainPath = settings.path(Setting.DEFAULT_CERTIFICATE);
        Path keyPath = settings.path(Setting.DEFAULT_KEY);
        if (chainPath == null)
        {
            if (!"reject".equals(getUnknownHostPolicy()))
                LOG.info("No default certificate configured: handshakes for unknown hosts and without SNI will fail");
            return null;
        }
        for (Path path : new Path[]{chainPath, keyPath})
        {
            if (!Files.isReadable(path))
                throw new IllegalStateException("default certificate file " + path.toAbsolutePath() + " does not exist or is not readable (" +
                    Setting.DEFAULT_CERTIFICATE.property() + " / .key)");
        }
        try
        {
            Credential credential = CredentialParser.parse("default", Files.readString(chainPath, StandardCharsets.UTF_8), Files.readString(keyPath, StandardCharsets.UTF_8), 0);
            CredentialParser.checkValidity(credential, System.currentTimeMillis());
            return new Credential("dynsni-default", credential.getKeyType(), credential.getChain(), credential.getPrivateKey(), credential.getFingerprint(), 0);
        }
        catch (InvalidCredentialException x)
        {
            throw new IllegalStateException("default certificate " + chainPath + " / " + keyPath + " cannot be served: " + x.getMessage());
        }
    }

    /**
     * With {@code rebuildContextOnChange}, a change rebuilds the SSLContext (debounced), which drops
     * every TLS session and ticket key: no client can resume a session of a removed or replaced
     * certificate. Without it, resumption is bounded by the session timeout.
     */
    private void scheduleRebuild()
    {
        ScheduledExecutorService scheduler = rebuildScheduler;
        if (scheduler == null || !rebuildPending.compareAndSet(false, true))
            return;
        try
        {
            scheduler.schedule(() ->
            {
                rebuildPending.set(false);
                try
                {
                    reload(f -> {});
                    statistics.contextRebuilds.increment();
                    LOG.info("SSL context rebuilt after a certificate change: existing TLS sessions cannot be resumed");
                }
                catch (Throwable x)
                {
                    LOG.warn("SSL context rebuild failed reason={}", x.toString());
                }
            }, getRebuildDelayMillis(), TimeUnit.MILLISECONDS);
        }
        catch (RejectedExecutionException x)
        {
            rebuildPending.set(false);
        }
    }

    /** @return whether the store's change feed is connected: PostgreSQL's LISTEN when there is one; else the store reports every change as it happens */
    private static java.util.function.BooleanSupplier feedConnected(CertificateStore store)
    {
        for (dev.dynsni.core.store.StoreCounters counters : store.getCounters())
        {
            if ("postgres".equals(counters.getTier()))
                return counters::isFeedConnected;
        }
        return () -> true;
    }

    private static Thread daemon(Runnable task, String name)
    {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    /** @return the index of stored names; null while stopped */
    HostIndex getHostIndex()
    {
        return hostIndex;
    }

    /** @return the resolver every handshake asks; null while stopped */
    CertificateResolver getResolver()
    {
        return resolver;
    }

    // ---- operations

    /**
     * Drops this node's cached copy of a stored name (an exact host or {@code *.parent}); the next
     * handshake reads the stores again.
     */
    @ManagedOperation(value = "Drops this node's cached certificate of a host or wildcard", impact = "ACTION")
    public void evict(@Name(value = "host", description = "host name or *.parent") String host)
    {
        CertificateResolver r = resolver;
        if (r != null && host != null)
            r.evict(host);
    }

    @ManagedOperation(value = "Drops every certificate cached by this node", impact = "ACTION")
    public void evictAll()
    {
        CertificateResolver r = resolver;
        if (r != null)
            r.evictAll();
    }

    /** @return the TLS engine the handshakes run on: {@code JSSE} or {@code Conscrypt <version>} */
    @ManagedAttribute("TLS engine the handshakes run on (JSSE or Conscrypt)")
    public String getEngine()
    {
        return engine;
    }

    @ManagedAttribute("ACME challenges answered and issuance asked for by handshakes")
    public AcmeHandshakeStatistics getAcmeStatistics()
    {
        return acmeStatistics;
    }

    @ManagedAttribute("Resolution statistics")
    public DynamicSniStatistics getStatistics()
    {
        return statistics;
    }

    /**
     * Resolves a host as a handshake would, without a handshake: starts a load on a miss (to warm
     * the caches).
     *
     * @param host a host name (normalised here)
     * @return a future of the credential the host would be served for the key type, null if none
     */
    public CompletableFuture<Credential> prefetch(String host, String keyType)
    {
        String normalized = HostNames.normalize(host);
        CertificateResolver r = resolver;
        if (normalized == null || r == null)
            return CompletableFuture.completedFuture(null);
        return r.lookup(normalized).thenApply(c -> c == null ? null : c.select(keyType, System.currentTimeMillis()));
    }

    // ---- configuration: every value is a Setting (name, default, documentation defined there)

    /**
     * Uses the given store instead of building PostgreSQL/Redis stores from the JDBC and Redis
     * settings; it is started and stopped with this factory.
     */
    public void setCertificateStore(CertificateStore certificateStore)
    {
        checkStopped();
        this.configuredStore = certificateStore;
    }

    public CertificateStore getCertificateStore()
    {
        return configuredStore != null ? configuredStore : store;
    }

    /**
     * The names this server hosts when {@code hostedNames=deployed}: the module's XML gives a
     * {@link DeployedHostNames} watching the server's contexts; an embedded server may give any
     * {@link HostedNames} (its contract: from memory, never blocking). Started and stopped with this
     * factory when it is a {@code LifeCycle}; ignored with {@code hostedNames=stored}.
     */
    public void setDeployedNames(HostedNames deployedNames)
    {
        checkStopped();
        this.deployedNames = deployedNames;
    }

    public HostedNames getDeployedNames()
    {
        return deployedNames;
    }

    /**
     * The ACME challenges this node answers (tls-alpn-01 on the TLS port, http-01 through
     * {@link AcmeChallengeHandler}), for an embedding that runs its own ACME service; with
     * {@code acme.directoryUrl} set and none given, the factory builds one. Give
     * {@link #setOnDemandIssuance} too.
     */
    public void setAcmeChallenges(AcmeChallenges challenges)
    {
        checkStopped();
        this.configuredChallenges = challenges;
    }

    /**
     * The ACME permission policy of the service the factory builds: whether a name may be ordered
     * on demand. Default: {@link AcmePermissions} (the {@code acme_allowed} table of the store's
     * schema, {@code dynsni allow}, then {@code acme.askUrl}).
     */
    public void setAcmePermission(Function<String, CompletableFuture<Boolean>> permission)
    {
        checkStopped();
        this.acmePermission = permission;
    }

    /** @return the ACME service the factory built and runs; null while ACME is off or given by the embedding */
    public AcmeService getAcmeService()
    {
        return acmeService;
    }

    /** What a handshake for a name without a certificate asks for one; see {@link #setAcmeChallenges}. */
    public void setOnDemandIssuance(OnDemandIssuance issuance)
    {
        checkStopped();
        this.configuredIssuance = issuance;
    }

    /** For tests: the clock of the in-process caches. */
    public void setTicker(Ticker ticker)
    {
        checkStopped();
        this.ticker = ticker;
    }

    private void set(Setting setting, Object value)
    {
        checkStopped();
        settings.set(setting, value);
    }

    private boolean isSet(Setting setting)
    {
        return settings.isSet(setting);
    }

    private void checkStopped()
    {
        if (isStarted() || isStarting())
            throw new IllegalStateException("Cannot configure " + getClass().getSimpleName() + " while it is started");
    }

    @ManagedAttribute("PostgreSQL JDBC URL (credentials redacted)")
    public String getJdbcUrl()
    {
        return Secrets.redactUrl(settings.string(Setting.JDBC_URL));
    }

    public void setJdbcUrl(String jdbcUrl)
    {
        set(Setting.JDBC_URL, jdbcUrl);
    }

    @ManagedAttribute("PostgreSQL user")
    public String getJdbcUser()
    {
        return settings.string(Setting.JDBC_USER);
    }

    public void setJdbcUser(String jdbcUser)
    {
        set(Setting.JDBC_USER, jdbcUser);
    }

    public void setJdbcPassword(String jdbcPassword)
    {
        set(Setting.JDBC_PASSWORD, jdbcPassword);
    }

    /** @param file a file holding the PostgreSQL password (used when the password property is empty) */
    public void setJdbcPasswordFile(String file)
    {
        set(Setting.JDBC_PASSWORD_FILE, file);
    }

    @ManagedAttribute("PostgreSQL schema of the certificate table")
    public String getJdbcSchema()
    {
        return settings.string(Setting.JDBC_SCHEMA);
    }

    public void setJdbcSchema(String jdbcSchema)
    {
        set(Setting.JDBC_SCHEMA, jdbcSchema);
    }

    @ManagedAttribute("PostgreSQL connection pool size")
    public int getJdbcPoolSize()
    {
        return settings.intValue(Setting.JDBC_POOL_SIZE);
    }

    public void setJdbcPoolSize(int jdbcPoolSize)
    {
        set(Setting.JDBC_POOL_SIZE, jdbcPoolSize);
    }

    @ManagedAttribute("PostgreSQL connect and query timeout, ms")
    public long getJdbcTimeoutMillis()
    {
        return settings.longValue(Setting.JDBC_TIMEOUT_MILLIS);
    }

    public void setJdbcTimeoutMillis(long jdbcTimeoutMillis)
    {
        set(Setting.JDBC_TIMEOUT_MILLIS, jdbcTimeoutMillis);
    }

    @ManagedAttribute("Redis address (empty: no Redis tier)")
    public String getRedisAddress()
    {
        return Secrets.redactUrl(settings.string(Setting.REDIS_ADDRESS));
    }

    public void setRedisAddress(String redisAddress)
    {
        set(Setting.REDIS_ADDRESS, redisAddress);
    }

    @ManagedAttribute("How Redis runs: single, cluster or sentinel")
    public String getRedisMode()
    {
        return settings.choice(Setting.REDIS_MODE);
    }

    /** @param redisMode single, cluster (redis.address lists seed nodes) or sentinel (redis.address lists the sentinels) */
    public void setRedisMode(String redisMode)
    {
        set(Setting.REDIS_MODE, redisMode);
    }

    @ManagedAttribute("The master name the sentinels monitor (redis.mode=sentinel)")
    public String getRedisSentinelMaster()
    {
        return settings.string(Setting.REDIS_SENTINEL_MASTER);
    }

    public void setRedisSentinelMaster(String redisSentinelMaster)
    {
        set(Setting.REDIS_SENTINEL_MASTER, redisSentinelMaster);
    }

    public void setRedisUser(String redisUser)
    {
        set(Setting.REDIS_USER, redisUser);
    }

    public void setRedisPassword(String redisPassword)
    {
        set(Setting.REDIS_PASSWORD, redisPassword);
    }

    /** @param file a file holding the Redis password (used when the password property is empty) */
    public void setRedisPasswordFile(String file)
    {
        set(Setting.REDIS_PASSWORD_FILE, file);
    }

    @ManagedAttribute("CA certificates (PEM) trusted for rediss://")
    public String getRedisCaFile()
    {
        return settings.string(Setting.REDIS_CA_FILE);
    }

    /** @param redisCaFile PEM file of CA certificates trusted for a {@code rediss://} address */
    public void setRedisCaFile(String redisCaFile)
    {
        set(Setting.REDIS_CA_FILE, redisCaFile);
    }

    @ManagedAttribute("Prefix of every Redis key")
    public String getRedisKeyPrefix()
    {
        return settings.string(Setting.REDIS_KEY_PREFIX);
    }

    public void setRedisKeyPrefix(String redisKeyPrefix)
    {
        set(Setting.REDIS_KEY_PREFIX, redisKeyPrefix);
    }

    @ManagedAttribute("TTL of a certificate in Redis, seconds")
    public long getRedisTtlSeconds()
    {
        return settings.longValue(Setting.REDIS_TTL_SECONDS);
    }

    public void setRedisTtlSeconds(long redisTtlSeconds)
    {
        set(Setting.REDIS_TTL_SECONDS, redisTtlSeconds);
    }

    @ManagedAttribute("TTL of a 'no certificate' entry in Redis, seconds")
    public long getRedisNegativeTtlSeconds()
    {
        return settings.longValue(Setting.REDIS_NEGATIVE_TTL_SECONDS);
    }

    public void setRedisNegativeTtlSeconds(long redisNegativeTtlSeconds)
    {
        set(Setting.REDIS_NEGATIVE_TTL_SECONDS, redisNegativeTtlSeconds);
    }

    @ManagedAttribute("Most 'no certificate' entries this node writes to Redis per negative TTL")
    public long getRedisMaxNegativeEntries()
    {
        return settings.longValue(Setting.REDIS_MAX_NEGATIVE_ENTRIES);
    }

    public void setRedisMaxNegativeEntries(long redisMaxNegativeEntries)
    {
        set(Setting.REDIS_MAX_NEGATIVE_ENTRIES, redisMaxNegativeEntries);
    }

    @ManagedAttribute("Redis command timeout, ms")
    public long getRedisTimeoutMillis()
    {
        return settings.longValue(Setting.REDIS_TIMEOUT_MILLIS);
    }

    public void setRedisTimeoutMillis(long redisTimeoutMillis)
    {
        set(Setting.REDIS_TIMEOUT_MILLIS, redisTimeoutMillis);
    }

    @ManagedAttribute("Most Redis connections of this node")
    public int getRedisPoolSize()
    {
        return settings.intValue(Setting.REDIS_POOL_SIZE);
    }

    public void setRedisPoolSize(int redisPoolSize)
    {
        set(Setting.REDIS_POOL_SIZE, redisPoolSize);
    }

    @ManagedAttribute("Maximum hosts held in the in-process cache")
    public long getCacheMaxEntries()
    {
        return settings.longValue(Setting.CACHE_MAX_ENTRIES);
    }

    public void setCacheMaxEntries(long cacheMaxEntries)
    {
        set(Setting.CACHE_MAX_ENTRIES, cacheMaxEntries);
    }

    @ManagedAttribute("Most memory the in-process cache may hold, in estimated bytes")
    public long getCacheMaxBytes()
    {
        return settings.longValue(Setting.CACHE_MAX_BYTES);
    }

    public void setCacheMaxBytes(long cacheMaxBytes)
    {
        set(Setting.CACHE_MAX_BYTES, cacheMaxBytes);
    }

    @ManagedAttribute("Seconds after which a cached certificate is reloaded in the background")
    public long getCacheRefreshSeconds()
    {
        return settings.longValue(Setting.CACHE_REFRESH_SECONDS);
    }

    public void setCacheRefreshSeconds(long cacheRefreshSeconds)
    {
        set(Setting.CACHE_REFRESH_SECONDS, cacheRefreshSeconds);
    }

    @ManagedAttribute("Maximum unknown hosts remembered")
    public long getNegativeCacheMaxEntries()
    {
        return settings.longValue(Setting.NEGATIVE_CACHE_MAX_ENTRIES);
    }

    public void setNegativeCacheMaxEntries(long negativeCacheMaxEntries)
    {
        set(Setting.NEGATIVE_CACHE_MAX_ENTRIES, negativeCacheMaxEntries);
    }

    @ManagedAttribute("Seconds an unknown host is remembered")
    public long getNegativeCacheTtlSeconds()
    {
        return settings.longValue(Setting.NEGATIVE_CACHE_TTL_SECONDS);
    }

    public void setNegativeCacheTtlSeconds(long negativeCacheTtlSeconds)
    {
        set(Setting.NEGATIVE_CACHE_TTL_SECONDS, negativeCacheTtlSeconds);
    }

    @ManagedAttribute("Longest a handshake waits for a certificate lookup, ms")
    public long getLookupTimeoutMillis()
    {
        return settings.longValue(Setting.LOOKUP_TIMEOUT_MILLIS);
    }

    public void setLookupTimeoutMillis(long lookupTimeoutMillis)
    {
        set(Setting.LOOKUP_TIMEOUT_MILLIS, lookupTimeoutMillis);
    }

    @ManagedAttribute("Default certificate chain (PEM file)")
    public String getDefaultCertificatePath()
    {
        return settings.string(Setting.DEFAULT_CERTIFICATE);
    }

    public void setDefaultCertificatePath(String defaultCertificatePath)
    {
        set(Setting.DEFAULT_CERTIFICATE, defaultCertificatePath);
    }

    @ManagedAttribute("Default certificate private key (PEM file)")
    public String getDefaultKeyPath()
    {
        return settings.string(Setting.DEFAULT_KEY);
    }

    public void setDefaultKeyPath(String defaultKeyPath)
    {
        set(Setting.DEFAULT_KEY, defaultKeyPath);
    }

    @ManagedAttribute("What unknown hosts get: default or reject")
    public String getUnknownHostPolicy()
    {
        return settings.choice(Setting.UNKNOWN_HOST_POLICY);
    }

    /**
     * @param policy {@code default} (serve the default certificate when one is configured) or
     *               {@code reject} (fail the handshake)
     * @throws IllegalArgumentException for any other word
     */
    public void setUnknownHostPolicy(String policy)
    {
        set(Setting.UNKNOWN_HOST_POLICY, policy);
    }

    @ManagedAttribute("Which names are hosted: stored (every stored name) or deployed (names claimed by running contexts)")
    public String getHostedNames()
    {
        return settings.choice(Setting.HOSTED_NAMES);
    }

    /**
     * @param hostedNames {@code stored} (every name with a stored certificate is hosted) or
     *                    {@code deployed} (only the {@linkplain #setDeployedNames(HostedNames) deployed
     *                    names}; any other name gets the unknown-host policy)
     * @throws IllegalArgumentException for any other word
     */
    public void setHostedNames(String hostedNames)
    {
        set(Setting.HOSTED_NAMES, hostedNames);
    }

    @ManagedAttribute("Current master key file (encrypts private keys at rest)")
    public String getMasterKeyFile()
    {
        return settings.string(Setting.MASTER_KEY_FILE);
    }

    /**
     * @param masterKeyFile a file holding the 256-bit key that encrypts private keys at rest
     *                      (readable by the owner only); empty for none
     */
    public void setMasterKeyFile(String masterKeyFile)
    {
        set(Setting.MASTER_KEY_FILE, masterKeyFile);
    }

    @ManagedAttribute("Previous master key files, still read during a rotation")
    public String getPreviousMasterKeyFiles()
    {
        return settings.string(Setting.PREVIOUS_MASTER_KEY_FILES);
    }

    /** @param files comma-separated key files still accepted for reading while rows are re-encrypted */
    public void setPreviousMasterKeyFiles(String files)
    {
        set(Setting.PREVIOUS_MASTER_KEY_FILES, files);
    }

    @ManagedAttribute("Whether a certificate change rebuilds the SSL context, ending resumption of old sessions")
    public boolean isRebuildContextOnChange()
    {
        return settings.booleanValue(Setting.REBUILD_CONTEXT_ON_CHANGE);
    }

    public void setRebuildContextOnChange(boolean rebuildContextOnChange)
    {
        set(Setting.REBUILD_CONTEXT_ON_CHANGE, rebuildContextOnChange);
    }

    @ManagedAttribute("Debounce delay of SSL context rebuilds, ms")
    public long getRebuildDelayMillis()
    {
        return settings.longValue(Setting.REBUILD_DELAY_MILLIS);
    }

    public void setRebuildDelayMillis(long rebuildDelayMillis)
    {
        set(Setting.REBUILD_DELAY_MILLIS, rebuildDelayMillis);
    }

    @ManagedAttribute("ACME directory URL; empty: ACME off")
    public String getAcmeDirectoryUrl()
    {
        return settings.string(Setting.ACME_DIRECTORY_URL);
    }

    /** @see Setting#ACME_DIRECTORY_URL */
    public void setAcmeDirectoryUrl(String value)
    {
        set(Setting.ACME_DIRECTORY_URL, value);
    }

    @ManagedAttribute("Contact e-mail of the ACME account")
    public String getAcmeEmail()
    {
        return settings.string(Setting.ACME_EMAIL);
    }

    /** @see Setting#ACME_EMAIL */
    public void setAcmeEmail(String value)
    {
        set(Setting.ACME_EMAIL, value);
    }

    @ManagedAttribute("PEM file trusted for the ACME directory's HTTPS")
    public String getAcmeCaFile()
    {
        return settings.string(Setting.ACME_CA_FILE);
    }

    /** @see Setting#ACME_CA_FILE */
    public void setAcmeCaFile(String value)
    {
        set(Setting.ACME_CA_FILE, value);
    }

    @ManagedAttribute("Permission endpoint asked before an order (2xx allows)")
    public String getAcmeAskUrl()
    {
        return settings.string(Setting.ACME_ASK_URL);
    }

    /** @see Setting#ACME_ASK_URL */
    public void setAcmeAskUrl(String value)
    {
        set(Setting.ACME_ASK_URL, value);
    }

    @ManagedAttribute("ACME challenge answered: tls-alpn-01 or http-01")
    public String getAcmeChallengeType()
    {
        return settings.choice(Setting.ACME_CHALLENGE_TYPE);
    }

    /** @see Setting#ACME_CHALLENGE_TYPE */
    public void setAcmeChallengeType(String value)
    {
        set(Setting.ACME_CHALLENGE_TYPE, value);
    }

    @ManagedAttribute("Key of issued certificates: ec or rsa")
    public String getAcmeKeyType()
    {
        return settings.choice(Setting.ACME_KEY_TYPE);
    }

    /** @see Setting#ACME_KEY_TYPE */
    public void setAcmeKeyType(String value)
    {
        set(Setting.ACME_KEY_TYPE, value);
    }

    @ManagedAttribute("Longest a first connection waits for its new certificate, ms")
    public long getAcmeWaitMillis()
    {
        return settings.longValue(Setting.ACME_WAIT_MILLIS);
    }

    /** @see Setting#ACME_WAIT_MILLIS */
    public void setAcmeWaitMillis(long value)
    {
        set(Setting.ACME_WAIT_MILLIS, value);
    }

    @ManagedAttribute("How long a permission answer is remembered, s")
    public long getAcmePermissionCacheSeconds()
    {
        return settings.longValue(Setting.ACME_PERMISSION_CACHE_SECONDS);
    }

    /** @see Setting#ACME_PERMISSION_CACHE_SECONDS */
    public void setAcmePermissionCacheSeconds(long value)
    {
        set(Setting.ACME_PERMISSION_CACHE_SECONDS, value);
    }

    @ManagedAttribute("Most permission checks per second on this node")
    public long getAcmePermissionChecksPerSecond()
    {
        return settings.longValue(Setting.ACME_PERMISSION_CHECKS_PER_SECOND);
    }

    /** @see Setting#ACME_PERMISSION_CHECKS_PER_SECOND */
    public void setAcmePermissionChecksPerSecond(long value)
    {
        set(Setting.ACME_PERMISSION_CHECKS_PER_SECOND, value);
    }

    @ManagedAttribute("Most ACME orders the fleet starts per hour")
    public long getAcmeMaxOrdersPerHour()
    {
        return settings.longValue(Setting.ACME_MAX_ORDERS_PER_HOUR);
    }

    /** @see Setting#ACME_MAX_ORDERS_PER_HOUR */
    public void setAcmeMaxOrdersPerHour(long value)
    {
        set(Setting.ACME_MAX_ORDERS_PER_HOUR, value);
    }

    @ManagedAttribute("Most ACME orders the fleet starts per registered domain per week")
    public long getAcmeMaxOrdersPerDomainPerWeek()
    {
        return settings.longValue(Setting.ACME_MAX_ORDERS_PER_DOMAIN_PER_WEEK);
    }

    /** @see Setting#ACME_MAX_ORDERS_PER_DOMAIN_PER_WEEK */
    public void setAcmeMaxOrdersPerDomainPerWeek(long value)
    {
        set(Setting.ACME_MAX_ORDERS_PER_DOMAIN_PER_WEEK, value);
    }

    @ManagedAttribute("Most ACME orders this node runs at once")
    public int getAcmeMaxConcurrentOrders()
    {
        return settings.intValue(Setting.ACME_MAX_CONCURRENT_ORDERS);
    }

    /** @see Setting#ACME_MAX_CONCURRENT_ORDERS */
    public void setAcmeMaxConcurrentOrders(int value)
    {
        set(Setting.ACME_MAX_CONCURRENT_ORDERS, value);
    }

    @ManagedAttribute("Longest one ACME order may take, s")
    public long getAcmeOrderTimeoutSeconds()
    {
        return settings.longValue(Setting.ACME_ORDER_TIMEOUT_SECONDS);
    }

    /** @see Setting#ACME_ORDER_TIMEOUT_SECONDS */
    public void setAcmeOrderTimeoutSeconds(long value)
    {
        set(Setting.ACME_ORDER_TIMEOUT_SECONDS, value);
    }

    @ManagedAttribute("Wait before a failed name is ordered again (doubling), s")
    public long getAcmeRetrySeconds()
    {
        return settings.longValue(Setting.ACME_RETRY_SECONDS);
    }

    /** @see Setting#ACME_RETRY_SECONDS */
    public void setAcmeRetrySeconds(long value)
    {
        set(Setting.ACME_RETRY_SECONDS, value);
    }

    @ManagedAttribute("How often the renewal leader looks for certificates to renew, s")
    public long getAcmeRenewalIntervalSeconds()
    {
        return settings.longValue(Setting.ACME_RENEWAL_INTERVAL_SECONDS);
    }

    /** @see Setting#ACME_RENEWAL_INTERVAL_SECONDS */
    public void setAcmeRenewalIntervalSeconds(long value)
    {
        set(Setting.ACME_RENEWAL_INTERVAL_SECONDS, value);
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x[jdbc=%s, redis=%s, policy=%s]", getClass().getSimpleName(), hashCode(), getJdbcUrl(), getRedisAddress(), getUnknownHostPolicy());
    }
}
