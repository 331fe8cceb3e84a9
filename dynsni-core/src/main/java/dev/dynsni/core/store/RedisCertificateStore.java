package dev.dynsni.core.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.dynsni.core.CertificateMap;
import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.Pem;
import dev.dynsni.core.RedisKeys;
import dev.dynsni.core.Secrets;
import dev.dynsni.core.StoreUrls;
import org.redisson.Redisson;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.redisson.config.SingleServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared cache tier: the records of each stored name under {@code <prefix>c:<name>} in Redis,
 * through Redisson's asynchronous API, with a TTL. An empty value records "no certificate" (with a
 * shorter TTL) so that unknown names are not re-read from PostgreSQL by every node.
 *
 * <p>Consistency: every change carries a version. Invalidation writes the version into a fence key
 * {@code <prefix>f:<name>} and deletes the value; a write of data read from PostgreSQL carries the
 * version it read and is refused by a Lua script when the fence is newer, so a slow reader can never
 * put back a value older than a change already announced.</p>
 *
 * <p>It is normally the {@link CertificateMap} of a {@link CachingCertificateStore}. Used alone as
 * a {@link CertificateStore}, it answers what Redis holds (names it does not hold are "cannot
 * tell") and has no change feed.</p>
 */
public class RedisCertificateStore implements CertificateMap, CertificateStore
{
    private static final Logger LOG = LoggerFactory.getLogger(RedisCertificateStore.class);
    private static final String FORMAT = "dynsni1";
    /** One Redis server (or a replicated one behind one address). */
    public static final String MODE_SINGLE = "single";
    /** Redis Cluster: the address lists seed nodes. */
    public static final String MODE_CLUSTER = "cluster";
    /** Redis Sentinel: the address lists the sentinels, {@link #setSentinelMaster(String)} names the master. */
    public static final String MODE_SENTINEL = "sentinel";

    private static final String PUT_SCRIPT =
        "local f = redis.call('GET', KEYS[2]) " +
        "if f and tonumber(f) > tonumber(ARGV[2]) then return 0 end " +
        "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) " +
        "return 1";

    private final StoreCounters counters = new StoreCounters("redis");
    private String address;
    private String user;
    private String password;
    private String keyPrefix = "dynsni:";
    private long ttlMillis = 300_000;
    private long negativeTtlMillis = 30_000;
    private long maxNegativeEntries = 10_000;
    /** The "no certificate" entries written in the current window of {@code negativeTtlMillis}, and when it began. */
    private final java.util.concurrent.atomic.AtomicLong negativeWrites = new java.util.concurrent.atomic.AtomicLong();
    private volatile long negativeWindowStart = System.nanoTime();
    private long timeoutMillis = 500;
    private String caFile;
    private int poolSize = 32;
    private String mode = MODE_SINGLE;
    private String sentinelMaster;
    private volatile RedissonClient client;
    /** Redisson's client, created in the background by {@link #start()}; null while stopped. */
    private volatile CompletableFuture<RedissonClient> creating;
    private java.util.concurrent.ScheduledExecutorService healthCheck;
    private volatile boolean downLogged;

    /**
     * @param address {@code redis://[user:password@]host:port[/database]} or {@code rediss://...} for TLS;
     *     in cluster and sentinel mode a comma-separated list (seed nodes, sentinels), all of one scheme
     */
    public void setAddress(String address)
    {
        this.address = address;
    }

    /** @param mode {@link #MODE_SINGLE} (default), {@link #MODE_CLUSTER} or {@link #MODE_SENTINEL}; null or blank: single */
    public void setMode(String mode)
    {
        this.mode = mode == null || mode.isBlank() ? MODE_SINGLE : mode.trim().toLowerCase(java.util.Locale.ROOT);
    }

    public String getMode()
    {
        return mode;
    }

    /** @param sentinelMaster in sentinel mode, the name the sentinels monitor the master under */
    public void setSentinelMaster(String sentinelMaster)
    {
        this.sentinelMaster = sentinelMaster;
    }

    public String getAddress()
    {
        return redactedAddress();
    }

    public void setUser(String user)
    {
        this.user = user;
    }

    public void setPassword(String password)
    {
        this.password = password;
    }

    public void setKeyPrefix(String keyPrefix)
    {
        this.keyPrefix = keyPrefix;
    }

    public String getKeyPrefix()
    {
        return keyPrefix;
    }

    public void setTtlMillis(long ttlMillis)
    {
        this.ttlMillis = ttlMillis;
    }

    public void setNegativeTtlMillis(long negativeTtlMillis)
    {
        this.negativeTtlMillis = negativeTtlMillis;
    }

    /**
     * @param maxNegativeEntries the most "no certificate" entries this node writes per
     *     {@code negativeTtlMillis}: each lives that long, so at most twice as many of this node's are
     *     in Redis at once, whatever rate of unknown names arrives; 0: none
     */
    public void setMaxNegativeEntries(long maxNegativeEntries)
    {
        this.maxNegativeEntries = maxNegativeEntries;
    }

    /** @return whether one more "no certificate" entry may be written in the current window */
    private boolean mayWriteNegative()
    {
        long now = System.nanoTime();
        long start = negativeWindowStart;
        if (now - start >= negativeTtlMillis * 1_000_000L)
        {
            synchronized (negativeWrites)
            {
                if (negativeWindowStart == start)
                {
                    negativeWrites.set(0);
                    negativeWindowStart = now;
                }
            }
        }
        return negativeWrites.incrementAndGet() <= maxNegativeEntries;
    }

    public void setTimeoutMillis(long timeoutMillis)
    {
        this.timeoutMillis = timeoutMillis;
    }

    /** @param poolSize the most Redis connections of this node: how many cold lookups overlap */
    public void setPoolSize(int poolSize)
    {
        this.poolSize = poolSize;
    }

    /** @param caFile PEM file of the CA certificates trusted for {@code rediss://}; empty: the JVM's default trust */
    public void setCaFile(String caFile)
    {
        this.caFile = caFile;
    }

    @Override
    public List<StoreCounters> getCounters()
    {
        return List.of(counters);
    }

    @Override
    public CompletableFuture<Map<String, List<CertificateRecord>>> load(List<String> names)
    {
        return get(names);
    }

    /** @return whether the client is created: until then {@link #get(List)} waits for it */
    @Override
    public boolean isReady()
    {
        return client != null;
    }

    @Override
    public synchronized void start() throws Exception
    {
        if (creating != null)
            return;
        if (address == null || address.isBlank())
            throw new IllegalStateException("jetty.dynamicSni.redis.address is not set: set it to redis://host:port or rediss://host:port");
        if (!List.of(MODE_SINGLE, MODE_CLUSTER, MODE_SENTINEL).contains(mode))
            throw new IllegalArgumentException("jetty.dynamicSni.redis.mode='" + mode + "' is not one of single, cluster, sentinel");
        List<StoreUrls.RedisUrl> uris = new ArrayList<>();
        for (String one : address.split(","))
        {
            if (!one.isBlank())
                uris.add(StoreUrls.redis(one.trim()));
        }
        if (uris.isEmpty())
            throw new IllegalStateException("jetty.dynamicSni.redis.address is not set: set it to redis://host:port or rediss://host:port");
        boolean tls = uris.get(0).tls();
        for (StoreUrls.RedisUrl uri : uris)
        {
            if (uri.tls() != tls)
                throw new IllegalArgumentException("jetty.dynamicSni.redis.address='" + redactedAddress() + "' mixes redis:// and rediss://: use one scheme for every address");
        }
        if (MODE_SINGLE.equals(mode) && uris.size() > 1)
            throw new IllegalArgumentException("jetty.dynamicSni.redis.address='" + redactedAddress() + "' lists " + uris.size() +
                " addresses: set jetty.dynamicSni.redis.mode=cluster (seed nodes) or sentinel (sentinels), or give one address");
        if (MODE_CLUSTER.equals(mode) && uris.stream().anyMatch(u -> u.database() != null))
            throw new IllegalArgumentException("jetty.dynamicSni.redis.address='" + redactedAddress() + "' names a database: Redis Cluster has only database 0");
        if (MODE_SENTINEL.equals(mode) && (sentinelMaster == null || sentinelMaster.isBlank()))
            throw new IllegalArgumentException("jetty.dynamicSni.redis.mode=sentinel needs jetty.dynamicSni.redis.sentinelMaster: the name the sentinels monitor the master under");
        if (keyPrefix != null && (keyPrefix.indexOf('{') >= 0 || keyPrefix.indexOf('}') >= 0))
            throw new IllegalArgumentException("jetty.dynamicSni.redis.keyPrefix='" + keyPrefix + "' contains { or }: Redis would hash every key on the prefix (one Cluster slot); leave braces out");
        javax.net.ssl.TrustManagerFactory trust = null;
        if (caFile != null && !caFile.isBlank())
        {
            if (!tls)
                throw new IllegalArgumentException("jetty.dynamicSni.redis.caFile is set but jetty.dynamicSni.redis.address is not a rediss:// (TLS) URL");
            trust = trustManagers(caFile.trim());
        }
        javax.net.ssl.TrustManagerFactory trustManagers = trust;
        // Configuring and creating the client loads Redisson and Netty (a few hundred ms): done in the background, in
        // parallel with the rest of the server's start; lookups meanwhile wait for it, without a thread.
        CompletableFuture<RedissonClient> created = new CompletableFuture<>();
        Thread creator = new Thread(() ->
        {
            try
            {
                RedissonClient c = Redisson.create(newConfig(uris, trustManagers));
                client = c;
                created.complete(c);
            }
            catch (Throwable x)
            {
                LOG.warn("Redis tier cannot start tier=redis address={} reason={}", redactedAddress(), String.valueOf(x));
                created.completeExceptionally(x);
            }
        }, "dynsni-redis-start");
        creating = created;
        creator.setDaemon(true);
        creator.start();
        // The state seen over JMX must follow Redis even while every lookup is an L1 hit.
        healthCheck = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
        {
            Thread thread = new Thread(r, "dynsni-redis-health");
            thread.setDaemon(true);
            return thread;
        });
        healthCheck.scheduleWithFixedDelay(this::checkHealth, 1000, 1000, java.util.concurrent.TimeUnit.MILLISECONDS);
        LOG.info("Redis tier configured tier=redis mode={} address={} keyPrefix={}", mode, redactedAddress(), keyPrefix);
    }

    /**
     * Redisson's configuration (loads Redisson's config classes: built on the creating thread). Every
     * read and write goes to a master: a replica may lag behind a fence this node has seen.
     */
    private Config newConfig(List<StoreUrls.RedisUrl> uris, javax.net.ssl.TrustManagerFactory trustManagers)
    {
        StoreUrls.RedisUrl first = uris.get(0);
        Config config = new Config();
        config.setLazyInitialization(true);
        config.setThreads(2);
        config.setNettyThreads(4);
        String urlUser = first.user();
        String urlPassword = first.password();
        String effectiveUser = user != null && !user.isEmpty() ? user : urlUser;
        String effectivePassword = password != null && !password.isEmpty() ? password : urlPassword;
        int timeout = (int)Math.max(50, timeoutMillis);
        org.redisson.config.BaseConfig<?> server;
        switch (mode)
        {
            case MODE_CLUSTER ->
            {
                org.redisson.config.ClusterServersConfig cluster = config.useClusterServers();
                uris.forEach(u -> cluster.addNodeAddress(u.address()));
                cluster.setScanInterval(1000);
                server = mastersOnly(cluster);
            }
            case MODE_SENTINEL ->
            {
                org.redisson.config.SentinelServersConfig sentinel = config.useSentinelServers();
                sentinel.setMasterName(sentinelMaster.trim());
                uris.forEach(u -> sentinel.addSentinelAddress(u.address()));
                sentinel.setScanInterval(1000);
                sentinel.setCheckSentinelsList(false);
                if (first.database() != null)
                    sentinel.setDatabase(first.database());
                server = mastersOnly(sentinel);
            }
            default ->
            {
                SingleServerConfig single = config.useSingleServer();
                single.setAddress(first.address());
                if (first.database() != null)
                    single.setDatabase(first.database());
                single.setConnectionMinimumIdleSize(Math.min(2, poolSize));
                single.setConnectionPoolSize(poolSize);
                single.setSubscriptionConnectionMinimumIdleSize(0);
                server = single;
            }
        }
        if (effectiveUser != null && !effectiveUser.isEmpty())
            server.setUsername(effectiveUser);
        if (effectivePassword != null && !effectivePassword.isEmpty())
            server.setPassword(effectivePassword);
        server.setTimeout(timeout);
        server.setConnectTimeout(timeout);
        server.setRetryAttempts(0);
        server.setPingConnectionInterval(1000);
        server.setKeepAlive(true);
        if (trustManagers != null)
            server.setSslTrustManagerFactory(trustManagers);
        return config;
    }

    /**
     * Cluster and Sentinel alike: reads and writes on masters only (a replica may lag behind a fence
     * this node has seen), this node's pool on the masters, no idle connections to replicas.
     */
    private org.redisson.config.BaseMasterSlaveServersConfig<?> mastersOnly(org.redisson.config.BaseMasterSlaveServersConfig<?> servers)
    {
        servers.setReadMode(org.redisson.config.ReadMode.MASTER);
        servers.setSubscriptionMode(org.redisson.config.SubscriptionMode.MASTER);
        servers.setMasterConnectionMinimumIdleSize(Math.min(2, poolSize));
        servers.setMasterConnectionPoolSize(poolSize);
        servers.setSlaveConnectionMinimumIdleSize(0);
        servers.setSubscriptionConnectionMinimumIdleSize(0);
        return servers;
    }

    private void checkHealth()
    {
        RedissonClient client = this.client;
        if (client == null)
            return;
        try
        {
            if (nodes(client).pingAll(Math.max(50, timeoutMillis), java.util.concurrent.TimeUnit.MILLISECONDS))
                markUp();
            else
                markUnavailable(new IllegalStateException("PING failed"));
        }
        catch (Throwable x)
        {
            markUnavailable(x);
        }
    }

    /** @return the nodes of the mode this store runs in: every cluster node, or the sentinel set's master and replicas */
    private org.redisson.api.redisnode.BaseRedisNodes nodes(RedissonClient client)
    {
        return switch (mode)
        {
            case MODE_CLUSTER -> client.getRedisNodes(org.redisson.api.redisnode.RedisNodes.CLUSTER);
            case MODE_SENTINEL -> client.getRedisNodes(org.redisson.api.redisnode.RedisNodes.SENTINEL_MASTER_SLAVE);
            default -> client.getRedisNodes(org.redisson.api.redisnode.RedisNodes.SINGLE);
        };
    }

    @Override
    public synchronized void stop() throws Exception
    {
        if (healthCheck != null)
            healthCheck.shutdownNow();
        CompletableFuture<RedissonClient> c = creating;
        creating = null;
        client = null;
        if (c != null)
        {
            try
            {
                c.get(30, java.util.concurrent.TimeUnit.SECONDS).shutdown();
            }
            catch (java.util.concurrent.ExecutionException x)
            {
                // it never started: nothing to shut down
            }
        }
    }

    /**
     * @return the client once created: at once after start-up, else a future completed by the
     *     creating thread; a failed future while stopped
     */
    private CompletableFuture<RedissonClient> client()
    {
        RedissonClient c = client;
        if (c != null)
            return CompletableFuture.completedFuture(c);
        CompletableFuture<RedissonClient> pending = creating;
        return pending != null ? pending : CompletableFuture.failedFuture(new IllegalStateException(this + " is not started"));
    }

    private static javax.net.ssl.TrustManagerFactory trustManagers(String caFile) throws Exception
    {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        String pem;
        try
        {
            pem = java.nio.file.Files.readString(java.nio.file.Path.of(caFile));
        }
        catch (java.io.IOException x)
        {
            throw new IllegalArgumentException("jetty.dynamicSni.redis.caFile=" + caFile + " cannot be read: " + x.getMessage());
        }
        List<java.security.cert.X509Certificate> certificates;
        try
        {
            certificates = Pem.readCertificates(pem);
        }
        catch (InvalidCredentialException x)
        {
            throw new IllegalArgumentException("jetty.dynamicSni.redis.caFile=" + caFile + " is not a PEM file of CA certificates: " + x.getMessage());
        }
        int i = 0;
        for (java.security.cert.X509Certificate certificate : certificates)
        {
            trust.setCertificateEntry("ca" + i++, certificate);
        }
        javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        return factory;
    }

    private String redactedAddress()
    {
        return Secrets.redactUrl(address);
    }

    private String dataKey(String name)
    {
        return RedisKeys.dataKey(keyPrefix, name);
    }

    private String fenceKey(String name)
    {
        return RedisKeys.fenceKey(keyPrefix, name);
    }

    /**
     * @return the names Redis holds, with their records (an empty list for "no certificate");
     *     names Redis does not hold are absent
     */
    @Override
    public CompletableFuture<Map<String, List<CertificateRecord>>> get(List<String> names)
    {
        RedissonClient client = this.client;
        if (client == null)
            return client().thenCompose(c -> get(names));
        long start = System.nanoTime();
        String[] keys = new String[names.size()];
        for (int i = 0; i < keys.length; i++)
        {
            keys[i] = dataKey(names.get(i));
        }
        return client.getBuckets(StringCodec.INSTANCE).<String>getAsync(keys).toCompletableFuture().handle((values, failure) ->
        {
            counters.record(start);
            if (failure != null)
            {
                markDown(failure);
                throw new CompletionFailure("Redis lookup failed: " + failure, failure);
            }
            markUp();
            Map<String, List<CertificateRecord>> result = new HashMap<>();
            for (String name : names)
            {
                String value = values.get(dataKey(name));
                if (value == null)
                    continue;
                List<CertificateRecord> records = decode(name, value);
                if (records != null)
                    result.put(name, records);
            }
            (result.size() == names.size() ? counters.hits : counters.misses).increment();
            return result;
        });
    }

    /**
     * Writes what PostgreSQL holds for a name, unless a newer change was announced meanwhile.
     *
     * @param version the largest version among the records, 0 for none
     */
    @Override
    public CompletableFuture<Boolean> put(String name, List<CertificateRecord> records, long version)
    {
        RedissonClient client = this.client;
        if (client == null)
            return client().handle((c, x) -> x).thenCompose(x -> x == null ? put(name, records, version) : CompletableFuture.completedFuture(false));
        if (records.isEmpty() && !mayWriteNegative())
            return CompletableFuture.completedFuture(false);
        long ttl = records.isEmpty() ? negativeTtlMillis : ttlMillis;
        return client.getScript(StringCodec.INSTANCE).<Long>evalAsync(RScript.Mode.READ_WRITE, PUT_SCRIPT, RScript.ReturnType.INTEGER,
                List.of(dataKey(name), fenceKey(name)), encode(records), String.valueOf(version), String.valueOf(ttl))
            .toCompletableFuture()
            .handle((written, failure) ->
            {
                if (failure != null)
                {
                    markDown(failure);
                    return false;
                }
                if (written != null && written == 1L)
                {
                    counters.writes.increment();
                    return true;
                }
                return false;
            });
    }

    /**
     * Drops the cached value of a name and fences out writes of versions older than {@code version}.
     */
    @Override
    public CompletableFuture<Boolean> invalidate(String name, long version)
    {
        RedissonClient client = this.client;
        if (client == null)
            return client().handle((c, x) -> x).thenCompose(x -> x == null ? invalidate(name, version) : CompletableFuture.completedFuture(false));
        // The fence lives at least as long as any in-flight read could take.
        long fenceTtl = Math.max(RedisKeys.MIN_FENCE_TTL_MILLIS, timeoutMillis * 20);
        return client.getScript(StringCodec.INSTANCE).<Long>evalAsync(RScript.Mode.READ_WRITE, RedisKeys.INVALIDATE_SCRIPT, RScript.ReturnType.INTEGER,
                List.of(dataKey(name), fenceKey(name)), String.valueOf(version <= 0 ? Long.MAX_VALUE / 2 : version), String.valueOf(fenceTtl))
            .toCompletableFuture()
            .handle((r, failure) ->
            {
                if (failure != null)
                {
                    markDown(failure);
                    return false;
                }
                return true;
            });
    }

    /**
     * Drops every cached entry under the key prefix: deletes the keys matching
     * {@link RedisKeys#dataKeyPattern(String)} (Redisson's {@code RKeys.unlinkByPattern}: SCAN in
     * pages, then UNLINK), and leaves the fences to expire. Meant for administration
     * ({@code dynsni evict --all}); it walks the whole key space, so it is never used on the
     * handshake path.
     *
     * @return a future of the number of entries deleted; unlike {@link #invalidate(String, long)}
     *     it completes exceptionally when Redis fails, so that the caller can say why
     */
    @Override
    public CompletableFuture<Long> evictAll()
    {
        return client().thenCompose(c -> c.getKeys().unlinkByPatternAsync(RedisKeys.dataKeyPattern(keyPrefix)).toCompletableFuture());
    }

    /**
     * @return the Redisson client, for the admin tool and tests, waiting for its creation after
     *     {@link #start()}; null while stopped or when it could not be created
     */
    public RedissonClient getRedissonClient()
    {
        try
        {
            return client().get(30, java.util.concurrent.TimeUnit.SECONDS);
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

    private void markUp()
    {
        if (!counters.isAvailable())
            LOG.info("Redis tier is back tier=redis address={}", redactedAddress());
        counters.setAvailable(true);
        downLogged = false;
    }

    private void markDown(Throwable failure)
    {
        counters.errors.increment();
        markUnavailable(failure);
    }

    private void markUnavailable(Throwable failure)
    {
        counters.setAvailable(false);
        if (!downLogged)
        {
            downLogged = true;
            LOG.warn("Redis tier failing tier=redis address={} reason={}", redactedAddress(), String.valueOf(failure));
        }
    }

    static String encode(List<CertificateRecord> records)
    {
        StringBuilder out = new StringBuilder(FORMAT).append('\n');
        Base64.Encoder b64 = Base64.getEncoder();
        for (CertificateRecord record : records)
        {
            out.append(record.keyType()).append(' ')
                .append(record.keyEncoding()).append(' ')
                .append(record.version()).append(' ')
                .append(b64.encodeToString(record.chainPem().getBytes(StandardCharsets.UTF_8))).append(' ')
                .append(b64.encodeToString(record.keyPem().getBytes(StandardCharsets.UTF_8))).append('\n');
        }
        return out.toString();
    }

    /** @return the records, or null when the value is not in a format this node reads */
    static List<CertificateRecord> decode(String name, String value)
    {
        String[] lines = value.split("\n");
        if (lines.length == 0 || !FORMAT.equals(lines[0]))
            return null;
        List<CertificateRecord> records = new ArrayList<>(lines.length - 1);
        Base64.Decoder b64 = Base64.getDecoder();
        try
        {
            for (int i = 1; i < lines.length; i++)
            {
                String[] fields = lines[i].split(" ");
                if (fields.length != 5)
                    return null;
                records.add(new CertificateRecord(name, fields[0], new String(b64.decode(fields[3]), StandardCharsets.UTF_8),
                    new String(b64.decode(fields[4]), StandardCharsets.UTF_8), fields[1], Long.parseLong(fields[2])));
            }
        }
        catch (IllegalArgumentException x)
        {
            return null;
        }
        return records;
    }

    @Override
    public String toString()
    {
        return "RedisCertificateStore[address=" + redactedAddress() + ", keyPrefix=" + keyPrefix + "]";
    }

    /** A failure of the Redis tier, without a stack trace of its own. */
    static final class CompletionFailure extends RuntimeException
    {
        CompletionFailure(String message, Throwable cause)
        {
            super(message, cause, false, false);
        }
    }
}
