package dev.dynsni.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every size knob of the benchmarks, from {@code BENCH_*} environment variables (or {@code bench.*}
 * system properties); the defaults are issue 7's full sizes, {@link #SMOKE} the CI sizes.
 */
final class BenchConfig
{
    /** The smoke sizes (run-smoke.sh, BenchSmokeIT): every table, seconds each. */
    static final Map<String, String> SMOKE = Map.ofEntries(
        Map.entry("RUNS", "1"),
        Map.entry("START_HOSTS", "0,200"),
        Map.entry("KEYSTORE_MAX", "200"),
        Map.entry("KEY_POOL", "50"),
        Map.entry("P12_ITERATIONS", "10000"),
        Map.entry("TENANTS", "300"),
        Map.entry("CLIENT_THREADS", "4"),
        Map.entry("WARMUP_SECONDS", "2"),
        Map.entry("SECONDS", "1.5"),
        Map.entry("LATENCY_SECONDS", "0.7"),
        Map.entry("CHANGES", "5"),
        Map.entry("IMPORT_HOSTS", "200"),
        Map.entry("JMH_CACHE_SIZES", "1000"),
        Map.entry("JMH_OPTIONS", "-f 1 -wi 1 -w 1s -i 1 -r 1s"),
        Map.entry("FLOOD_NAMES", "300"),
        Map.entry("FLOOD_TENANTS", "100"),
        Map.entry("PREFETCH_HOSTS", "16"),
        Map.entry("PREFETCH_SLICES", "1"),
        Map.entry("PREFETCH_WARMUP_SECONDS", "0.3"),
        Map.entry("MEMORY_HOSTS", "300"),
        Map.entry("HOSTILE_CONNECTIONS", "20"),
        Map.entry("HOSTILE_STALLED", "3"),
        Map.entry("HOSTILE_DEADLINE_MILLIS", "2000"),
        Map.entry("FLEET_GAP_SECONDS", "3"),
        Map.entry("FLEET_CHANGES", "20"),
        Map.entry("ACME_NAMES", "3"),
        Map.entry("ACME_FLEET_NAMES", "4"),
        Map.entry("ACME_FLEET_HANDSHAKES", "16"),
        Map.entry("ACME_FLOOD_NAMES", "100"));

    final Map<String, String> used = new LinkedHashMap<>();
    /** Knobs whose value differs from the full size. */
    final Map<String, String> reduced = new LinkedHashMap<>();
    final boolean smoke;
    final Path out;
    final Path resultsDir;
    final Path workDir;
    final Path logDir;
    final Path jettyHome;
    final String jdbcUrl;
    final String redisAddress;
    final List<String> tables;
    final int runs;
    final List<Integer> startHosts;
    final int keystoreMax;
    final int startTimeoutSeconds;
    final int keyPool;
    final int p12Iterations;
    final int tenants;
    final double zipf;
    final int clientThreads;
    /** TLS engines of table 2: {@code jsse}, {@code conscrypt}, each with its own static row. */
    final List<String> engines;
    final double warmupSeconds;
    final double seconds;
    final double latencySeconds;
    final int changes;
    final int importHosts;
    final List<String> jmhCacheSizes;
    final String jmhOptions;
    final int floodNames;
    final int floodTenants;
    final int floodThreads;
    final int prefetchHosts;
    final int hostileConnections;
    final int hostileStalled;
    final long hostileDeadlineMillis;
    final int prefetchSlices;
    final double prefetchWarmupSeconds;
    final int memoryHosts;
    final String memoryBaseline;
    final String memoryBaselineRef;
    final List<String> serverJvmOptions;
    final String prefix;
    final int fleetGapSeconds;
    final int fleetChanges;
    final int acmeNames;
    final int acmeFleetNames;
    final int acmeFleetHandshakes;
    final int acmeFloodNames;
    private final Map<String, String> overrides;

    BenchConfig(boolean smoke, Map<String, String> overrides)
    {
        this.smoke = smoke;
        this.overrides = Map.copyOf(overrides);
        Map<String, String> defaults = smoke ? SMOKE : Map.of();
        java.util.function.BiFunction<String, String, String> knob = (name, fallback) ->
        {
            String value = overrides.get(name);
            if (value == null)
                value = System.getProperty("bench." + name.toLowerCase(java.util.Locale.ROOT).replace('_', '.'));
            if (value == null)
                value = System.getenv("BENCH_" + name);
            if (value == null)
                value = defaults.getOrDefault(name, fallback);
            used.put(name, value);
            if (!value.equals(fallback) && !List.of("OUT", "WORK_DIR", "JETTY_HOME", "TABLES", "JDBC_URL", "REDIS", "PREFIX", "MEMORY_BASELINE", "MEMORY_BASELINE_REF").contains(name))
                reduced.put(name, fallback);
            return value;
        };
        out = Path.of(knob.apply("OUT", smoke ? "bench/target/smoke/RESULTS.md" : "bench/RESULTS.md")).toAbsolutePath();
        resultsDir = out.getParent().resolve(smoke ? "smoke-sections" : "results");
        workDir = Path.of(knob.apply("WORK_DIR", out.getParent().resolve(smoke ? "work-smoke" : "target/bench-work").toString())).toAbsolutePath();
        logDir = workDir.resolve("logs");
        jettyHome = Path.of(knob.apply("JETTY_HOME", "jetty-home-overlay/target/jetty-home")).toAbsolutePath();
        jdbcUrl = knob.apply("JDBC_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
        redisAddress = knob.apply("REDIS", "redis://127.0.0.1:6379");
        tables = List.of(knob.apply("TABLES", String.join(",", Bench.TABLES)).split(","));
        runs = Integer.parseInt(knob.apply("RUNS", "3"));
        startHosts = new ArrayList<>();
        for (String n : knob.apply("START_HOSTS", "0,1000,10000,100000,1000000").split(","))
        {
            startHosts.add(Integer.parseInt(n.trim()));
        }
        keystoreMax = Integer.parseInt(knob.apply("KEYSTORE_MAX", "100000"));
        startTimeoutSeconds = Integer.parseInt(knob.apply("START_TIMEOUT_SECONDS", "600"));
        keyPool = Integer.parseInt(knob.apply("KEY_POOL", "1000"));
        p12Iterations = Integer.parseInt(knob.apply("P12_ITERATIONS", "10000"));
        tenants = Integer.parseInt(knob.apply("TENANTS", "10000"));
        zipf = Double.parseDouble(knob.apply("ZIPF", "1.0"));
        clientThreads = Integer.parseInt(knob.apply("CLIENT_THREADS", "16"));
        engines = List.of(knob.apply("ENGINES", "jsse,conscrypt").split(","));
        warmupSeconds = Double.parseDouble(knob.apply("WARMUP_SECONDS", "5"));
        seconds = Double.parseDouble(knob.apply("SECONDS", "15"));
        latencySeconds = Double.parseDouble(knob.apply("LATENCY_SECONDS", "10"));
        changes = Integer.parseInt(knob.apply("CHANGES", "100"));
        importHosts = Integer.parseInt(knob.apply("IMPORT_HOSTS", "100000"));
        jmhCacheSizes = Arrays.asList(knob.apply("JMH_CACHE_SIZES", "1000,10000,100000").split(","));
        jmhOptions = knob.apply("JMH_OPTIONS", "-f 1 -wi 3 -w 2s -i 5 -r 2s");
        floodNames = Integer.parseInt(knob.apply("FLOOD_NAMES", "20000"));
        floodTenants = Integer.parseInt(knob.apply("FLOOD_TENANTS", "1000"));
        floodThreads = Integer.parseInt(knob.apply("FLOOD_THREADS", "4"));
        prefetchHosts = Integer.parseInt(knob.apply("PREFETCH_HOSTS", "64"));
        prefetchSlices = Integer.parseInt(knob.apply("PREFETCH_SLICES", "20"));
        prefetchWarmupSeconds = Double.parseDouble(knob.apply("PREFETCH_WARMUP_SECONDS", "3"));
        memoryHosts = Integer.parseInt(knob.apply("MEMORY_HOSTS", "10000"));
        hostileConnections = Integer.parseInt(knob.apply("HOSTILE_CONNECTIONS", "200"));
        hostileStalled = Integer.parseInt(knob.apply("HOSTILE_STALLED", "20"));
        hostileDeadlineMillis = Long.parseLong(knob.apply("HOSTILE_DEADLINE_MILLIS", "10000"));
        memoryBaseline = knob.apply("MEMORY_BASELINE", "");
        memoryBaselineRef = knob.apply("MEMORY_BASELINE_REF", "b54286557c3b");
        serverJvmOptions = List.of(knob.apply("SERVER_JVM_OPTIONS", "-Xms1g -Xmx1g").trim().split("\\s+"));
        prefix = knob.apply("PREFIX", "bench_");
        fleetGapSeconds = Integer.parseInt(knob.apply("FLEET_GAP_SECONDS", "30"));
        fleetChanges = Integer.parseInt(knob.apply("FLEET_CHANGES", "1000"));
        acmeNames = Integer.parseInt(knob.apply("ACME_NAMES", "50"));
        acmeFleetNames = Integer.parseInt(knob.apply("ACME_FLEET_NAMES", "100"));
        acmeFleetHandshakes = Integer.parseInt(knob.apply("ACME_FLEET_HANDSHAKES", "1000"));
        acmeFloodNames = Integer.parseInt(knob.apply("ACME_FLOOD_NAMES", "10000"));
    }

    /** @return the same configuration on another PostgreSQL (a topology the bench started) */
    BenchConfig withJdbcUrl(String jdbcUrl)
    {
        Map<String, String> changed = new java.util.HashMap<>(overrides);
        changed.put("JDBC_URL", jdbcUrl);
        return new BenchConfig(smoke, changed);
    }

    /** The exact command that reruns one table with the sizes used here. */
    String rerun(String table, String... knobs)
    {
        StringBuilder command = new StringBuilder("BENCH_TABLES=").append(table);
        for (String name : knobs)
        {
            command.append(" BENCH_").append(name).append("='").append(used.get(name)).append('\'');
        }
        command.append(' ').append(smoke ? "bench/run-smoke.sh" : "bench/run-all.sh");
        return command.toString();
    }
}
