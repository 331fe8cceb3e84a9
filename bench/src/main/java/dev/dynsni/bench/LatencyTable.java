package dev.dynsni.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Table 3: handshake latency per tier, one connection at a time (so no queueing), TLS 1.3, SNI from
 * the tenants with the Zipf skew. Tiers: L1 hit (warm L1); Redis hit (L1 of one entry, Redis
 * prefetched); PostgreSQL hit (L1 of one entry, no Redis tier). The static single-certificate
 * server is the reference; "added" is the difference of medians within each run.
 */
final class LatencyTable
{
    private static final List<String> TIERS = List.of("static", "l1", "redis", "postgres");
    private final BenchContext context;
    private final BenchConfig config;

    LatencyTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    String run() throws Exception
    {
        String schema = context.tenantSchema();
        Map<String, List<Double>> p50 = new LinkedHashMap<>();
        Map<String, List<Double>> p99 = new LinkedHashMap<>();
        Map<String, List<Double>> added = new LinkedHashMap<>();
        Map<String, List<Double>> tierShare = new LinkedHashMap<>();
        try (ServerProcess staticServer = ServerProcess.staticServer(config, context.staticKeystore());
             ServerProcess l1 = ServerProcess.dynamic(config, "server-l1", schema, context.redisPrefix("lat-l1"), 2L * config.tenants);
             ServerProcess redis = ServerProcess.dynamic(config, "server-redis", schema, context.redisPrefix("lat-redis"), 1);
             ServerProcess postgres = ServerProcess.dynamic(config, "server-postgres", schema, null, 1))
        {
            l1.prefetch(0, config.tenants);
            redis.prefetch(0, config.tenants);
            for (int run = 1; run <= config.runs; run++)
            {
                double staticP50 = Double.NaN;
                for (String tier : TIERS)
                {
                    ServerProcess server = switch (tier)
                    {
                        case "static" -> staticServer;
                        case "l1" -> l1;
                        case "redis" -> redis;
                        default -> postgres;
                    };
                    Map<String, Long> before = tier.equals("static") ? Map.of() : server.stats();
                    List<String> options = new ArrayList<>(List.of("--threads", "1", "--warmup-seconds", Double.toString(Math.max(1, config.warmupSeconds)),
                        "--seconds", Double.toString(config.latencySeconds), "--protocol", LoadGenerator.TLS13, "--tenants", Integer.toString(config.tenants),
                        "--zipf", Double.toString(config.zipf)));
                    Load load = Load.run(config, "latency-" + tier, server.tlsPort, options, config.latencySeconds + config.warmupSeconds);
                    Bench.log("run %d %s: p50=%d us p99=%d us (%d handshakes)", run, tier, load.p50Micros, load.p99Micros, load.ok);
                    p50.computeIfAbsent(tier, k -> new ArrayList<>()).add((double)load.p50Micros);
                    p99.computeIfAbsent(tier, k -> new ArrayList<>()).add((double)load.p99Micros);
                    if (tier.equals("static"))
                        staticP50 = load.p50Micros;
                    added.computeIfAbsent(tier, k -> new ArrayList<>()).add(load.p50Micros - staticP50);
                    if (!tier.equals("static"))
                    {
                        Map<String, Long> delta = ServerProcess.delta(before, server.stats());
                        double served = Math.max(1, delta.get("servedDynamic"));
                        long hits = switch (tier)
                        {
                            case "l1" -> delta.get("l1Hits");
                            case "redis" -> delta.get("redisHits");
                            default -> delta.get("postgresQueries");
                        };
                        tierShare.computeIfAbsent(tier, k -> new ArrayList<>()).add(100.0 * hits / served);
                    }
                }
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("## 3. Added handshake latency per tier\n\n");
        out.append(String.format(Locale.ROOT, "One connection at a time (load generator in its own JVM, 1 thread), TLS 1.3, new TCP connection + full handshake each, "
                + "SNI from %d tenants (Zipf %.2f); latency = TCP connect + handshake as the client sees it; %.1f s measured per run, %d interleaved runs.%n%n",
            config.tenants, config.zipf, config.latencySeconds, config.runs));
        out.append("| Tier answering the key manager | p50 µs | p99 µs | Added p50 vs static µs | Share of resolutions answered by that tier % |\n");
        out.append("|---|---|---|---|---|\n");
        for (String tier : TIERS)
        {
            out.append("| ").append(label(tier)).append(" | ").append(Stats.cell(p50.get(tier), "%.0f")).append(" | ").append(Stats.cell(p99.get(tier), "%.0f"))
                .append(" | ").append(tier.equals("static") ? "0" : Stats.cell(added.get(tier), "%.0f")).append(" | ")
                .append(tier.equals("static") ? "–" : Stats.cell(tierShare.get(tier), "%.1f")).append(" |\n");
        }
        out.append("\nRerun: `").append(config.rerun("latency", "RUNS", "TENANTS", "ZIPF", "WARMUP_SECONDS", "LATENCY_SECONDS")).append("`\n");
        return out.toString();
    }

    private static String label(String tier)
    {
        return switch (tier)
        {
            case "static" -> "Stock Jetty, static certificate (reference)";
            case "l1" -> "L1 hit";
            case "redis" -> "Redis hit (L1 of 1 entry)";
            default -> "PostgreSQL hit (L1 of 1 entry, no Redis)";
        };
    }
}
