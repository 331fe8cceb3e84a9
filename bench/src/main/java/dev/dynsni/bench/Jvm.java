package dev.dynsni.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Child processes of the harness: servers and load generators each run in their own JVM, with the
 * harness's class path, their output kept in a log file.
 */
final class Jvm implements AutoCloseable
{
    private static int sequence;
    final Process process;
    final Path log;
    final String name;

    private Jvm(String name, Process process, Path log)
    {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    static String classpath()
    {
        return System.getProperty("bench.classpath", System.getProperty("java.class.path"));
    }

    static String java()
    {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static Jvm start(Path logDir, String name, List<String> jvmOptions, String mainClass, List<String> args) throws IOException
    {
        return start(logDir, name, java(), jvmOptions, mainClass, args);
    }

    /** @param java the {@code java} executable to run (another JDK than the harness's) */
    static synchronized Jvm start(Path logDir, String name, String java, List<String> jvmOptions, String mainClass, List<String> args) throws IOException
    {
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath());
        command.add(mainClass);
        command.addAll(args);
        return launch(logDir, name, command, null);
    }

    static synchronized Jvm launch(Path logDir, String name, List<String> command, Path directory) throws IOException
    {
        Files.createDirectories(logDir);
        Path log = logDir.resolve(String.format("%03d-%s.log", ++sequence, name));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        if (directory != null)
            builder.directory(directory.toFile());
        return new Jvm(name, builder.start(), log);
    }

    List<String> lines() throws IOException
    {
        return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    }

    /** Waits for a line starting with the prefix and returns it. */
    String awaitLine(String prefix, long timeoutMillis) throws Exception
    {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline)
        {
            for (String line : lines())
            {
                if (line.startsWith(prefix))
                    return line;
            }
            if (!process.isAlive())
            {
                for (String line : lines())
                {
                    if (line.startsWith(prefix))
                        return line;
                }
                throw new IllegalStateException(name + " exited (" + process.exitValue() + ") without '" + prefix + "'; see " + log + "\n" + tail());
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(name + " printed no '" + prefix + "' within " + timeoutMillis + " ms; see " + log + "\n" + tail());
    }

    /** Waits for the exit and returns the output; fails on a non-zero exit. */
    List<String> finish(long timeoutMillis) throws Exception
    {
        if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS))
        {
            close();
            throw new IllegalStateException(name + " did not finish within " + timeoutMillis + " ms; see " + log);
        }
        if (process.exitValue() != 0)
            throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log + "\n" + tail());
        return lines();
    }

    String tail() throws IOException
    {
        List<String> lines = lines();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }

    long pid()
    {
        return process.pid();
    }

    @Override
    public void close()
    {
        process.destroy();
        try
        {
            if (!process.waitFor(15, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code key=value} fields of a line such as {@code RESULT ok=1 rate=2.0}. */
    static Map<String, String> fields(String line)
    {
        Map<String, String> fields = new HashMap<>();
        for (String token : line.trim().split("\\s+"))
        {
            int eq = token.indexOf('=');
            if (eq > 0)
                fields.put(token.substring(0, eq), token.substring(eq + 1));
        }
        return fields;
    }

    static String httpGet(int port, String pathAndQuery) throws IOException
    {
        HttpURLConnection connection = (HttpURLConnection)new URL("http://127.0.0.1:" + port + pathAndQuery).openConnection();
        connection.setConnectTimeout(5000);
        connection.setReadTimeout(300_000);
        try (InputStream in = connection.getInputStream())
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        finally
        {
            connection.disconnect();
        }
    }
}
