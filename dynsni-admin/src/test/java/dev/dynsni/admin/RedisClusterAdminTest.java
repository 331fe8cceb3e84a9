package dev.dynsni.admin;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.store.RedisCertificateStore;
import dev.dynsni.testing.RedisCluster;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The admin tool on a Redis Cluster, configured as a node is ({@code redis.mode=cluster}, seed
 * nodes in {@code redis.address}): {@code evict} fences and drops a name on whichever master holds
 * it, {@code evict --all} reaches every master, and a wrong mode is refused with the setting named.
 */
class RedisClusterAdminTest extends AdminTestBase
{
    @Test
    void evict_onACluster_usesTheNodesLayout() throws Exception
    {
        assumeTrue(TestServices.installed(RedisCluster.available(), "redis-server and redis-cli"), "redis-server and redis-cli not installed");
        try (RedisCluster cluster = RedisCluster.start(3, 1))
        {
            RedisCertificateStore node = new RedisCertificateStore();
            node.setMode(RedisCertificateStore.MODE_CLUSTER);
            node.setAddress(cluster.seeds());
            node.setKeyPrefix(keyPrefix);
            node.start();
            try
            {
                for (int i = 0; i < 20; i++)
                {
                    String name = "c" + i + ".cluster.test";
                    assertTrue(node.put(name, List.of(new CertificateRecord(name, "EC", "chain", "key", CertificateRecord.PLAIN, 1)), 1).get(10, TimeUnit.SECONDS));
                }
                Map<String, String> env = env();
                env.put("DYNSNI_REDIS_URL", cluster.seeds());

                Result one = runWith(env, "evict", "c3.cluster.test", "--redis-mode", "cluster");
                assertEquals(0, one.exit(), one::toString);
                assertFalse(node.get(List.of("c3.cluster.test")).get(10, TimeUnit.SECONDS).containsKey("c3.cluster.test"));
                // the fence the tool wrote (the schema's next version, at least 1) refuses a late write-back of data read before it
                assertFalse(node.put("c3.cluster.test", List.of(new CertificateRecord("c3.cluster.test", "EC", "chain", "key", CertificateRecord.PLAIN, 0)), 0).get(10, TimeUnit.SECONDS));

                Result all = runWith(env, "evict", "--all", "--redis-mode", "cluster");
                assertEquals(0, all.exit(), all::toString);
                List<String> names = new java.util.ArrayList<>();
                for (int i = 0; i < 20; i++)
                {
                    names.add("c" + i + ".cluster.test");
                }
                assertTrue(node.get(names).get(10, TimeUnit.SECONDS).isEmpty(), "every master's entries dropped");

                Result single = runWith(env, "evict", "c4.cluster.test");
                assertEquals(DynSni.EXIT_USAGE, single.exit(), single::toString);
                assertTrue(single.err().contains("set jetty.dynamicSni.redis.mode=cluster"), single::toString);
            }
            finally
            {
                node.stop();
            }
        }
    }
}
