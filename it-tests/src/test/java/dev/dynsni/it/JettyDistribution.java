package dev.dynsni.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.dynsni.testing.FreePorts;
import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The distribution under test: the Jetty home that the build unpacked (stock jetty-home plus the
 * overlay zip), the demo WAR, and Jetty bases made from them with {@code start.jar --add-modules},
 * each started as a child process.
 */
final class JettyDistribution
{
    static final Path HOME = Path.of(require("dynsni.it.home"));
    static final Path WAR = Path.of(require("dynsni.it.war"));
    static final Path WORK = Path.of(require("dynsni.it.work"));
    /**
     * The JVM the distribution runs on: {@code DYNSNI_IT_JAVA_HOME} when set (e.g. a JDK 25 while the
     * build runs on 17), else the JVM running the tests.
     */
    static final String JAVA = Path.of(System.getenv().getOrDefault("DYNSNI_IT_JAVA_HOME", System.getProperty("java.home")), "bin", "java").toString();

    private JettyDistribution()
    {
    }

    private static String require(String property)
    {
        String value = System.getProperty(property);
        if (value == null)
            throw new IllegalStateException("system property " + property + " is not set: run the it-tests through Maven (mvn verify -pl it-tests -am)");
        return value;
    }

    /** @return whether CI=true: a missing tool or service then fails instead of skipping */
    static boolean ci()
    {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Skips the test when the command is not installed, or fails it under CI=true. */
    static void requireTool(String tool)
    {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool)))
                found = true;
        }
        if (!found && ci())
            fail(tool + " is not installed but CI=true: install it (apt-get install " + tool + ")");
        Assumptions.assumeTrue(found, tool + " is not installed");
    }

    /**
     * Creates an empty Jetty base and runs {@code start.jar} in it with the given arguments.
     *
     * @return the base directory
     */
    static Path newBase(String name, String... startArgs) throws Exception
    {
        Path base = WORK.resolve(name + "-" + Long.toString(System.nanoTime(), 36));
        Files.createDirectories(base);
        Result result = startJar(base, startArgs);
        if (result.exitCode() != 0)
            fail("start.jar " + String.join(" ", startArgs) + " failed with " + result.exitCode() + ":\n" + result.output());
        return base;
    }

    record Result(int exitCode, String output)
    {
    }

    /** Runs {@code java -jar start.jar ARGS} in the base and waits for it (a configuration command, not a server). */
    static Result startJar(Path base, String... args) throws Exception
    {
        List<String> command = new ArrayList<>(List.of(JAVA, "-jar", HOME.resolve("start.jar").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(base.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            fail("start.jar " + String.join(" ", args) + " did not finish");
        }
        return new Result(process.exitValue(), output);
    }

    /** Deploys the demo WAR as the root context of the base. */
    static void deployDemoWar(Path base) throws IOException
    {
        Files.createDirectories(base.resolve("webapps"));
        Files.copy(WAR, base.resolve("webapps/ROOT.war"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Appends properties to an ini file of the base (start.d/NAME.ini or start.ini). */
    static void appendProperties(Path iniFile, Map<String, String> properties) throws IOException
    {
        StringBuilder text = new StringBuilder("\n## it-tests\n");
        properties.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        Files.writeString(iniFile, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** A Jetty server running as a child process of the test JVM. */
    static final class JettyProcess implements AutoCloseable
    {
        private final Process process;
        private final Path log;
        private final int port;

        private JettyProcess(Process process, Path log, int port)
        {
            this.process = process;
            this.log = log;
            this.port = port;
        }

        /**
         * Starts {@code java -jar start.jar} in the base with the TLS connector on a free port and
         * waits until it accepts connections.
         */
        static JettyProcess start(Path base, String... properties) throws Exception
        {
            return start(base, FreePorts.next(), properties);
        }

        /** Starts Jetty with the TLS connector on the given port (e.g. one an ACME validator was pointed at). */
        static JettyProcess start(Path base, int port, String... properties) throws Exception
        {
            List<String> command = new ArrayList<>(List.of(JAVA, "-jar", HOME.resolve("start.jar").toString(), "jetty.ssl.port=" + port, "jetty.ssl.host=127.0.0.1"));
            command.addAll(List.of(properties));
            Path log = base.resolve("jetty.log");
            Process process = new ProcessBuilder(command).directory(base.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            JettyProcess jetty = new JettyProcess(process, log, port);
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (true)
            {
                if (!process.isAlive())
                    fail("Jetty exited with " + process.exitValue() + " during start:\n" + jetty.log());
                if (jetty.log().contains("Started oejs.Server@") && accepts(port))
                    return jetty;
                if (jetty.log().contains("FAILED") || jetty.log().contains("Failed to start"))
                {
                    jetty.close();
                    fail("Jetty failed to start:\n" + jetty.log());
                }
                if (System.nanoTime() > deadline)
                {
                    jetty.close();
                    fail("Jetty did not start within 90 s:\n" + jetty.log());
                }
                Thread.sleep(100);
            }
        }

        int port()
        {
            return port;
        }

        Process process()
        {
            return process;
        }

        String log()
        {
            try
            {
                return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            }
            catch (IOException x)
            {
                throw new UncheckedIOException(x);
            }
        }

        /**
         * Stops Jetty as an operator would (SIGTERM) and asserts that it stopped cleanly and quickly.
         */
        void stopCleanly() throws Exception
        {
            process.destroy();
            boolean exited = process.waitFor(30, TimeUnit.SECONDS);
            if (!exited)
            {
                process.destroyForcibly();
                fail("Jetty did not stop within 30 s of SIGTERM:\n" + log());
            }
            String text = log();
            assertTrue(text.contains("Stopped oejs.Server@"), () -> "no 'Stopped oejs.Server' in the log:\n" + text);
            assertTrue(!accepts(port), "the TLS port still accepts connections after stop");
        }

        @Override
        public void close() throws Exception
        {
            if (process.isAlive())
            {
                process.destroy();
                if (!process.waitFor(30, TimeUnit.SECONDS))
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    static boolean accepts(int port)
    {
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        }
        catch (IOException x)
        {
            return false;
        }
    }
}
