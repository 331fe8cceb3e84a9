package dev.dynsni.core.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.RedisKeys;
import dev.dynsni.testing.RedisCluster;
import dev.dynsni.testing.RedisProcess;
import dev.dynsni.testing.RedisSentinels;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Redis tier on a real Redis Cluster (3 masters, 3 replicas) and a real Sentinel set (master,
 * replica, 3 sentinels), started from the Debian binaries: the fence and write-back scripts run
 * (both keys of a name share a hash slot), a multi-name read spans slots, {@code evictAll} reaches
 * every master, and after a master is killed the store is served by its successor. Plus the
 * configuration errors an operator can make, each named.
 */
class RedisTopologiesTest
{
    private static void requires(boolean available)
    {
        assumeTrue(TestServices.installed(available, "redis-server and redis-cli"), "redis-server and redis-cli not installed");
    }

    private static List<CertificateRecord> records(String name, long version)
    {
        return List.of(new CertificateRecord(name, "EC", "chain of " + name + " v" + version, "key of " + name, CertificateRecord.PLAIN, version));
    }

    private static Map<String, List<CertificateRecord>> get(RedisCertificateStore store, List<String> names) throws Exception
    {
        return store.get(names).get(10, TimeUnit.SECONDS);
    }

    @Test
    void cluster_fencesAndWriteBacksRun_readsSpanSlots_evictAllReachesEveryMaster_aKilledMasterIsReplaced() throws Exception
    {
        requires(RedisCluster.available());
        try (RedisCluster cluster = RedisCluster.start(3, 1))
        {
            String prefix = TestServices.newKeyPrefix();
            RedisCertificateStore store = new RedisCertificateStore();
            store.setMode(RedisCertificateStore.MODE_CLUSTER);
            store.setAddress(cluster.seeds());
            store.setKeyPrefix(prefix);
            store.setTimeoutMillis(1000);
            store.start();
            try
            {
                List<String> names = new ArrayList<>();
                for (int i = 0; i < 40; i++)
                {
                    names.add("h" + i + ".cluster.test");
                }
                for (String name : names)
                {
                    assertTrue(store.put(name, records(name, 5), 5).get(10, TimeUnit.SECONDS), name);
                }
                // the names hash to different masters, and one read returns them all
                java.util.Set<Integer> owners = new java.util.HashSet<>();
                for (String name : names.subList(0, 10))
                {
                    owners.add(cluster.masterOf(RedisKeys.dataKey(prefix, name)).port());
                }
                assertTrue(owners.size() > 1, "40 names on one master: the hash tag covers more than the name");
                assertEquals(40, get(store, names).size());
                assertEquals("chain of h3.cluster.test v5", get(store, List.of("h3.cluster.test")).get("h3.cluster.test").get(0).chainPem());

                // fence: an invalidation at version 6 refuses a late write-back of version 5, takes 7
                String name = names.get(0);
                assertTrue(store.invalidate(name, 6).get(10, TimeUnit.SECONDS));
                assertFalse(get(store, List.of(name)).containsKey(name));
                assertFalse(store.put(name, records(name, 5), 5).get(10, TimeUnit.SECONDS), "a write older than the fence is refused");
                assertTrue(store.put(name, records(name, 7), 7).get(10, TimeUnit.SECONDS));

                assertEquals(40L, store.evictAll().get(30, TimeUnit.SECONDS));
                assertTrue(get(store, names).isEmpty());

                // a master killed: its replica takes over (the cluster's part), and the store, which learns the
                // new topology by scanning it every second, writes and reads there (the client's part)
                String victim = names.get(1);
                RedisProcess master = cluster.masterOf(RedisKeys.dataKey(prefix, victim));
                long killed = System.nanoTime();
                master.kill();
                cluster.awaitHealthy(60_000);
                long healed = System.nanoTime();
                long deadline = healed + TimeUnit.SECONDS.toNanos(30);
                boolean served = false;
                while (!served && System.nanoTime() < deadline)
                {
                    try
                    {
                        served = store.put(victim, records(victim, 8), 8).get(10, TimeUnit.SECONDS) && get(store, List.of(victim)).containsKey(victim);
                    }
                    catch (Exception x)
                    {
                        // not yet on the new master
                    }
                    if (!served)
                        Thread.sleep(100);
                }
                System.err.printf("RedisTopologiesTest: cluster failed over in %d ms, the store served the new master %d ms later%n",
                    TimeUnit.NANOSECONDS.toMillis(healed - killed), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - healed));
                assertTrue(served, "the store writes and reads " + victim + " once its slot's replica took over");
            }
            finally
            {
                store.stop();
            }
        }
    }

    @Test
    void sentinel_readsAndWritesTheMaster_andFollowsAFailover() throws Exception
    {
        requires(RedisSentinels.available());
        try (RedisSentinels set = RedisSentinels.start(1, 3))
        {
            String prefix = TestServices.newKeyPrefix();
            RedisCertificateStore store = new RedisCertificateStore();
            store.setMode(RedisCertificateStore.MODE_SENTINEL);
            store.setAddress(set.sentinelAddresses());
            store.setSentinelMaster(RedisSentinels.MASTER_NAME);
            store.setKeyPrefix(prefix);
            store.setTimeoutMillis(1000);
            store.start();
            try
            {
                assertTrue(store.put("a.sentinel.test", records("a.sentinel.test", 3), 3).get(10, TimeUnit.SECONDS));
                assertEquals(1, get(store, List.of("a.sentinel.test")).size());

                RedisProcess old = set.master();
                old.kill();
                RedisProcess successor = set.servers().stream().filter(s -> s != old).findFirst().orElseThrow();
                set.awaitMaster(successor, 0, 30_000);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                boolean served = false;
                while (!served && System.nanoTime() < deadline)
                {
                    try
                    {
                        served = store.put("b.sentinel.test", records("b.sentinel.test", 4), 4).get(10, TimeUnit.SECONDS);
                    }
                    catch (Exception x)
                    {
                        // following the failover
                    }
                    if (!served)
                        Thread.sleep(200);
                }
                assertTrue(served, "the store writes to the new master");
                // the write went to the new master: read it there directly, in single mode
                RedisCertificateStore direct = new RedisCertificateStore();
                direct.setAddress(successor.url());
                direct.setKeyPrefix(prefix);
                direct.start();
                try
                {
                    assertTrue(get(direct, List.of("b.sentinel.test")).containsKey("b.sentinel.test"));
                }
                finally
                {
                    direct.stop();
                }
            }
            finally
            {
                store.stop();
            }
        }
    }

    @Test
    void configurationMistakes_areNamed_withoutTheirPasswords()
    {
        assertEquals("jetty.dynamicSni.redis.address='redis://***@a:1,redis://***@b:2' lists 2 addresses: set jetty.dynamicSni.redis.mode=cluster (seed nodes) or sentinel (sentinels), or give one address",
            startFailure(RedisCertificateStore.MODE_SINGLE, "redis://u:secret@a:1,redis://u:secret@b:2", null, "p:"));
        assertEquals("jetty.dynamicSni.redis.mode=sentinel needs jetty.dynamicSni.redis.sentinelMaster: the name the sentinels monitor the master under",
            startFailure(RedisCertificateStore.MODE_SENTINEL, "redis://a:1,redis://b:2", null, "p:"));
        assertEquals("jetty.dynamicSni.redis.address='redis://a:1/2' names a database: Redis Cluster has only database 0",
            startFailure(RedisCertificateStore.MODE_CLUSTER, "redis://a:1/2", null, "p:"));
        assertEquals("jetty.dynamicSni.redis.address='redis://a:1,rediss://b:2' mixes redis:// and rediss://: use one scheme for every address",
            startFailure(RedisCertificateStore.MODE_CLUSTER, "redis://a:1,rediss://b:2", null, "p:"));
        assertEquals("jetty.dynamicSni.redis.mode='replicated' is not one of single, cluster, sentinel",
            startFailure("replicated", "redis://a:1", null, "p:"));
        assertEquals("jetty.dynamicSni.redis.keyPrefix='{p}:' contains { or }: Redis would hash every key on the prefix (one Cluster slot); leave braces out",
            startFailure(RedisCertificateStore.MODE_CLUSTER, "redis://a:1", null, "{p}:"));
    }

    private static String startFailure(String mode, String address, String master, String prefix)
    {
        RedisCertificateStore store = new RedisCertificateStore();
        store.setMode(mode);
        store.setAddress(address);
        store.setSentinelMaster(master);
        store.setKeyPrefix(prefix);
        return assertThrows(IllegalArgumentException.class, store::start).getMessage();
    }
}
