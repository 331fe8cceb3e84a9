package dev.dynsni.admin;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import dev.dynsni.core.MasterKeys;
import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.Secrets;
import dev.dynsni.core.store.JdbcCertificateStore;
import picocli.CommandLine.Command;

/**
 * Checks the settings and both stores and says what is wrong in plain words. Exit code 3 when a
 * store cannot be reached, 1 when a problem was found (schema missing or outdated), 0 otherwise;
 * warnings (expired certificates, no node listening) do not change the exit code.
 */
@Command(name = "doctor", description = {
    "Check the settings, PostgreSQL (version, schema version, row counts, rows per master key id, expiry, listening nodes) and Redis",
    "(version, cached entries), and say what is wrong in plain words."
})
class DoctorCommand extends StoreCommand
{
    private int exitCode = DynSni.EXIT_OK;

    @Override
    public Integer call()
    {
        Settings settings = settings();
        out().println("settings");
        for (String line : settings.describe())
        {
            out().println("  " + line);
        }
        if (settings.jettyBase() != null)
        {
            for (String unknown : settings.jettyBase().unknownModuleProperties())
            {
                warn("unknown property " + unknown + ": no such setting (a typo?); nodes ignore it too");
            }
        }
        checkMasterKeys(settings);
        checkPostgres(settings);
        checkRedis(settings);
        out().println(exitCode == DynSni.EXIT_OK ? "all checks passed" : "problems found (exit code " + exitCode + ")");
        return exitCode;
    }

    private void checkMasterKeys(Settings settings)
    {
        try
        {
            if (masterKeys() != null)
                ok("master key " + settings.masterKeyFile() + " readable" + (settings.previousMasterKeyFiles().isEmpty() ? "" : ", and the " + settings.previousMasterKeyFiles().size() + " previous ones"));
        }
        catch (CliException x)
        {
            fail(x.getExitCode(), x.getMessage());
        }
    }

    private void checkPostgres(Settings settings)
    {
        String url;
        try
        {
            url = Secrets.redactUrl(settings.jdbcUrl());
        }
        catch (CliException x)
        {
            fail(DynSni.EXIT_USAGE, x.getMessage());
            return;
        }
        long start = System.nanoTime();
        try (Connection connection = Database.open(settings);
             Statement statement = connection.createStatement())
        {
            String version = scalar(statement, "SHOW server_version");
            ok(String.format(Locale.ROOT, "PostgreSQL %s reachable at %s (%d ms)", version, url, (System.nanoTime() - start) / 1_000_000));
            String schema = settings.schema();
            int schemaVersion = SchemaMigrations.currentVersion(connection, schema);
            int latest = SchemaMigrations.latestVersion();
            if (schemaVersion == 0)
            {
                fail(DynSni.EXIT_REJECTED, "schema '" + schema + "' does not exist: run 'dynsni init-db' (or start a Jetty node, which creates it)");
                return;
            }
            if (schemaVersion < latest)
                fail(DynSni.EXIT_REJECTED, "schema '" + schema + "' is at version " + schemaVersion + ", this tool expects " + latest + ": run 'dynsni init-db'");
            else if (schemaVersion > latest)
                warn("schema '" + schema + "' is at version " + schemaVersion + ", newer than this tool knows (" + latest + "): use the admin tool of the same release as the nodes");
            else
                ok("schema '" + schema + "' at version " + schemaVersion);
            try (ResultSet rs = statement.executeQuery("SELECT count(*), count(DISTINCT host), " +
                "count(*) FILTER (WHERE not_after < now()), count(*) FILTER (WHERE not_after >= now() AND not_after < now() + interval '30 days'), " +
                "count(*) FILTER (WHERE key_encoding <> 'plain'), count(*) FILTER (WHERE not_after IS NULL) FROM " + schema + ".certificate"))
            {
                rs.next();
                ok(String.format(Locale.ROOT, "%,d certificates for %,d names", rs.getLong(1), rs.getLong(2)));
                if (rs.getLong(3) > 0)
                    warn(String.format(Locale.ROOT, "%,d certificates have expired and are not served: dynsni list --expiring-within 0", rs.getLong(3)));
                if (rs.getLong(4) > 0)
                    warn(String.format(Locale.ROOT, "%,d certificates expire within 30 days: dynsni list --expiring-within 30", rs.getLong(4)));
                if (rs.getLong(5) > 0)
                    ok(String.format(Locale.ROOT, "%,d private keys are stored encrypted", rs.getLong(5)));
                if (rs.getLong(6) > 0)
                    warn(String.format(Locale.ROOT, "%,d rows were written without expiry metadata (plain SQL?): re-import them with dynsni to see their expiry here", rs.getLong(6)));
            }
            checkKeyIds(statement, schema, settings);
            long listeners = Long.parseLong(scalar(statement, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + JdbcCertificateStore.LISTENER_APPLICATION_NAME + "'"));
            if (listeners == 0)
                warn("no Jetty node is listening for changes on this database (none running, or they use another database)");
            else
                ok(listeners + " Jetty node" + (listeners == 1 ? " is" : "s are") + " listening for changes");
        }
        catch (CliException x)
        {
            fail(x.getExitCode(), x.getMessage());
        }
        catch (SQLException x)
        {
            fail(DynSni.EXIT_UNREACHABLE, "PostgreSQL failed: " + Database.oneLine(x.getMessage()));
        }
    }

    /** Rows per master key id: rows under a key that is not the current one still need the old key on every node. */
    private void checkKeyIds(Statement statement, String schema, Settings settings) throws SQLException
    {
        String current = null;
        try
        {
            MasterKeys keys = masterKeys();
            current = keys == null ? null : keys.currentKeyId();
        }
        catch (CliException x)
        {
            // reported by checkMasterKeys
        }
        Map<String, Long> byKeyId = new TreeMap<>();
        try (ResultSet rs = statement.executeQuery("SELECT key_encoding, count(*) FROM " + schema + ".certificate GROUP BY key_encoding"))
        {
            while (rs.next())
            {
                byKeyId.merge(RotateMasterKeyCommand.keyIdLabel(rs.getString(1)), rs.getLong(2), Long::sum);
            }
        }
        for (Map.Entry<String, Long> entry : byKeyId.entrySet())
        {
            String id = entry.getKey();
            long rows = entry.getValue();
            if (id.equals(current))
                ok(String.format(Locale.ROOT, "%,d rows under master key %s (the current one)", rows, id));
            else if (id.equals("plain") && current == null)
                ok(String.format(Locale.ROOT, "%,d rows with an unencrypted private key", rows));
            else if (id.equals("plain"))
                warn(String.format(Locale.ROOT, "%,d rows with an unencrypted private key: dynsni rotate-master-key encrypts them under the current key", rows));
            else if (current == null)
                warn(String.format(Locale.ROOT, "%,d rows under master key %s, but no master key is configured here: nodes without it cannot serve them", rows, id));
            else
                warn(String.format(Locale.ROOT, "%,d rows under master key %s, not the current key %s: keep it in previousMasterKeyFiles and run dynsni rotate-master-key", rows, id, current));
        }
    }

    private void checkRedis(Settings settings)
    {
        if (settings.redisAddress() == null)
        {
            ok("no Redis configured: nodes use their own cache and PostgreSQL only");
            return;
        }
        long start = System.nanoTime();
        try (Redis redis = openRedis())
        {
            ok(String.format(Locale.ROOT, "Redis %s reachable at %s (%d ms)", redis.serverVersion(), redis.address(), (System.nanoTime() - start) / 1_000_000));
            long count = redis.countCached(3000);
            ok(String.format(Locale.ROOT, "%s%,d names cached in Redis under prefix %s", count < 0 ? "at least " : "", Math.abs(count), redis.keyPrefix()));
        }
        catch (CliException x)
        {
            fail(x.getExitCode(), x.getMessage() + (x.getExitCode() == DynSni.EXIT_UNREACHABLE ? " (nodes keep serving from their own cache and PostgreSQL, but slower)" : ""));
        }
    }

    private static String scalar(Statement statement, String sql) throws SQLException
    {
        try (ResultSet rs = statement.executeQuery(sql))
        {
            rs.next();
            return rs.getString(1);
        }
    }

    private void ok(String message)
    {
        out().println("ok    " + message);
    }

    private void warn(String message)
    {
        out().println("warn  " + message);
    }

    private void fail(int code, String message)
    {
        out().println("FAIL  " + message);
        exitCode = Math.max(exitCode, code);
    }
}
