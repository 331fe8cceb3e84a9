package dev.dynsni.admin;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;

import dev.dynsni.core.ChangeFeed;
import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.Secrets;

/**
 * PostgreSQL access of the command: one plain JDBC connection (no pool: the command is short-lived,
 * and writes SQL of its own), configured from the same settings as a node's: URL, user, password
 * (given, or read from {@code jdbc.passwordFile}) and {@code jdbc.timeoutMillis} as the connect
 * timeout. Connection failures become {@link CliException#unreachable} with the URL, never the password.
 */
final class Database
{
    /** The application name the tool's connections show in {@code pg_stat_activity}. */
    static final String APPLICATION_NAME = "dynsni-admin";

    private Database()
    {
    }

    static Connection open(Settings settings)
    {
        String url = settings.jdbcUrl();
        Properties properties = properties(settings);
        try
        {
            return DriverManager.getConnection(url, properties);
        }
        catch (SQLException x)
        {
            throw CliException.unreachable("cannot connect to PostgreSQL at " + Secrets.redactUrl(url) + ": " + oneLine(x.getMessage()), x);
        }
    }

    /** @return the JDBC connection properties of the settings: what the tool passes the driver */
    static Properties properties(Settings settings)
    {
        Properties properties = new Properties();
        if (settings.jdbcUser() != null)
            properties.setProperty("user", settings.jdbcUser());
        String password = settings.jdbcPassword();
        if (password != null)
            properties.setProperty("password", password);
        long timeoutSeconds = Math.max(1, (settings.jdbcTimeoutMillis() + 999) / 1000);
        properties.setProperty("connectTimeout", String.valueOf(timeoutSeconds));
        properties.setProperty("loginTimeout", String.valueOf(timeoutSeconds * 2));
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("ApplicationName", APPLICATION_NAME);
        return properties;
    }

    static void requireSchema(Connection connection, Settings settings)
    {
        String schema = settings.schema();
        int version;
        try
        {
            version = SchemaMigrations.currentVersion(connection, schema);
        }
        catch (SQLException x)
        {
            throw failed("reading the schema version", x);
        }
        if (version == 0)
            throw CliException.unreachable("schema '" + schema + "' does not exist in " + Secrets.redactUrl(settings.jdbcUrl()) + ": run 'dynsni init-db' first", null);
        if (version < SchemaMigrations.latestVersion())
            throw CliException.unreachable("schema '" + schema + "' is at version " + version + ", this tool needs " + SchemaMigrations.latestVersion() + ": run 'dynsni init-db'", null);
    }

    /** @return a fresh value of the version sequence, larger than any version stored before */
    static long nextVersion(Connection connection, String schema) throws SQLException
    {
        try (PreparedStatement statement = connection.prepareStatement("SELECT nextval('" + schema + ".certificate_version_seq')");
             ResultSet rs = statement.executeQuery())
        {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Tells every node to evict a stored name ({@link ChangeFeed#EVICT_ALL} for everything), on the
     * change feed in its format ({@link ChangeFeed#payload}).
     */
    static void notifyChange(Connection connection, String schema, String name, long version) throws SQLException
    {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_notify(?, ?)"))
        {
            statement.setString(1, ChangeFeed.CHANNEL);
            statement.setString(2, ChangeFeed.payload(schema, name, version));
            statement.execute();
        }
    }

    /** @return an error for a failed statement: a lost connection is "unreachable", anything else is reported as is */
    static CliException failed(String what, SQLException x)
    {
        String state = x.getSQLState();
        String message = "PostgreSQL failed while " + what + ": " + oneLine(x.getMessage());
        if (state != null && (state.startsWith("08") || state.startsWith("57P")))
            return CliException.unreachable(message, x);
        return new CliException(DynSni.EXIT_UNREACHABLE, message, x);
    }

    static String oneLine(String message)
    {
        if (message == null)
            return "(no message)";
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
