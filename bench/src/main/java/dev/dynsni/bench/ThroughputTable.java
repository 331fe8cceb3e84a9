package dev.dynsni.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Table 2: full-handshake throughput. Every connection is new TCP + full TLS handshake + one
 * request, from a load generator in its own JVM, SNI drawn per connection from the tenants with a
 * Zipf skew. Configurations, all servers in their own JVM with the same heap: Jetty's stock
 * {@code SslContextFactory} with one static certificate; dynamic with a warm L1 (every tenant
 * prefetched); dynamic with an L1 of one entry (tenants prefetched into Redis, so nearly every
 * handshake reads Redis); dynamic cold (a fresh node with empty L1 and empty Redis: first touches read
 * PostgreSQL; the JIT is warmed on other tenants). Runs are interleaved: run 1 of every
 * configuration and protocol, then run 2, and so on; the ratio is taken within each run. Every
 * engine of {@code BENCH_ENGINES} ({@code jsse}, {@code conscrypt}) gets the four configurations, its
 * own static server included, one engine after the other.
 */
final class ThroughputTable
{
    static final List<String> CONFIGS = List.of("static", "warm", "redis", "cold");
    private final BenchContext context;
    private final BenchConfig config;

    ThroughputTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    String run() throws Exception
    {
        String schema = context.tenantSchema();
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        Map<String, List<Double>> l1 = new LinkedHashMap<>();
        Map<String, List<Double>> redis = new LinkedHashMap<>();
        Map<String, List<Double>> postgres = new LinkedHashMap<>();
        Map<String, List<Double>> resolutions = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        int coldCount = 0;
        // One engine after the other: its static server and dynamic nodes, every run; ratios within an engine and a run.
        for (String engine : config.engines)
        {
            try (ServerProcess staticServer = ServerProcess.staticServer(config, context.staticKeystore(), engine);
                 ServerProcess warm = ServerProcess.dynamic(config, "server-warm", schema, context.redisPrefix("warm-" + engine), 2L * config.tenants, engine);
                 ServerProcess tiny = ServerProcess.dynamic(config, "server-redis", schema, context.redisPrefix("tiny-" + engine), 1, engine))
            {
                Bench.log("%s: prefetched warm=%d redis=%d", engine, warm.prefetch(0, config.tenants), tiny.prefetch(0, config.tenants));
                for (int run = 1; run <= config.runs; run++)
                {
                    for (String protocol : List.of(LoadGenerator.TLS13, LoadGenerator.TLS12))
                    {
                        double staticRate = Double.NaN;
                        for (String name : CONFIGS)
                        {
                            String key = engine + "|" + name + "|" + protocol;
                            ServerProcess cold = null;
                            try
                            {
                                ServerProcess server = switch (name)
                                {
                                    case "static" -> staticServer;
                                    case "warm" -> warm;
                                    case "redis" -> tiny;
                                    default -> cold = ServerProcess.dynamic(config, "server-cold", schema, context.redisPrefix("cold" + (++coldCount)), 2L * config.tenants, engine);
                                };
                                List<String> options = new ArrayList<>(List.of("--threads", Integer.toString(config.clientThreads), "--warmup-seconds",
                                    Double.toString(config.warmupSeconds), "--seconds", Double.toString(config.seconds), "--protocol", protocol, "--tenants",
                                    Integer.toString(config.tenants), "--zipf", Double.toString(config.zipf)));
                                if (cold != null)
                                    options.addAll(List.of("--warmup-offset", Integer.toString(config.tenants)));
                                Map<String, Long> before = name.equals("static") ? Map.of() : server.stats();
                                Load load = Load.run(config, "load-" + engine + "-" + name + "-" + protocol, server.tlsPort, options, config.warmupSeconds + config.seconds);
                                Bench.log("run %d %s %s %s: %.0f handshakes/s p50=%d us p99=%d us failed=%d", run, engine, name, protocol, load.rate, load.p50Micros, load.p99Micros,
                                    load.failed);
                                if (load.failed > 0)
                                    errors.add(engine + " " + name + " " + protocol + ": " + load.failed + " failed, first: " + load.firstError);
                                rates.computeIfAbsent(key, k -> new ArrayList<>()).add(load.rate);
                                if (name.equals("static"))
                                    staticRate = load.rate;
                                ratios.computeIfAbsent(key, k -> new ArrayList<>()).add(load.rate / staticRate);
                                if (!name.equals("static"))
                                {
                                    Map<String, Long> delta = ServerProcess.delta(before, server.stats());
                                    double served = Math.max(1, delta.get("servedDynamic"));
                                    l1.computeIfAbsent(key, k -> new ArrayList<>()).add(100.0 * delta.get("l1Hits") / served);
                                    redis.computeIfAbsent(key, k -> new ArrayList<>()).add(100.0 * delta.get("redisHits") / served);
                                    postgres.computeIfAbsent(key, k -> new ArrayList<>()).add(100.0 * delta.get("postgresQueries") / served);
                                    resolutions.computeIfAbsent(key, k -> new ArrayList<>()).add(delta.get("servedDynamic") / (double)Math.max(1, load.all));
                                }
                            }
                            finally
                            {
                                if (cold != null)
                                    cold.close();
                            }
                        }
                    }
                }
            }
        }

        StringBuilder out = new StringBuilder();
        out.append("## 2. Full-handshake throughput\n\n");
        out.append(String.format(Locale.ROOT, "Every connection: new TCP connection, full TLS handshake (no resumption), one HTTP/1.1 request with `Connection: close`. "
                + "Load generator in its own JVM, %d threads, SNI drawn per connection from %d tenants with Zipf exponent %.2f; %.1f s warm-up then %.1f s measured; "
                + "%d interleaved runs. Servers: embedded Jetty 12.1.12 (SSL → ALPN → h2/http1.1, like the `https` + `http2` modules; dynamic nodes with the SNI prefetch in front of TLS, as the module ships), each in its own JVM (`%s`), "
                + "on the JDK's TLS engine (JSSE) and on Conscrypt 2.6.0 (`provider=Conscrypt`, as the `dynamic-sni-conscrypt` module runs; rows marked Conscrypt); "
                + "all certificates ECDSA P-256. TLS 1.2 uses `%s`; TLS 1.3 the JDK defaults (TLS_AES_128_GCM_SHA256, x25519).%n%n",
            config.clientThreads, config.tenants, config.zipf, config.warmupSeconds, config.seconds, config.runs, String.join(" ", config.serverJvmOptions),
            LoadGenerator.TLS12_CIPHER));
        out.append("| Configuration | Protocol | Handshakes/s | Ratio to static (same run) | L1 hits % | Redis hits % | PostgreSQL queries % | Key-manager resolutions per connection |\n");
        out.append("|---|---|---|---|---|---|---|---|\n");
        for (String engine : config.engines)
        {
            for (String protocol : List.of(LoadGenerator.TLS13, LoadGenerator.TLS12))
            {
                for (String name : CONFIGS)
                {
                    String key = engine + "|" + name + "|" + protocol;
                    out.append("| ").append(engineLabel(engine)).append(label(name)).append(" | ").append(protocol).append(" | ")
                        .append(Stats.cell(rates.getOrDefault(key, List.of()), "%.0f")).append(" | ")
                        .append(name.equals("static") ? "1" : Stats.cell(ratios.getOrDefault(key, List.of()), "%.3f")).append(" | ")
                        .append(name.equals("static") ? "–" : Stats.cell(l1.getOrDefault(key, List.of()), "%.1f")).append(" | ")
                        .append(name.equals("static") ? "–" : Stats.cell(redis.getOrDefault(key, List.of()), "%.1f")).append(" | ")
                        .append(name.equals("static") ? "–" : Stats.cell(postgres.getOrDefault(key, List.of()), "%.1f")).append(" | ")
                        .append(name.equals("static") ? "–" : Stats.cell(resolutions.getOrDefault(key, List.of()), "%.2f")).append(" |\n");
                }
            }
        }
        out.append("\nTier shares are per key-manager resolution, counted by the server over warm-up + measurement. "
            + "\"Resolutions per connection\" ≈ 1 shows every connection was a full handshake (a resumed one never reaches the key manager).\n");
        for (String engine : config.engines)
        {
            double warm13 = Stats.median(ratios.getOrDefault(engine + "|warm|" + LoadGenerator.TLS13, List.of()));
            double warm12 = Stats.median(ratios.getOrDefault(engine + "|warm|" + LoadGenerator.TLS12, List.of()));
            double redis13 = Stats.median(ratios.getOrDefault(engine + "|redis|" + LoadGenerator.TLS13, List.of()));
            double redis12 = Stats.median(ratios.getOrDefault(engine + "|redis|" + LoadGenerator.TLS12, List.of()));
            out.append(String.format(Locale.ROOT, "%nTargets (%s, ratios to the static server of the same engine): warm L1 ≥ 0.97× static: TLS 1.3 %.3f, TLS 1.2 %.3f → **%s**; "
                    + "Redis every time ≥ 0.90× static: TLS 1.3 %.3f, TLS 1.2 %.3f → **%s**.%n",
                engineName(engine), warm13, warm12, Math.min(warm13, warm12) >= 0.97 ? "met" : "not met", redis13, redis12, Math.min(redis13, redis12) >= 0.90 ? "met" : "not met"));
        }
        if (config.engines.contains("jsse") && config.engines.contains("conscrypt"))
        {
            double static13 = Stats.median(rates.getOrDefault("conscrypt|static|" + LoadGenerator.TLS13, List.of()))
                / Stats.median(rates.getOrDefault("jsse|static|" + LoadGenerator.TLS13, List.of()));
            double static12 = Stats.median(rates.getOrDefault("conscrypt|static|" + LoadGenerator.TLS12, List.of()))
                / Stats.median(rates.getOrDefault("jsse|static|" + LoadGenerator.TLS12, List.of()));
            out.append(String.format(Locale.ROOT, "%nConscrypt static / JSSE static (medians, not the same run): TLS 1.3 %.2f×, TLS 1.2 %.2f×. "
                + "The load generator is a JSSE client in its own JVM on the same machine: with the faster engine its share of the CPU grows.%n", static13, static12));
        }
        if (!errors.isEmpty())
            out.append("\nFailed connections: ").append(String.join("; ", errors)).append('\n');
        out.append("\nRerun: `").append(config.rerun("throughput", "ENGINES", "RUNS", "TENANTS", "ZIPF", "CLIENT_THREADS", "WARMUP_SECONDS", "SECONDS", "SERVER_JVM_OPTIONS")).append("`\n");
        return out.toString();
    }

    private static String engineLabel(String engine)
    {
        return "jsse".equals(engine) ? "" : engineName(engine) + ": ";
    }

    private static String engineName(String engine)
    {
        return "conscrypt".equals(engine) ? "Conscrypt" : "JSSE";
    }

    static String label(String name)
    {
        return switch (name)
        {
            case "static" -> "Stock Jetty, one static certificate";
            case "warm" -> "Dynamic, warm L1";
            case "redis" -> "Dynamic, L1 of 1 entry (Redis every time)";
            case "cold" -> "Dynamic, cold node (empty L1 and Redis)";
            default -> name;
        };
    }
}
