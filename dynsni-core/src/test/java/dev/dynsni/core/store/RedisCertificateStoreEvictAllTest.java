package dev.dynsni.core.store;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.RedisKeys;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@link RedisCertificateStore#evictAll()} deletes the data keys under its own prefix only: not the
 * fences, not the keys of another prefix, not those of a prefix its glob characters would match.
 */
class RedisCertificateStoreEvictAllTest
{
    @Test
    void evictAll_deletesTheDataKeysOfItsPrefixOnly() throws Exception
    {
        String prefix = TestServices.newKeyPrefix();
        String starPrefix = prefix.substring(0, prefix.length() - 1) + "*";
        String other = TestServices.newKeyPrefix();
        RedisCertificateStore store = new RedisCertificateStore();
        store.setAddress(TestServices.redisUrl());
        store.setKeyPrefix(starPrefix);
        store.start();
        try
        {
            RedissonClient client = store.getRedissonClient();
            Map<String, Object> values = new HashMap<>();
            for (int i = 0; i < 1200; i++)
            {
                values.put(RedisKeys.dataKey(prefix, "h" + i + ".example"), "x");
            }
            values.put(RedisKeys.dataKey(starPrefix, "a.example"), "star");
            values.put(RedisKeys.fenceKey(starPrefix, "a.example"), "42");
            values.put(RedisKeys.dataKey(other, "a.example"), "other");
            client.getBuckets(StringCodec.INSTANCE).set(values);

            // the star in "...:t_x*" is a character of the prefix, not a wildcard over "...:t_x:"
            assertEquals(1L, store.evictAll().get(10, TimeUnit.SECONDS));
            assertNull(client.getBucket(RedisKeys.dataKey(starPrefix, "a.example"), StringCodec.INSTANCE).get());
            assertEquals("42", client.getBucket(RedisKeys.fenceKey(starPrefix, "a.example"), StringCodec.INSTANCE).get());
            assertEquals("x", client.getBucket(RedisKeys.dataKey(prefix, "h7.example"), StringCodec.INSTANCE).get());

            store.setKeyPrefix(prefix);
            assertEquals(1200L, store.evictAll().get(10, TimeUnit.SECONDS));
            assertEquals(0L, client.getKeys().getKeysStream(org.redisson.api.options.KeysScanOptions.defaults().pattern(RedisKeys.dataKeyPattern(prefix))).count());
            assertEquals("other", client.getBucket(RedisKeys.dataKey(other, "a.example"), StringCodec.INSTANCE).get());
            client.getKeys().delete(RedisKeys.fenceKey(starPrefix, "a.example"), RedisKeys.dataKey(other, "a.example"));
        }
        finally
        {
            store.stop();
        }
    }

    @Test
    void dataKeyPattern_escapesGlobCharacters()
    {
        assertEquals("dynsni:c:*", RedisKeys.dataKeyPattern("dynsni:"));
        assertEquals("a\\*b\\?c\\[d\\]e\\\\f:c:*", RedisKeys.dataKeyPattern("a*b?c[d]e\\f:"));
    }
}
