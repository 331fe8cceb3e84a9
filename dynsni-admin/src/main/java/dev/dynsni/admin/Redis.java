package dev.dynsni.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.dynsni.core.RedisKeys;
import dev.dynsni.core.Secrets;
import dev.dynsni.core.Setting;
import dev.dynsni.core.Stores;
import dev.dynsni.core.store.RedisCertificateStore;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;

/**
 * The Redis tier as the tool uses it: the core's {@link RedisCertificateStore}, built by
 * {@link Stores#redis} from the same settings as a node's (address, ACL user, password or password
 * file, CA file for {@code rediss://}, key prefix, timeout), so the tool fences and drops entries
 * exactly as a node does. Failures become {@link CliException}s that say what failed, never the
 * password. Not thread-safe.
 */
final class Redis implements AutoCloseable
{
    private final RedisCertificateStore store;
    private final String address;
    private final long timeoutMillis;

    private Redis(RedisCertificateStore store, String address, long timeoutMillis)
    {
        this.store = store;
        this.address = address;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * Builds and starts the store of the settings and checks that Redis answers.
     *
     * @return the Redis tier, or null when no Redis address is configured
     * @throws CliException usage when a setting is bad, unreachable when Redis does not answer
     */
    static Redis open(Settings settings)
    {
        String address = settings.redisAddress();
        if (address == null)
            return null;
        // read (and check) the password file here, to name its source in the error
        settings.redisPassword();
        RedisCertificateStore store;
        try
        {
            store = Stores.redis(settings.core());
            store.start();
        }
        catch (Exception x)
        {
            // start() only fails on configuration: a bad address or CA file
            throw CliException.usage(badSetting(settings, x));
        }
        Redis redis = new Redis(store, Secrets.redactUrl(address), settings.core().longValue(Setting.REDIS_TIMEOUT_MILLIS));
        try
        {
            // EXISTS on a key under the prefix: allowed to an ACL user restricted to the prefix
            redis.await(store.getRedissonClient().getKeys().countExistsAsync(RedisKeys.fenceKey(settings.redisKeyPrefix(), "dynsni-admin-probe")).toCompletableFuture(), "connecting");
        }
        catch (CliException x)
        {
            redis.close();
            throw CliException.unreachable("cannot connect to Redis at " + redis.address + ": " + redis.reasonOrTimeout(x.getCause()), x.getCause());
        }
        return redis;
    }

    /** @return the failure's message, naming the setting at fault and where its value came from */
    private static String badSetting(Settings settings, Exception x)
    {
        String message = x.getMessage() == null ? x.toString() : x.getMessage();
        for (Setting setting : List.of(Setting.REDIS_CA_FILE, Setting.REDIS_SENTINEL_MASTER, Setting.REDIS_MODE, Setting.REDIS_KEY_PREFIX, Setting.REDIS_ADDRESS))
        {
            if (message.contains(setting.property()))
                return message + " (" + setting.key() + " from " + settings.source(setting).text() + ")";
        }
        return Setting.REDIS_ADDRESS.property() + "='" + Secrets.redactUrl(settings.redisAddress()) + "' (from " + settings.source(Setting.REDIS_ADDRESS).text() +
            ") is not a Redis URL (" + message + "): use redis://host:port or rediss://host:port";
    }

    /** @return the address, without credentials */
    String address()
    {
        return address;
    }

    /**
     * Fences each name at its version and drops its cached value, as a node does on a change.
     *
     * @throws CliException unreachable when Redis failed for some names
     */
    void invalidate(List<String> names, List<Long> versions)
    {
        List<CompletableFuture<Boolean>> futures = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++)
        {
            futures.add(store.invalidate(names.get(i), versions.get(i)));
        }
        int failed = 0;
        for (CompletableFuture<Boolean> future : futures)
        {
            if (!Boolean.TRUE.equals(await(future, "invalidating")))
                failed++;
        }
        if (failed > 0)
            throw CliException.unreachable("Redis at " + address + " failed to drop " + failed + " of " + names.size() + " entries" + probe(), null);
    }

    /**
     * @return how many cached entries were deleted under the key prefix
     * @throws CliException unreachable when Redis fails
     */
    long evictAll()
    {
        Long deleted = await(store.evictAll(), "deleting the entries under " + store.getKeyPrefix());
        return deleted == null ? 0 : deleted;
    }

    /** @return the server's version, or {@code ?} when the user may not run INFO */
    String serverVersion()
    {
        try
        {
            Map<String, String> info = client().getRedisNodes(RedisNodes.SINGLE).getInstance().info(RedisNode.InfoSection.SERVER);
            return info.getOrDefault("redis_version", "?");
        }
        catch (RuntimeException x)
        {
            return "?";
        }
    }

    /**
     * Counts the cached entries under the key prefix, for at most {@code maxMillis}.
     *
     * @return the count; negative (minus the count so far) when the time ran out
     */
    long countCached(long maxMillis)
    {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        long count = 0;
        try
        {
            for (String ignored : client().getKeys().getKeys(KeysScanOptions.defaults().pattern(RedisKeys.dataKeyPattern(store.getKeyPrefix())).chunkSize(1000)))
            {
                count++;
                if ((count & 1023) == 0 && System.nanoTime() > deadline)
                    return -count;
            }
            return count;
        }
        catch (RuntimeException x)
        {
            throw CliException.unreachable("Redis at " + address + " failed while counting entries: " + reason(x), x);
        }
    }

    String keyPrefix()
    {
        return store.getKeyPrefix();
    }

    private RedissonClient client()
    {
        return store.getRedissonClient();
    }

    private String probe()
    {
        try
        {
            await(client().getKeys().countExistsAsync(RedisKeys.fenceKey(store.getKeyPrefix(), "dynsni-admin-probe")).toCompletableFuture(), "checking");
            return " (Redis answers: is the user allowed EVALSHA and SCRIPT LOAD on the prefix's keys? --verbose shows Redis's reply)";
        }
        catch (CliException x)
        {
            return ": " + reasonOrTimeout(x.getCause());
        }
    }

    private <T> T await(CompletableFuture<T> future, String what)
    {
        try
        {
            // Redisson times out by itself; this bound only guards against a future never completed.
            return future.get(Math.max(timeoutMillis, 1000) * 10, TimeUnit.MILLISECONDS);
        }
        catch (ExecutionException | CompletionException x)
        {
            Throwable cause = x.getCause() == null ? x : x.getCause();
            throw CliException.unreachable("Redis at " + address + " failed while " + what + ": " + reasonOrTimeout(cause), cause);
        }
        catch (TimeoutException x)
        {
            throw CliException.unreachable("Redis at " + address + " did not answer while " + what, x);
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            throw CliException.unreachable("interrupted while " + what, x);
        }
    }

    /** @return {@link #reason(Throwable)}, or for a timeout, which timeout ran out */
    private String reasonOrTimeout(Throwable failure)
    {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause())
        {
            if (cause instanceof TimeoutException || cause instanceof org.redisson.client.RedisTimeoutException)
                return "no answer within " + timeoutMillis + " ms (" + Setting.REDIS_TIMEOUT_MILLIS.key() + "; for rediss:// the port must speak TLS)";
        }
        return reason(failure);
    }

    /** @return the most telling message of a Redis failure: the deepest cause's, on one line */
    static String reason(Throwable failure)
    {
        if (failure == null)
            return "(no reason given)";
        Throwable deepest = failure;
        while (deepest.getCause() != null && deepest.getCause() != deepest)
        {
            deepest = deepest.getCause();
        }
        String message = deepest.getMessage();
        if (message == null || message.isBlank())
            message = deepest.getClass().getSimpleName();
        message = Database.oneLine(message);
        // Redisson appends its channel and command: noise to the user
        int channel = message.indexOf(". channel: ");
        if (channel < 0)
            channel = message.indexOf(", channel: ");
        return channel < 0 ? message : message.substring(0, channel);
    }

    @Override
    public void close()
    {
        try
        {
            store.stop();
        }
        catch (Exception ignored)
        {
            // the command's outcome is what matters
        }
    }
}
