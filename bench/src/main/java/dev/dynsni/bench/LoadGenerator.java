package dev.dynsni.bench;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;

import dev.dynsni.testing.TlsClient;
import org.conscrypt.Conscrypt;

/**
 * The full-handshake load generator, run in its own JVM by the harness: every connection is a new
 * TCP connection and a full TLS handshake (no resumption, see {@link TlsClient}) with the SNI drawn per
 * connection, followed by one HTTP/1.1 request with {@code Connection: close}.
 *
 * <p>Hosts are {@code t<offset+rank>.<domain>} with the rank drawn from a Zipf distribution over
 * {@code --tenants} (exponent {@code --zipf}; 0 = uniform); {@code --random-names} instead sends
 * never-seen names (a flood). It runs {@code --warmup-seconds} (on tenants from
 * {@code --warmup-offset} when given, so a cold cache stays cold) then {@code --seconds}, or exactly
 * {@code --count} connections (with {@code --stop-file}: until that file exists), and prints one {@code RESULT} line and one {@code BUCKETS} line
 * (completions per {@code --bucket-millis} from the start of the measurement). With
 * {@code --server-pids P1,P2}, the {@code RESULT} line also gives the CPU time this generator and
 * those server processes spent during the measurement ({@code clientCpuMs}, {@code serverCpuMs},
 * from {@code /proc}; -1 when unknown), so a table can show which side the CPU went to.
 * {@code --client-engine conscrypt} runs the client on Conscrypt instead of the JDK's engine.</p>
 *
 * <p>Run by hand: {@code java -cp 'bench/target/dynsni-bench.jar:bench/target/lib/*'
 * dev.dynsni.bench.LoadGenerator --port 8443 --threads 16 --seconds 10 --protocol TLSv1.3
 * --tenants 10000 --zipf 1.0}</p>
 */
public final class LoadGenerator
{
    static final String TLS13 = "TLSv1.3";
    static final String TLS12 = "TLSv1.2";
    static final String TLS12_CIPHER = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";

    private LoadGenerator()
    {
    }

    /**
     * The benchmarks' TLS client: full handshakes only, the one protocol given (TLS 1.2 with
     * {@link #TLS12_CIPHER}), ALPN http/1.1; certificates are not verified (the server's signature
     * still is), so the client spends its CPU on the handshake itself.
     */
    static TlsClient client(String protocol, int timeoutMillis)
    {
        return client(protocol, timeoutMillis, "jsse");
    }

    /**
     * @param engine {@code jsse} (the JDK's TLS client) or {@code conscrypt} (BoringSSL's, which
     *               spends less CPU per handshake, leaving more of a shared machine to the server)
     */
    static TlsClient client(String protocol, int timeoutMillis, String engine)
    {
        TlsClient client = switch (engine)
        {
            case "jsse" -> TlsClient.trustingAnyCertificate();
            case "conscrypt" -> TlsClient.trustingAnyCertificate(Conscrypt.newProvider());
            default -> throw new IllegalArgumentException("--client-engine must be jsse or conscrypt, not " + engine);
        };
        client = client.protocols(protocol).applicationProtocols("http/1.1").timeoutMillis(timeoutMillis);
        return TLS12.equals(protocol) ? client.cipherSuites(TLS12_CIPHER) : client;
    }

    public static void main(String[] arguments) throws Exception
    {
        Args args = new Args(arguments);
        InetSocketAddress address = new InetSocketAddress(args.get("host", "127.0.0.1"), args.integer("port", 8443));
        int threads = args.integer("threads", 16);
        double warmupSeconds = args.decimal("warmup-seconds", 0);
        double seconds = args.decimal("seconds", 10);
        long count = Long.parseLong(args.get("count", "0"));
        String protocol = args.get("protocol", TLS13);
        int tenants = args.integer("tenants", 10000);
        int offset = args.integer("offset", 0);
        int warmupOffset = args.integer("warmup-offset", offset);
        double zipfExponent = args.decimal("zipf", 1.0);
        String domain = args.get("domain", "bench.test");
        boolean randomNames = args.flag("random-names");
        boolean request = !args.flag("no-request");
        int bucketMillis = args.integer("bucket-millis", 100);
        int timeoutMillis = args.integer("timeout-millis", 10000);
        java.nio.file.Path stopFile = args.get("stop-file", null) == null ? null : java.nio.file.Path.of(args.get("stop-file", null));
        List<Long> serverPids = new ArrayList<>();
        for (String pid : args.get("server-pids", "").split(","))
        {
            if (!pid.isBlank())
                serverPids.add(Long.parseLong(pid.trim()));
        }
        List<Long> selfPid = List.of(ProcessHandle.current().pid());

        TlsClient tls = client(protocol, timeoutMillis, args.get("client-engine", "jsse"));
        Zipf zipf = zipfExponent > 0 ? new Zipf(tenants, zipfExponent) : null;
        String runId = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xFFFFFFFFFFFFL);
        AtomicLong issued = new AtomicLong();
        AtomicLong all = new AtomicLong();

        long startNanos = System.nanoTime();
        long measureNanos = startNanos + (long)(warmupSeconds * 1e9);
        AtomicLong stopAt = new AtomicLong(count > 0 ? Long.MAX_VALUE : measureNanos + (long)(seconds * 1e9));
        if (stopFile != null)
        {
            Thread watcher = new Thread(() ->
            {
                while (!java.nio.file.Files.exists(stopFile))
                {
                    try
                    {
                        Thread.sleep(20);
                    }
                    catch (InterruptedException x)
                    {
                        return;
                    }
                }
                stopAt.set(System.nanoTime());
            }, "stop-file");
            watcher.setDaemon(true);
            watcher.start();
        }
        long measureEpochMillis = System.currentTimeMillis() + (measureNanos - startNanos) / 1_000_000;
        // CPU of both sides at the start of the measurement, sampled when the warm-up ends
        long[] cpuAtStart = {-1, -1};
        Thread cpuSampler = new Thread(() ->
        {
            long wait = measureNanos - System.nanoTime();
            if (wait > 0)
            {
                try
                {
                    Thread.sleep(wait / 1_000_000, (int)(wait % 1_000_000));
                }
                catch (InterruptedException x)
                {
                    return;
                }
            }
            cpuAtStart[0] = ProcessCpu.nanos(selfPid);
            cpuAtStart[1] = serverPids.isEmpty() ? -1 : ProcessCpu.nanos(serverPids);
        }, "cpu-sampler");
        cpuSampler.setDaemon(true);
        cpuSampler.start();

        Worker[] workers = new Worker[threads];
        for (int t = 0; t < threads; t++)
        {
            SplittableRandom random = new SplittableRandom(0x5eed + t * 7919L);
            Worker worker = new Worker(() ->
            {
                int rank = zipf != null ? zipf.next(random) : random.nextInt(tenants);
                return rank;
            });
            workers[t] = worker;
            worker.thread = new Thread(() ->
            {
                while (true)
                {
                    long begin = System.nanoTime();
                    if (begin >= stopAt.get())
                        break;
                    if (count > 0 && issued.incrementAndGet() > count)
                        break;
                    boolean measuring = begin >= measureNanos;
                    String sni;
                    if (randomNames)
                        sni = "r" + Long.toHexString(random.nextLong() & Long.MAX_VALUE) + "-" + runId + "-" + issued.get() + ".flood." + domain;
                    else
                        sni = "t" + ((measuring ? offset : warmupOffset) + worker.hosts.next()) + "." + domain;
                    boolean ok;
                    long handshakeNanos = 0;
                    try (SSLSocket socket = tls.connect(address, sni))
                    {
                        handshakeNanos = System.nanoTime() - begin;
                        ok = !request || TlsClient.request(socket, sni) > 0;
                    }
                    catch (Exception x)
                    {
                        ok = false;
                        if (worker.firstError == null)
                            worker.firstError = x.toString();
                    }
                    long end = System.nanoTime();
                    if (ok)
                        all.incrementAndGet();
                    if (!measuring || end > stopAt.get())
                        continue;
                    if (ok)
                    {
                        worker.ok++;
                        worker.latencies.add(handshakeNanos / 1000);
                        worker.ends.add((end - measureNanos) / 1_000_000);
                    }
                    else
                    {
                        worker.failed++;
                        worker.ends.add(-1 - (end - measureNanos) / 1_000_000);
                    }
                }
            }, "load-" + t);
            worker.thread.start();
        }
        for (Worker worker : workers)
        {
            worker.thread.join();
        }
        long finishedNanos = System.nanoTime();
        long clientCpuAtEnd = ProcessCpu.nanos(selfPid);
        long serverCpuAtEnd = serverPids.isEmpty() ? -1 : ProcessCpu.nanos(serverPids);
        cpuSampler.join(1000);
        long clientCpuMs = cpuAtStart[0] < 0 || clientCpuAtEnd < 0 ? -1 : (clientCpuAtEnd - cpuAtStart[0]) / 1_000_000;
        long serverCpuMs = cpuAtStart[1] < 0 || serverCpuAtEnd < 0 ? -1 : (serverCpuAtEnd - cpuAtStart[1]) / 1_000_000;
        double measuredSeconds = ((count > 0 ? finishedNanos : Math.min(finishedNanos, stopAt.get())) - measureNanos) / 1e9;

        long ok = 0;
        long failed = 0;
        List<Long> latencies = new ArrayList<>();
        long[] buckets = new long[(int)Math.max(1, Math.ceil(measuredSeconds * 1000 / bucketMillis) + 1)];
        long[] failedBuckets = new long[buckets.length];
        String firstError = null;
        for (Worker worker : workers)
        {
            ok += worker.ok;
            failed += worker.failed;
            latencies.addAll(worker.latencies);
            for (long end : worker.ends)
            {
                boolean failure = end < 0;
                long millis = failure ? -1 - end : end;
                int bucket = (int)Math.min(buckets.length - 1, millis / bucketMillis);
                if (failure)
                    failedBuckets[bucket]++;
                else
                    buckets[bucket]++;
            }
            if (firstError == null)
                firstError = worker.firstError;
        }
        long[] sorted = Stats.sorted(latencies);
        System.out.printf(Locale.ROOT, "RESULT ok=%d all=%d failed=%d seconds=%.3f rate=%.1f p50us=%d p99us=%d p999us=%d startEpochMs=%d endEpochMs=%d clientCpuMs=%d serverCpuMs=%d%n",
            ok, all.get(), failed, measuredSeconds, (ok + (randomNames ? failed : 0)) / measuredSeconds, Stats.percentile(sorted, 50), Stats.percentile(sorted, 99),
            Stats.percentile(sorted, 99.9), measureEpochMillis, measureEpochMillis + (long)(measuredSeconds * 1000), clientCpuMs, serverCpuMs);
        System.out.println("BUCKETS " + bucketMillis + " " + Arrays.toString(buckets).replaceAll("[\\[\\] ]", ""));
        System.out.println("FAILEDBUCKETS " + bucketMillis + " " + Arrays.toString(failedBuckets).replaceAll("[\\[\\] ]", ""));
        if (firstError != null)
            System.out.println("FIRSTERROR " + firstError);
        System.out.flush();
    }

    private interface Hosts
    {
        int next();
    }

    private static final class Worker
    {
        final Hosts hosts;
        final List<Long> latencies = new ArrayList<>();
        final List<Long> ends = new ArrayList<>();
        long ok;
        long failed;
        String firstError;
        Thread thread;

        Worker(Hosts hosts)
        {
            this.hosts = hosts;
        }
    }
}
