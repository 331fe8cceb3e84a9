package dev.dynsni.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Table 2: full-handshake throughput. Every connection is new TCP + full TLS handshake + one
 * request, from a load generator in its own JVM, SNI drawn per connection from the tenants with a
 * Zipf skew. Configurations, all servers in their own process: Jetty's stock
 * {@code SslContextFactory} with one static certificate; dynamic with a warm L1 (every tenant
 * prefetched); dynamic with an L1 of one entry (tenants prefetched into Redis, so nearly every
 * handshake reads Redis); dynamic cold (a fresh node with empty L1 and empty Redis: first touches read
 * PostgreSQL; the JIT is warmed on other tenants). Every engine of {@code BENCH_ENGINES} gets them,
 * its own static server included: {@code jsse} and {@code conscrypt} all four, {@code jdk25} (JSSE on
 * the JDK of {@code BENCH_JDK25_HOME}, skipped with a line saying so when absent) static and warm.
 * When nginx is on the PATH ({@code BENCH_NGINX=false} leaves it out), nginx with one static
 * certificate and nginx with {@code ssl_certificate $ssl_server_name} (one file pair per tenant) are
 * measured too ({@link NginxServer}).
 *
 * <p>Every server runs for the whole table and runs are interleaved: in run 1 every protocol, every
 * engine and every configuration is measured once, then run 2, and so on; each ratio is taken within
 * one run (one protocol), so the dynamic rows of an engine are compared with that engine's static
 * server, and Conscrypt's warm row with nginx, minutes apart at most. The load generator also reports
 * the CPU time it and the server spent during each measurement ({@link ProcessCpu}), so the table
 * shows where the machine's CPU went.</p>
 */
final class ThroughputTable
{
    static final List<String> CONFIGS = List.of("static", "warm", "redis", "cold");
    static final List<String> JDK25_CONFIGS = List.of("static", "warm");
    static final String NGINX = "nginx";
    static final List<String> NGINX_CONFIGS = List.of("static", "per-host");
    private final BenchContext context;
    private final BenchConfig config;

    /** A running server of the table: its TLS port, the processes whose CPU it uses, its statistics if dynamic. */
    private record Endpoint(int port, Supplier<List<Long>> pids, ServerProcess dynamic)
    {
        static Endpoint of(ServerProcess server, boolean dynamic)
        {
            return new Endpoint(server.tlsPort, () -> List.of(server.pid()), dynamic ? server : null);
        }
    }

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
        Map<String, List<Double>> serverCpu = new LinkedHashMap<>();
        Map<String, List<Double>> clientCpu = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int coldCount = 0;

        Map<String, List<String>> groups = new LinkedHashMap<>();
        for (String engine : config.engines)
        {
            if (ServerProcess.JDK25.equals(engine) && !Files.isExecutable(config.jdk25Java()))
                skipped.add("JDK 25 rows skipped: no JDK at " + config.jdk25Home + " (`BENCH_JDK25_HOME`).");
            else
                groups.put(engine, ServerProcess.JDK25.equals(engine) ? JDK25_CONFIGS : CONFIGS);
        }
        Path nginx = "false".equals(config.nginx) ? null : NginxServer.find();
        if (nginx != null)
            groups.put(NGINX, NGINX_CONFIGS);
        else
            skipped.add("false".equals(config.nginx) ? "nginx rows left out (`BENCH_NGINX=false`)." : "nginx rows skipped: no `nginx` on the PATH (Debian: `nginx-light`).");
        String nginxVersion = null;

        Map<String, Endpoint> endpoints = new LinkedHashMap<>();
        List<AutoCloseable> servers = new ArrayList<>();
        try
        {
            for (Map.Entry<String, List<String>> group : groups.entrySet())
            {
                String engine = group.getKey();
                if (engine.equals(NGINX))
                {
                    BenchPki.Leaf leaf = context.staticLeaf();
                    NginxServer fixed = NginxServer.staticCertificate(config, nginx, context.pki.chainPem(leaf), context.pki.keyPem(leaf));
                    servers.add(fixed);
                    endpoints.put(NGINX + "|static", new Endpoint(fixed.tlsPort, fixed::pids, null));
                    NginxServer perHost = NginxServer.perHost(config, nginx, schema, context.pki.chainPem(leaf), context.pki.keyPem(leaf));
                    servers.add(perHost);
                    endpoints.put(NGINX + "|per-host", new Endpoint(perHost.tlsPort, perHost::pids, null));
                    nginxVersion = fixed.version;
                    continue;
                }
                ServerProcess staticServer = ServerProcess.staticServer(config, context.staticKeystore(), engine);
                servers.add(staticServer);
                endpoints.put(engine + "|static", Endpoint.of(staticServer, false));
                ServerProcess warm = ServerProcess.dynamic(config, "server-warm", schema, context.redisPrefix("warm-" + engine), 2L * config.tenants, engine);
                servers.add(warm);
                endpoints.put(engine + "|warm", Endpoint.of(warm, true));
                int prefetchedTiny = 0;
                if (group.getValue().contains("redis"))
                {
                    ServerProcess tiny = ServerProcess.dynamic(config, "server-redis", schema, context.redisPrefix("tiny-" + engine), 1, engine);
                    servers.add(tiny);
                    endpoints.put(engine + "|redis", Endpoint.of(tiny, true));
                    prefetchedTiny = tiny.prefetch(0, config.tenants);
                }
                Bench.log("%s: prefetched warm=%d redis=%d", engine, warm.prefetch(0, config.tenants), prefetchedTiny);
            }

            for (int run = 1; run <= config.runs; run++)
            {
                for (String protocol : List.of(LoadGenerator.TLS13, LoadGenerator.TLS12))
                {
                    for (Map.Entry<String, List<String>> group : groups.entrySet())
                    {
                        String engine = group.getKey();
                        double staticRate = Double.NaN;
                        for (String name : group.getValue())
                        {
                            String key = engine + "|" + name + "|" + protocol;
                            ServerProcess cold = null;
                            try
                            {
                                Endpoint server = name.equals("cold")
                                    ? Endpoint.of(cold = ServerProcess.dynamic(config, "server-cold", schema, context.redisPrefix("cold" + (++coldCount)), 2L * config.tenants, engine), true)
                                    : endpoints.get(engine + "|" + name);
                                List<String> options = new ArrayList<>(List.of("--threads", Integer.toString(config.clientThreads), "--warmup-seconds",
                                    Double.toString(config.warmupSeconds), "--seconds", Double.toString(config.seconds), "--protocol", protocol, "--tenants",
                                    Integer.toString(config.tenants), "--zipf", Double.toString(config.zipf), "--client-engine", config.clientEngine));
                                if (cold != null)
                                    options.addAll(List.of("--warmup-offset", Integer.toString(config.tenants)));
                                options.addAll(List.of("--server-pids", server.pids().get().stream().map(String::valueOf).collect(Collectors.joining(","))));
                                Map<String, Long> before = server.dynamic() == null ? Map.of() : server.dynamic().stats();
                                Load load = Load.run(config, "load-" + engine + "-" + name + "-" + protocol, server.port(), options, config.warmupSeconds + config.seconds);
                                Bench.log("run %d %s %s %s: %.0f handshakes/s p50=%d us p99=%d us failed=%d cpu server=%.0f us client=%.0f us per handshake", run, engine, name,
                                    protocol, load.rate, load.p50Micros, load.p99Micros, load.failed, load.serverCpuMicrosPerHandshake(), load.clientCpuMicrosPerHandshake());
                                if (load.failed > 0)
                                    errors.add(engine + " " + name + " " + protocol + ": " + load.failed + " failed, first: " + load.firstError);
                                rates.computeIfAbsent(key, k -> new ArrayList<>()).add(load.rate);
                                serverCpu.computeIfAbsent(key, k -> new ArrayList<>()).add(load.serverCpuMicrosPerHandshake());
                                clientCpu.computeIfAbsent(key, k -> new ArrayList<>()).add(load.clientCpuMicrosPerHandshake());
                                if (name.equals("static"))
                                    staticRate = load.rate;
                                ratios.computeIfAbsent(key, k -> new ArrayList<>()).add(load.rate / staticRate);
                                if (server.dynamic() != null)
                                {
                                    Map<String, Long> delta = ServerProcess.delta(before, server.dynamic().stats());
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
        finally
        {
            for (int i = servers.size() - 1; i >= 0; i--)
            {
                try
                {
                    servers.get(i).close();
                }
                catch (Exception x)
                {
                    Bench.log("cannot stop a table 2 server: %s", x);
                }
            }
        }

        StringBuilder out = new StringBuilder();
        out.append("## 2. Full-handshake throughput\n\n");
        out.append(String.format(Locale.ROOT, "Every connection: new TCP connection, full TLS handshake (no resumption), one HTTP/1.1 request with `Connection: close`. "
                + "Load generator in its own JVM (%s client, JDK %s), %d threads, SNI drawn per connection from %d tenants with Zipf exponent %.2f; %.1f s warm-up then %.1f s measured; "
                + "%d interleaved runs (in each run every protocol, engine and configuration once; every server up for the whole table; dynamic servers with "
                + "`cache.refreshSeconds` and `redis.ttlSeconds` at 3600: a server's windows are minutes apart, so with the defaults (300 s) every host would be "
                + "reloaded, or miss Redis, in each window, a cost a steadily loaded node spreads over 5 minutes). "
                + "Servers: embedded Jetty 12.1.12 (SSL → ALPN → h2/http1.1, like the `https` + `http2` modules; dynamic nodes with the SNI prefetch in front of TLS, as the module ships), each in its own JVM (`%s`), "
                + "on the JDK's TLS engine (JSSE, JDK %s), on Conscrypt 2.6.0 (`provider=Conscrypt`, as the `dynamic-sni-conscrypt` module runs; rows marked Conscrypt) "
                + "and on JSSE of JDK 25 (rows marked JDK 25, the server JVM from `BENCH_JDK25_HOME`)%s; "
                + "all certificates ECDSA P-256. TLS 1.2 uses `%s`; TLS 1.3 the JDK defaults (TLS_AES_128_GCM_SHA256, x25519).%n%n",
            "conscrypt".equals(config.clientEngine) ? "Conscrypt 2.6.0" : "JSSE", System.getProperty("java.version"), config.clientThreads, config.tenants, config.zipf, config.warmupSeconds, config.seconds, config.runs,
            String.join(" ", config.serverJvmOptions), System.getProperty("java.version"),
            nginxVersion == null ? "" : String.format(Locale.ROOT, "; nginx %s as a reference (`daemon off; master_process on; worker_processes %d` = one worker per core, "
                + "as Jetty uses every core; session cache and tickets off; access log off; rows marked nginx): one static certificate (the static Jetty's), "
                + "and `ssl_certificate $ssl_server_name` with one certificate and key file per tenant on disk (the tenants' own certificates), which nginx reads and parses on every handshake",
                nginxVersion, Runtime.getRuntime().availableProcessors()),
            LoadGenerator.TLS12_CIPHER));
        out.append("| Configuration | Protocol | Handshakes/s | Ratio to static (same run) | L1 hits % | Redis hits % | PostgreSQL queries % | Key-manager resolutions per connection "
            + "| Server CPU µs per handshake | Load generator CPU µs per handshake |\n");
        out.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Map.Entry<String, List<String>> group : groups.entrySet())
        {
            String engine = group.getKey();
            for (String protocol : List.of(LoadGenerator.TLS13, LoadGenerator.TLS12))
            {
                for (String name : group.getValue())
                {
                    String key = engine + "|" + name + "|" + protocol;
                    boolean tiers = resolutions.containsKey(key);
                    out.append("| ").append(engineLabel(engine)).append(label(engine, name)).append(" | ").append(protocol).append(" | ")
                        .append(Stats.cell(rates.getOrDefault(key, List.of()), "%.0f")).append(" | ")
                        .append(name.equals("static") ? "1" : Stats.cell(ratios.getOrDefault(key, List.of()), "%.3f")).append(" | ")
                        .append(tiers ? Stats.cell(l1.getOrDefault(key, List.of()), "%.1f") : "–").append(" | ")
                        .append(tiers ? Stats.cell(redis.getOrDefault(key, List.of()), "%.1f") : "–").append(" | ")
                        .append(tiers ? Stats.cell(postgres.getOrDefault(key, List.of()), "%.1f") : "–").append(" | ")
                        .append(tiers ? Stats.cell(resolutions.getOrDefault(key, List.of()), "%.2f") : "–").append(" | ")
                        .append(cpuCell(serverCpu.getOrDefault(key, List.of()))).append(" | ")
                        .append(cpuCell(clientCpu.getOrDefault(key, List.of()))).append(" |\n");
                }
            }
        }
        out.append("\nTier shares are per key-manager resolution, counted by the server over warm-up + measurement. "
            + "\"Resolutions per connection\" ≈ 1 shows every connection was a full handshake (a resumed one never reaches the key manager).\n");
        out.append("\nCPU per handshake: the CPU time (user + system, `/proc/PID/stat`) that the server's processes (for nginx its master and workers) and the load generator's JVM "
            + "spent during the measured seconds, divided by the handshakes completed in them; read by the load generator at the start and end of its measurement. "
            + "Both share the same 2 cores: the server's rate is bounded by the cores it gets, so a ratio is between servers measured with the same generator in the same run. "
            + "The generator is not the bottleneck of a row while the server's CPU per handshake times its rate stays near what the cores left to it allow "
            + "(cores × 10⁶ µs minus the generator's CPU per handshake times the rate); where the generator's CPU per handshake is the larger of the two, "
            + "it takes most of the machine and the row says more about the client than about the server.\n");
        for (String engine : groups.keySet())
        {
            if (engine.equals(NGINX))
                continue;
            double warm13 = Stats.median(ratios.getOrDefault(engine + "|warm|" + LoadGenerator.TLS13, List.of()));
            double warm12 = Stats.median(ratios.getOrDefault(engine + "|warm|" + LoadGenerator.TLS12, List.of()));
            out.append(String.format(Locale.ROOT, "%nTargets (%s, ratios to the static server of the same engine): warm L1 ≥ 0.97× static: TLS 1.3 %.3f, TLS 1.2 %.3f → **%s**",
                engineName(engine), warm13, warm12, Math.min(warm13, warm12) >= 0.97 ? "met" : "not met"));
            if (groups.get(engine).contains("redis"))
            {
                double redis13 = Stats.median(ratios.getOrDefault(engine + "|redis|" + LoadGenerator.TLS13, List.of()));
                double redis12 = Stats.median(ratios.getOrDefault(engine + "|redis|" + LoadGenerator.TLS12, List.of()));
                out.append(String.format(Locale.ROOT, "; Redis every time ≥ 0.90× static: TLS 1.3 %.3f, TLS 1.2 %.3f → **%s**", redis13, redis12,
                    Math.min(redis13, redis12) >= 0.90 ? "met" : "not met"));
            }
            out.append(".\n");
        }
        if (groups.containsKey(NGINX))
        {
            String ours = groups.containsKey("conscrypt") ? "conscrypt" : groups.keySet().iterator().next();
            double[] vsStatic = new double[2];
            double[] vsPerHost = new double[2];
            List<String> protocols = List.of(LoadGenerator.TLS13, LoadGenerator.TLS12);
            for (int i = 0; i < protocols.size(); i++)
            {
                String protocol = protocols.get(i);
                vsStatic[i] = Stats.median(sameRunRatios(rates, ours + "|warm|" + protocol, NGINX + "|static|" + protocol));
                vsPerHost[i] = Stats.median(sameRunRatios(rates, ours + "|warm|" + protocol, NGINX + "|per-host|" + protocol));
            }
            out.append(String.format(Locale.ROOT, "%nAgainst nginx (%s dynamic, warm L1, divided by the nginx row of the same run and protocol; medians): "
                    + "vs nginx static TLS 1.3 %.3f, TLS 1.2 %.3f (target ≥ 0.85 → **%s**); vs nginx `$ssl_server_name` TLS 1.3 %.3f, TLS 1.2 %.3f (target ≥ 1.3 → **%s**).%n",
                engineName(ours), vsStatic[0], vsStatic[1], Math.min(vsStatic[0], vsStatic[1]) >= 0.85 ? "met" : "not met", vsPerHost[0], vsPerHost[1],
                Math.min(vsPerHost[0], vsPerHost[1]) >= 1.3 ? "met" : "not met"));
        }
        if (groups.containsKey("jsse") && groups.containsKey("conscrypt"))
        {
            double static13 = Stats.median(sameRunRatios(rates, "conscrypt|static|" + LoadGenerator.TLS13, "jsse|static|" + LoadGenerator.TLS13));
            double static12 = Stats.median(sameRunRatios(rates, "conscrypt|static|" + LoadGenerator.TLS12, "jsse|static|" + LoadGenerator.TLS12));
            out.append(String.format(Locale.ROOT, "%nConscrypt static / JSSE static (same run, medians): TLS 1.3 %.2f×, TLS 1.2 %.2f×. "
                + "The load generator runs in its own JVM on the same machine: with the faster engine its share of the CPU grows.%n", static13, static12));
        }
        for (String line : skipped)
        {
            out.append('\n').append(line).append('\n');
        }
        if (!errors.isEmpty())
            out.append("\nFailed connections: ").append(String.join("; ", errors)).append('\n');
        out.append("\nRerun: `").append(config.rerun("throughput", "ENGINES", "JDK25_HOME", "NGINX", "CLIENT_ENGINE", "RUNS", "TENANTS", "ZIPF", "CLIENT_THREADS", "WARMUP_SECONDS", "SECONDS",
            "SERVER_JVM_OPTIONS")).append("`\n");
        return out.toString();
    }

    /** @return per run, the rate of one row divided by the rate of another (both measured in that run) */
    private static List<Double> sameRunRatios(Map<String, List<Double>> rates, String key, String baseline)
    {
        List<Double> ours = rates.getOrDefault(key, List.of());
        List<Double> theirs = rates.getOrDefault(baseline, List.of());
        List<Double> ratios = new ArrayList<>();
        for (int run = 0; run < Math.min(ours.size(), theirs.size()); run++)
        {
            ratios.add(ours.get(run) / theirs.get(run));
        }
        return ratios;
    }

    /** The CPU cells: "–" where {@code /proc} could not tell. */
    private static String cpuCell(List<Double> values)
    {
        String cell = Stats.cell(values, "%.0f");
        return cell.equals("n/a") ? "–" : cell;
    }

    private static String engineLabel(String engine)
    {
        return "jsse".equals(engine) ? "" : engineName(engine) + ": ";
    }

    private static String engineName(String engine)
    {
        return switch (engine)
        {
            case "conscrypt" -> "Conscrypt";
            case ServerProcess.JDK25 -> "JDK 25";
            case NGINX -> "nginx";
            default -> "JSSE";
        };
    }

    static String label(String engine, String name)
    {
        if (engine.equals(NGINX))
            return name.equals("static") ? "one static certificate" : "`ssl_certificate $ssl_server_name` (files per host, loaded per handshake)";
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
