package dev.dynsni.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every benchmark table at smoke sizes (the same as {@code bench/run-smoke.sh}), so that the
 * benchmarks cannot rot: each table must run to the end and land in the results file.
 */
public class BenchSmokeIT
{
    @Test
    public void smokeRun_writesEveryTable() throws Exception
    {
        Path out = Path.of(System.getProperty("bench.out", "target/smoke/RESULTS.md"));
        Files.deleteIfExists(out);
        Bench.run(new BenchConfig(true, Map.of("OUT", out.toString(), "TABLES", String.join(",", Bench.TABLES))));

        String results = Files.readString(out, StandardCharsets.UTF_8);
        for (String heading : new String[]{"## 1. Start time", "## 2. Full-handshake throughput", "## 3. Added handshake latency", "## 4. Propagation",
            "## 5. Bulk import", "## 6. JMH", "## 7. Flood", "## 8. ClientHello prefetch", "## 9. Memory", "## 11. Fleet"})
        {
            assertTrue(results.contains(heading), "missing table " + heading + " in " + out);
        }
        assertTrue(results.contains("## Machine"), "machine section");
        assertFalse(results.contains("| n/a |"), "a table has an empty cell:\n" + results);
        assertFalse(results.contains("Failed connections"), "handshakes failed:\n" + results);
    }
}
