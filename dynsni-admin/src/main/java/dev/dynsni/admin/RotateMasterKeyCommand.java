package dev.dynsni.admin;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.MasterKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "rotate-master-key",
    customSynopsis = "dynsni rotate-master-key [OPTIONS] --new-key=FILE [--old-key=FILE]...",
    description = {
    "Re-encrypt every stored private key with a new master key, in batches, while nodes keep serving.",
    "Rows stored unencrypted are encrypted too. Before running it, give every node the new key as",
    "jetty.dynamicSni.masterKeyFile and the old one in jetty.dynamicSni.previousMasterKeyFiles; afterwards",
    "the old key can be dropped from their configuration. Rows written while it runs are revisited; it exits 1",
    "unless every row ends under the new key (rows a writer keeps writing with an old key, or that cannot be decrypted)."
})
class RotateMasterKeyCommand extends StoreCommand
{
    @Option(names = "--new-key", required = true, paramLabel = "FILE", description = "The new master key file (32 bytes: raw, hex or base64; chmod 600).")
    Path newKey;

    @Option(names = "--old-key", paramLabel = "FILE", description = "Further old key files to decrypt with (the configured masterKeyFile and previousMasterKeyFiles are used too).")
    List<Path> oldKeys = new ArrayList<>();

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "500", description = "Rows per transaction (default ${DEFAULT-VALUE}).")
    int batchSize;

    /** Most passes over the rows not yet under the new key: the first, then revisits of what changed meanwhile. */
    static final int MAX_PASSES = 10;

    /** What one pass did. */
    private record Pass(int rotated, int skipped, List<String> failed)
    {
    }

    @Override
    public Integer call()
    {
        if (batchSize < 1)
            throw CliException.usage("--batch-size must be at least 1");
        MasterKeys keys = keys();
        String target = keys.currentEncoding();
        Settings settings = settings();
        String schema = settings.schema();
        int rotated = 0;
        int passes = 0;
        List<String> failed;
        Map<String, Long> remaining;
        try (Connection connection = openDatabase())
        {
            connection.setAutoCommit(false);
            // Rows written during a pass (behind its cursor, or locked by a writer when it came by) are
            // revisited by the next one, until none is left or only rows that cannot be decrypted are.
            while (true)
            {
                Pass pass = pass(connection, schema, keys, target);
                passes++;
                rotated += pass.rotated();
                failed = pass.failed();
                remaining = remaining(connection, schema, target);
                long left = remaining.values().stream().mapToLong(Long::longValue).sum();
                if (left == 0 || left == failed.size() && pass.skipped() == 0 || passes == MAX_PASSES)
                    break;
                err().println("pass " + passes + ": " + left + " rows not under the new key yet (written during the run or locked by a writer): revisiting");
                if (pass.rotated() == 0)
                    Thread.sleep(100L * passes); // rows locked by writers: give them time to commit
            }
        }
        catch (SQLException x)
        {
            throw Database.failed("re-encrypting keys", x);
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            throw new CliException(DynSni.EXIT_UNREACHABLE, "interrupted", x);
        }
        long left = remaining.values().stream().mapToLong(Long::longValue).sum();
        out().println("re-encrypted " + rotated + " private keys with master key " + keys.currentKeyId() + " in " + passes + (passes == 1 ? " pass" : " passes") +
            (failed.isEmpty() ? "" : "; " + failed.size() + " could not be decrypted and were left unchanged"));
        if (left == 0)
            return DynSni.EXIT_OK;
        err().println("error: " + left + " rows are still not under master key " + keys.currentKeyId() + " (" + describe(remaining) + "): keep the old keys on every node and run " +
            "rotate-master-key again" + (failed.isEmpty() ? " once no writer uses an old key" : " after fixing the rows listed above"));
        return DynSni.EXIT_REJECTED;
    }

    /**
     * One pass in (host, key type) order, {@code --batch-size} rows per transaction: each row not under
     * the new key is locked (rows a writer holds are skipped, for the next pass), decrypted and
     * written back under the new key.
     */
    private Pass pass(Connection connection, String schema, MasterKeys keys, String target) throws SQLException
    {
        int rotated = 0;
        int skipped = 0;
        List<String> failed = new ArrayList<>();
        String afterHost = "";
        String afterType = "";
        while (true)
        {
            List<CertificateRecord> batch = new ArrayList<>(batchSize);
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT host, key_type, key_pem, key_encoding, version FROM " + schema + ".certificate " +
                    "WHERE key_encoding <> ? AND (host, key_type) > (?, ?) ORDER BY host, key_type LIMIT ? FOR UPDATE SKIP LOCKED"))
            {
                select.setString(1, target);
                select.setString(2, afterHost);
                select.setString(3, afterType);
                select.setInt(4, batchSize);
                try (ResultSet rs = select.executeQuery())
                {
                    while (rs.next())
                    {
                        batch.add(new CertificateRecord(rs.getString(1), rs.getString(2), "", rs.getString(3), rs.getString(4), rs.getLong(5)));
                    }
                }
            }
            if (batch.isEmpty())
            {
                connection.commit();
                break;
            }
            try (PreparedStatement update = connection.prepareStatement("UPDATE " + schema + ".certificate SET key_pem = ?, key_encoding = ? " +
                "WHERE host = ? AND key_type = ? AND version = ?"))
            {
                for (CertificateRecord record : batch)
                {
                    String plain;
                    try
                    {
                        plain = CertificateRecord.PLAIN.equals(record.keyEncoding()) ? record.keyPem() : keys.decrypt(record);
                    }
                    catch (InvalidCredentialException x)
                    {
                        failed.add(record.name() + "/" + record.keyType());
                        err().println("error: " + record.name() + " " + record.keyType() + ": " + x.getMessage());
                        continue;
                    }
                    update.setString(1, keys.encrypt(record.name(), record.keyType(), plain));
                    update.setString(2, target);
                    update.setString(3, record.name());
                    update.setString(4, record.keyType());
                    update.setLong(5, record.version());
                    update.addBatch();
                }
                for (int count : update.executeBatch())
                {
                    if (count > 0)
                        rotated += count;
                    else
                        skipped++;
                }
            }
            connection.commit();
            CertificateRecord last = batch.get(batch.size() - 1);
            afterHost = last.name();
            afterType = last.keyType();
            err().println("rotated " + rotated + " keys so far");
        }
        return new Pass(rotated, skipped, failed);
    }

    /** @return the rows not under the target encoding, counted by key id ({@code plain} for unencrypted keys) */
    static Map<String, Long> remaining(Connection connection, String schema, String target) throws SQLException
    {
        Map<String, Long> remaining = new TreeMap<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT key_encoding, count(*) FROM " + schema + ".certificate WHERE key_encoding <> ? GROUP BY key_encoding"))
        {
            select.setString(1, target);
            try (ResultSet rs = select.executeQuery())
            {
                while (rs.next())
                {
                    remaining.merge(keyIdLabel(rs.getString(1)), rs.getLong(2), Long::sum);
                }
            }
        }
        connection.commit();
        return remaining;
    }

    /** @return the key id of an encoding, {@code plain} for unencrypted keys, or the encoding itself when unknown */
    static String keyIdLabel(String encoding)
    {
        if (CertificateRecord.PLAIN.equals(encoding))
            return "plain";
        String id = MasterKeys.keyIdOf(encoding);
        return id == null ? encoding : id;
    }

    private static String describe(Map<String, Long> byKeyId)
    {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Long> entry : byKeyId.entrySet())
        {
            if (out.length() > 0)
                out.append(", ");
            out.append(entry.getValue()).append(entry.getKey().equals("plain") ? " unencrypted" : " under key " + entry.getKey());
        }
        return out.toString();
    }

    private MasterKeys keys()
    {
        List<Path> old = new ArrayList<>(oldKeys);
        old.addAll(configuredMasterKeyFiles());
        try
        {
            return MasterKeys.load(newKey, old);
        }
        catch (IOException x)
        {
            throw CliException.usage(x.getMessage());
        }
    }
}
