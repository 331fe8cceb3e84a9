package dev.dynsni.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.dynsni.core.SchemaMigrations;
import dev.dynsni.core.Secrets;
import dev.dynsni.core.StoreUrls;
import dev.dynsni.core.Setting;

/**
 * The tool's settings: the module's {@link Setting}s the tool reads ({@link #READ}), each resolved
 * from, in order of precedence, a command-line flag ({@link SettingOptions}), its environment
 * variable ({@link Setting#environmentVariable()}), the {@code jetty.dynamicSni.*} property of the
 * {@code --jetty-base} ({@link JettyBase}), and the setting's default. The values go into a core
 * {@link dev.dynsni.core.Settings}, from which {@link dev.dynsni.core.Stores} builds the Redis store
 * and the master keys exactly as a node does.
 *
 * <p>Relative file paths from the base resolve against the base, as the module resolves them; from
 * a flag or an environment variable, against the working directory. A password and its password
 * file are one secret: the one given at the higher precedence wins (the password on a tie, as on a
 * node). Each value remembers where it came from, so that {@code doctor} can say so; passwords are
 * never part of {@link #describe()}.</p>
 */
public final class Settings
{
    /** The settings the tool reads, in the order {@code doctor} lists them. */
    static final List<Setting> READ = List.of(
        Setting.JDBC_URL,
        Setting.JDBC_USER,
        Setting.JDBC_PASSWORD,
        Setting.JDBC_PASSWORD_FILE,
        Setting.JDBC_SCHEMA,
        Setting.JDBC_TIMEOUT_MILLIS,
        Setting.REDIS_ADDRESS,
        Setting.REDIS_MODE,
        Setting.REDIS_SENTINEL_MASTER,
        Setting.REDIS_USER,
        Setting.REDIS_PASSWORD,
        Setting.REDIS_PASSWORD_FILE,
        Setting.REDIS_CA_FILE,
        Setting.REDIS_KEY_PREFIX,
        Setting.REDIS_TIMEOUT_MILLIS,
        Setting.MASTER_KEY_FILE,
        Setting.PREVIOUS_MASTER_KEY_FILES,
        Setting.ACME_DIRECTORY_URL,
        Setting.ACME_EMAIL,
        Setting.ACME_CA_FILE,
        Setting.ACME_CHALLENGE_TYPE,
        Setting.ACME_KEY_TYPE,
        Setting.ACME_MAX_ORDERS_PER_HOUR,
        Setting.ACME_MAX_ORDERS_PER_DOMAIN_PER_WEEK,
        Setting.ACME_ORDER_TIMEOUT_SECONDS,
        Setting.ACME_RETRY_SECONDS);

    /** A value given on the command line, with the flag that gave it. */
    record Flag(String name, String value)
    {
    }

    /** Where a value came from, lowest precedence first. */
    enum Origin
    {
        DEFAULT, BASE, ENVIRONMENT, FLAG
    }

    /** A value's origin, and how {@code doctor} names it. */
    record Source(Origin origin, String text)
    {
    }

    private static final Source DEFAULT = new Source(Origin.DEFAULT, "default");

    private final dev.dynsni.core.Settings values;
    private final Map<Setting, Source> sources = new EnumMap<>(Setting.class);
    private final JettyBase jettyBase;

    private Settings(JettyBase jettyBase)
    {
        // Secrets fall back to no environment variable of their own: this class applied the environment already.
        this.values = new dev.dynsni.core.Settings(Map.of());
        this.jettyBase = jettyBase;
        if (jettyBase != null)
            values.base(jettyBase.directory());
    }

    /**
     * @param flags       values given on the command line
     * @param environment the process environment
     * @param jettyBase   a Jetty base directory, or null
     * @throws CliException (usage) when the base cannot be read or a value is bad, naming where it came from
     */
    static Settings resolve(Map<Setting, Flag> flags, Map<String, String> environment, Path jettyBase)
    {
        JettyBase base = jettyBase == null ? null : JettyBase.read(jettyBase.toAbsolutePath().normalize());
        Settings settings = new Settings(base);
        for (Setting setting : READ)
        {
            Flag flag = flags.get(setting);
            String variable = setting.environmentVariable();
            String env = variable == null ? null : environment.get(variable);
            JettyBase.Property property = base == null ? null : base.get(setting.property());
            if (flag != null && !flag.value().isBlank())
                settings.put(setting, absolute(setting, flag.value()), new Source(Origin.FLAG, flag.name()));
            else if (env != null && !env.isBlank())
                settings.put(setting, absolute(setting, env), new Source(Origin.ENVIRONMENT, "$" + variable));
            else if (property != null && !property.value().isBlank())
                settings.put(setting, property.value(), new Source(Origin.BASE, setting.property() + " in " + property.file()));
        }
        settings.oneSecret(Setting.JDBC_PASSWORD, Setting.JDBC_PASSWORD_FILE);
        settings.oneSecret(Setting.REDIS_PASSWORD, Setting.REDIS_PASSWORD_FILE);
        return settings;
    }

    /** Makes a relative path from a flag or the environment absolute against the working directory. */
    private static String absolute(Setting setting, String value)
    {
        if (setting.kind() == Setting.Kind.FILE)
            return Path.of(value.trim()).toAbsolutePath().toString();
        if (setting.kind() == Setting.Kind.FILES)
        {
            List<String> files = new ArrayList<>();
            for (String file : value.split(","))
            {
                if (!file.isBlank())
                    files.add(Path.of(file.trim()).toAbsolutePath().toString());
            }
            return String.join(",", files);
        }
        return value;
    }

    private void put(Setting setting, String value, Source source)
    {
        try
        {
            values.set(setting, value);
        }
        catch (IllegalArgumentException x)
        {
            throw CliException.usage(x.getMessage() + " (from " + source.text() + ")");
        }
        sources.put(setting, source);
    }

    /** A password file given at a higher precedence than the password replaces it. */
    private void oneSecret(Setting password, Setting file)
    {
        if (values.isSet(password) && values.isSet(file) && source(file).origin().compareTo(source(password).origin()) > 0)
        {
            values.set(password, null);
            sources.remove(password);
        }
    }

    /** @return the core settings, for {@link dev.dynsni.core.Stores} */
    dev.dynsni.core.Settings core()
    {
        return values;
    }

    /** @return the Jetty base read, or null */
    JettyBase jettyBase()
    {
        return jettyBase;
    }

    Source source(Setting setting)
    {
        return sources.getOrDefault(setting, DEFAULT);
    }

    /** @return the JDBC URL; a usage error when none is configured */
    public String jdbcUrl()
    {
        String url = values.string(Setting.JDBC_URL);
        if (url == null)
            throw CliException.usage("no PostgreSQL URL: pass --jdbc-url, set " + Setting.JDBC_URL.environmentVariable() +
                ", or point --jetty-base at a base with " + Setting.JDBC_URL.property());
        String problem = StoreUrls.jdbcProblem(url);
        if (problem != null)
            throw CliException.usage(Setting.JDBC_URL.property() + "='" + StoreUrls.mask(url) + "' (from " + source(Setting.JDBC_URL).text() + ") " + problem);
        return StoreUrls.jdbc(url);
    }

    public String jdbcUser()
    {
        return values.string(Setting.JDBC_USER);
    }

    /** @return the PostgreSQL password (given, or read from its file), or null */
    public String jdbcPassword()
    {
        return secret(Setting.JDBC_PASSWORD, Setting.JDBC_PASSWORD_FILE, "PostgreSQL");
    }

    /** @return the Redis password (given, or read from its file), or null */
    public String redisPassword()
    {
        return secret(Setting.REDIS_PASSWORD, Setting.REDIS_PASSWORD_FILE, "Redis");
    }

    private String secret(Setting password, Setting file, String service)
    {
        try
        {
            return values.secret(password, file);
        }
        catch (IllegalStateException x)
        {
            Path path = values.path(file);
            String reason = !Files.exists(path) ? "no such file" : Files.isDirectory(path) ? "it is a directory" : !Files.isReadable(path) ? "permission denied" : x.getMessage();
            throw CliException.usage(file.property() + "=" + path + " (from " + source(file).text() + ") cannot be read: " + reason +
                ": point it at a readable file holding the " + service + " password");
        }
    }

    public String schema()
    {
        String schema = values.string(Setting.JDBC_SCHEMA);
        if (!SchemaMigrations.isValidSchemaName(schema))
            throw CliException.usage(Setting.JDBC_SCHEMA.property() + "='" + schema + "' (from " + source(Setting.JDBC_SCHEMA).text() +
                ") is not a valid schema name: use lower-case letters, digits and _");
        return schema;
    }

    /** @return the PostgreSQL connect timeout, in milliseconds */
    public long jdbcTimeoutMillis()
    {
        return values.longValue(Setting.JDBC_TIMEOUT_MILLIS);
    }

    /** @return the Redis address, or null when no Redis tier is configured */
    public String redisAddress()
    {
        return values.string(Setting.REDIS_ADDRESS);
    }

    public String redisKeyPrefix()
    {
        return values.string(Setting.REDIS_KEY_PREFIX);
    }

    /** @return the master key file, or null when private keys are stored unencrypted */
    public Path masterKeyFile()
    {
        return values.path(Setting.MASTER_KEY_FILE);
    }

    /** @return the older master key files, still read while a rotation runs */
    public List<Path> previousMasterKeyFiles()
    {
        return values.paths(Setting.PREVIOUS_MASTER_KEY_FILES);
    }

    /**
     * @return one line per setting read: its property name, its value and where the value came
     *     from; passwords are shown as {@code ***}, URLs without their credentials
     */
    public List<String> describe()
    {
        int width = 0;
        for (Setting setting : READ)
        {
            width = Math.max(width, setting.key().length());
        }
        List<String> lines = new ArrayList<>();
        for (Setting setting : READ)
        {
            lines.add(String.format("%-" + width + "s  %s  [%s]", setting.key(), display(setting), describeSource(setting)));
        }
        return lines;
    }

    private String describeSource(Setting setting)
    {
        if (setting == Setting.JDBC_PASSWORD || setting == Setting.REDIS_PASSWORD)
        {
            Setting file = setting == Setting.JDBC_PASSWORD ? Setting.JDBC_PASSWORD_FILE : Setting.REDIS_PASSWORD_FILE;
            if (!values.isSet(setting) && values.isSet(file))
                return "read from " + file.key() + " (" + source(file).text() + ")";
        }
        return source(setting).text();
    }

    private String display(Setting setting)
    {
        String value = values.string(setting);
        switch (setting)
        {
            case JDBC_URL:
                return value == null ? "(not set)" : Secrets.redactUrl(value);
            case REDIS_ADDRESS:
                return value == null ? "(not set: no Redis tier)" : Secrets.redactUrl(value);
            case JDBC_PASSWORD:
            case REDIS_PASSWORD:
            {
                Setting file = setting == Setting.JDBC_PASSWORD ? Setting.JDBC_PASSWORD_FILE : Setting.REDIS_PASSWORD_FILE;
                return values.isSet(setting) || values.isSet(file) ? "***" : "(not set)";
            }
            case JDBC_USER:
                return value == null ? "(not set: the driver's default)" : value;
            case REDIS_USER:
                return value == null ? "(not set: the default user)" : value;
            case MASTER_KEY_FILE:
                return value == null ? "(not set: keys stored unencrypted)" : String.valueOf(values.path(setting));
            case PREVIOUS_MASTER_KEY_FILES:
                return value == null ? "(none)" : values.paths(setting).toString();
            default:
                if (setting.kind() == Setting.Kind.FILE)
                    return value == null ? "(not set)" : String.valueOf(values.path(setting));
                return value == null ? "(not set)" : value;
        }
    }
}
