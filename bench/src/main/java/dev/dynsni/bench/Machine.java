package dev.dynsni.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * What the results were measured on, read from the running system.
 */
final class Machine
{
    private Machine()
    {
    }

    static String describe()
    {
        StringBuilder out = new StringBuilder();
        out.append("- Date: ").append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append('\n');
        out.append("- CPU: ").append(cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors()).append(" cores available to the JVM\n");
        out.append("- Memory: ").append(memTotal()).append('\n');
        out.append("- JDK: ").append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.runtime.version"))
            .append(" (").append(System.getProperty("java.vendor")).append(")\n");
        out.append("- OS: ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version")).append(' ')
            .append(System.getProperty("os.arch")).append('\n');
        out.append("- Load average at start: ").append(loadAverage()).append(" (other work on the machine skews the figures)\n");
        return out.toString();
    }

    static String cpuModel()
    {
        try
        {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
            {
                if (line.startsWith("model name"))
                    return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        catch (IOException ignored)
        {
            // not Linux
        }
        return "unknown";
    }

    private static String memTotal()
    {
        try
        {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo")))
            {
                if (line.startsWith("MemTotal"))
                {
                    long kb = Long.parseLong(line.replaceAll("\\D", ""));
                    return String.format(java.util.Locale.ROOT, "%.1f GiB", kb / 1024.0 / 1024.0);
                }
            }
        }
        catch (IOException ignored)
        {
            // not Linux
        }
        return "unknown";
    }

    private static String loadAverage()
    {
        try
        {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        }
        catch (IOException x)
        {
            return "unknown";
        }
    }
}
