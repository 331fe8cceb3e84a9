package dev.dynsni.admin;

import dev.dynsni.core.MasterKeys;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.EnumMap;
import java.util.Map;

import picocli.CommandLine.Option;

/**
 * A subcommand that talks to the stores: the connection flags, resolved into {@link Settings}.
 */
abstract class StoreCommand extends BaseCommand
{
    @Option(names = "--jdbc-url", paramLabel = "URL", description = "PostgreSQL JDBC URL (env DYNSNI_JDBC_URL).")
    String jdbcUrl;

    @Option(names = "--jdbc-user", paramLabel = "USER", description = "PostgreSQL user (env DYNSNI_JDBC_USER).")
    String jdbcUser;

    @Option(names = "--jdbc-password", paramLabel = "PASSWORD", description = "PostgreSQL password; prefer env DYNSNI_JDBC_PASSWORD (visible in ps otherwise).")
    String jdbcPassword;

    @Option(names = "--jdbc-schema", paramLabel = "SCHEMA", description = "Schema holding the certificate table (env DYNSNI_JDBC_SCHEMA, default dynsni).")
    String jdbcSchema;

    @Option(names = "--redis-url", paramLabel = "URL", description = "Redis URL redis[s]://[user:password@]host:port[/db] (env DYNSNI_REDIS_URL); unset = no Redis tier.")
    String redisUrl;

    @Option(names = "--redis-key-prefix", paramLabel = "PREFIX", description = "Redis key prefix (env DYNSNI_REDIS_KEY_PREFIX, default dynsni:).")
    String redisKeyPrefix;

    @Option(names = "--master-key", paramLabel = "FILE", description = "Master key file: private keys are written encrypted (AES-256-GCM) (env DYNSNI_MASTER_KEY_FILE).")
    String masterKeyFile;

    @Option(names = "--jetty-base", paramLabel = "DIR", description = "Read jetty.dynamicSni.* from DIR/start.d/dynamic-sni.ini or DIR/start.ini.")
    Path jettyBase;

    private Settings settings;

    Settings settings()
    {
        if (settings == null)
        {
            Map<Settings.Key, String> flags = new EnumMap<>(Settings.Key.class);
            put(flags, Settings.Key.JDBC_URL, jdbcUrl);
            put(flags, Settings.Key.JDBC_USER, jdbcUser);
            put(flags, Settings.Key.JDBC_PASSWORD, jdbcPassword);
            put(flags, Settings.Key.JDBC_SCHEMA, jdbcSchema);
            put(flags, Settings.Key.REDIS_URL, redisUrl);
            put(flags, Settings.Key.REDIS_KEY_PREFIX, redisKeyPrefix);
            put(flags, Settings.Key.MASTER_KEY_FILE, masterKeyFile);
            settings = Settings.resolve(flags, root.environment, jettyBase);
        }
        return settings;
    }

    private static void put(Map<Settings.Key, String> flags, Settings.Key key, String value)
    {
        if (value != null)
            flags.put(key, value);
    }

    /** @return a connection to PostgreSQL whose schema exists at the version this tool knows */
    Connection openDatabase()
    {
        Connection connection = Database.open(settings());
        Database.requireSchema(connection, settings());
        return connection;
    }

    /** @return the master keys that encrypt written private keys, or null when none is configured */
    MasterKeys masterKeys()
    {
        java.nio.file.Path file = settings().masterKeyFile();
        if (file == null)
            return null;
        try
        {
            return MasterKeys.load(file, java.util.List.of());
        }
        catch (java.io.IOException x)
        {
            throw CliException.usage(x.getMessage());
        }
    }

    /** @return a Redis connection, or null when no Redis tier is configured */
    RedisClient openRedis()
    {
        String url = settings().redisUrl();
        if (url == null)
            return null;
        return RedisClient.connect(url, 5000);
    }
}
