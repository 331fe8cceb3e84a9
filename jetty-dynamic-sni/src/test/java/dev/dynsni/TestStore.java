package dev.dynsni;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.testing.TestServices;

/**
 * A test's own schema in the test PostgreSQL and its own Redis key prefix; writes rows with plain
 * SQL, as any writer could.
 */
final class TestStore implements AutoCloseable
{
    final String schema = TestServices.newSchema();
    final String keyPrefix = TestServices.newKeyPrefix();
    /** The nodes of this store: {@link #put} returns once each of them knows the name (see {@link #awaitIndexed}). */
    private final java.util.List<DynamicSniSslContextFactory> factories = new java.util.concurrent.CopyOnWriteArrayList<>();

    TestStore() throws SQLException
    {
        try (Connection connection = TestServices.connect())
        {
            SchemaMigrations.migrate(connection, schema);
        }
    }

    DynamicSniSslContextFactory newFactory(boolean withRedis)
    {
        DynamicSniSslContextFactory factory = new DynamicSniSslContextFactory();
        factories.add(factory);
        factory.setJdbcUrl(TestServices.jdbcUrl());
        factory.setJdbcSchema(schema);
        if (withRedis)
        {
            factory.setRedisAddress(TestServices.redisUrl());
            factory.setRedisKeyPrefix(keyPrefix);
        }
        return factory;
    }

    void put(String name, IssuedCertificate issued) throws SQLException
    {
        put(name, issued.keyType(), issued.chainPem(), issued.pkcs8KeyPem());
    }

    /**
     * Writes a row with plain SQL, then waits until every node of this store that has built its host
     * index has been told about the name (its change notification arrived), as an operator waits for
     * the propagation bound before expecting a new name to be served.
     */
    void put(String name, String keyType, String chainPem, String keyPem) throws SQLException
    {
        execute("INSERT INTO " + schema + ".certificate (host, key_type, chain_pem, key_pem) VALUES (?, ?, ?, ?) " +
            "ON CONFLICT (host, key_type) DO UPDATE SET chain_pem = excluded.chain_pem, key_pem = excluded.key_pem", name, keyType, chainPem, keyPem);
        awaitKnown(name);
    }

    /** Makes {@link #put} wait for a node this store did not create. */
    DynamicSniSslContextFactory register(DynamicSniSslContextFactory factory)
    {
        factories.add(factory);
        return factory;
    }

    /** Waits until every node of this store knows the names (after a write with {@link #execute}). */
    void awaitKnown(String... names)
    {
        try
        {
            for (DynamicSniSslContextFactory factory : factories)
            {
                awaitIndexed(factory, names);
            }
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until the node's host index no longer rules the names out: a name written after the
     * node started is served once its change notification reached the node (within about a second).
     */
    static void awaitIndexed(DynamicSniSslContextFactory factory, String... names) throws InterruptedException
    {
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (String name : names)
        {
            while (factory.getHostIndex() != null && factory.getHostIndex().rulesOut(name))
            {
                if (System.nanoTime() > deadline)
                    throw new AssertionError(name + " not known to the node's host index within 5 s");
                Thread.sleep(5);
            }
        }
    }

    void execute(String sql, Object... parameters) throws SQLException
    {
        try (Connection connection = TestServices.connect();
             PreparedStatement statement = connection.prepareStatement(sql))
        {
            for (int i = 0; i < parameters.length; i++)
            {
                statement.setObject(i + 1, parameters[i]);
            }
            statement.execute();
        }
    }

    int count() throws SQLException
    {
        try (Connection connection = TestServices.connect();
             Statement statement = connection.createStatement();
             var rs = statement.executeQuery("SELECT count(*) FROM " + schema + ".certificate"))
        {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Override
    public void close()
    {
        TestServices.dropSchema(schema);
    }
}
