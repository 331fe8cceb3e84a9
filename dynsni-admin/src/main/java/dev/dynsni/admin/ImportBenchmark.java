package dev.dynsni.admin;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import picocli.CommandLine;

/**
 * Times {@code gen-demo} and {@code import-dir} for N tenants against a real PostgreSQL (and Redis
 * when {@code DYNSNI_REDIS_URL} is set), in a schema of its own that is dropped at the end.
 *
 * <pre>
 * mvn -B -q -pl dynsni-admin -am package -DskipTests
 * java -cp "dynsni-admin/target/lib-admin/*:$(cat classpath-of-the-library)" dev.dynsni.admin.ImportBenchmark 100000
 * </pre>
 * Arguments: {@code [N=100000] [JDBC_URL=$DYNSNI_JDBC_URL or jdbc:postgresql://127.0.0.1:5432/test?user=postgres]}.
 */
public final class ImportBenchmark
{
    private ImportBenchmark()
    {
    }

    public static void main(String[] args) throws Exception
    {
        int tenants = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        String jdbcUrl = args.length > 1 ? args[1] : System.getenv().getOrDefault("DYNSNI_JDBC_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
        String redisUrl = System.getenv("DYNSNI_REDIS_URL");
        String schema = "t_bench_" + Long.toString(System.currentTimeMillis(), 36);
        Path dir = Files.createTempDirectory("dynsni-bench");
        Map<String, String> env = new HashMap<>();
        env.put("DYNSNI_JDBC_URL", jdbcUrl);
        env.put("DYNSNI_JDBC_SCHEMA", schema);
        if (redisUrl != null)
        {
            env.put("DYNSNI_REDIS_URL", redisUrl);
            env.put("DYNSNI_REDIS_KEY_PREFIX", "dynsni-bench:" + schema + ":");
        }
        try
        {
            run(env, "init-db");
            long start = System.nanoTime();
            run(env, "gen-demo", "--tenants", String.valueOf(tenants), "--out", dir.toString(), "--no-progress");
            double generate = (System.nanoTime() - start) / 1e9;
            int pairs = tenants + 1;
            start = System.nanoTime();
            run(env, "import-dir", dir.resolve("certs").toString(), "--no-progress");
            double importSeconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "processors=%d gen-demo: %,d certificates in %.1f s (%,.0f/s); import-dir: %,d pairs in %.1f s (%,.0f certificates/s)%s%n",
                Runtime.getRuntime().availableProcessors(), pairs, generate, pairs / generate, pairs, importSeconds, pairs / importSeconds,
                redisUrl == null ? " without Redis" : " with Redis invalidation");
        }
        finally
        {
            try (Connection connection = DriverManager.getConnection(jdbcUrl);
                 Statement statement = connection.createStatement())
            {
                statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
            deleteTree(dir);
        }
    }

    private static void run(Map<String, String> env, String... args)
    {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = DynSni.newCommandLine(new DynSni(env));
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exit = commandLine.execute(args);
        System.out.print(out);
        if (exit != 0)
            throw new IllegalStateException(String.join(" ", args) + " failed with exit code " + exit + ": " + err);
    }

    private static void deleteTree(Path dir) throws IOException
    {
        Files.walkFileTree(dir, new SimpleFileVisitor<>()
        {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException
            {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException x) throws IOException
            {
                Files.delete(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
