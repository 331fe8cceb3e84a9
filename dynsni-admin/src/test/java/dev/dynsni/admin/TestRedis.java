package dev.dynsni.admin;

import java.util.ArrayList;
import java.util.List;

import dev.dynsni.core.RedisKeys;
import dev.dynsni.testing.TestServices;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/**
 * The shared test Redis through Redisson (as the tool and the nodes reach it): plain string reads
 * and writes, and the keys under a prefix. One client per JVM, created on first use.
 */
final class TestRedis
{
    private static RedissonClient client;

    private TestRedis()
    {
    }

    static synchronized RedissonClient client()
    {
        if (client == null)
        {
            Config config = new Config();
            config.setThreads(1);
            config.setNettyThreads(2);
            config.useSingleServer().setAddress(TestServices.redisUrl()).setConnectionMinimumIdleSize(1).setConnectionPoolSize(4);
            client = Redisson.create(config);
        }
        return client;
    }

    static String get(String key)
    {
        return client().<String>getBucket(key, StringCodec.INSTANCE).get();
    }

    static void set(String key, String value)
    {
        client().getBucket(key, StringCodec.INSTANCE).set(value);
    }

    static void delete(String... keys)
    {
        if (keys.length > 0)
            client().getKeys().delete(keys);
    }

    /** @return the data keys ({@code <prefix>c:*}) under a key prefix */
    static List<String> dataKeys(String keyPrefix)
    {
        return keys(RedisKeys.dataKeyPattern(keyPrefix));
    }

    /** @return every key under a key prefix */
    static List<String> keysUnder(String keyPrefix)
    {
        // the data-key pattern without its "c:" is the prefix's
        String pattern = RedisKeys.dataKeyPattern(keyPrefix);
        return keys(pattern.substring(0, pattern.length() - "c:*".length()) + "*");
    }

    private static List<String> keys(String pattern)
    {
        List<String> keys = new ArrayList<>();
        client().getKeys().getKeys(KeysScanOptions.defaults().pattern(pattern).chunkSize(1000)).forEach(keys::add);
        return keys;
    }
}
