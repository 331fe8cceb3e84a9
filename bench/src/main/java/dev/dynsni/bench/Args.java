package dev.dynsni.bench;

import java.util.HashMap;
import java.util.Map;

/** {@code --name value} and {@code --flag} arguments of the launched mains. */
public final class Args
{
    private final Map<String, String> values = new HashMap<>();

    public Args(String[] args)
    {
        for (int i = 0; i < args.length; i++)
        {
            if (!args[i].startsWith("--"))
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            String name = args[i].substring(2);
            if (i + 1 < args.length && !args[i + 1].startsWith("--"))
                values.put(name, args[++i]);
            else
                values.put(name, "true");
        }
    }

    public String get(String name, String fallback)
    {
        return values.getOrDefault(name, fallback);
    }

    public String required(String name)
    {
        String value = values.get(name);
        if (value == null)
            throw new IllegalArgumentException("--" + name + " is required");
        return value;
    }

    public int integer(String name, int fallback)
    {
        return Integer.parseInt(get(name, Integer.toString(fallback)));
    }

    public double decimal(String name, double fallback)
    {
        return Double.parseDouble(get(name, Double.toString(fallback)));
    }

    public boolean flag(String name)
    {
        return Boolean.parseBoolean(get(name, "false"));
    }
}
