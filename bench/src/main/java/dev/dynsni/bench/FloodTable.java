package dev.dynsni.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issues 6 and 13 "Measured": a flood of handshakes with random never-seen names alongside steady traffic
 * for real tenants. One dynamic node (Redis + PostgreSQL, unknownHostPolicy=reject, default negative
 * cache of 10,000 entries) with the tenants prefetched into L1.  Each run is a pair, interleaved: the
 * steady load with the flood (its own load generator JVM) started two
 * seconds in; the steady generator stops half a second after the flood ends, and the same steady load then runs
 * alone for as long. The real-tenant rate under flood is taken over the flood's own time window from the
 * steady generator's 100 ms buckets; the rate without flood over the same offsets of its run.
 */
final class FloodTable
{
    private final BenchContext context;
    private final BenchConfig config;

    FloodTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    /** @return the machine's 1-minute load average, or -1 where /proc/loadavg is missing */
    private static double loadAverage()
    {
        try
        {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        }
        catch (Exception x)
        {
            return -1;
        }
    }

    /** Waits until the node's host index is built (it lists the stored names after the change feed connects). */
    private static void awaitIndex(ServerProcess server) throws Exception
    {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (server.stats().getOrDefault("indexReady", 0L) != 1L)
        {
            if (System.nanoTime() > deadline)
                throw new IllegalStateException("the host index of the flood server was not built within 120 s");
            Thread.sleep(100);
        }
    }

    String run() throws Exception
    {
        String schema = context.tenantSchema();
        List<Double> ratios = new ArrayList<>();
        List<Double> quiet = new ArrayList<>();
        List<Double> flooded = new ArrayList<>();
        List<Double> floodRates = new ArrayList<>();
        List<Double> floodSeconds = new ArrayList<>();
        List<Double> pgPerName = new ArrayList<>();
        List<Double> redisPerName = new ArrayList<>();
        List<Double> heapBefore = new ArrayList<>();
        List<Double> heapAfter = new ArrayList<>();
        List<Double> negativeSize = new ArrayList<>();
        List<Double> redisWritesPerName = new ArrayList<>();
        List<Double> indexRejectedShare = new ArrayList<>();
        List<Double> indexBytesPerName = new ArrayList<>();
        List<Double> indexEntries = new ArrayList<>();
        List<Double> loadAverages = new ArrayList<>();
        long steadyFailures = 0;
        long floodAccepted = 0;
        List<String> steady = List.of("--threads", Integer.toString(config.clientThreads), "--warmup-seconds", "1", "--protocol", LoadGenerator.TLS13, "--tenants", Integer.toString(config.floodTenants), "--zipf", "0");
        try (ServerProcess server = ServerProcess.dynamic(config, "server-flood", schema, context.redisPrefix("flood"), 2L * config.tenants))
        {
            server.prefetch(0, config.floodTenants);
            awaitIndex(server);
            for (int run = 1; run <= config.runs; run++)
            {
                loadAverages.add(loadAverage());
                heapBefore.add(server.heapAfterGc() / 1048576.0);
                Map<String, Long> before = server.stats();
                Load withFlood;
                Load flood;
                Path stop = config.workDir.resolve("flood-stop-" + run);
                Files.deleteIfExists(stop);
                List<String> floodedOptions = new ArrayList<>(steady);
                floodedOptions.addAll(List.of("--seconds", "3600", "--stop-file", stop.toString()));
                try (Jvm steadyJvm = Load.start(config, "steady-flooded", server.tlsPort, floodedOptions))
                {
                    Thread.sleep(2000);
                    try (Jvm floodJvm = Load.start(config, "flood", server.tlsPort, List.of("--threads", Integer.toString(config.floodThreads), "--count",
                        Integer.toString(config.floodNames), "--random-names", "--protocol", LoadGenerator.TLS13, "--no-request")))
                    {
                        flood = Load.finish(floodJvm, 3_600_000);
                    }
                    Thread.sleep(500);
                    Files.createFile(stop);
                    withFlood = Load.finish(steadyJvm, 120_000);
                }
                loadAverages.add(loadAverage());
                Map<String, Long> delta = ServerProcess.delta(before, server.stats());
                heapAfter.add(server.heapAfterGc() / 1048576.0);
                negativeSize.add((double)server.stats().get("negativeSize"));
                steadyFailures += withFlood.failed;
                floodAccepted += flood.ok;

                // The same steady load without flood, for as long (same warm-up, same offsets).
                List<String> quietOptions = new ArrayList<>(steady);
                quietOptions.addAll(List.of("--seconds", Double.toString((withFlood.endEpochMillis - withFlood.startEpochMillis) / 1000.0)));
                Load alone = Load.run(config, "steady-alone", server.tlsPort, quietOptions, 60);
                steadyFailures += alone.failed;

                long from = flood.startEpochMillis;
                long to = Math.min(flood.endEpochMillis, withFlood.endEpochMillis);
                double rateFlooded = withFlood.rateBetween(from, to);
                // The same offsets from the start of measurement in the run without flood.
                long offsetFrom = from - withFlood.startEpochMillis;
                long offsetTo = to - withFlood.startEpochMillis;
                double rateQuiet = alone.rateBetween(alone.startEpochMillis + offsetFrom, alone.startEpochMillis + offsetTo);
                quiet.add(rateQuiet);
                flooded.add(rateFlooded);
                ratios.add(rateFlooded / rateQuiet);
                double names = flood.ok + flood.failed;
                floodRates.add(names / ((flood.endEpochMillis - flood.startEpochMillis) / 1000.0));
                floodSeconds.add((flood.endEpochMillis - flood.startEpochMillis) / 1000.0);
                pgPerName.add(delta.get("postgresQueries") / names);
                redisPerName.add(delta.get("redisQueries") / names);
                redisWritesPerName.add(delta.get("redisWrites") / names);
                indexRejectedShare.add(delta.get("indexRejections") / names);
                Map<String, Long> after = server.stats();
                indexEntries.add((double)after.get("indexEntries"));
                indexBytesPerName.add(after.get("indexBytes") / (double)Math.max(1, after.get("indexEntries")));
                Bench.log("run %d: steady %.0f/s alone, %.0f/s under flood (ratio %.3f); flood %.0f names in %.1f s; PG queries/name %.3f; Redis lookups/name %.3f; "
                        + "Redis writes/name %.3f; index answered %.3f; heap %.1f -> %.1f MiB",
                    run, rateQuiet, rateFlooded, rateFlooded / rateQuiet, names, floodSeconds.get(floodSeconds.size() - 1), pgPerName.get(pgPerName.size() - 1),
                    redisPerName.get(redisPerName.size() - 1), redisWritesPerName.get(redisWritesPerName.size() - 1), indexRejectedShare.get(indexRejectedShare.size() - 1),
                    heapBefore.get(heapBefore.size() - 1), heapAfter.get(heapAfter.size() - 1));
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("## 7. Flood of unknown names (issues 6 and 13)\n\n");
        out.append(String.format(Locale.ROOT, "One dynamic node (Redis + PostgreSQL, `unknownHostPolicy=reject`, negative cache 10,000 entries × 10 s, Redis negative TTL 30 s), "
                + "%,d names stored, %d real tenants prefetched into L1, the host index built before the flood starts. Steady traffic: %d threads, uniform over the tenants, new connection + full TLS 1.3 handshake + request each. "
                + "Flood: a second load generator JVM, %d threads, %,d handshakes each with a fresh random name under `flood.%s`, started 2 s into the steady run. "
                + "Real-tenant rate under flood is measured over the flood's window and compared with the same offsets of an equally long steady run without flood right after it. "
                + "Store lookups, Redis writes and index answers are the server's own counters (JMX) over the flooded run, divided by the number of flood names. %d interleaved run pairs.%n%n",
            config.tenants, config.floodTenants, config.clientThreads, config.floodThreads, config.floodNames, BenchData.DOMAIN, config.runs));
        out.append("| Real-tenant handshakes/s without flood | … under flood | Ratio (target ≥ 0.9) | Flood names/s | Flood duration s | PostgreSQL queries per unknown name (target 0) | Redis lookups per unknown name (target 0) | Redis keys written per unknown name (target 0) | Share answered by the index | Index entries | Index bytes per name | Heap after GC before flood MiB | Heap after GC after flood MiB | Negative-cache entries after |\n");
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        out.append("| ").append(Stats.cell(quiet, "%.0f")).append(" | ").append(Stats.cell(flooded, "%.0f")).append(" | ").append(Stats.cell(ratios, "%.3f")).append(" | ")
            .append(Stats.cell(floodRates, "%.0f")).append(" | ").append(Stats.cell(floodSeconds, "%.1f")).append(" | ").append(Stats.cell(pgPerName, "%.3f")).append(" | ")
            .append(Stats.cell(redisPerName, "%.3f")).append(" | ").append(Stats.cell(redisWritesPerName, "%.3f")).append(" | ").append(Stats.cell(indexRejectedShare, "%.3f")).append(" | ")
            .append(Stats.cell(indexEntries, "%.0f")).append(" | ").append(Stats.cell(indexBytesPerName, "%.1f")).append(" | ")
            .append(Stats.cell(heapBefore, "%.1f")).append(" | ").append(Stats.cell(heapAfter, "%.1f")).append(" | ")
            .append(Stats.cell(negativeSize, "%.0f")).append(" |\n");
        double ratio = Stats.median(ratios);
        double lookups = Stats.median(pgPerName) + Stats.median(redisPerName) + Stats.median(redisWritesPerName);
        out.append(String.format(Locale.ROOT, "%nTargets: real-tenant throughput under flood ≥ 0.9× → **%s** (%.3f); no store round trip and no Redis key per unknown name → **%s**. "
            + "Failed real-tenant connections: %d. Flood handshakes that succeeded (must be 0): %d. Machine load average (1 min, `/proc/loadavg`) at the start and end of each flooded run: %s.%n",
            ratio >= 0.9 ? "met" : "not met", ratio, lookups == 0 ? "met" : "not met", steadyFailures, floodAccepted, Stats.cell(loadAverages, "%.1f")));
        out.append("\nRerun: `").append(config.rerun("flood", "RUNS", "TENANTS", "FLOOD_TENANTS", "FLOOD_NAMES", "FLOOD_THREADS", "CLIENT_THREADS")).append("`\n");
        return out.toString();
    }
}
