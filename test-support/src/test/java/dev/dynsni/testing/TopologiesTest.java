package dev.dynsni.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The test topologies do what the fleet tests rely on: a Redis Cluster that fails a killed master
 * over to its replica and keeps the data, a Sentinel set that names the new master, a PostgreSQL
 * standby that streams and takes over when promoted. Each is started from the Debian binaries and
 * torn down. Skipped where the binaries are missing, except under {@code CI=true} (CI installs them).
 */
class TopologiesTest
{
    private static void requires(boolean available, String what)
    {
        assumeTrue(TestServices.installed(available, what), what + " not installed");
    }

    @Test
    void redisClusterFailsAKilledMasterOverToItsReplica() throws Exception
    {
        requires(RedisCluster.available(), "redis-server and redis-cli");
        try (RedisCluster cluster = RedisCluster.start(3, 1))
        {
            assertEquals(3, cluster.masters().size());
            assertEquals(6, cluster.seeds().split(",").length);
            RedisProcess owner = cluster.masterOf("dynsni-topology-key");
            Commands.run(Commands.redisCli(owner.port(), List.of("SET", "dynsni-topology-key", "kept")), 10);
            // replication is asynchronous: wait until the owner's replica acknowledges the write
            assertEquals("1", Commands.run(Commands.redisCli(owner.port(), List.of("WAIT", "1", "5000")), 10).trim());

            owner.kill();
            cluster.awaitHealthy(30_000);
            // The nodes' views of who owns the slot settle shortly after the cluster reports ok: ask again until they agree.
            String[] seen = new String[1];
            RedisProcess[] successor = new RedisProcess[1];
            Await.until("the successor of the killed master serves its key", 10, () ->
            {
                successor[0] = cluster.masterOf("dynsni-topology-key");
                seen[0] = successor[0].port() == owner.port() ? "(still the killed node)"
                    : Commands.run(Commands.redisCli(successor[0].port(), List.of("GET", "dynsni-topology-key")), 10).trim();
                return "kept".equals(seen[0]);
            });
            assertNotEquals(owner.port(), successor[0].port());
            assertEquals(3, cluster.masters().size());
            assertEquals(5, cluster.seeds().split(",").length, "the killed node is no longer a seed");
        }
    }

    @Test
    void sentinelsNameTheReplicaAfterTheMasterIsKilled() throws Exception
    {
        requires(RedisSentinels.available(), "redis-server and redis-cli");
        try (RedisSentinels set = RedisSentinels.start(1, 3))
        {
            RedisProcess first = set.servers().get(0);
            RedisProcess second = set.servers().get(1);
            assertEquals(first.port(), set.master().port());
            assertEquals(3, set.sentinelAddresses().split(",").length);

            first.kill();
            set.awaitMaster(second, 0, 30_000);
            assertEquals(second.port(), set.master().port());

            first.start();
            set.awaitMaster(second, 1, 30_000); // the old master comes back as a replica
        }
    }

    @Test
    void postgresStandbyStreamsAndTakesOverWhenPromoted() throws Exception
    {
        requires(PostgresStandbyPair.available(), "PostgreSQL server binaries");
        try (PostgresStandbyPair pair = PostgresStandbyPair.start())
        {
            assertFalse(pair.inRecovery(pair.primaryPort()));
            assertTrue(pair.inRecovery(pair.standbyPort()));
            execute(pair.jdbcUrl(pair.primaryPort()), "CREATE TABLE t (v text)", "INSERT INTO t VALUES ('before')");
            awaitRow(pair.jdbcUrl(pair.standbyPort()), "before");

            pair.stopPrimary();
            pair.promoteStandby();
            assertFalse(pair.inRecovery(pair.standbyPort()));
            // the multi-host URL finds the new primary and writes there
            execute(pair.failoverJdbcUrl(), "INSERT INTO t VALUES ('after')");
            awaitRow(pair.jdbcUrl(pair.standbyPort()), "after");
        }
    }

    private static void execute(String url, String... sql) throws Exception
    {
        try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement())
        {
            for (String s : sql)
            {
                statement.execute(s);
            }
        }
    }

    private static void awaitRow(String url, String value) throws Exception
    {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true)
        {
            try (Connection connection = DriverManager.getConnection(url);
                 Statement statement = connection.createStatement();
                 ResultSet result = statement.executeQuery("SELECT count(*) FROM t WHERE v = '" + value + "'"))
            {
                result.next();
                if (result.getInt(1) == 1)
                    return;
            }
            catch (java.sql.SQLException x)
            {
                // the table has not reached the standby yet
            }
            assertTrue(System.nanoTime() < deadline, "row '" + value + "' not visible at " + url + " within 10 s");
            Thread.sleep(100);
        }
    }
}
