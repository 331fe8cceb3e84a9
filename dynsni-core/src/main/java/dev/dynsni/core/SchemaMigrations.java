package dev.dynsni.core;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schema's versioned migrations, run by Flyway: scripts {@code dev/dynsni/core/db/V<n>__<name>.sql},
 * listed in {@link #SCRIPTS} (a test checks the list against what Flyway applies), each applied once,
 * in order, under Flyway's PostgreSQL advisory lock so that nodes starting together do not race. The
 * scripts use the placeholders {@code ${schema}}, {@code ${channel}} ({@link ChangeFeed#CHANNEL}) and
 * {@code ${challengeChannel}} ({@link ChangeFeed#ACME_CHALLENGE_CHANNEL}), {@code ${rulesSuffix}}
 * ({@link ChangeFeed#ACME_RULES_SUFFIX}).
 *
 * <p><b>Schemas made before Flyway</b> (versions 1-3, recorded in the table {@code schema_version}
 * by this class's earlier runner) are taken over as they are: Flyway's history starts with a
 * baseline at their version and applies only the scripts after it.</p>
 */
public final class SchemaMigrations
{
    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrations.class);
    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** Flyway's history table, in the schema it migrates. */
    public static final String HISTORY_TABLE = "flyway_schema_history";
    /** Where the earlier runner recorded versions; read to take such schemas over. */
    static final String LEGACY_TABLE = "schema_version";

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
     * Creates the schema if needed and applies the missing migrations. Flyway runs them on this
     * connection; the connection stays open.
     *
     * @return the schema version after migration
     */
    public static int migrate(Connection connection, String schema) throws SQLException
    {
        if (!isValidSchemaName(schema))
            throw new IllegalArgumentException("invalid schema name '" + schema + "': use lower-case letters, digits and _");
        int legacy = hasTable(connection, schema, HISTORY_TABLE) ? 0 : legacyVersion(connection, schema);
        FluentConfiguration configuration = Flyway.configure(SchemaMigrations.class.getClassLoader())
            .dataSource(new SingleConnectionDataSource(connection))
            .schemas(schema)
            .defaultSchema(schema)
            .table(HISTORY_TABLE)
            .locations("classpath:dev/dynsni/core/db")
            .placeholders(Map.of("schema", schema, "channel", ChangeFeed.CHANNEL, "challengeChannel", ChangeFeed.ACME_CHALLENGE_CHANNEL, "rulesSuffix", ChangeFeed.ACME_RULES_SUFFIX))
            .cleanDisabled(true)
            .validateMigrationNaming(true);
        if (legacy > 0)
        {
            configuration.baselineOnMigrate(true).baselineVersion(String.valueOf(legacy))
                .baselineDescription("taken over from " + LEGACY_TABLE);
            LOG.info("Taking over schema={} at version={} from its earlier migration runner", schema, legacy);
        }
        try
        {
            MigrateResult result = configuration.load().migrate();
            for (var applied : result.migrations)
                LOG.info("Applied migration schema={} version={} script={}", schema, applied.version, applied.filepath.replaceFirst(".*/", ""));
        }
        catch (FlywayException x)
        {
            if (x.getCause() instanceof SQLException sql)
                throw new SQLException("migrating schema " + schema + ": " + x.getMessage(), sql.getSQLState(), sql);
            throw new SQLException("migrating schema " + schema + ": " + x.getMessage(), x);
        }
        return currentVersion(connection, schema);
    }

    /**
     * @return the applied version, 0 when none
     */
    public static int currentVersion(Connection connection, String schema) throws SQLException
    {
        if (!hasTable(connection, schema, HISTORY_TABLE))
            return legacyVersion(connection, schema);
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT coalesce(max(version::int), 0) FROM " + schema + "." + HISTORY_TABLE + " WHERE success AND version IS NOT NULL"))
        {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int legacyVersion(Connection connection, String schema) throws SQLException
    {
        if (!hasTable(connection, schema, LEGACY_TABLE))
            return 0;
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT coalesce(max(version), 0) FROM " + schema + "." + LEGACY_TABLE))
        {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static boolean hasTable(Connection connection, String schema, String table) throws SQLException
    {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT to_regclass('" + schema + "." + table + "') IS NOT NULL"))
        {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
