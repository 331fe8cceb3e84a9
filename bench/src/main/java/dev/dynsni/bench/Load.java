package dev.dynsni.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs {@link LoadGenerator} in its own JVM against a server and parses its result.
 */
final class Load
{
    final double rate;
    final long ok;
    final long all;
    final long failed;
    final long p50Micros;
    final long p99Micros;
    final long startEpochMillis;
    final long endEpochMillis;
    final int bucketMillis;
    final long[] buckets;
    final String firstError;
    /** CPU time of the generator and of the server during the measurement, ms; -1 when unknown. */
    final long clientCpuMillis;
    final long serverCpuMillis;

    private Load(List<String> lines)
    {
        String result = null;
        String bucketLine = null;
        String error = null;
        for (String line : lines)
        {
            if (line.startsWith("RESULT"))
                result = line;
            else if (line.startsWith("BUCKETS"))
                bucketLine = line;
            else if (line.startsWith("FIRSTERROR"))
                error = line.substring("FIRSTERROR ".length());
        }
        if (result == null || bucketLine == null)
            throw new IllegalStateException("load generator printed no result:\n" + String.join("\n", lines));
        Map<String, String> fields = Jvm.fields(result);
        rate = Double.parseDouble(fields.get("rate"));
        ok = Long.parseLong(fields.get("ok"));
        all = Long.parseLong(fields.get("all"));
        failed = Long.parseLong(fields.get("failed"));
        p50Micros = Long.parseLong(fields.get("p50us"));
        p99Micros = Long.parseLong(fields.get("p99us"));
        startEpochMillis = Long.parseLong(fields.get("startEpochMs"));
        endEpochMillis = Long.parseLong(fields.get("endEpochMs"));
        String[] parts = bucketLine.split(" ");
        bucketMillis = Integer.parseInt(parts[1]);
        String[] counts = parts.length > 2 ? parts[2].split(",") : new String[0];
        buckets = new long[counts.length];
        for (int i = 0; i < counts.length; i++)
        {
            buckets[i] = Long.parseLong(counts[i]);
        }
        firstError = error;
        clientCpuMillis = Long.parseLong(fields.getOrDefault("clientCpuMs", "-1"));
        serverCpuMillis = Long.parseLong(fields.getOrDefault("serverCpuMs", "-1"));
    }

    /** @return the generator's CPU per completed connection, µs; NaN when unknown */
    double clientCpuMicrosPerHandshake()
    {
        return clientCpuMillis < 0 || ok == 0 ? Double.NaN : clientCpuMillis * 1000.0 / ok;
    }

    /** @return the server's CPU per completed connection, µs; NaN when unknown */
    double serverCpuMicrosPerHandshake()
    {
        return serverCpuMillis < 0 || ok == 0 ? Double.NaN : serverCpuMillis * 1000.0 / ok;
    }

    static Jvm start(BenchConfig config, String name, int port, List<String> options) throws Exception
    {
        List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port)));
        args.addAll(options);
        return Jvm.start(config.logDir, name, List.of("-Xmx512m"), LoadGenerator.class.getName(), args);
    }

    static Load finish(Jvm jvm, long timeoutMillis) throws Exception
    {
        return new Load(jvm.finish(timeoutMillis));
    }

    static Load run(BenchConfig config, String name, int port, List<String> options, double expectedSeconds) throws Exception
    {
        try (Jvm jvm = start(config, name, port, options))
        {
            return finish(jvm, (long)(expectedSeconds * 1000) + 120_000);
        }
    }

    /** Completions per second within [fromEpochMillis, toEpochMillis), from the buckets. */
    double rateBetween(long fromEpochMillis, long toEpochMillis)
    {
        long count = 0;
        long covered = 0;
        for (int i = 0; i < buckets.length; i++)
        {
            long bucketStart = startEpochMillis + (long)i * bucketMillis;
            if (bucketStart >= fromEpochMillis && bucketStart + bucketMillis <= toEpochMillis)
            {
                count += buckets[i];
                covered += bucketMillis;
            }
        }
        return covered == 0 ? Double.NaN : count * 1000.0 / covered;
    }
}
