package dev.dynsni.core.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.CertificateStore;
import dev.dynsni.testing.Await;
import dev.dynsni.testing.PostgresStandbyPair;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The PostgreSQL store across a failover, on a real primary and streaming standby: with the
 * multi-host URL ({@code targetServerType=primary}) the pool and the LISTEN connection both end up on
 * the promoted standby, 3 s after the primary stopped (the store retries meanwhile and finds only a
 * standby); the store says it may have missed changes while it was away, and listens on the new
 * primary within the stated bound: the listener's longest retry pause
 * ({@code MAX_LISTEN_RETRY_MILLIS}, 1 s) plus the driver's memory of a standby
 * ({@code hostRecheckSeconds}, 1 s) after the promotion, asserted with room for a loaded machine
 * (under 10 s). The times are printed.
 */
class PostgresFailoverTest
{
    @Test
    void poolAndListener_followTheNewPrimary() throws Exception
    {
        assumeTrue(TestServices.installed(PostgresStandbyPair.available(), "the PostgreSQL server package"), "PostgreSQL server binaries not installed");
        try (PostgresStandbyPair pair = PostgresStandbyPair.start())
        {
            Map<String, Long> changes = new ConcurrentHashMap<>();
            AtomicInteger lost = new AtomicInteger();
            JdbcCertificateStore store = new JdbcCertificateStore();
            store.setUrl(pair.failoverJdbcUrl());
            store.setSchema("dynsni_failover");
            store.setTimeoutMillis(1000);
            store.setChangeListener(new CertificateStore.ChangeListener()
            {
                @Override
                public void onChange(String name, long version)
                {
                    changes.put(name, version);
                }

                @Override
                public void onChangesLost()
                {
                    lost.incrementAndGet();
                }
            });
            store.start();
            try
            {
                await("the store listens", 30, store::isListening);
                insert(pair.jdbcUrl(pair.primaryPort()), "before.failover.test");
                await("the change before the failover arrives", 10, () -> changes.containsKey("before.failover.test"));
                await("the standby has the row", 10, () -> rows(pair.jdbcUrl(pair.standbyPort())) == 1);
                int lostBefore = lost.get();

                pair.stopPrimary();
                long stopped = System.nanoTime();
                Thread.sleep(3000); // a failover takes a while: the store retries meanwhile, and finds only a standby
                pair.promoteStandby();
                long promoted = System.nanoTime();
                // the listener finds the new primary and subscribes again (saying it may have missed changes)
                await("the store listens on the new primary", 60, () -> lost.get() > lostBefore && store.isListening());
                long listening = System.nanoTime();
                assertTrue(TimeUnit.NANOSECONDS.toMillis(listening - promoted) < 10_000, "listening on the new primary within the bound");
                insert(pair.jdbcUrl(pair.standbyPort()), "after.failover.test");
                await("a change committed on the new primary arrives", 10, () -> changes.containsKey("after.failover.test"));
                long arrived = System.nanoTime();
                System.err.printf("PostgresFailoverTest: standby promoted %d ms after the primary stopped; the store listened on it %d ms after the promotion; a change committed then arrived in %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(promoted - stopped), TimeUnit.NANOSECONDS.toMillis(listening - promoted), TimeUnit.NANOSECONDS.toMillis(arrived - listening));

                Map<String, List<CertificateRecord>> found = store.load(List.of("before.failover.test", "after.failover.test")).get(10, TimeUnit.SECONDS);
                assertEquals(2, found.size(), "the pool reads the new primary: " + found.keySet());
            }
            finally
            {
                store.stop();
            }
        }
    }

    private static void await(String what, int seconds, Await.Check check) throws InterruptedException
    {
        Await.until(what, seconds, check);
    }

    private static void insert(String url, String host) throws Exception
    {
        try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement())
        {
            statement.execute("INSERT INTO dynsni_failover.certificate (host, key_type, chain_pem, key_pem) VALUES ('" + host + "', 'EC', 'chain', 'key')");
        }
    }

    private static int rows(String url) throws Exception
    {
        try (Connection connection = DriverManager.getConnection(url);
             Statement statement = connection.createStatement();
             var result = statement.executeQuery("SELECT count(*) FROM dynsni_failover.certificate"))
        {
            result.next();
            return result.getInt(1);
        }
    }
}
