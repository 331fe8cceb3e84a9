package dev.dynsni.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned schema migrations, applied in order, each once, under a PostgreSQL advisory lock so that
 * nodes starting together do not race. Scripts live in {@code dev/dynsni/db/V<n>__<name>.sql} and
 * use {@code ${schema}} for the schema name, {@code ${channel}} for {@link ChangeFeed#CHANNEL} and
 * {@code ${challengeChannel}} for {@link ChangeFeed#ACME_CHALLENGE_CHANNEL} (Flyway placeholders).
 *
 * <p>Flyway would do the same but brings a large dependency set into every Jetty that loads the
 * module; the schema is a handful of statements, so a small runner is used instead.</p>
 */
public final class SchemaMigrations
{
    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrations.class);
    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** The migrations, in order; the index + 1 is the version. */
    static final List<String> SCRIPTS = List.of("V1__certificate.sql", "V2__change_catch_up.sql", "V3__host_write_order.sql", "V4__acme.sql");

    private SchemaMigrations()
    {
    }

    public static int latestVersion()
    {
        return SCRIPTS.size();
    }

    public static boolean isValidSchemaName(String schema)
    {
        return schema != null && SCHEMA.matcher(schema).matches();
    }

    /**
     * Creates the schema if needed and applies the missing migrations.
     *
     * @return the schema version after migration
     */
    public static int migrate(Connection connection, String schema) throws SQLException
    {
        if (!isValidSchemaName(schema))
            throw new IllegalArgumentException("invalid schema name '" + schema + "': use lower-case letters, digits and _");
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (Statement statement = connection.createStatement())
        {
            statement.execute("SELECT pg_advisory_xact_lock(hashtext('dynsni-migrate:" + schema + "'))");
            statement.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
            statement.execute("CREATE TABLE IF NOT EXISTS " + schema + ".schema_version (version int PRIMARY KEY, script text NOT NULL, installed_at timestamptz NOT NULL DEFAULT now())");
            int current = currentVersion(connection, schema);
            for (int version = current + 1; version <= SCRIPTS.size(); version++)
            {
                String script = SCRIPTS.get(version - 1);
                statement.execute(load(script).replace("${schema}", schema).replace("${channel}", ChangeFeed.CHANNEL)
                    .replace("${challengeChannel}", ChangeFeed.ACME_CHALLENGE_CHANNEL));
                try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + schema + ".schema_version (version, script) VALUES (?, ?)"))
                {
                    insert.setInt(1, version);
                    insert.setString(2, script);
                    insert.executeUpdate();
                }
                LOG.info("Applied migration schema={} version={} script={}", schema, version, script);
            }
            connection.commit();
            return SCRIPTS.size();
        }
        catch (SQLException | RuntimeException x)
        {
            connection.rollback();
            throw x;
        }
        finally
        {
            connection.setAutoCommit(autoCommit);
        }
    }

    /**
     * @return the applied version, 0 when none
     */
    public static int currentVersion(Connection connection, String schema) throws SQLException
    {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT to_regclass('" + schema + ".schema_version') IS NOT NULL"))
        {
            rs.next();
            if (!rs.getBoolean(1))
                return 0;
        }
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT coalesce(max(version), 0) FROM " + schema + ".schema_version"))
        {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String load(String script)
    {
        try (InputStream in = SchemaMigrations.class.getResourceAsStream("/dev/dynsni/core/db/" + script))
        {
            if (in == null)
                throw new IllegalStateException("migration script missing from the jar: " + script);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        catch (IOException x)
        {
            throw new IllegalStateException("cannot read migration script " + script, x);
        }
    }
}
