package dev.dynsni.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.dynsni.PrefetchBenchmark;
import dev.dynsni.core.Pem;

/**
 * Table 8: the ClientHello prefetch against Jetty's stock {@code SslConnectionFactory}, cold (a
 * burst of handshakes for hosts no cache holds, stores 100 ms away) and warm (throughput with every
 * host in L1). Stores the hosts with the harness's PKI, then runs {@link PrefetchBenchmark} in a
 * JVM of its own (server and clients share it, as the thread sampling needs) and takes the section
 * it writes.
 */
final class PrefetchTable
{
    private final BenchContext context;
    private final BenchConfig config;

    PrefetchTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    String run() throws Exception
    {
        String schema = context.schema("prefetch");
        String redisPrefix = context.redisPrefix("prefetch");
        List<String> hosts = PrefetchBenchmark.hostNames(config.prefetchHosts);
        BenchData.recreateSchema(config, schema);
        BenchData.populate(config, context.pki, schema, 0, hosts.size(), hosts::get, null);
        Path ca = config.workDir.resolve("prefetch-ca.pem");
        Files.writeString(ca, Pem.encode(context.pki.ca()), StandardCharsets.US_ASCII);
        Path section = config.workDir.resolve("prefetch-section.md");
        Files.deleteIfExists(section);
        List<String> args = List.of("--jdbc-url", config.jdbcUrl, "--schema", schema, "--redis", config.redisAddress, "--prefix", redisPrefix,
            "--ca", ca.toString(), "--hosts", Integer.toString(config.prefetchHosts), "--slices", Integer.toString(config.prefetchSlices),
            "--warmup-seconds", Double.toString(config.prefetchWarmupSeconds), "--out", section.toString());
        try (Jvm jvm = Jvm.start(config.logDir, "prefetch", List.of(), "dev.dynsni.PrefetchBenchmark", args))
        {
            jvm.finish(3_600_000);
        }
        return Files.readString(section, StandardCharsets.UTF_8)
            + "\nRerun: `" + config.rerun("prefetch", "PREFETCH_HOSTS", "PREFETCH_SLICES", "PREFETCH_WARMUP_SECONDS") + "`\n";
    }
}
