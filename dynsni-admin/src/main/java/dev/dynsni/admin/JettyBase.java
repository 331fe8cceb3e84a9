package dev.dynsni.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.dynsni.core.Setting;

/**
 * The properties a Jetty base gives the module, read the way Jetty's {@code start.jar} reads them:
 * {@code start.ini} first, then every {@code start.d/*.ini} in file-name order, a later assignment
 * winning over an earlier one; {@code name?=value} only sets a property not set before and
 * {@code name+=value} appends to it. {@code ${name}} in a value is replaced by the property of that
 * name ({@code ${jetty.base}} is the base directory); an unknown reference is left as written.
 * Lines starting with {@code #} and option lines ({@code --module=...}) set no property.
 */
final class JettyBase
{
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([^}]+)}");
    private static final String MODULE = "dynamic-sni";

    /** A property and the file that set it last. */
    record Property(String value, Path file)
    {
    }

    private final Path directory;
    private final Map<String, Property> properties;

    private JettyBase(Path directory, Map<String, Property> properties)
    {
        this.directory = directory;
        this.properties = properties;
    }

    /**
     * @param directory a Jetty base, absolute
     * @return its properties
     * @throws CliException (usage) when the directory is not a Jetty base or does not enable the module
     */
    static JettyBase read(Path directory)
    {
        if (!Files.isDirectory(directory))
            throw CliException.usage("--jetty-base " + directory + " is not a directory: give the Jetty base the nodes run with ($JETTY_BASE)");
        List<Path> files = new ArrayList<>();
        Path startIni = directory.resolve("start.ini");
        if (Files.isRegularFile(startIni))
            files.add(startIni);
        Path startD = directory.resolve("start.d");
        if (Files.isDirectory(startD))
        {
            try (Stream<Path> list = Files.list(startD))
            {
                list.filter(file -> file.getFileName().toString().endsWith(".ini") && Files.isRegularFile(file))
                    .sorted()
                    .forEach(files::add);
            }
            catch (IOException x)
            {
                throw CliException.usage("--jetty-base " + directory + ": cannot list start.d: " + x.getMessage());
            }
        }
        if (files.isEmpty())
            throw CliException.usage("--jetty-base " + directory + " has neither start.ini nor start.d/*.ini: is it a Jetty base? (java -jar $JETTY_HOME/start.jar --add-modules=" + MODULE + " creates one)");

        Map<String, Property> properties = new LinkedHashMap<>();
        boolean enabled = false;
        for (Path file : files)
        {
            List<String> lines;
            try
            {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            }
            catch (IOException x)
            {
                throw CliException.usage("--jetty-base " + directory + ": cannot read " + file + ": " + x.getMessage());
            }
            for (String raw : lines)
            {
                String line = raw.trim();
                if (line.isEmpty() || line.startsWith("#"))
                    continue;
                if (line.startsWith("--"))
                {
                    enabled |= enablesModule(line);
                    continue;
                }
                int eq = line.indexOf('=');
                if (eq <= 0)
                    continue;
                String name = line.substring(0, eq).trim();
                String value = line.substring(eq + 1).trim();
                if (name.endsWith("?"))
                {
                    name = name.substring(0, name.length() - 1).trim();
                    if (!properties.containsKey(name))
                        properties.put(name, new Property(value, file));
                }
                else if (name.endsWith("+"))
                {
                    name = name.substring(0, name.length() - 1).trim();
                    Property before = properties.get(name);
                    if (before == null)
                        properties.put(name, new Property(value.startsWith(",") ? value.substring(1) : value, file));
                    else
                        properties.put(name, new Property(before.value() + value, file));
                }
                else
                {
                    properties.put(name, new Property(value, file));
                }
            }
        }
        if (!enabled && properties.keySet().stream().noneMatch(name -> name.startsWith(Setting.PREFIX)))
            throw CliException.usage("--jetty-base " + directory + " does not enable the " + MODULE + " module (no --module=" + MODULE +
                " and no " + Setting.PREFIX + "* property in " + describe(directory, files) + "): give the base the nodes run with");
        return new JettyBase(directory, properties);
    }

    private static boolean enablesModule(String line)
    {
        int eq = line.indexOf('=');
        if (eq < 0)
            return false;
        String option = line.substring(0, eq);
        if (!option.equals("--module") && !option.equals("--modules") && !option.equals("--add-module") && !option.equals("--add-modules"))
            return false;
        for (String module : line.substring(eq + 1).split(","))
        {
            if (module.trim().equals(MODULE))
                return true;
        }
        return false;
    }

    private static String describe(Path directory, List<Path> files)
    {
        List<String> names = new ArrayList<>();
        for (Path file : files)
        {
            names.add(directory.relativize(file).toString());
        }
        return String.join(", ", names);
    }

    Path directory()
    {
        return directory;
    }

    /** @return the property with its references expanded, or null when no file sets it */
    Property get(String name)
    {
        Property property = properties.get(name);
        if (property == null)
            return null;
        return new Property(expand(property.value(), 0), property.file());
    }

    /** @return the names of the {@code jetty.dynamicSni.*} properties set that no {@link Setting} defines */
    List<String> unknownModuleProperties()
    {
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, Property> entry : properties.entrySet())
        {
            if (entry.getKey().startsWith(Setting.PREFIX) && Setting.ofProperty(entry.getKey()) == null)
                unknown.add(entry.getKey() + " in " + entry.getValue().file());
        }
        return unknown;
    }

    private String expand(String value, int depth)
    {
        if (depth > 10 || value.indexOf("${") < 0)
            return value;
        Matcher matcher = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (matcher.find())
        {
            String name = matcher.group(1);
            String replacement;
            if (name.equals("jetty.base"))
                replacement = directory.toString();
            else if (properties.containsKey(name))
                replacement = expand(properties.get(name).value(), depth + 1);
            else
                replacement = matcher.group();
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(out);
        return out.toString();
    }
}
