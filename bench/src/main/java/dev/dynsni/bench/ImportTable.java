package dev.dynsni.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Table 5: bulk import rate of the admin tool. {@code dynsni gen-demo --tenants N} writes the files
 * once (not timed as import); each run recreates the schema ({@code dynsni init-db}) and times the
 * whole {@code dynsni import-dir} process, JVM start included.
 */
final class ImportTable
{
    private final BenchContext context;
    private final BenchConfig config;

    ImportTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    String run() throws Exception
    {
        String schema = context.schema("import");
        Path dir = config.workDir.resolve("import-demo");
        long genStart = System.nanoTime();
        admin("gen-demo", List.of("gen-demo", "--tenants", Integer.toString(config.importHosts), "--out", dir.toString(), "--domain", "import." + BenchData.DOMAIN, "--no-progress"));
        double genSeconds = (System.nanoTime() - genStart) / 1e9;
        int files = config.importHosts + 1; // the tenants and the wildcard
        List<Double> rates = new ArrayList<>();
        List<Double> seconds = new ArrayList<>();
        for (int run = 1; run <= config.runs; run++)
        {
            BenchData.dropSchema(config, schema);
            admin("init-db", List.of("init-db", "--jdbc-url", config.jdbcUrl, "--jdbc-schema", schema));
            long start = System.nanoTime();
            admin("import-dir", List.of("import-dir", dir.resolve("certs").toString(), "--jdbc-url", config.jdbcUrl, "--jdbc-schema", schema, "--no-progress"));
            double s = (System.nanoTime() - start) / 1e9;
            long rows;
            try (var connection = BenchData.connect(config); var statement = connection.createStatement();
                 var rs = statement.executeQuery("SELECT count(*) FROM " + schema + ".certificate"))
            {
                rs.next();
                rows = rs.getLong(1);
            }
            if (rows < config.importHosts)
                throw new IllegalStateException("import-dir stored " + rows + " rows, expected at least " + config.importHosts);
            seconds.add(s);
            rates.add(rows / s);
            Bench.log("run %d: %d rows in %.2f s = %.0f certificates/s", run, rows, s, rows / s);
        }
        deleteTree(dir);
        StringBuilder out = new StringBuilder();
        out.append("## 5. Bulk import rate of the admin tool\n\n");
        out.append(String.format(Locale.ROOT, "`dynsni gen-demo --tenants %d` (ECDSA P-256, generated once in %.1f s, not part of the rate), then per run a fresh schema "
                + "(`dynsni init-db`) and `dynsni import-dir DIR/certs` timed as a whole process (JVM start, parsing and key checks, PostgreSQL writes; no Redis). "
                + "%d runs.%n%n", config.importHosts, genSeconds, config.runs));
        out.append("| Certificates | import-dir wall time s | Certificates/s |\n|---|---|---|\n");
        out.append(String.format(Locale.ROOT, "| %,d | %s | %s |%n", files, Stats.cell(seconds, "%.2f"), Stats.cell(rates, "%.0f")));
        double median = Stats.median(rates);
        out.append(String.format(Locale.ROOT, "%nTarget: at least 2,000 certificates/s → **%s** (%.0f/s).%n", median >= 2000 ? "met" : "not met", median));
        out.append("\nRerun: `").append(config.rerun("import", "RUNS", "IMPORT_HOSTS")).append("`\n");
        return out.toString();
    }

    private void admin(String name, List<String> args) throws Exception
    {
        try (Jvm jvm = Jvm.start(config.logDir, "dynsni-" + name, List.of(), "dev.dynsni.admin.DynSni", args))
        {
            jvm.finish(3_600_000);
        }
    }

    static void deleteTree(Path dir) throws Exception
    {
        if (!java.nio.file.Files.exists(dir))
            return;
        try (var walk = java.nio.file.Files.walk(dir))
        {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
