package dev.dynsni.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.Secrets;

/**
 * Connection settings resolved from, in order of precedence: command-line flags, environment
 * variables ({@code DYNSNI_*}), and a Jetty base's {@code start.d/dynamic-sni.ini} / {@code start.ini}
 * ({@code jetty.dynamicSni.*}, the properties the module reads). Each value remembers where it came
 * from so that {@code doctor} can say so. Passwords are never part of {@link #describe()}.
 */
public final class Settings
{
    public static final String DEFAULT_SCHEMA = "dynsni";
    public static final String DEFAULT_KEY_PREFIX = "dynsni:";

    /** The settings: environment variable and Jetty property of each. */
    enum Key
    {
        JDBC_URL("DYNSNI_JDBC_URL", "jetty.dynamicSni.jdbc.url", "--jdbc-url"),
        JDBC_USER("DYNSNI_JDBC_USER", "jetty.dynamicSni.jdbc.user", "--jdbc-user"),
        JDBC_PASSWORD("DYNSNI_JDBC_PASSWORD", "jetty.dynamicSni.jdbc.password", "--jdbc-password"),
        JDBC_SCHEMA("DYNSNI_JDBC_SCHEMA", "jetty.dynamicSni.jdbc.schema", "--jdbc-schema"),
        REDIS_URL("DYNSNI_REDIS_URL", "jetty.dynamicSni.redis.address", "--redis-url"),
        REDIS_KEY_PREFIX("DYNSNI_REDIS_KEY_PREFIX", "jetty.dynamicSni.redis.keyPrefix", "--redis-key-prefix"),
        MASTER_KEY_FILE("DYNSNI_MASTER_KEY_FILE", "jetty.dynamicSni.masterKeyFile", "--master-key");

        final String env;
        final String property;
        final String flag;

        Key(String env, String property, String flag)
        {
            this.env = env;
            this.property = property;
            this.flag = flag;
        }
    }

    private final Map<Key, String> values = new LinkedHashMap<>();
    private Path jettyBase;
    private final Map<Key, String> sources = new LinkedHashMap<>();

    private Settings()
    {
    }

    /**
     * @param flags       values given on the command line (null or empty when absent)
     * @param environment the process environment
     * @param jettyBase   a Jetty base directory, or null
     */
    static Settings resolve(Map<Key, String> flags, Map<String, String> environment, Path jettyBase)
    {
        Settings settings = new Settings();
        Map<String, String> ini = jettyBase == null ? Map.of() : readJettyBase(jettyBase);
        settings.jettyBase = jettyBase;
        for (Key key : Key.values())
        {
            String flag = flags.get(key);
            String env = environment.get(key.env);
            String property = ini.get(key.property);
            if (flag != null && !flag.isEmpty())
                settings.put(key, flag, key.flag);
            else if (env != null && !env.isEmpty())
                settings.put(key, env, "$" + key.env);
            else if (property != null && !property.isEmpty())
                settings.put(key, property, key.property + " in " + jettyBase);
        }
        return settings;
    }

    private void put(Key key, String value, String source)
    {
        values.put(key, value.trim());
        sources.put(key, source);
    }

    /**
     * Reads {@code jetty.dynamicSni.*} properties from {@code start.ini} and then
     * {@code start.d/dynamic-sni.ini} (the latter wins), as Jetty would.
     */
    static Map<String, String> readJettyBase(Path base)
    {
        if (!Files.isDirectory(base))
            throw CliException.usage("--jetty-base " + base + " is not a directory");
        Path startIni = base.resolve("start.ini");
        Path moduleIni = base.resolve("start.d").resolve("dynamic-sni.ini");
        if (!Files.isRegularFile(startIni) && !Files.isRegularFile(moduleIni))
            throw CliException.usage("--jetty-base " + base + " has neither start.d/dynamic-sni.ini nor start.ini: is the dynamic-sni module enabled there?");
        Map<String, String> properties = new LinkedHashMap<>();
        for (Path file : List.of(startIni, moduleIni))
        {
            if (!Files.isRegularFile(file))
                continue;
            try
            {
                for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8))
                {
                    String line = raw.trim();
                    if (line.isEmpty() || line.startsWith("#") || line.startsWith("--"))
                        continue;
                    int eq = line.indexOf('=');
                    if (eq <= 0)
                        continue;
                    boolean ifUnset = line.charAt(eq - 1) == '?';
                    String name = line.substring(0, ifUnset ? eq - 1 : eq).trim();
                    if (!name.startsWith("jetty.dynamicSni."))
                        continue;
                    String value = line.substring(eq + 1).trim();
                    if (ifUnset)
                        properties.putIfAbsent(name, value);
                    else
                        properties.put(name, value);
                }
            }
            catch (IOException x)
            {
                throw CliException.usage("cannot read " + file + ": " + x.getMessage());
            }
        }
        return properties;
    }

    String get(Key key)
    {
        return values.get(key);
    }

    String source(Key key)
    {
        return sources.getOrDefault(key, "default");
    }

    /** @return the JDBC URL; a usage error when none is configured */
    public String jdbcUrl()
    {
        String url = values.get(Key.JDBC_URL);
        if (url == null)
            throw CliException.usage("no PostgreSQL URL: pass --jdbc-url, set DYNSNI_JDBC_URL, or point --jetty-base at a base with jetty.dynamicSni.jdbc.url");
        if (!url.startsWith("jdbc:postgresql:"))
            throw CliException.usage("JDBC URL " + Secrets.redactUrl(url) + " (from " + source(Key.JDBC_URL) + ") is not a PostgreSQL URL: use jdbc:postgresql://host:port/database");
        return url;
    }

    public String jdbcUser()
    {
        return values.get(Key.JDBC_USER);
    }

    public String jdbcPassword()
    {
        return values.get(Key.JDBC_PASSWORD);
    }

    public String schema()
    {
        String schema = values.getOrDefault(Key.JDBC_SCHEMA, DEFAULT_SCHEMA);
        if (!SchemaMigrations.isValidSchemaName(schema))
            throw CliException.usage("schema name '" + schema + "' (from " + source(Key.JDBC_SCHEMA) + ") is not valid: use lower-case letters, digits and _");
        return schema;
    }

    /** @return the Redis URL, or null when no Redis tier is configured */
    public String redisUrl()
    {
        return values.get(Key.REDIS_URL);
    }

    /**
     * @return the master key file (a relative path from a Jetty base's ini resolves against the
     *     base), or null when private keys are stored unencrypted
     */
    public Path masterKeyFile()
    {
        String file = values.get(Key.MASTER_KEY_FILE);
        if (file == null || file.isBlank())
            return null;
        Path path = Path.of(file.trim());
        if (!path.isAbsolute() && jettyBase != null && source(Key.MASTER_KEY_FILE).startsWith(Key.MASTER_KEY_FILE.property))
            path = jettyBase.resolve(path);
        return path;
    }

    public String redisKeyPrefix()
    {
        return values.getOrDefault(Key.REDIS_KEY_PREFIX, DEFAULT_KEY_PREFIX);
    }

    /** @return one line per setting, with its source; passwords are shown as {@code ***} */
    public List<String> describe()
    {
        return List.of(
            "jdbc url     " + (values.containsKey(Key.JDBC_URL) ? Secrets.redactUrl(values.get(Key.JDBC_URL)) : "(not set)") + "  [" + source(Key.JDBC_URL) + "]",
            "jdbc user    " + values.getOrDefault(Key.JDBC_USER, "(driver default)") + "  [" + source(Key.JDBC_USER) + "]",
            "jdbc passwd  " + (values.containsKey(Key.JDBC_PASSWORD) ? "***" : "(not set)") + "  [" + source(Key.JDBC_PASSWORD) + "]",
            "jdbc schema  " + values.getOrDefault(Key.JDBC_SCHEMA, DEFAULT_SCHEMA) + "  [" + source(Key.JDBC_SCHEMA) + "]",
            "redis url    " + (values.containsKey(Key.REDIS_URL) ? Secrets.redactUrl(values.get(Key.REDIS_URL)) : "(not set: no Redis tier)") + "  [" + source(Key.REDIS_URL) + "]",
            "redis prefix " + redisKeyPrefix() + "  [" + source(Key.REDIS_KEY_PREFIX) + "]",
            "master key   " + values.getOrDefault(Key.MASTER_KEY_FILE, "(not set: keys stored unencrypted)") + "  [" + source(Key.MASTER_KEY_FILE) + "]");
    }
}
