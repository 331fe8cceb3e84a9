package dev.dynsni.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Table 6: the JMH microbenchmark {@code dev.dynsni.KeyManagerBenchmark} with {@code -prof gc} (then
 * {@code dev.dynsni.ConscryptKeyBenchmark}: native keys on Conscrypt),
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
        out.append(conscryptKeys());
        out.append("\nRerun: `").append(config.rerun("jmh", "RUNS", "JMH_CACHE_SIZES", "JMH_OPTIONS")).append("`\n");
        return out.toString();
    }

    /**
     * {@code dev.dynsni.ConscryptKeyBenchmark}: what L1 holding keys in Conscrypt's native form saves
     * per full handshake (issue 11), the same JMH options and invocations.
     */
    private String conscryptKeys() throws Exception
    {
        // keyType|keyForm|benchmark -> microseconds per operation
        Map<String, List<Double>> micros = new LinkedHashMap<>();
        for (int run = 1; run <= config.runs; run++)
        {
            Path csv = config.workDir.resolve("jmh-conscrypt-" + run + ".csv");
            List<String> args = new ArrayList<>(List.of("dev.dynsni.ConscryptKeyBenchmark"));
            args.addAll(List.of(config.jmhOptions.trim().split("\\s+")));
            args.addAll(List.of("-rf", "csv", "-rff", csv.toString()));
            List<String> jvmOptions = config.smoke ? List.of("-Djmh.ignoreLock=true") : List.of();
            try (Jvm jmh = Jvm.start(config.logDir, "jmh-conscrypt", jvmOptions, "org.openjdk.jmh.Main", args))
            {
                jmh.finish(3_600_000);
            }
            List<String> lines = Files.readAllLines(csv);
            List<String> header = csvCells(lines.get(0));
            int keyFormColumn = header.indexOf("Param: keyForm");
            int keyTypeColumn = header.indexOf("Param: keyType");
            for (String line : lines.subList(1, lines.size()))
            {
                List<String> cells = csvCells(line);
                String benchmark = cells.get(0).substring("dev.dynsni.ConscryptKeyBenchmark.".length());
                String keyForm = cells.get(keyFormColumn);
                String keyType = cells.get(keyTypeColumn);
                micros.computeIfAbsent(keyType + "|" + keyForm + "|" + benchmark, k -> new ArrayList<>()).add(Double.parseDouble(cells.get(4)));
            }
            Bench.log("jmh conscrypt run %d: %s", run, micros);
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%n`dev.dynsni.ConscryptKeyBenchmark` (same options, %d invocations): full TLS 1.3 handshakes between two Conscrypt engines in "
            + "memory, the server's key manager handing out the private key as the JDK parses it (`jdk`: Conscrypt re-encodes and parses it into "
            + "BoringSSL on every handshake) or in Conscrypt's form, as L1 holds it on Conscrypt (`native`); *conversion* is that per-handshake "
            + "re-encoding and parse alone.%n%n", config.runs));
        out.append("| key | handshake µs, jdk key | handshake µs, native key | saved per handshake | conversion alone µs |\n|---|---|---|---|---|\n");
        for (String keyType : List.of("EC", "RSA"))
        {
            List<Double> jdk = micros.getOrDefault(keyType + "|jdk|handshake", List.of());
            List<Double> nativeKey = micros.getOrDefault(keyType + "|native|handshake", List.of());
            List<Double> conversion = micros.getOrDefault(keyType + "|jdk|convertJdkKey", List.of());
            double saved = Stats.median(jdk) - Stats.median(nativeKey);
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %.0f µs (%.0f %%) | %s |%n", keyType, Stats.cell(jdk, "%.0f"), Stats.cell(nativeKey, "%.0f"), saved,
                100 * saved / Stats.median(jdk), Stats.cell(conversion, "%.1f")));
        }
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
