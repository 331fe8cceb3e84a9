package dev.dynsni.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.store.CachingCertificateStore;
import dev.dynsni.core.store.JdbcCertificateStore;
import dev.dynsni.core.store.RedisCertificateStore;

/**
 * Builds the shipped stores from {@link Settings}: the one place that maps settings to store beans,
 * used by the Jetty factory and the admin tool alike. Nothing is started here.
 */
public final class Stores
{
    private Stores()
    {
    }

    /**
     * @return PostgreSQL alone, or Redis in front of PostgreSQL when {@link Setting#REDIS_ADDRESS} is set
     * @throws IllegalStateException when a setting is missing or bad, naming it
     */
    public static CertificateStore build(Settings settings)
    {
        JdbcCertificateStore jdbc = jdbc(settings);
        RedisCertificateStore redis = redis(settings);
        return redis == null ? jdbc : new CachingCertificateStore(redis, jdbc);
    }

    /** @return the PostgreSQL store of the settings */
    public static JdbcCertificateStore jdbc(Settings settings)
    {
        String url;
        try
        {
            url = StoreUrls.jdbc(settings.string(Setting.JDBC_URL));
        }
        catch (IllegalArgumentException x)
        {
            throw new IllegalStateException(x.getMessage());
        }
        String schema = settings.string(Setting.JDBC_SCHEMA);
        if (!SchemaMigrations.isValidSchemaName(schema))
            throw new IllegalStateException(Setting.JDBC_SCHEMA.property() + "='" + schema + "' is not a valid schema name: use lower-case letters, digits and _");
        JdbcCertificateStore jdbc = new JdbcCertificateStore();
        jdbc.setUrl(url);
        jdbc.setUser(settings.string(Setting.JDBC_USER));
        jdbc.setPassword(settings.secret(Setting.JDBC_PASSWORD, Setting.JDBC_PASSWORD_FILE));
        jdbc.setSchema(schema);
        jdbc.setMaxPoolSize(settings.intValue(Setting.JDBC_POOL_SIZE));
        jdbc.setTimeoutMillis(settings.longValue(Setting.JDBC_TIMEOUT_MILLIS));
        return jdbc;
    }

    /** @return the Redis store of the settings, or null when no Redis address is set */
    public static RedisCertificateStore redis(Settings settings)
    {
        String address = settings.string(Setting.REDIS_ADDRESS);
        if (address == null)
            return null;
        RedisCertificateStore redis = new RedisCertificateStore();
        redis.setAddress(address);
        redis.setMode(settings.choice(Setting.REDIS_MODE));
        redis.setSentinelMaster(settings.string(Setting.REDIS_SENTINEL_MASTER));
        redis.setUser(settings.string(Setting.REDIS_USER));
        redis.setPassword(settings.secret(Setting.REDIS_PASSWORD, Setting.REDIS_PASSWORD_FILE));
        redis.setCaFile(settings.path(Setting.REDIS_CA_FILE) == null ? null : settings.path(Setting.REDIS_CA_FILE).toString());
        redis.setKeyPrefix(settings.isSet(Setting.REDIS_KEY_PREFIX) ? settings.string(Setting.REDIS_KEY_PREFIX) : Setting.REDIS_KEY_PREFIX.defaultValue());
        redis.setTtlMillis(TimeUnit.SECONDS.toMillis(settings.longValue(Setting.REDIS_TTL_SECONDS)));
        redis.setNegativeTtlMillis(TimeUnit.SECONDS.toMillis(settings.longValue(Setting.REDIS_NEGATIVE_TTL_SECONDS)));
        redis.setMaxNegativeEntries(settings.longValue(Setting.REDIS_MAX_NEGATIVE_ENTRIES));
        redis.setTimeoutMillis(settings.longValue(Setting.REDIS_TIMEOUT_MILLIS));
        redis.setPoolSize(settings.intValue(Setting.REDIS_POOL_SIZE));
        return redis;
    }

    /**
     * @return the master keys of the settings, or null when {@link Setting#MASTER_KEY_FILE} is unset
     * @throws IllegalStateException when a key file cannot be read or is not a key, naming the setting
     */
    public static MasterKeys masterKeys(Settings settings)
    {
        Path current = settings.path(Setting.MASTER_KEY_FILE);
        if (current == null)
            return null;
        try
        {
            return MasterKeys.load(current, settings.paths(Setting.PREVIOUS_MASTER_KEY_FILES));
        }
        catch (IOException x)
        {
            throw new IllegalStateException(Setting.MASTER_KEY_FILE.property() + ": " + x.getMessage());
        }
    }
}
