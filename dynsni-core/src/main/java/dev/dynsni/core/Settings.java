package dev.dynsni.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Values of {@link Setting}s: what the Jetty factory's setters or the admin tool's sources gave,
 * with every unset value read as the setting's default. Values are checked when read (or by
 * {@link #validate()}), so a bad value fails with a message that names the property, the value
 * and what is accepted. Not thread-safe: configure, then read.
 */
public final class Settings
{
    private final EnumMap<Setting, Object> values = new EnumMap<>(Setting.class);
    private final Map<String, String> environment;
    private Path base;

    /** Settings whose secrets fall back to this process's environment variables. */
    public Settings()
    {
        this(System.getenv());
    }

    /** @param environment where secrets are looked up last ({@link Setting#environmentVariable()}) */
    public Settings(Map<String, String> environment)
    {
        this.environment = environment;
    }

    /**
     * @param base the directory relative {@link Setting.Kind#FILE} values resolve against (a Jetty
     *             base); null: the working directory
     */
    public Settings base(Path base)
    {
        this.base = base;
        return this;
    }

    /**
     * Sets a value: a {@link String} for text kinds, a number or a {@link Boolean} for the others
     * (text is parsed). Null or blank text unsets it.
     */
    public Settings set(Setting setting, Object value)
    {
        if (value == null || value instanceof String text && text.isBlank())
            values.remove(setting);
        else if (value instanceof String text && setting.kind() != Setting.Kind.SECRET && setting.kind() != Setting.Kind.STRING && setting.kind() != Setting.Kind.FILE && setting.kind() != Setting.Kind.FILES)
            values.put(setting, setting.parse(text));
        else
            values.put(setting, value);
        return this;
    }

    /** @return whether a value was set (not the default) */
    public boolean isSet(Setting setting)
    {
        return values.containsKey(setting);
    }

    /** @return the value set, else the default; null when neither */
    public String string(Setting setting)
    {
        Object value = values.get(setting);
        if (value == null)
            return setting.defaultString();
        String text = value.toString();
        return setting.kind() == Setting.Kind.SECRET ? text : text.trim();
    }

    public long longValue(Setting setting)
    {
        Object value = values.get(setting);
        return setting.check(value == null ? setting.defaultLong() : ((Number)value).longValue());
    }

    public int intValue(Setting setting)
    {
        return (int)longValue(setting);
    }

    public boolean booleanValue(Setting setting)
    {
        Object value = values.get(setting);
        return value == null ? setting.defaultBoolean() : (Boolean)value;
    }

    /** @return the word of a {@link Setting.Kind#CHOICE}, lower-case */
    public String choice(Setting setting)
    {
        Object value = values.get(setting);
        return value == null ? setting.defaultValue() : (String)setting.parse(value.toString());
    }

    /** @return the file of a {@link Setting.Kind#FILE} setting, resolved against the base; null when unset */
    public Path path(Setting setting)
    {
        String text = string(setting);
        return text == null ? null : resolve(text);
    }

    /** @return the files of a {@link Setting.Kind#FILES} setting, resolved against the base */
    public List<Path> paths(Setting setting)
    {
        String text = string(setting);
        List<Path> paths = new ArrayList<>();
        if (text != null)
        {
            for (String file : text.split(","))
            {
                if (!file.isBlank())
                    paths.add(resolve(file.trim()));
            }
        }
        return paths;
    }

    private Path resolve(String file)
    {
        Path path = Path.of(file);
        return base == null || path.isAbsolute() ? path : base.resolve(path);
    }

    /**
     * A secret from its property, else from its file, else from its environment variable, so that
     * it need not be written into start.d.
     *
     * @return the secret, or null when none of the three is set
     * @throws IllegalStateException when the file is set but cannot be read
     */
    public String secret(Setting secret, Setting file)
    {
        String value = string(secret);
        if (value != null && !value.isEmpty())
            return value;
        Path path = path(file);
        if (path != null)
        {
            try
            {
                return Files.readString(path, StandardCharsets.UTF_8).strip();
            }
            catch (IOException x)
            {
                throw new IllegalStateException(file.property() + "=" + path + " cannot be read: " + x.getMessage());
            }
        }
        String variable = secret.environmentVariable();
        String env = variable == null ? null : environment.get(variable);
        return env == null || env.isBlank() ? null : env;
    }

    /**
     * Checks every value set: numbers against their minimum, choices against their words.
     *
     * @throws IllegalStateException naming the first bad property, its value and what is accepted
     */
    public void validate()
    {
        for (Map.Entry<Setting, Object> entry : values.entrySet())
        {
            Setting setting = entry.getKey();
            switch (setting.kind())
            {
                case INT, LONG -> setting.check(((Number)entry.getValue()).longValue());
                case CHOICE ->
                {
                    try
                    {
                        setting.parse(entry.getValue().toString());
                    }
                    catch (IllegalArgumentException x)
                    {
                        throw new IllegalStateException(x.getMessage());
                    }
                }
                default ->
                {
                }
            }
        }
    }
}
