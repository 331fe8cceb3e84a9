package dev.dynsni.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.dynsni.core.Setting;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The command-line flags of the settings the tool reads ({@link Settings#READ}), made from their
 * {@link Setting} definitions: the flag is the setting's name in kebab case ({@code redis.caFile}
 * is {@code --redis-ca-file}), its help is the setting's documentation with its property, its
 * environment variable and its default. {@code --redis-url} and {@code --master-key} are the
 * historic names of {@code --redis-address} and {@code --master-key-file}, and come first.
 *
 * <p>The flags are on the root command and on every command that talks to the stores, so they may
 * be given before or after the command's name; the command's own wins.</p>
 */
final class SettingOptions
{
    static final String HEADING = "%nSettings (flag > environment variable > --jetty-base > default):%n";

    private SettingOptions()
    {
    }

    /** @return the flag names of a setting, the one {@code doctor} shows first */
    static String[] names(Setting setting)
    {
        String flag = "--" + kebab(setting.key());
        return switch (setting)
        {
            case REDIS_ADDRESS -> new String[]{"--redis-url", flag};
            case MASTER_KEY_FILE -> new String[]{"--master-key", flag};
            default -> new String[]{flag};
        };
    }

    /** @return {@code jdbc.passwordFile} as {@code jdbc-password-file} */
    static String kebab(String key)
    {
        StringBuilder out = new StringBuilder(key.length() + 8);
        for (char c : key.toCharArray())
        {
            if (c == '.')
                out.append('-');
            else if (Character.isUpperCase(c))
                out.append('-').append(Character.toLowerCase(c));
            else
                out.append(c);
        }
        return out.toString();
    }

    /**
     * Adds a flag for every setting read to the command, in one help section; a flag given stores
     * its value in {@code flags}.
     */
    static void addTo(CommandSpec spec, Map<Setting, Settings.Flag> flags)
    {
        ArgGroupSpec.Builder group = ArgGroupSpec.builder()
            .heading(HEADING)
            .exclusive(false)
            .validate(false)
            .multiplicity("0..1");
        for (Setting setting : Settings.READ)
        {
            String[] names = names(setting);
            group.addArg(OptionSpec.builder(names)
                .paramLabel(label(setting))
                .type(String.class)
                .description(description(setting))
                .getter(new IGetter()
                {
                    @Override
                    @SuppressWarnings("unchecked")
                    public <T> T get()
                    {
                        Settings.Flag flag = flags.get(setting);
                        return (T)(flag == null ? null : flag.value());
                    }
                })
                .setter(new ISetter()
                {
                    @Override
                    public <T> T set(T value)
                    {
                        if (value != null)
                            flags.put(setting, new Settings.Flag(names[0], (String)value));
                        return null;
                    }
                })
                .build());
        }
        spec.addArgGroup(group.build());
    }

    private static String label(Setting setting)
    {
        String key = setting.key();
        return switch (setting.kind())
        {
            case FILE -> "FILE";
            case FILES -> "FILE[,FILE...]";
            case SECRET -> "PASSWORD";
            case INT, LONG -> key.endsWith("Millis") ? "MILLIS" : "N";
            default ->
            {
                String last = key.substring(key.lastIndexOf('.') + 1);
                yield switch (last)
                {
                    case "url", "address" -> "URL";
                    case "keyPrefix" -> "PREFIX";
                    default -> kebab(last).toUpperCase(Locale.ROOT);
                };
            }
        };
    }

    private static String[] description(Setting setting)
    {
        List<String> lines = new ArrayList<>();
        lines.add(escape(switch (setting)
        {
            // where the tool's use differs from a node's
            case JDBC_SCHEMA -> "Schema of the certificate table (dynsni init-db creates it).";
            case JDBC_TIMEOUT_MILLIS -> "PostgreSQL connect timeout, in milliseconds.";
            default -> setting.description();
        }));
        StringBuilder where = new StringBuilder("Property ").append(setting.property());
        if (setting.environmentVariable() != null)
            where.append(", env ").append(setting.environmentVariable());
        if (!setting.defaultValue().isEmpty())
            where.append(", default ").append(setting.defaultValue());
        lines.add(escape(where.append('.').toString()));
        if (setting.kind() == Setting.Kind.SECRET)
            lines.add("A flag is visible to other users in ps: prefer the environment variable or the password file.");
        return lines.toArray(new String[0]);
    }

    /** Picocli formats descriptions: a literal {@code %} or {@code ${} must not be read as a format or a variable. */
    private static String escape(String text)
    {
        return text.replace("%", "%%").replace("${", "$${");
    }
}
