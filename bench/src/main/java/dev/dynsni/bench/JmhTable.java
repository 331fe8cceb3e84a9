package dev.dynsni.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Table 6: the JMH microbenchmark {@code dev.dynsni.KeyManagerBenchmark} with {@code -prof gc},
 * run {@code BENCH_RUNS} times in separate JMH invocations (each its own forked JVM); the table
 * shows the median and min-max of the runs' scores.
 */
final class JmhTable
{
    private final BenchContext context;
    private final BenchConfig config;

    JmhTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    String run() throws Exception
    {
        // benchmark|cacheSize -> scores
        Map<String, List<Double>> nanos = new LinkedHashMap<>();
        Map<String, List<Double>> bytes = new LinkedHashMap<>();
        for (int run = 1; run <= config.runs; run++)
        {
            Path csv = config.workDir.resolve("jmh-" + run + ".csv");
            List<String> args = new ArrayList<>(List.of("dev.dynsni.KeyManagerBenchmark", "-p", "cacheSize=" + String.join(",", config.jmhCacheSizes)));
            args.addAll(List.of(config.jmhOptions.trim().split("\\s+")));
            args.addAll(List.of("-prof", "gc", "-rf", "csv", "-rff", csv.toString()));
            // JMH refuses to run while another JMH holds /tmp/jmh.lock (results would be disturbed);
            // the smoke run's figures mean nothing anyway, so it goes on when the machine is shared.
            List<String> jvmOptions = config.smoke ? List.of("-Djmh.ignoreLock=true") : List.of();
            try (Jvm jmh = Jvm.start(config.logDir, "jmh", jvmOptions, "org.openjdk.jmh.Main", args))
            {
                jmh.finish(3_600_000);
            }
            for (String line : Files.readAllLines(csv).subList(1, Files.readAllLines(csv).size()))
            {
                List<String> cells = csvCells(line);
                String benchmark = cells.get(0);
                String size = cells.get(cells.size() - 1);
                double score = Double.parseDouble(cells.get(4));
                String name = benchmark.substring("dev.dynsni.KeyManagerBenchmark.".length());
                if (name.endsWith(":gc.alloc.rate.norm"))
                    bytes.computeIfAbsent(name.substring(0, name.indexOf(':')) + "|" + size, k -> new ArrayList<>()).add(score);
                else if (!name.contains(":"))
                    nanos.computeIfAbsent(name + "|" + size, k -> new ArrayList<>()).add(score);
            }
            Bench.log("jmh run %d: %s", run, nanos);
        }
        StringBuilder out = new StringBuilder();
        out.append("## 6. JMH: the key manager's L1-hit path\n\n");
        out.append(String.format(Locale.ROOT, "`dev.dynsni.KeyManagerBenchmark` (JMH 1.37, `%s -prof gc`, forked JVM with `-Xms1g -Xmx1g`, 1 thread): "
                + "one handshake's resolution as JSSE drives it (`chooseEngineServerAlias(\"EC\")` on a fresh handshake session with the SNI, then "
                + "`getCertificateChain` + `getPrivateKey`), hosts drawn Zipf(1) over `cacheSize` hosts all held in an L1 of that size. `baseline` builds the "
                + "same stub engine/session only. %d JMH invocations.%n%n", config.jmhOptions, config.runs));
        out.append("| L1 size (= hosts) | resolve ns/op | resolve B/op | baseline ns/op | baseline B/op | key manager's own ns/op | key manager's own B/op |\n");
        out.append("|---|---|---|---|---|---|---|\n");
        for (String size : config.jmhCacheSizes)
        {
            List<Double> rn = nanos.getOrDefault("resolve|" + size, List.of());
            List<Double> rb = bytes.getOrDefault("resolve|" + size, List.of());
            List<Double> bn = nanos.getOrDefault("baseline|" + size, List.of());
            List<Double> bb = bytes.getOrDefault("baseline|" + size, List.of());
            out.append(String.format(Locale.ROOT, "| %,d | %s | %s | %s | %s | %.0f | %.0f |%n", Integer.parseInt(size.trim()), Stats.cell(rn, "%.0f"), Stats.cell(rb, "%.0f"),
                Stats.cell(bn, "%.0f"), Stats.cell(bb, "%.0f"), Stats.median(rn) - Stats.median(bn), Stats.median(rb) - Stats.median(bb)));
        }
        out.append("\nRerun: `").append(config.rerun("jmh", "RUNS", "JMH_CACHE_SIZES", "JMH_OPTIONS")).append("`\n");
        return out.toString();
    }

    private static List<String> csvCells(String line)
    {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toCharArray())
        {
            if (c == '"')
                quoted = !quoted;
            else if (c == ',' && !quoted)
            {
                cells.add(cell.toString());
                cell.setLength(0);
            }
            else
                cell.append(c);
        }
        cells.add(cell.toString());
        return cells;
    }
}
