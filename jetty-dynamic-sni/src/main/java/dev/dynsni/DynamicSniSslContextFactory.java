package dev.dynsni;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.dynsni.internal.CachingCertificateStore;
import dev.dynsni.internal.CredentialParser;
import dev.dynsni.internal.HostNames;
import dev.dynsni.internal.InvalidCredentialException;
import dev.dynsni.internal.JdbcCertificateStore;
import dev.dynsni.internal.MasterKeys;
import dev.dynsni.internal.RedisCertificateStore;
import dev.dynsni.internal.Secrets;
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
 * <p>Configure it with the setters (Jetty XML {@code <Set>} works for all of them), or give it a
 * custom {@link CertificateStore}. Every stock {@code SslContextFactory.Server} setting (protocols,
 * cipher suites, session cache, {@code sniRequired}) keeps its meaning. Values are validated in
 * {@link #doStart()}; a bad value fails the start with a message naming the property.</p>
 *
 * <p>Hosts without a certificate, clients without SNI and invalid SNI names are handled by the
 * {@linkplain #setUnknownHostPolicy(String) unknown-host policy}: serve the default certificate
 * ({@code default}, when one is configured) or fail the handshake ({@code reject}). With
 * {@code sniRequired} every handshake without a tenant certificate fails.</p>
 */
@ManagedObject("SslContextFactory choosing certificates by SNI at handshake time")
public class DynamicSniSslContextFactory extends SslContextFactory.Server
{
    private static final Logger LOG = LoggerFactory.getLogger(DynamicSniSslContextFactory.class);

    /** What a handshake gets when no tenant certificate covers its SNI host. */
    public enum UnknownHostPolicy
    {
        /** Serve the default certificate if one is configured, else fail the handshake. */
        DEFAULT,
        /** Fail the handshake. */
        REJECT
    }

    private final DynamicSniStatistics statistics = new DynamicSniStatistics();
    private CertificateStore certificateStore;
    private CertificateStore ownedStore;
    private CredentialCache credentialCache;
    private ExecutorService cacheExecutor;
    private Credential defaultCredential;
    private Ticker ticker = Ticker.systemTicker();
    private MasterKeys masterKeys;
    private java.util.concurrent.ScheduledExecutorService rebuildScheduler;
    private final java.util.concurrent.atomic.AtomicBoolean rebuildPending = new java.util.concurrent.atomic.AtomicBoolean();

    private String jdbcUrl;
    private String jdbcUser;
    private String jdbcPassword;
    private String jdbcSchema = "dynsni";
    private int jdbcPoolSize = 4;
    private long jdbcTimeoutMillis = 2000;
    private String redisAddress;
    private String redisUser;
    private String redisPassword;
    private String redisKeyPrefix = "dynsni:";
    private long redisTtlSeconds = 300;
    private long redisNegativeTtlSeconds = 30;
    private long redisTimeoutMillis = 500;
    private int redisPoolSize = 32;
    private long cacheMaxEntries = 10_000;
    private long cacheRefreshSeconds = 300;
    private long negativeCacheMaxEntries = 10_000;
    private long negativeCacheTtlSeconds = 10;
    private long lookupTimeoutMillis = 3000;
    private String defaultCertificatePath;
    private String defaultKeyPath;
    private String unknownHostPolicy = "default";
    private String masterKeyFile;
    private String previousMasterKeyFiles;
    private String jdbcPasswordFile;
    private String redisPasswordFile;
    private String redisCaFile;
    private boolean rebuildContextOnChange;
    private long rebuildDelayMillis = 250;
    private UnknownHostPolicy unknownHostPolicyValue = UnknownHostPolicy.DEFAULT;

    /** Default TLS session lifetime: how long a resumed session may keep a removed certificate. */
    public static final int DEFAULT_SESSION_TIMEOUT_SECONDS = 3600;

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

    /**
     * Uses the given store instead of building PostgreSQL/Redis stores from the JDBC and Redis
     * settings. A store that is a Jetty {@code LifeCycle} is started and stopped with this factory.
     */
    public void setCertificateStore(CertificateStore certificateStore)
    {
        checkStopped();
        this.certificateStore = certificateStore;
    }

    public CertificateStore getCertificateStore()
    {
        return certificateStore != null ? certificateStore : ownedStore;
    }

    /** For tests: the clock of the in-process caches. */
    public void setTicker(Ticker ticker)
    {
        checkStopped();
        this.ticker = ticker;
    }

    @Override
    protected void doStart() throws Exception
    {
        validate();
        CertificateStore store = certificateStore;
        if (store == null)
        {
            ownedStore = newCertificateStore();
            store = ownedStore;
        }
        store.setChangeListener(new CertificateStore.ChangeListener()
        {
            @Override
            public void onChange(String name, long version)
            {
                if (LOG.isDebugEnabled())
                    LOG.debug("Change name={} version={}", name, version);
                if ("*".equals(name))
                    credentialCache.invalidateAll();
                else
                    credentialCache.invalidate(name, version);
                scheduleRebuild();
            }

            @Override
            public void onChangesLost()
            {
                credentialCache.refreshAll();
                scheduleRebuild();
            }
        });
        cacheExecutor = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r ->
        {
            Thread thread = new Thread(r, "dynsni-cache");
            thread.setDaemon(true);
            return thread;
        });
        masterKeys = loadMasterKeys();
        if (rebuildContextOnChange)
        {
            rebuildScheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
            {
                Thread thread = new Thread(r, "dynsni-rebuild");
                thread.setDaemon(true);
                return thread;
            });
        }
        credentialCache = new CredentialCache(store, masterKeys, statistics, cacheMaxEntries, Duration.ofSeconds(cacheRefreshSeconds),
            negativeCacheMaxEntries, Duration.ofSeconds(negativeCacheTtlSeconds), cacheExecutor, ticker);
        defaultCredential = loadDefaultCredential();
        addBean(store, true);
        addBean(statistics, false);
        super.doStart();
        LOG.info("Dynamic SNI ready store={} cacheMaxEntries={} unknownHostPolicy={} default={}", store, cacheMaxEntries,
            unknownHostPolicy, defaultCredential == null ? "none" : defaultCredential);
    }

    @Override
    protected void doStop() throws Exception
    {
        super.doStop();
        if (ownedStore != null)
            removeBean(ownedStore);
        else if (certificateStore != null)
            removeBean(certificateStore);
        removeBean(statistics);
        ownedStore = null;
        if (cacheExecutor != null)
            cacheExecutor.shutdownNow();
        if (rebuildScheduler != null)
            rebuildScheduler.shutdownNow();
        rebuildScheduler = null;
        credentialCache = null;
    }

    /**
     * Builds the stores from the JDBC and Redis settings; override to supply other tiers.
     */
    protected CertificateStore newCertificateStore()
    {
        JdbcCertificateStore jdbc = new JdbcCertificateStore(statistics.postgres);
        jdbc.setUrl(jdbcUrl);
        jdbc.setUser(jdbcUser);
        jdbc.setPassword(secret(jdbcPassword, jdbcPasswordFile, "DYNSNI_JDBC_PASSWORD", "jetty.dynamicSni.jdbc.passwordFile"));
        jdbc.setSchema(jdbcSchema);
        jdbc.setMaxPoolSize(jdbcPoolSize);
        jdbc.setTimeoutMillis(jdbcTimeoutMillis);
        if (isBlank(redisAddress))
            return jdbc;
        RedisCertificateStore redis = new RedisCertificateStore(statistics.redis);
        redis.setAddress(redisAddress.trim());
        redis.setUser(redisUser);
        redis.setPassword(secret(redisPassword, redisPasswordFile, "DYNSNI_REDIS_PASSWORD", "jetty.dynamicSni.redis.passwordFile"));
        redis.setKeyPrefix(redisKeyPrefix);
        redis.setTtlMillis(TimeUnit.SECONDS.toMillis(redisTtlSeconds));
        redis.setNegativeTtlMillis(TimeUnit.SECONDS.toMillis(redisNegativeTtlSeconds));
        redis.setTimeoutMillis(redisTimeoutMillis);
        redis.setCaFile(redisCaFile);
        redis.setPoolSize(redisPoolSize);
        return new CachingCertificateStore(redis, jdbc);
    }

    private void validate()
    {
        if (certificateStore == null && isBlank(jdbcUrl))
            throw new IllegalStateException("jetty.dynamicSni.jdbc.url is not set: set it to the PostgreSQL JDBC URL, e.g. jdbc:postgresql://127.0.0.1:5432/hosting");
        if (certificateStore == null && !jdbcUrl.startsWith("jdbc:postgresql:"))
            throw new IllegalStateException("jetty.dynamicSni.jdbc.url='" + getJdbcUrl() + "' is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database)");
        positive("jetty.dynamicSni.cache.maxEntries", cacheMaxEntries);
        positive("jetty.dynamicSni.cache.refreshSeconds", cacheRefreshSeconds);
        positive("jetty.dynamicSni.negativeCache.maxEntries", negativeCacheMaxEntries);
        positive("jetty.dynamicSni.negativeCache.ttlSeconds", negativeCacheTtlSeconds);
        positive("jetty.dynamicSni.lookupTimeoutMillis", lookupTimeoutMillis);
        positive("jetty.dynamicSni.jdbc.poolSize", jdbcPoolSize);
        positive("jetty.dynamicSni.jdbc.timeoutMillis", jdbcTimeoutMillis);
        positive("jetty.dynamicSni.redis.ttlSeconds", redisTtlSeconds);
        positive("jetty.dynamicSni.redis.negativeTtlSeconds", redisNegativeTtlSeconds);
        positive("jetty.dynamicSni.redis.timeoutMillis", redisTimeoutMillis);
        positive("jetty.dynamicSni.redis.poolSize", redisPoolSize);
        if (isBlank(defaultCertificatePath) != isBlank(defaultKeyPath))
            throw new IllegalStateException("jetty.dynamicSni.default.certificate and jetty.dynamicSni.default.key must be set together (or both left empty)");
    }

    private static void positive(String property, long value)
    {
        if (value <= 0)
            throw new IllegalStateException(property + "=" + value + " must be greater than 0");
    }

    /**
     * A secret from its property, else from a file, else from an environment variable, so that it
     * need not be written into start.d.
     */
    private static String secret(String value, String file, String environmentVariable, String fileProperty)
    {
        if (!isBlank(value))
            return value;
        if (!isBlank(file))
        {
            try
            {
                return Files.readString(Path.of(file.trim()), StandardCharsets.UTF_8).strip();
            }
            catch (java.io.IOException x)
            {
                throw new IllegalStateException(fileProperty + "=" + file + " cannot be read: " + x.getMessage());
            }
        }
        String env = System.getenv(environmentVariable);
        return isBlank(env) ? null : env;
    }

    private MasterKeys loadMasterKeys()
    {
        if (isBlank(masterKeyFile))
        {
            LOG.warn("No master key configured (jetty.dynamicSni.masterKeyFile): private keys are stored and cached unencrypted; encrypted rows will not be served");
            return null;
        }
        java.util.List<Path> previous = new java.util.ArrayList<>();
        if (!isBlank(previousMasterKeyFiles))
        {
            for (String file : previousMasterKeyFiles.split(","))
            {
                if (!file.isBlank())
                    previous.add(Path.of(file.trim()));
            }
        }
        try
        {
            MasterKeys keys = MasterKeys.load(Path.of(masterKeyFile.trim()), previous);
            LOG.info("Private keys encrypted at rest masterKeyId={} readableKeyIds={}", keys.currentKeyId(), keys.keyIds());
            return keys;
        }
        catch (java.io.IOException x)
        {
            throw new IllegalStateException("jetty.dynamicSni.masterKeyFile: " + x.getMessage());
        }
    }

    /**
     * With {@code rebuildContextOnChange}, a change rebuilds the SSLContext (debounced), which drops
     * every TLS session and ticket key: no client can resume a session of a removed or replaced
     * certificate. Without it, resumption is bounded by the session timeout.
     */
    private void scheduleRebuild()
    {
        java.util.concurrent.ScheduledExecutorService scheduler = rebuildScheduler;
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
            }, rebuildDelayMillis, TimeUnit.MILLISECONDS);
        }
        catch (java.util.concurrent.RejectedExecutionException x)
        {
            rebuildPending.set(false);
        }
    }

    private Credential loadDefaultCredential() throws Exception
    {
        if (isBlank(defaultCertificatePath))
        {
            if (unknownHostPolicyValue == UnknownHostPolicy.DEFAULT)
                LOG.info("No default certificate configured: handshakes for unknown hosts and without SNI will fail");
            return null;
        }
        Path chainPath = Path.of(defaultCertificatePath.trim());
        Path keyPath = Path.of(defaultKeyPath.trim());
        for (Path path : new Path[]{chainPath, keyPath})
        {
            if (!Files.isReadable(path))
                throw new IllegalStateException("default certificate file " + path.toAbsolutePath() + " does not exist or is not readable (jetty.dynamicSni.default.certificate / .key)");
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

    @Override
    protected KeyManager[] getKeyManagers(KeyStore keyStore)
    {
        return new KeyManager[]{new SniKeyManager(this)};
    }

    private static boolean isBlank(String s)
    {
        return s == null || s.isBlank();
    }

    // ---- operations

    /**
     * Drops this node's cached copy of a stored name (an exact host or {@code *.parent}); the next
     * handshake reads the stores again.
     */
    @ManagedOperation(value = "Drops this node's cached certificate of a host or wildcard", impact = "ACTION")
    public void evict(@Name(value = "host", description = "host name or *.parent") String host)
    {
        CredentialCache cache = credentialCache;
        if (cache == null || host == null)
            return;
        String name = host.trim().toLowerCase(Locale.ROOT);
        if (name.startsWith("*."))
            cache.invalidate(name, 0);
        else
        {
            String normalized = HostNames.normalize(name);
            if (normalized != null)
                cache.invalidate(normalized, 0);
        }
    }

    @ManagedOperation(value = "Drops every certificate cached by this node", impact = "ACTION")
    public void evictAll()
    {
        CredentialCache cache = credentialCache;
        if (cache != null)
            cache.invalidateAll();
    }

    @ManagedAttribute("Resolution statistics")
    public DynamicSniStatistics getStatistics()
    {
        return statistics;
    }

    CredentialCache getCredentialCache()
    {
        return credentialCache;
    }

    /**
     * Resolves a host as a handshake would, without a handshake: starts a load on a miss.
     *
     * @param host a host name (normalised here)
     * @return a future of the credential the host would be served for the key type, null if none
     */
    public java.util.concurrent.CompletableFuture<Credential> prefetch(String host, String keyType)
    {
        String normalized = HostNames.normalize(host);
        if (normalized == null || credentialCache == null)
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        return credentialCache.resolve(normalized).thenApply(c -> c == null ? null : c.select(keyType, System.currentTimeMillis()));
    }

    Credential getDefaultCredential()
    {
        return defaultCredential;
    }

    /**
     * @return whether a handshake for a host without a certificate fails anyway (sniRequired, policy
     *     reject, or no default certificate), so it can be refused before any TLS work
     */
    boolean refusesUnknownHosts()
    {
        return isSniRequired() || unknownHostPolicyValue == UnknownHostPolicy.REJECT || defaultCredential == null;
    }

    UnknownHostPolicy getUnknownHostPolicyValue()
    {
        return unknownHostPolicyValue;
    }

    // ---- configuration

    @ManagedAttribute("PostgreSQL JDBC URL (credentials redacted)")
    public String getJdbcUrl()
    {
        return Secrets.redactUrl(jdbcUrl);
    }

    public void setJdbcUrl(String jdbcUrl)
    {
        checkStopped();
        this.jdbcUrl = jdbcUrl == null ? null : jdbcUrl.trim();
    }

    @ManagedAttribute("PostgreSQL user")
    public String getJdbcUser()
    {
        return jdbcUser;
    }

    public void setJdbcUser(String jdbcUser)
    {
        checkStopped();
        this.jdbcUser = jdbcUser;
    }

    public void setJdbcPassword(String jdbcPassword)
    {
        checkStopped();
        this.jdbcPassword = jdbcPassword;
    }

    @ManagedAttribute("PostgreSQL schema of the certificate table")
    public String getJdbcSchema()
    {
        return jdbcSchema;
    }

    public void setJdbcSchema(String jdbcSchema)
    {
        checkStopped();
        this.jdbcSchema = isBlank(jdbcSchema) ? "dynsni" : jdbcSchema.trim();
    }

    @ManagedAttribute("PostgreSQL connection pool size")
    public int getJdbcPoolSize()
    {
        return jdbcPoolSize;
    }

    public void setJdbcPoolSize(int jdbcPoolSize)
    {
        checkStopped();
        this.jdbcPoolSize = jdbcPoolSize;
    }

    @ManagedAttribute("PostgreSQL connect and query timeout, ms")
    public long getJdbcTimeoutMillis()
    {
        return jdbcTimeoutMillis;
    }

    public void setJdbcTimeoutMillis(long jdbcTimeoutMillis)
    {
        checkStopped();
        this.jdbcTimeoutMillis = jdbcTimeoutMillis;
    }

    @ManagedAttribute("Redis address (empty: no Redis tier)")
    public String getRedisAddress()
    {
        return Secrets.redactUrl(redisAddress);
    }

    public void setRedisAddress(String redisAddress)
    {
        checkStopped();
        this.redisAddress = redisAddress;
    }

    public void setRedisUser(String redisUser)
    {
        checkStopped();
        this.redisUser = redisUser;
    }

    public void setRedisPassword(String redisPassword)
    {
        checkStopped();
        this.redisPassword = redisPassword;
    }

    @ManagedAttribute("Prefix of every Redis key")
    public String getRedisKeyPrefix()
    {
        return redisKeyPrefix;
    }

    public void setRedisKeyPrefix(String redisKeyPrefix)
    {
        checkStopped();
        this.redisKeyPrefix = redisKeyPrefix == null ? "" : redisKeyPrefix;
    }

    @ManagedAttribute("TTL of a certificate in Redis, seconds")
    public long getRedisTtlSeconds()
    {
        return redisTtlSeconds;
    }

    public void setRedisTtlSeconds(long redisTtlSeconds)
    {
        checkStopped();
        this.redisTtlSeconds = redisTtlSeconds;
    }

    @ManagedAttribute("TTL of a 'no certificate' entry in Redis, seconds")
    public long getRedisNegativeTtlSeconds()
    {
        return redisNegativeTtlSeconds;
    }

    public void setRedisNegativeTtlSeconds(long redisNegativeTtlSeconds)
    {
        checkStopped();
        this.redisNegativeTtlSeconds = redisNegativeTtlSeconds;
    }

    @ManagedAttribute("Redis command timeout, ms")
    public long getRedisTimeoutMillis()
    {
        return redisTimeoutMillis;
    }

    public void setRedisTimeoutMillis(long redisTimeoutMillis)
    {
        checkStopped();
        this.redisTimeoutMillis = redisTimeoutMillis;
    }

    @ManagedAttribute("Most Redis connections of this node")
    public int getRedisPoolSize()
    {
        return redisPoolSize;
    }

    public void setRedisPoolSize(int redisPoolSize)
    {
        checkStopped();
        this.redisPoolSize = redisPoolSize;
    }

    @ManagedAttribute("Maximum hosts held in the in-process cache")
    public long getCacheMaxEntries()
    {
        return cacheMaxEntries;
    }

    public void setCacheMaxEntries(long cacheMaxEntries)
    {
        checkStopped();
        this.cacheMaxEntries = cacheMaxEntries;
    }

    @ManagedAttribute("Seconds after which a cached certificate is reloaded in the background")
    public long getCacheRefreshSeconds()
    {
        return cacheRefreshSeconds;
    }

    public void setCacheRefreshSeconds(long cacheRefreshSeconds)
    {
        checkStopped();
        this.cacheRefreshSeconds = cacheRefreshSeconds;
    }

    @ManagedAttribute("Maximum unknown hosts remembered")
    public long getNegativeCacheMaxEntries()
    {
        return negativeCacheMaxEntries;
    }

    public void setNegativeCacheMaxEntries(long negativeCacheMaxEntries)
    {
        checkStopped();
        this.negativeCacheMaxEntries = negativeCacheMaxEntries;
    }

    @ManagedAttribute("Seconds an unknown host is remembered")
    public long getNegativeCacheTtlSeconds()
    {
        return negativeCacheTtlSeconds;
    }

    public void setNegativeCacheTtlSeconds(long negativeCacheTtlSeconds)
    {
        checkStopped();
        this.negativeCacheTtlSeconds = negativeCacheTtlSeconds;
    }

    @ManagedAttribute("Longest a handshake waits for a certificate lookup, ms")
    public long getLookupTimeoutMillis()
    {
        return lookupTimeoutMillis;
    }

    public void setLookupTimeoutMillis(long lookupTimeoutMillis)
    {
        checkStopped();
        this.lookupTimeoutMillis = lookupTimeoutMillis;
    }

    @ManagedAttribute("Default certificate chain (PEM file)")
    public String getDefaultCertificatePath()
    {
        return defaultCertificatePath;
    }

    public void setDefaultCertificatePath(String defaultCertificatePath)
    {
        checkStopped();
        this.defaultCertificatePath = defaultCertificatePath;
    }

    @ManagedAttribute("Default certificate private key (PEM file)")
    public String getDefaultKeyPath()
    {
        return defaultKeyPath;
    }

    public void setDefaultKeyPath(String defaultKeyPath)
    {
        checkStopped();
        this.defaultKeyPath = defaultKeyPath;
    }

    @ManagedAttribute("What unknown hosts get: default or reject")
    public String getUnknownHostPolicy()
    {
        return unknownHostPolicy;
    }

    /**
     * @param policy {@code default} (serve the default certificate when one is configured) or
     *               {@code reject} (fail the handshake)
     */
    public void setUnknownHostPolicy(String policy)
    {
        checkStopped();
        String value = policy == null || policy.isBlank() ? "default" : policy.trim().toLowerCase(Locale.ROOT);
        switch (value)
        {
            case "default" -> unknownHostPolicyValue = UnknownHostPolicy.DEFAULT;
            case "reject" -> unknownHostPolicyValue = UnknownHostPolicy.REJECT;
            default -> throw new IllegalArgumentException("jetty.dynamicSni.unknownHostPolicy='" + policy + "' is not valid: use default or reject");
        }
        this.unknownHostPolicy = value;
    }

    @ManagedAttribute("Current master key file (encrypts private keys at rest)")
    public String getMasterKeyFile()
    {
        return masterKeyFile;
    }

    /**
     * @param masterKeyFile a file holding the 256-bit key that encrypts private keys at rest
     *                      (readable by the owner only); empty for none
     */
    public void setMasterKeyFile(String masterKeyFile)
    {
        checkStopped();
        this.masterKeyFile = masterKeyFile;
    }

    @ManagedAttribute("Previous master key files, still read during a rotation")
    public String getPreviousMasterKeyFiles()
    {
        return previousMasterKeyFiles;
    }

    /**
     * @param files comma-separated key files still accepted for reading while rows are re-encrypted
     */
    public void setPreviousMasterKeyFiles(String files)
    {
        checkStopped();
        this.previousMasterKeyFiles = files;
    }

    /** @param file a file holding the PostgreSQL password (used when the password property is empty) */
    public void setJdbcPasswordFile(String file)
    {
        checkStopped();
        this.jdbcPasswordFile = file;
    }

    @ManagedAttribute("CA certificates (PEM) trusted for rediss://")
    public String getRedisCaFile()
    {
        return redisCaFile;
    }

    /** @param redisCaFile PEM file of CA certificates trusted for a {@code rediss://} address */
    public void setRedisCaFile(String redisCaFile)
    {
        checkStopped();
        this.redisCaFile = redisCaFile;
    }

    /** @param file a file holding the Redis password (used when the password property is empty) */
    public void setRedisPasswordFile(String file)
    {
        checkStopped();
        this.redisPasswordFile = file;
    }

    @ManagedAttribute("Whether a certificate change rebuilds the SSL context, ending resumption of old sessions")
    public boolean isRebuildContextOnChange()
    {
        return rebuildContextOnChange;
    }

    public void setRebuildContextOnChange(boolean rebuildContextOnChange)
    {
        checkStopped();
        this.rebuildContextOnChange = rebuildContextOnChange;
    }

    public void setRebuildDelayMillis(long rebuildDelayMillis)
    {
        checkStopped();
        this.rebuildDelayMillis = rebuildDelayMillis;
    }

    private void checkStopped()
    {
        if (isStarted() || isStarting())
            throw new IllegalStateException("Cannot configure " + getClass().getSimpleName() + " while it is started");
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x[jdbc=%s, redis=%s, policy=%s]", getClass().getSimpleName(), hashCode(), getJdbcUrl(), getRedisAddress(), unknownHostPolicy);
    }
}
