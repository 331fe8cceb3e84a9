package dev.dynsni.core.store;

import java.io.IOException;
import java.io.StringReader;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.Pem;
import org.postgresql.PGConnection;

/**
 * The one write path of certificates into {@code <schema>.certificate}, shared by the admin tool's
 * import and ACME issuance so that both store a certificate the same way: the private key encrypted
 * with the current master key when one is configured, {@code not_before}, {@code not_after} and the
 * leaf's fingerprint filled in. The table's triggers stamp versions and NOTIFY the change feed, which
 * reaches every node; evicting Redis directly (when no node may be running) is the caller's business.
 *
 * <p>One transaction per batch: the rows are COPYed into a temporary table and upserted per stored
 * name and key type. A row whose chain and key encoding are unchanged is left alone, so that
 * re-imports make no node evict anything, unless its stored key is not the written one (corrupt, or
 * not decryptable with the master key): such a row is rewritten ("repaired").</p>
 *
 * <p>Not thread-safe: one writer per connection. The connection stays the caller's.</p>
 */
public final class CertificateWriter
{
    private final Connection connection;
    private final String schema;
    private final MasterKeys masterKeys;
    private boolean tableReady;

    /**
     * A certificate and its key, checked by the caller (the key matches the leaf), ready to be
     * stored under one or more names.
     *
     * @param names       the stored names (exact hosts or {@code *.parent}), lower-case
     * @param keyType     {@code EC}, {@code RSA}, {@code RSASSA-PSS} or {@code EdDSA}
     * @param chainPem    leaf-first chain
     * @param keyPem      private key PEM; never printed
     * @param notBefore   of the leaf
     * @param notAfter    of the leaf
     * @param fingerprint SHA-256 of the leaf, hex
     */
    public record Entry(List<String> names, String keyType, String chainPem, String keyPem, Instant notBefore, Instant notAfter, String fingerprint)
    {
        public Entry
        {
            names = List.copyOf(names);
            Objects.requireNonNull(keyType, "keyType");
            Objects.requireNonNull(chainPem, "chainPem");
            Objects.requireNonNull(keyPem, "keyPem");
        }

        /** @return the entry of a leaf-first chain and its key, as ACME issues them */
        public static Entry of(List<String> names, List<X509Certificate> chain, PrivateKey key) throws InvalidCredentialException
        {
            StringBuilder pem = new StringBuilder();
            for (X509Certificate certificate : chain)
            {
                pem.append(Pem.encode(certificate));
            }
            X509Certificate leaf = chain.get(0);
            return new Entry(names, Pem.keyType(key), pem.toString(), Pem.encode("PRIVATE KEY", key.getEncoded()),
                leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant(), Pem.fingerprint(leaf));
        }

        @Override
        public String toString()
        {
            return "Entry[names=" + names + ", keyType=" + keyType + ", fingerprint=" + fingerprint + ", notAfter=" + notAfter + "]";
        }
    }

    /** The outcome of one batch: rows offered, the names whose rows changed with their new versions, and how many unchanged rows were repaired. */
    public record Written(int rows, List<String> names, List<Long> versions, int repaired)
    {
    }

    /**
     * @param masterKeys when not null, private keys are written encrypted with its current key
     */
    public CertificateWriter(Connection connection, String schema, MasterKeys masterKeys)
    {
        this.connection = connection;
        this.schema = schema;
        this.masterKeys = masterKeys;
    }

    /**
     * Writes all entries in one transaction (a later entry for the same name and key type wins).
     *
     * @return the stored names whose rows changed, with their new versions
     */
    public Written write(List<Entry> batch) throws SQLException
    {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try
        {
            prepareTable();
            StringBuilder csv = new StringBuilder(batch.size() * 2400);
            int seq = 0;
            for (Entry entry : batch)
            {
                for (String name : entry.names())
                {
                    csv.append(seq++).append(',');
                    csvField(csv, name).append(',');
                    csvField(csv, entry.keyType()).append(',');
                    csvField(csv, entry.chainPem()).append(',');
                    if (masterKeys == null)
                    {
                        csvField(csv, entry.keyPem()).append(',');
                        csvField(csv, CertificateRecord.PLAIN).append(',');
                    }
                    else
                    {
                        csvField(csv, masterKeys.encrypt(name, entry.keyType(), entry.keyPem())).append(',');
                        csvField(csv, masterKeys.currentEncoding()).append(',');
                    }
                    csv.append(entry.notBefore() == null ? "" : entry.notBefore().toString()).append(',');
                    csv.append(entry.notAfter() == null ? "" : entry.notAfter().toString()).append(',');
                    if (entry.fingerprint() != null)
                        csvField(csv, entry.fingerprint());
                    csv.append('\n');
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
            return new Written(seq, names, versions, repaired);
        }
        catch (SQLException | RuntimeException x)
        {
            rollbackQuietly();
            // a temporary table created in the rolled-back transaction is gone
            tableReady = false;
            throw x;
        }
        finally
        {
            connection.setAutoCommit(autoCommit);
        }
    }

    /**
     * Marks {@code repair} in the import table the rows whose chain and key encoding equal what is
     * written but whose stored key is not the written one.
     *
     * @return how many rows are marked
     */
    private int markRepairs(List<Entry> batch) throws SQLException
    {
        Map<String, String> written = new HashMap<>();
        for (Entry entry : batch)
        {
            for (String name : entry.names())
            {
                written.put(name + "|" + entry.keyType(), entry.keyPem());
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
                String expected = written.get(host + "|" + keyType);
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
