package dev.dynsni.bench;

import java.io.File;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;

/**
 * Table 9: heap per host held in L1, after GC, for ECDSA P-256 tenants whose chains (leaf then
 * intermediate) share one intermediate, for tenants each with its own intermediate, and for RSA
 * 2048 tenants sharing one intermediate. Each
 * figure comes from {@link MemoryProbe} in a JVM of its own, run against the current library
 * ("after") and, when {@code BENCH_MEMORY_BASELINE} names the jars of an older build
 * ({@code bench/run-all.sh} builds {@code BENCH_MEMORY_BASELINE_REF}, the code before the byte
 * bound and the sharing), against that build ("before"), on the same records.
 */
final class MemoryTable
{
    static final List<String> PROBE_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xms2g", "-Xmx2g", "-XX:SoftRefLRUPolicyMSPerMB=0");
    private static final int TARGET_BYTES = 4096;

    private final BenchConfig config;

    MemoryTable(BenchContext context)
    {
        this.config = context.config;
    }

    String run() throws Exception
    {
        int warmUp = Math.max(20, Math.min(200, config.memoryHosts / 10));
        Map<String, String> layouts = new LinkedHashMap<>();
        layouts.put("shared", "one intermediate shared by every host");
        layouts.put("own", "each host its own intermediate (one root)");
        layouts.put("rsa", "RSA 2048 leaves, one intermediate shared by every host");
        String baseline = config.memoryBaseline.isBlank() ? null : baselineClasspath(config.memoryBaseline);
        Map<String, List<Double>> after = new LinkedHashMap<>();
        Map<String, List<Double>> estimate = new LinkedHashMap<>();
        Map<String, List<Double>> before = new LinkedHashMap<>();
        for (String layout : layouts.keySet())
        {
            Path records = writeRecords(layout, warmUp + config.memoryHosts);
            for (int run = 1; run <= config.runs; run++)
            {
                Map<String, String> current = probe("memory-" + layout, Jvm.classpath(), records, warmUp);
                after.computeIfAbsent(layout, k -> new ArrayList<>()).add(Double.parseDouble(current.get("bytesPerHost")));
                estimate.computeIfAbsent(layout, k -> new ArrayList<>()).add(Double.parseDouble(current.get("estimatePerHost")));
                if (baseline != null)
                {
                    Map<String, String> old = probe("memory-" + layout + "-before", baseline, records, warmUp);
                    if (!"before".equals(old.get("version")))
                        throw new IllegalStateException("BENCH_MEMORY_BASELINE runs the current library, not an older build: " + config.memoryBaseline);
                    before.computeIfAbsent(layout, k -> new ArrayList<>()).add(Double.parseDouble(old.get("bytesPerHost")));
                }
                Bench.log("memory %s run %d: after %s B/host, before %s B/host", layout, run, after.get(layout), before.get(layout));
            }
            Files.deleteIfExists(records);
        }

        StringBuilder out = new StringBuilder();
        out.append("## 9. Memory: heap per host held in L1\n\n");
        out.append(String.format(Locale.ROOT, "`dev.dynsni.bench.MemoryProbe` in a JVM of its own (`%s`): an in-memory store holds %,d + %,d tenants "
                + "(each its own leaf, ECDSA P-256 with its own key or RSA 2048 with a key from a pool of %d, each record's key parsed on its own; chain = leaf + intermediate, as public CAs serve it); the JDK's own cache of its last 750 parsed certificates is filled first "
                + "(a few MiB at most, not per host, so its growth is not counted), the library's factory loads the first %,d hosts into L1 "
                + "(warm-up: classes, tables, the shared intermediate), the heap used after full collections is read, the other %,d hosts are loaded, "
                + "and it is read again: bytes per host = growth / %,d, everything L1 holds for a host included (Caffeine's nodes, the parsed chain and key, "
                + "the certificate pool). Soft references are cleared at each collection (the JDK's cache holds its certificates softly). "
                + "L1 only: TLS sessions and other per-connection state are not in these figures. %d runs.%n%n",
            String.join(" ", PROBE_JVM_OPTIONS), warmUp, config.memoryHosts, rsaKeyPool(warmUp + config.memoryHosts), warmUp, config.memoryHosts, config.memoryHosts, config.runs));
        out.append(baseline == null
            ? "Before: not measured in this run (`BENCH_MEMORY_BASELINE` unset; `bench/run-all.sh` builds the baseline).\n\n"
            : "Before: the library at `" + config.memoryBaselineRef + "` (before the byte bound and the sharing), same JVM, same records.\n\n");
        out.append("| chain layout | hosts | before: bytes/host | after: bytes/host | change | after: L1's own estimate, bytes/host |\n|---|---|---|---|---|---|\n");
        for (Map.Entry<String, String> layout : layouts.entrySet())
        {
            List<Double> a = after.get(layout.getKey());
            List<Double> b = before.get(layout.getKey());
            String change = b == null ? "not measured" : String.format(Locale.ROOT, "%+.0f %%", 100 * (Stats.median(a) - Stats.median(b)) / Stats.median(b));
            out.append(String.format(Locale.ROOT, "| %s | %,d | %s | %s | %s | %s |%n", layout.getValue(), config.memoryHosts, b == null ? "not measured" : Stats.cell(b, "%.0f"),
                Stats.cell(a, "%.0f"), change, Stats.cell(estimate.get(layout.getKey()), "%.0f")));
        }
        double shared = Stats.median(after.get("shared"));
        out.append(String.format(Locale.ROOT, "%nTarget: at most 4 KiB (%,d bytes) per host with a shared intermediate → **%s** (%.0f bytes, %.1f MiB for %,d hosts).%n",
            TARGET_BYTES, shared <= TARGET_BYTES ? "met" : "not met", shared, shared * config.memoryHosts / (1024.0 * 1024.0), config.memoryHosts));
        out.append("\nRerun: `").append(config.rerun("memory", "RUNS", "MEMORY_HOSTS")).append("`\n");
        return out.toString();
    }

    /** One line per host: name, key type, base64 chain PEM, base64 key PEM. */
    private Path writeRecords(String layout, int hosts) throws IOException, GeneralSecurityException
    {
        long start = System.nanoTime();
        CertificateAuthority root = CertificateAuthority.create("dynsni bench root");
        CertificateAuthority shared = root.intermediate("dynsni bench intermediate");
        // RSA keys are slow to make: a pool of them (each host still its own leaf, and each record's key is parsed on its own)
        KeyPair[] rsaKeys = new KeyPair[layout.equals("rsa") ? rsaKeyPool(hosts) : 0];
        for (int i = 0; i < rsaKeys.length; i++)
        {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            rsaKeys[i] = generator.generateKeyPair();
        }
        Instant now = Instant.now();
        Base64.Encoder base64 = Base64.getEncoder();
        Path file = config.workDir.resolve("memory-" + layout + ".tsv");
        Files.createDirectories(file.getParent());
        try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.US_ASCII))
        {
            for (int i = 0; i < hosts; i++)
            {
                String host = "m" + i + "." + BenchData.DOMAIN;
                CertificateAuthority issuer = layout.equals("own") ? root.intermediate("dynsni bench intermediate " + i) : shared;
                IssuedCertificate issued = layout.equals("rsa")
                    ? issuer.issue(rsaKeys[i % rsaKeys.length], now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(90)), host)
                    : issuer.ec(host);
                writer.write(host + "\t" + issued.keyType() + "\t" + base64.encodeToString(issued.chainPem().getBytes(StandardCharsets.US_ASCII)) + "\t"
                    + base64.encodeToString(issued.pkcs8KeyPem().getBytes(StandardCharsets.US_ASCII)) + "\n");
            }
        }
        Bench.log("memory %s: %,d records in %.1f s", layout, hosts, (System.nanoTime() - start) / 1e9);
        return file;
    }

    /** @return how many RSA keys the hosts' certificates are made with: 32 at full size, a few for the smoke run */
    private static int rsaKeyPool(int hosts)
    {
        return Math.max(4, Math.min(32, hosts / 100));
    }

    private Map<String, String> probe(String name, String classpath, Path records, int warmUp) throws Exception
    {
        List<String> command = new ArrayList<>();
        command.add(Jvm.java());
        command.addAll(PROBE_JVM_OPTIONS);
        command.add("-cp");
        command.add(classpath);
        command.add(MemoryProbe.class.getName());
        command.add(records.toString());
        command.add(Integer.toString(warmUp));
        try (Jvm jvm = Jvm.launch(config.logDir, name, command, null))
        {
            jvm.finish(1_800_000);
            return Jvm.fields(jvm.awaitLine("RESULT ", 1000));
        }
    }

    /**
     * The harness's class path with the library's own jars replaced by the baseline's: the older
     * build's classes are the ones loaded; the probe and third-party jars are shared.
     */
    private static String baselineClasspath(String baseline)
    {
        List<String> entries = new ArrayList<>(List.of(baseline.split(File.pathSeparator)));
        for (String entry : Jvm.classpath().split(File.pathSeparator))
        {
            if (entry.endsWith("*"))
            {
                Path dir = Path.of(entry.substring(0, entry.length() - 1));
                try (Stream<Path> jars = Files.list(dir))
                {
                    jars.map(Path::toString)
                        .filter(jar -> jar.endsWith(".jar"))
                        .filter(jar -> !Path.of(jar).getFileName().toString().startsWith("jetty-dynamic-sni-") && !Path.of(jar).getFileName().toString().startsWith("dynsni-core-"))
                        .sorted()
                        .forEach(entries::add);
                }
                catch (IOException x)
                {
                    throw new IllegalStateException("cannot list " + dir, x);
                }
            }
            else if (!Path.of(entry).getFileName().toString().startsWith("jetty-dynamic-sni-") && !Path.of(entry).getFileName().toString().startsWith("dynsni-core-"))
                entries.add(entry);
        }
        return String.join(File.pathSeparator, entries);
    }
}
