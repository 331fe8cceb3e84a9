package dev.dynsni.core.store;

import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.dynsni.core.CertificateStore;
import dev.dynsni.core.ChangeFeed;
import dev.dynsni.testing.Await;
import dev.dynsni.testing.TcpProxy;
import dev.dynsni.testing.TestServices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No change is missed: the PostgreSQL store's LISTEN connection is cut (a proxy between it and the
 * real PostgreSQL), rows are changed, removed, added and truncated meanwhile, one of them by a
 * transaction that began before the cut and commits during it; when the connection returns, the store
 * hands every one of those changes to its listener, read from the table and its tombstones, before
 * it says it listens again. A TRUNCATE while listening is announced as "every name".
 */
class ChangeCatchUpTest
{
    private final String schema = TestServices.newSchema();
    private final Map<String, Long> changes = new ConcurrentHashMap<>();
    private final AtomicInteger subscriptions = new AtomicInteger();
    private TcpProxy proxy;
    private JdbcCertificateStore store;

    @BeforeEach
    void start() throws Exception
    {
        proxy = new TcpProxy(TestServices.postgresAddress());
        store = new JdbcCertificateStore();
        store.setUrl(TestServices.jdbcUrlVia("127.0.0.1", proxy.port()));
        store.setSchema(schema);
        store.setTimeoutMillis(1000);
        store.setChangeListener(new CertificateStore.ChangeListener()
        {
            @Override
            public void onChange(String name, long version)
            {
                changes.merge(name, version, Math::max);
            }

            @Override
            public void onChangesLost()
            {
                subscriptions.incrementAndGet();
            }
        });
        store.start();
        await("the store listens", 30, () -> store.isListening() && subscriptions.get() == 1);
    }

    @AfterEach
    void stop() throws Exception
    {
        store.stop();
        proxy.close();
        TestServices.dropSchema(schema);
    }

    private void sql(String... statements) throws Exception
    {
        try (Connection connection = TestServices.connect(); Statement statement = connection.createStatement())
        {
            for (String sql : statements)
            {
                statement.execute(sql.replace("${schema}", schema));
            }
        }
    }

    private static String insert(String host)
    {
        return "INSERT INTO ${schema}.certificate (host, key_type, chain_pem, key_pem) VALUES ('" + host + "', 'EC', 'chain', 'key')";
    }

    @Test
    void changesCommittedWhileTheFeedWasCut_areCaughtUp_beforeTheStoreListensAgain() throws Exception
    {
        sql(insert("kept.example"), insert("changed.example"), insert("removed.example"));
        await("the live changes arrive", 10, () -> changes.containsKey("removed.example"));

        try (Connection early = TestServices.connect(); Statement statement = early.createStatement())
        {
            // a transaction that begins (and writes) while the store listens, and commits during the cut
            early.setAutoCommit(false);
            statement.execute(insert("slow.example").replace("${schema}", schema));
            Thread.sleep(1500); // the store's watermark moves on meanwhile (it checks every second)

            proxy.cut();
            await("the store notices the cut", 10, () -> !store.isListening());
            changes.clear();
            early.commit();
        }
        sql("UPDATE ${schema}.certificate SET chain_pem = 'chain 2' WHERE host = 'changed.example'",
            "DELETE FROM ${schema}.certificate WHERE host = 'removed.example'",
            insert("added.example"));
        Thread.sleep(500);
        assertTrue(changes.isEmpty(), "nothing heard during the cut: " + changes);

        proxy.restore();
        await("the store listens again", 30, () -> store.isListening() && subscriptions.get() == 2);
        for (String host : new String[]{"slow.example", "changed.example", "removed.example", "added.example"})
        {
            assertTrue(changes.containsKey(host), host + " caught up: " + changes);
        }
        long removed = changes.get("removed.example");
        assertTrue(removed > changes.get("added.example") - 10 && removed > 0, "a removal carries its tombstone's version: " + changes);
    }

    @Test
    void truncate_isAnnouncedAsEveryName_live_andAfterAGap() throws Exception
    {
        sql(insert("a.example"), insert("b.example"));
        await("the inserts arrive", 10, () -> changes.containsKey("b.example"));
        changes.clear();
        sql("TRUNCATE ${schema}.certificate");
        await("the TRUNCATE is announced as every name", 10, () -> changes.containsKey(ChangeFeed.EVICT_ALL));

        sql(insert("c.example"));
        Thread.sleep(1500);
        proxy.cut();
        await("the store notices the cut", 10, () -> !store.isListening());
        changes.clear();
        sql("TRUNCATE ${schema}.certificate");
        proxy.restore();
        await("the store listens again", 30, () -> store.isListening() && subscriptions.get() == 2);
        assertTrue(changes.containsKey(ChangeFeed.EVICT_ALL), "the TRUNCATE during the gap caught up: " + changes);
        assertTrue(store.query(java.util.List.of("c.example")).getOrDefault("c.example", java.util.List.of()).isEmpty(), "the table is empty");
    }

    private static void await(String what, int seconds, Await.Check check) throws InterruptedException
    {
        Await.until(what, seconds, check);
    }
}
