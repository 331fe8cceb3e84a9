package dev.dynsni.bench;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link BenchServer} child process and its control connector.
 */
final class ServerProcess implements AutoCloseable
{
    final Jvm jvm;
    final int tlsPort;
    final int controlPort;

    private ServerProcess(Jvm jvm, int tlsPort, int controlPort)
    {
        this.jvm = jvm;
        this.tlsPort = tlsPort;
        this.controlPort = controlPort;
    }

    static ServerProcess start(BenchConfig config, String name, List<String> serverArgs) throws Exception
    {
        return start(config, name, Jvm.java(), serverArgs);
    }

    /** @param java the {@code java} executable of the server's JVM */
    static ServerProcess start(BenchConfig config, String name, String java, List<String> serverArgs) throws Exception
    {
        List<String> jvmOptions = new ArrayList<>(config.serverJvmOptions);
        // what the change feed does (a gap, its catch-up) is logged at INFO: table 11 reads it
        jvmOptions.add("-Dorg.slf4j.simpleLogger.log.dev.dynsni.core.store.JdbcCertificateStore=info");
        Jvm jvm = Jvm.start(config.logDir, name, java, jvmOptions, BenchServer.class.getName(), serverArgs);
        try
        {
            Map<String, String> ready = Jvm.fields(jvm.awaitLine("READY", 60_000));
            return new ServerProcess(jvm, Integer.parseInt(ready.get("tls")), Integer.parseInt(ready.get("control")));
        }
        catch (Exception x)
        {
            jvm.close();
            throw x;
        }
    }

    static ServerProcess staticServer(BenchConfig config, Path keystore) throws Exception
    {
        return staticServer(config, keystore, "jsse");
    }

    /** @param engine {@code jsse}, {@code conscrypt} or {@code jdk25} (JSSE on the JDK of {@code BENCH_JDK25_HOME}) */
    static ServerProcess staticServer(BenchConfig config, Path keystore, String engine) throws Exception
    {
        List<String> args = new ArrayList<>(List.of("--mode", "static", "--keystore", keystore.toString(), "--password", BenchData.PASSWORD));
        return start(config, "server-static-" + engine, java(config, engine), withEngine(args, engine));
    }

    static ServerProcess dynamic(BenchConfig config, String name, String schema, String redisPrefix, long cacheEntries) throws Exception
    {
        return dynamic(config, name, schema, redisPrefix, cacheEntries, "jsse");
    }

    /** @param engine {@code jsse}, {@code conscrypt} or {@code jdk25} */
    static ServerProcess dynamic(BenchConfig config, String name, String schema, String redisPrefix, long cacheEntries, String engine) throws Exception
    {
        return dynamic(config, name, config.jdbcUrl, schema, redisPrefix == null ? null : config.redisAddress, "single", redisPrefix, cacheEntries, engine);
    }

    /**
     * @param redisAddress null for no Redis tier
     * @param redisMode    {@code single}, {@code cluster} or {@code sentinel}
     */
    static ServerProcess dynamic(BenchConfig config, String name, String jdbcUrl, String schema, String redisAddress, String redisMode, String redisPrefix,
                                 long cacheEntries, String engine) throws Exception
    {
        List<String> args = new ArrayList<>(List.of("--mode", "dynamic", "--jdbc-url", jdbcUrl, "--schema", schema, "--cache", Long.toString(cacheEntries)));
        if (redisAddress != null)
            args.addAll(List.of("--redis", redisAddress, "--redis-mode", redisMode, "--prefix", redisPrefix));
        return start(config, "jsse".equals(engine) ? name : name + "-" + engine, java(config, engine), withEngine(args, engine));
    }

    private static List<String> withEngine(List<String> args, String engine)
    {
        if ("conscrypt".equals(engine))
            args.addAll(List.of("--provider", "Conscrypt"));
        else if (!"jsse".equals(engine) && !JDK25.equals(engine))
            throw new IllegalArgumentException("unknown engine " + engine + " (BENCH_ENGINES: jsse, conscrypt, jdk25)");
        return args;
    }

    /** The engine that runs JSSE on the JDK of {@code BENCH_JDK25_HOME}. */
    static final String JDK25 = "jdk25";

    /** @return the {@code java} executable of the engine's server JVM */
    static String java(BenchConfig config, String engine)
    {
        return JDK25.equals(engine) ? config.jdk25Java().toString() : Jvm.java();
    }

    /** @return the server JVM's process id, to read its CPU time */
    long pid()
    {
        return jvm.pid();
    }

        InetSocketAddress address()
    {
        return new InetSocketAddress("127.0.0.1", tlsPort);
    }

    Map<String, Long> stats() throws Exception
    {
        Map<String, Long> stats = new HashMap<>();
        for (String line : Jvm.httpGet(controlPort, "/stats").split("\n"))
        {
            int eq = line.indexOf('=');
            if (eq > 0)
                stats.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
        }
        return stats;
    }

    long heapAfterGc() throws Exception
    {
        return Long.parseLong(Jvm.httpGet(controlPort, "/heap").trim().split("=")[1]);
    }

    int prefetch(int from, int count) throws Exception
    {
        return Integer.parseInt(Jvm.httpGet(controlPort, "/prefetch?from=" + from + "&count=" + count + "&domain=" + BenchData.DOMAIN).trim().split("=")[1]);
    }

    static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after)
    {
        Map<String, Long> delta = new HashMap<>();
        after.forEach((key, value) -> delta.put(key, value - before.getOrDefault(key, 0L)));
        return delta;
    }

    @Override
    public void close()
    {
        jvm.close();
    }
}
