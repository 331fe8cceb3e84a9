package dev.dynsni.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the command-line tools the test topologies are built with ({@code redis-cli}, PostgreSQL's
 * {@code initdb}, {@code pg_ctl}, {@code pg_basebackup}), with a time limit, failing with what the
 * tool printed.
 */
final class Commands
{
    private Commands()
    {
    }

    /** @return the command line of {@code redis-cli} against a loopback port */
    static List<String> redisCli(int port, List<String> args) throws IOException
    {
        Path cli = RedisProcess.findOnPath("redis-cli");
        if (cli == null)
            throw new IOException("redis-cli is not installed (Debian package redis-tools)");
        List<String> command = new ArrayList<>(List.of(cli.toString(), "-h", "127.0.0.1", "-p", String.valueOf(port)));
        command.addAll(args);
        return command;
    }

    /**
     * @return what the command printed (standard output and error together)
     * @throws IOException when it does not exit 0 within the time, with its output
     */
    static String run(List<String> command, long timeoutSeconds) throws IOException
    {
        // output to a file, not a pipe: a tool that starts a server (pg_ctl start) may leave it holding the pipe
        Path output = Files.createTempFile("dynsni-command-", ".out");
        try
        {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            process.getOutputStream().close();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s: " + Files.readString(output).trim());
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0)
                throw new IOException(String.join(" ", command) + " exited " + process.exitValue() + ": " + text.trim());
            return text;
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", x);
        }
        finally
        {
            Files.deleteIfExists(output);
        }
    }

    static void deleteTree(Path dir)
    {
        if (dir == null || !Files.exists(dir))
            return;
        try (Stream<Path> walk = Files.walk(dir))
        {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (IOException ignored)
        {
            // a temporary directory: best effort
        }
    }
}
