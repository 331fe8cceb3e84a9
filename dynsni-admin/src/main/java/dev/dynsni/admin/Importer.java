package dev.dynsni.admin;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.MasterKeys;
import org.postgresql.PGConnection;

/**
 * Writes validated certificates: one transaction per batch that COPYs the rows into a temporary
 * table and upserts them into {@code <schema>.certificate} (per stored name and key type; a row whose
 * chain is unchanged is left alone, so re-imports do not make nodes evict anything, unless its
 * stored key is not the imported one: a re-import repairs a corrupt row). The table's
 * triggers stamp versions and NOTIFY the nodes; then the Redis entries of the changed names are
 * fenced and dropped directly, so that a value cached before the import is gone even when no node
 * is running. A Redis failure is reported once and does not fail the import: nodes invalidate Redis
 * on the change feed too. Not thread-safe: one importer per connection; closing it closes its Redis tier.
 */
final class Importer implements AutoCloseable
{
    private final Connection connection;
    private final String schema;
    private final PrintWriter err;
    private final MasterKeys masterKeys;
    private Redis redis;
    private boolean tableReady;

    /** The outcome of one batch: rows written, the names changed with their versions, and how many unchanged rows were repaired. */
    record Written(int rows, List<String> names, List<Long> versions, int repaired)
    {
    }

    /**
     * @param redis      the Redis tier, or null for none; the importer closes it when it fails
     * @param masterKeys when not null, private keys are written encrypted with its current key
     */
    Importer(Connection connection, String schema, Redis redis, MasterKeys masterKeys, PrintWriter err)
    {
        this.masterKeys = masterKeys;
        this.connection = connection;
        this.schema = schema;
        this.redis = redis;
        this.err = err;
    }

    /**
     * Writes all certificates of the batch in one transaction.
     *
     * @return the stored names whose rows changed, with their new versions
     */
    Written write(List<ParsedCertificate> batch) throws SQLException
    {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try
        {
            prepareTable();
            StringBuilder csv = new StringBuilder(batch.size() * 2400);
            int seq = 0;
            for (ParsedCertificate certificate : batch)
            {
                for (String name : certificate.names())
                {
                    csv.append(seq++).append(',');
                    csvField(csv, name).append(',');
                    csvField(csv, certificate.keyType()).append(',');
                    csvField(csv, certificate.chainPem()).append(',');
                    if (masterKeys == null)
                    {
                        csvField(csv, certificate.keyPem()).append(',');
                        csvField(csv, CertificateRecord.PLAIN).append(',');
                    }
                    else
                    {
                        csvField(csv, masterKeys.encrypt(name, certificate.keyType(), certificate.keyPem())).append(',');
                        csvField(csv, masterKeys.currentEncoding()).append(',');
                    }
                    csv.append(certificate.notBefore()).append(',');
                    csv.append(certificate.notAfter()).append(',');
                    csvField(csv, certificate.fingerprint()).append('\n');
                }
            }
            try
            {
                connection.unwrap(PGConnection.class).getCopyAPI().copyIn(
                    "COPY pg_temp.dynsni_import (seq, host, key_type, chain_pem, key_pem, key_encoding, not_before, not_after, fingerprint) FROM STDIN (FORMAT csv)",
                    new StringReader(csv.toString()));
            }
            catch (IOException x)
            {
                throw new SQLException("COPY failed: " + x.getMessage(), "08000", x);
            }
            int repaired = markRepairs(batch);
            List<String> names = new ArrayList<>(seq);
            List<Long> versions = new ArrayList<>(seq);
            try (Statement statement = connection.createStatement();
                 ResultSet rs = statement.executeQuery(
                     "INSERT INTO " + schema + ".certificate AS c (host, key_type, chain_pem, key_pem, key_encoding, not_before, not_after, fingerprint, version) " +
                     "SELECT DISTINCT ON (host, key_type) host, key_type, chain_pem, key_pem, key_encoding, not_before, not_after, fingerprint, 0 " +
                     "FROM pg_temp.dynsni_import ORDER BY host, key_type, seq DESC " +
                     "ON CONFLICT (host, key_type) DO UPDATE SET chain_pem = EXCLUDED.chain_pem, key_pem = EXCLUDED.key_pem, " +
                     "key_encoding = EXCLUDED.key_encoding, not_before = EXCLUDED.not_before, not_after = EXCLUDED.not_after, fingerprint = EXCLUDED.fingerprint " +
                     "WHERE c.chain_pem IS DISTINCT FROM EXCLUDED.chain_pem OR c.key_encoding IS DISTINCT FROM EXCLUDED.key_encoding " +
                     "OR EXISTS (SELECT 1 FROM pg_temp.dynsni_import r WHERE r.host = c.host AND r.key_type = c.key_type AND r.repair) " +
                     "RETURNING host, version"))
            {
                while (rs.next())
                {
                    names.add(rs.getString(1));
                    versions.add(rs.getLong(2));
                }
            }
            connection.commit();
            invalidateRedis(names, versions);
            return new Written(seq, names, versions, repaired);
        }
        catch (SQLException | RuntimeException x)
        {
            rollbackQuietly();
            throw x;
        }
        finally
        {
            connection.setAutoCommit(autoCommit);
        }
    }

    /**
     * A row whose chain and key encoding equal what is imported is normally left alone; it is
     * rewritten when its stored key is not the imported one (corrupt, truncated, another key, or
     * not decryptable with the master key): such rows are marked {@code repair} in the import table.
     *
     * @return how many rows are marked
     */
    private int markRepairs(List<ParsedCertificate> batch) throws SQLException
    {
        Map<String, String> imported = new HashMap<>();
        for (ParsedCertificate certificate : batch)
        {
            for (String name : certificate.names())
            {
                imported.put(name + "|" + certificate.keyType(), certificate.keyPem());
            }
        }
        List<String[]> repairs = new ArrayList<>();
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(
                 "SELECT c.host, c.key_type, c.key_pem, c.key_encoding FROM " + schema + ".certificate c " +
                 "JOIN (SELECT DISTINCT ON (host, key_type) host, key_type, chain_pem, key_encoding FROM pg_temp.dynsni_import ORDER BY host, key_type, seq DESC) i " +
                 "ON c.host = i.host AND c.key_type = i.key_type AND c.chain_pem = i.chain_pem AND c.key_encoding = i.key_encoding"))
        {
            while (rs.next())
            {
                String host = rs.getString(1);
                String keyType = rs.getString(2);
                String stored = rs.getString(3);
                String encoding = rs.getString(4);
                String plain;
                try
                {
                    plain = CertificateRecord.PLAIN.equals(encoding) ? stored : masterKeys == null ? null : masterKeys.decrypt(host, keyType, encoding, stored);
                }
                catch (InvalidCredentialException x)
                {
                    plain = null;
                }
                String expected = imported.get(host + "|" + keyType);
                if (plain == null || expected == null || !plain.strip().equals(expected.strip()))
                    repairs.add(new String[]{host, keyType});
            }
        }
        if (repairs.isEmpty())
            return 0;
        try (PreparedStatement mark = connection.prepareStatement("UPDATE pg_temp.dynsni_import SET repair = true WHERE host = ? AND key_type = ?"))
        {
            for (String[] repair : repairs)
            {
                mark.setString(1, repair[0]);
                mark.setString(2, repair[1]);
                mark.addBatch();
            }
            mark.executeBatch();
        }
        return repairs.size();
    }

    private void prepareTable() throws SQLException
    {
        if (tableReady)
            return;
        try (Statement statement = connection.createStatement())
        {
            statement.execute("CREATE TEMP TABLE IF NOT EXISTS dynsni_import (seq int, host text, key_type text, chain_pem text, key_pem text, key_encoding text, " +
                "not_before timestamptz, not_after timestamptz, fingerprint text, repair boolean NOT NULL DEFAULT false) ON COMMIT DELETE ROWS");
        }
        tableReady = true;
    }

    private void invalidateRedis(List<String> names, List<Long> versions)
    {
        if (redis == null || names.isEmpty())
            return;
        try
        {
            redis.invalidate(names, versions);
        }
        catch (CliException x)
        {
            err.println("warning: " + x.getMessage() + "; running nodes still evict through the change feed, Redis entries of stopped nodes expire with their TTL");
            err.flush();
            redis.close();
            redis = null;
        }
    }

    /** Closes the Redis tier, if any; the connection stays the caller's. */
    @Override
    public void close()
    {
        if (redis != null)
            redis.close();
        redis = null;
    }

    private void rollbackQuietly()
    {
        try
        {
            connection.rollback();
        }
        catch (SQLException ignored)
        {
            // the original failure is what matters
        }
    }

    private static StringBuilder csvField(StringBuilder csv, String value)
    {
        csv.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            char c = value.charAt(i);
            if (c == '"')
                csv.append('"');
            csv.append(c);
        }
        return csv.append('"');
    }
}
