package dev.dynsni.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.dynsni.testing.FreePorts;
import dev.dynsni.testing.TlsClient;

/**
 * Table 1: start time and memory versus hosts stored, for a real Jetty home started with
 * {@code java -jar start.jar}: the assembled home (stock jetty-home 12.1.12 + the dynamic-sni
 * overlay) with a base of {@code dynamic-sni,https,http2}, against the same home with the stock
 * {@code ssl,https,http2} modules and a PKCS12 keystore holding the same hosts.
 *
 * <p>Per size N (ascending; the schema grows in place): N host certificates h0..h(N-1) plus one
 * probe host, ECDSA P-256, bulk-loaded by COPY; a keystore with the same N + 1 entries while N is at
 * most {@code BENCH_KEYSTORE_MAX} and the previous keystore start completed within
 * {@code BENCH_START_TIMEOUT_SECONDS}. Per launch: time from process launch to the first successful
 * handshake with the probe's SNI (polled every 20 ms), VmRSS right after it, then heap used after
 * {@code jcmd PID GC.run} ({@code GC.heap_info}). Runs alternate dynamic / keystore.</p>
 */
final class StartupTable
{
    /** JDK 17: "heap   total 262144K, used 2477K"; JDK 25: "heap   total reserved 6172672K, committed 393216K, used 2477K". */
    private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total [^\\n]*?used (\\d+)K");
    private static final String PROBE = "probe." + BenchData.DOMAIN;
    private final BenchContext context;
    private final BenchConfig config;

    StartupTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    private record Launch(double seconds, double rssMiB, double heapMiB)
    {
    }

    String run() throws Exception
    {
        if (!Files.isRegularFile(config.jettyHome.resolve("start.jar")))
            throw new IllegalStateException("no Jetty home at " + config.jettyHome + ": build it with mvn -pl jetty-home-overlay -am package -DskipTests");
        Path dynamicBase = base("base-dynamic", "dynamic-sni,https,http2");
        Path keystoreBase = base("base-keystore", "ssl,https,http2");
        String schema = context.schema("start");
        BenchData.recreateSchema(config, schema);
        List<BenchPki.Leaf> keystoreLeaves = new ArrayList<>();
        BenchData.populate(config, context.pki, schema, 0, 1, i -> PROBE, keystoreLeaves);

        Map<Integer, List<Launch>> dynamic = new LinkedHashMap<>();
        Map<Integer, List<Launch>> keystore = new LinkedHashMap<>();
        Map<Integer, Double> generateSeconds = new LinkedHashMap<>();
        String keystoreStopped = null;
        int stored = 0;
        List<Integer> sizes = new ArrayList<>(config.startHosts);
        sizes.sort(null);
        for (int n : sizes)
        {
            long start = System.nanoTime();
            boolean keepLeaves = keystoreStopped == null && n <= config.keystoreMax;
            BenchData.populate(config, context.pki, schema, stored, n, i -> "h" + i + "." + BenchData.DOMAIN, keepLeaves ? keystoreLeaves : null);
            stored = Math.max(stored, n);
            generateSeconds.put(n, (System.nanoTime() - start) / 1e9);
            Bench.log("%d hosts stored (+ probe) in %.1f s", n, generateSeconds.get(n));
            Path p12 = null;
            if (keepLeaves && keystoreLeaves.size() == n + 1)
            {
                p12 = config.workDir.resolve("hosts-" + n + ".p12");
                BenchData.writeKeystore(config, context.pki, keystoreLeaves, p12);
            }
            else if (keystoreStopped == null)
            {
                keystoreStopped = "not attempted above BENCH_KEYSTORE_MAX=" + config.keystoreMax;
            }
            for (int run = 1; run <= config.runs; run++)
            {
                String prefix = context.redisPrefix("start" + n + "-" + run);
                Launch d = launch(dynamicBase, "jetty-dynamic-" + n, List.of("jetty.dynamicSni.jdbc.url=" + config.jdbcUrl, "jetty.dynamicSni.jdbc.schema=" + schema,
                    "jetty.dynamicSni.redis.address=" + config.redisAddress, "jetty.dynamicSni.redis.keyPrefix=" + prefix));
                dynamic.computeIfAbsent(n, k -> new ArrayList<>()).add(d);
                Bench.log("run %d N=%d dynamic: %.2f s, RSS %.0f MiB, heap %.1f MiB", run, n, d.seconds, d.rssMiB, d.heapMiB);
                if (p12 != null && keystoreStopped == null)
                {
                    try
                    {
                        Launch k = launch(keystoreBase, "jetty-keystore-" + n, List.of("jetty.sslContext.keyStorePath=" + p12, "jetty.sslContext.keyStorePassword=" + BenchData.PASSWORD));
                        keystore.computeIfAbsent(n, x -> new ArrayList<>()).add(k);
                        Bench.log("run %d N=%d keystore: %.2f s, RSS %.0f MiB, heap %.1f MiB", run, n, k.seconds, k.rssMiB, k.heapMiB);
                    }
                    catch (StartTimeout x)
                    {
                        keystoreStopped = "stopped at N=" + n + ": no handshake within " + config.startTimeoutSeconds + " s";
                        Bench.log("keystore %s", keystoreStopped);
                    }
                }
            }
            if (p12 != null)
                Files.deleteIfExists(p12);
        }

        StringBuilder out = new StringBuilder();
        out.append("## 1. Start time and memory vs hosts stored\n\n");
        out.append(String.format(Locale.ROOT, "A real Jetty home (`jetty-home-overlay/target/jetty-home`: stock jetty-home 12.1.12 + the overlay) started with "
                + "`java -jar start.jar` (default JVM options). **Dynamic**: base with `--add-modules=dynamic-sni,https,http2`, PostgreSQL + Redis "
                + "(an empty Redis prefix per launch). **Keystore**: the same home, base with the stock `ssl,https,http2` modules and a PKCS12 keystore "
                + "with the same hosts (keys PBES2/PBKDF2-HmacSHA256, %d iterations, AES-256, as JDK 17 keytool writes them). Each size stores N hosts "
                + "plus one probe host, ECDSA P-256, each host with its own certificate (own name and serial, signed by one CA); key pairs are reused "
                + "from a pool of %d (key generation is not what is measured). Rows were COPYed in with triggers off. "
                + "*Time* = process launch to the first successful TLS 1.3 handshake with the probe's SNI; *RSS* = VmRSS right after it "
                + "(dynamic: once the host index of stored names is built, which it logs); "
                + "*heap* = used after `jcmd PID GC.run`. %d interleaved runs.%n%n", config.p12Iterations, config.keyPool, config.runs));
        out.append("| Hosts stored | Dynamic: time to first handshake s | Dynamic: RSS MiB | Dynamic: heap after GC MiB | Keystore: time to first handshake s | Keystore: RSS MiB | Keystore: heap after GC MiB | Data generation + COPY s |\n");
        out.append("|---|---|---|---|---|---|---|---|\n");
        for (int n : sizes)
        {
            List<Launch> d = dynamic.getOrDefault(n, List.of());
            List<Launch> k = keystore.getOrDefault(n, List.of());
            out.append(String.format(Locale.ROOT, "| %,d | %s | %s | %s | %s | %s | %s | %.1f |%n", n,
                Stats.cell(map(d, Launch::seconds), "%.2f"), Stats.cell(map(d, Launch::rssMiB), "%.0f"), Stats.cell(map(d, Launch::heapMiB), "%.1f"),
                k.isEmpty() ? "not run" : Stats.cell(map(k, Launch::seconds), "%.2f"), k.isEmpty() ? "–" : Stats.cell(map(k, Launch::rssMiB), "%.0f"),
                k.isEmpty() ? "–" : Stats.cell(map(k, Launch::heapMiB), "%.1f"), generateSeconds.get(n)));
        }
        out.append("\nKeystore baseline: ").append(keystoreStopped == null ? "completed at every size" : keystoreStopped).append(".\n");
        int smallest = sizes.get(0);
        int largest = sizes.get(sizes.size() - 1);
        double time0 = Stats.median(map(dynamic.get(smallest), Launch::seconds));
        double timeN = Stats.median(map(dynamic.get(largest), Launch::seconds));
        double heap0 = Stats.median(map(dynamic.get(smallest), Launch::heapMiB));
        double heapN = Stats.median(map(dynamic.get(largest), Launch::heapMiB));
        out.append(String.format(Locale.ROOT, "%nTargets: dynamic time to first handshake at %,d hosts / at %,d hosts = %.3f (target ≤ 1.05) → **%s**; "
                + "dynamic heap after GC at %,d / at %,d hosts = %.3f (target: independent of N) → **%s**.",
            largest, smallest, timeN / time0, timeN / time0 <= 1.05 ? "met" : "not met", largest, smallest, heapN / heap0,
            Math.abs(heapN / heap0 - 1) <= 0.10 ? "met (within 10%)" : "not met"));
        if (keystore.size() >= 2)
        {
            int kLargest = new ArrayList<>(keystore.keySet()).get(keystore.size() - 1);
            int kSmallest = new ArrayList<>(keystore.keySet()).get(0);
            double kt = Stats.median(map(keystore.get(kLargest), Launch::seconds)) / Stats.median(map(keystore.get(kSmallest), Launch::seconds));
            double kh = Stats.median(map(keystore.get(kLargest), Launch::heapMiB)) / Stats.median(map(keystore.get(kSmallest), Launch::heapMiB));
            out.append(String.format(Locale.ROOT, " Keystore baseline at %,d / at %,d hosts: time ×%.2f, heap ×%.2f (expected to grow) → **%s**.",
                kLargest, kSmallest, kt, kh, kt > 1.05 && kh > 1.05 ? "grows" : "does not grow at these sizes"));
        }
        out.append("\n\nRerun: `").append(config.rerun("startup", "RUNS", "START_HOSTS", "KEYSTORE_MAX", "START_TIMEOUT_SECONDS", "KEY_POOL", "P12_ITERATIONS")).append("`\n");
        return out.toString();
    }

    private static List<Double> map(List<Launch> launches, java.util.function.ToDoubleFunction<Launch> f)
    {
        List<Double> values = new ArrayList<>();
        if (launches != null)
            launches.forEach(l -> values.add(f.applyAsDouble(l)));
        return values;
    }

    private Path base(String name, String modules) throws Exception
    {
        Path base = config.workDir.resolve(name);
        if (Files.isDirectory(base))
        {
            try (var walk = Files.walk(base))
            {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(base);
        List<String> command = List.of(Jvm.java(), "-jar", config.jettyHome.resolve("start.jar").toString(), "jetty.home=" + config.jettyHome,
            "jetty.base=" + base, "--add-modules=" + modules);
        try (Jvm jvm = Jvm.launch(config.logDir, "add-modules-" + name, command, base))
        {
            jvm.finish(120_000);
        }
        return base;
    }

    private Launch launch(Path base, String name, List<String> properties) throws Exception
    {
        int port = FreePorts.next();
        List<String> command = new ArrayList<>(List.of(Jvm.java(), "-jar", config.jettyHome.resolve("start.jar").toString(), "jetty.home=" + config.jettyHome,
            "jetty.base=" + base, "jetty.ssl.port=" + port, "jetty.ssl.host=127.0.0.1"));
        command.addAll(properties);
        TlsClient tls = LoadGenerator.client(LoadGenerator.TLS13, 5000);
        long start = System.nanoTime();
        try (Jvm jvm = Jvm.launch(config.logDir, name, command, base))
        {
            long deadline = start + config.startTimeoutSeconds * 1_000_000_000L;
            while (true)
            {
                try
                {
                    tls.leaf(new java.net.InetSocketAddress("127.0.0.1", port), PROBE);
                    break;
                }
                catch (IOException x)
                {
                    if (!jvm.process.isAlive())
                        throw new IllegalStateException(name + " exited before its first handshake; see " + jvm.log + "\n" + jvm.tail());
                    if (System.nanoTime() > deadline)
                        throw new StartTimeout();
                    Thread.sleep(20);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (base.getFileName().toString().contains("dynamic"))
                awaitHostIndex(jvm, deadline);
            double rss = rssKiB(jvm.pid()) / 1024.0;
            jcmd(jvm.pid(), "GC.run");
            Matcher matcher = HEAP_USED.matcher(jcmd(jvm.pid(), "GC.heap_info"));
            double heap = matcher.find() ? Long.parseLong(matcher.group(1)) / 1024.0 : Double.NaN;
            return new Launch(seconds, rss, heap);
        }
    }

    /**
     * Waits until the node logged that its host index of stored names is built (it lists them in the
     * background after start), so that the memory measured includes it.
     */
    private static void awaitHostIndex(Jvm jvm, long deadline) throws Exception
    {
        while (!Files.readString(jvm.log).contains("Host index built"))
        {
            if (System.nanoTime() > deadline)
                throw new IllegalStateException("no 'Host index built' in " + jvm.log);
            Thread.sleep(50);
        }
    }

    private static long rssKiB(long pid) throws IOException
    {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status")))
        {
            if (line.startsWith("VmRSS:"))
                return Long.parseLong(line.replaceAll("\\D", ""));
        }
        return -1;
    }

    private String jcmd(long pid, String command) throws Exception
    {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try (Jvm process = Jvm.launch(config.logDir, "jcmd", List.of(jcmd.toString(), Long.toString(pid), command), null))
        {
            return String.join("\n", process.finish(120_000));
        }
    }

    private static final class StartTimeout extends Exception
    {
    }
}
