package dev.dynsni.core.store;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "No certificate" entries in Redis are bounded in count whatever the rate of unknown names: a node
 * writes at most {@code maxNegativeEntries} per negative TTL (so at most twice that of its own are
 * alive), and writes again in the next window. Real Redis, own key prefix.
 */
class RedisNegativeEntriesTest
{
    @Test
    void negativeEntries_atMostTheLimitPerWindow() throws Exception
    {
        RedisCertificateStore store = new RedisCertificateStore();
        store.setAddress(TestServices.redisUrl());
        store.setKeyPrefix(TestServices.newKeyPrefix());
        store.setNegativeTtlMillis(1500);
        store.setMaxNegativeEntries(5);
        store.start();
        try
        {
            List<String> names = new ArrayList<>();
            int written = 0;
            for (int i = 0; i < 50; i++)
            {
                String name = "unknown" + i + ".example";
                names.add(name);
                if (store.put(name, List.of(), 0).get(5, TimeUnit.SECONDS))
                    written++;
            }
            assertEquals(5, written, "a flood of 50 unknown names writes 5 entries");
            assertEquals(5, store.get(names).get(5, TimeUnit.SECONDS).size(), "Redis holds 5");

            Thread.sleep(1600); // the window (and the entries) expire
            assertTrue(store.put("later.example", List.of(), 0).get(5, TimeUnit.SECONDS), "the next window writes again");
            assertEquals(0, store.get(names).get(5, TimeUnit.SECONDS).size(), "the first window's entries expired with their TTL");
        }
        finally
        {
            store.stop();
        }
    }
}
