package dev.dynsni.admin;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

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
    "the old key can be dropped from their configuration."
})
class RotateMasterKeyCommand extends StoreCommand
{
    @Option(names = "--new-key", required = true, paramLabel = "FILE", description = "The new master key file (32 bytes: raw, hex or base64; chmod 600).")
    Path newKey;

    @Option(names = "--old-key", paramLabel = "FILE", description = "Further old key files to decrypt with (the configured masterKeyFile and previousMasterKeyFiles are used too).")
    List<Path> oldKeys = new ArrayList<>();

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "500", description = "Rows per transaction (default ${DEFAULT-VALUE}).")
    int batchSize;

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
        List<String> failed = new ArrayList<>();
        try (Connection connection = openDatabase())
        {
            connection.setAutoCommit(false);
            String afterHost = "";
            String afterType = "";
            while (true)
            {
                List<CertificateRecord> batch = new ArrayList<>(batchSize);
                try (PreparedStatement select = connection.prepareStatement(
                    "SELECT host, key_type, key_pem, key_encoding, version FROM " + schema + ".certificate " +
                        "WHERE key_encoding <> ? AND (host, key_type) > (?, ?) ORDER BY host, key_type LIMIT ?"))
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
                    break;
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
                        rotated += Math.max(count, 0);
                    }
                }
                connection.commit();
                CertificateRecord last = batch.get(batch.size() - 1);
                afterHost = last.name();
                afterType = last.keyType();
                err().println("rotated " + rotated + " keys so far");
            }
        }
        catch (SQLException x)
        {
            throw Database.failed("re-encrypting keys", x);
        }
        out().println("re-encrypted " + rotated + " private keys with master key " + keys.currentKeyId() +
            (failed.isEmpty() ? "" : "; " + failed.size() + " could not be decrypted and were left unchanged"));
        return failed.isEmpty() ? DynSni.EXIT_OK : DynSni.EXIT_REJECTED;
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
