package dev.dynsni.bench;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

import dev.dynsni.core.SchemaMigrations;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * Test data at scale: certificate rows bulk-loaded into a benchmark schema with PostgreSQL
 * {@code COPY}, PKCS12 keystores for the stock-Jetty baseline, and cleanup of schemas and Redis keys.
 *
 * <p>The {@code COPY} runs with {@code session_replication_role = replica}, which skips the table's
 * triggers: the version stamp is written directly and the change feed is not flooded with a
 * notification per row (no node is running while a benchmark schema is filled).</p>
 */
final class BenchData
{
    static final String DOMAIN = "bench.test";
    static final String PASSWORD = "bench-secret";
    private static final int CHUNK = 5000;

    private BenchData()
    {
    }

    static Connection connect(BenchConfig config) throws SQLException
    {
        return DriverManager.getConnection(config.jdbcUrl);
    }

    static void recreateSchema(BenchConfig config, String schema) throws SQLException
    {
        dropSchema(config, schema);
        try (Connection connection = connect(config))
        {
            SchemaMigrations.migrate(connection, schema);
        }
    }

    static void dropSchema(BenchConfig config, String schema) throws SQLException
    {
        try (Connection connection = connect(config); Statement statement = connection.createStatement())
        {
            statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    /**
     * Generates certificates for hosts {@code from..to-1} (named by {@code names}) and COPYs them in.
     *
     * @param keep when not null, receives the generated leaves (for keystores)
     */
    static void populate(BenchConfig config, BenchPki pki, String schema, int from, int to, IntFunction<String> names, List<BenchPki.Leaf> keep)
        throws Exception
    {
        if (to <= from)
            return;
        try (Connection connection = connect(config); Statement statement = connection.createStatement())
        {
            statement.execute("SET session_replication_role = replica");
            String sql = "COPY " + schema + ".certificate (host, key_type, chain_pem, key_pem, key_encoding, not_before, not_after, fingerprint, version) FROM STDIN WITH (FORMAT csv)";
            CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
            String notBefore = OffsetDateTime.ofInstant(pki.notBefore(), ZoneOffset.UTC).toString();
            String notAfter = OffsetDateTime.ofInstant(pki.notAfter(), ZoneOffset.UTC).toString();
            try
            {
                for (int chunk = from; chunk < to; chunk += CHUNK)
                {
                    int start = chunk;
                    int end = Math.min(to, chunk + CHUNK);
                    BenchPki.Leaf[] leaves = new BenchPki.Leaf[end - start];
                    IntStream.range(start, end).parallel().forEach(i -> leaves[i - start] = pki.leaf(names.apply(i), i));
                    StringBuilder rows = new StringBuilder(leaves.length * 1400);
                    for (int i = 0; i < leaves.length; i++)
                    {
                        BenchPki.Leaf leaf = leaves[i];
                        rows.append(leaf.host()).append(",EC,\"").append(pki.chainPem(leaf)).append("\",\"").append(pki.keyPem(leaf)).append("\",plain,")
                            .append(notBefore).append(',').append(notAfter).append(',').append(BenchPki.fingerprint(leaf.der())).append(',')
                            .append(start + i + 1L).append('\n');
                        if (keep != null)
                            keep.add(leaf);
                    }
                    byte[] bytes = rows.toString().getBytes(StandardCharsets.US_ASCII);
                    copy.writeToCopy(bytes, 0, bytes.length);
                }
                copy.endCopy();
            }
            finally
            {
                if (copy.isActive())
                    copy.cancelCopy();
            }
            statement.execute("SELECT setval('" + schema + ".certificate_version_seq', greatest((SELECT max(version) FROM " + schema + ".certificate), 1))");
            statement.execute("ANALYZE " + schema + ".certificate");
        }
    }

    static String tenant(int index)
    {
        return "t" + index + "." + DOMAIN;
    }

    /**
     * A PKCS12 keystore holding one entry per leaf (alias = host), chain leaf + CA.
     */
    static void writeKeystore(BenchConfig config, BenchPki pki, List<BenchPki.Leaf> leaves, Path file) throws Exception
    {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        keyStore.load(null, null);
        Certificate ca = pki.ca();
        for (BenchPki.Leaf leaf : leaves)
        {
            byte[] key = pki.protectedKey(leaf, PASSWORD.toCharArray(), config.p12Iterations);
            keyStore.setKeyEntry(leaf.host(), key, new Certificate[]{BenchPki.certificate(leaf.der()), ca});
        }
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file))
        {
            keyStore.store(out, PASSWORD.toCharArray());
        }
    }

    /** Deletes the Redis keys under the prefixes (SCAN + DEL through Redisson, the library's Redis client). */
    static long deleteRedisKeys(BenchConfig config, Collection<String> prefixes)
    {
        Config redis = new Config();
        redis.useSingleServer().setAddress(config.redisAddress);
        RedissonClient client = Redisson.create(redis);
        try
        {
            long deleted = 0;
            for (String prefix : prefixes)
            {
                deleted += client.getKeys().deleteByPattern(prefix + "*");
            }
            return deleted;
        }
        finally
        {
            client.shutdown();
        }
    }
}
