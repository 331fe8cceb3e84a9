package dev.dynsni.admin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import dev.dynsni.core.InvalidCredentialException;
import dev.dynsni.core.MasterKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Bulk import. Files are paired by name and parsed on {@code --threads} workers, batch by batch, while
 * this thread writes the previous batches in file order (so a later file wins over an earlier one
 * for the same host and key type); at most two batches per worker are in flight.
 */
@Command(name = "import-dir",
    description = {
        "Import every NAME.crt + NAME.key pair and every combined NAME.pem (chain and key) in DIR (not recursive).",
        "Hosts are the DNS subjectAltNames of each leaf. A bad pair is reported by file name and skipped; the rest is imported.",
        "Exit code 1 when some pairs were rejected."
    })
class ImportDirCommand extends StoreCommand
{
    @Parameters(index = "0", paramLabel = "DIR", description = "Directory holding the certificate files.")
    Path dir;

    @Option(names = "--allow-expired", description = "Accept certificates outside their validity period.")
    boolean allowExpired;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "1000", description = "Pairs per transaction (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--threads", paramLabel = "N", description = "Parsing threads (default: the number of processors).")
    Integer threads;

    @Option(names = "--no-progress", description = "Do not show progress on stderr.")
    boolean noProgress;

    /** A certificate file and its key file (the same file for a combined .pem). */
    record PairFiles(String label, Path cert, Path key)
    {
    }

    private record BatchResult(List<ParsedCertificate> parsed, List<String> errors)
    {
    }

    @Override
    public Integer call()
    {
        if (batchSize < 1)
            throw CliException.usage("--batch-size must be at least 1");
        int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (workers < 1)
            throw CliException.usage("--threads must be at least 1");
        long start = System.nanoTime();
        List<String> errors = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        List<PairFiles> pairs = pairFiles(dir, errors, ignored);
        if (pairs.isEmpty() && errors.isEmpty())
            throw CliException.rejected(dir + ": no certificate files found (NAME.crt + NAME.key, or NAME.pem)" +
                (ignored.isEmpty() ? "" : "; ignored: " + String.join(", ", ignored)));
        for (String error : errors)
        {
            err().println("error: " + error);
        }
        for (String file : ignored)
        {
            err().println("ignored: " + file);
        }

        Settings settings = settings();
        MasterKeys keys = masterKeys();
        int rejected = errors.size();
        int certificates = 0;
        int rows = 0;
        int changed = 0;
        int repaired = 0;
        Map<String, String> seen = new HashMap<>();
        int total = pairs.size() + errors.size();
        Progress progress = noProgress ? null : new Progress(err(), "importing", total, Progress.isTerminal());
        long now = System.currentTimeMillis();
        ExecutorService executor = Executors.newFixedThreadPool(workers, r ->
        {
            Thread thread = new Thread(r, "dynsni-import-parse");
            thread.setDaemon(true);
            return thread;
        });
        try (Connection connection = openDatabase();
             Importer importer = new Importer(connection, settings.schema(), openRedisOrWarn(ImportCommand.IMPORTING_ANYWAY), keys, err()))
        {
            Deque<Future<BatchResult>> inflight = new ArrayDeque<>();
            int next = 0;
            int done = errors.size();
            while (next < pairs.size() || !inflight.isEmpty())
            {
                while (next < pairs.size() && inflight.size() < 2 * workers)
                {
                    List<PairFiles> slice = pairs.subList(next, Math.min(pairs.size(), next + batchSize));
                    next += slice.size();
                    inflight.add(executor.submit(() -> parseBatch(slice, now)));
                }
                BatchResult batch = await(inflight.removeFirst());
                for (String error : batch.errors())
                {
                    err().println("error: " + error);
                }
                rejected += batch.errors().size();
                for (ParsedCertificate certificate : batch.parsed())
                {
                    for (String name : certificate.names())
                    {
                        String earlier = seen.put(name + " " + certificate.keyType(), certificate.source());
                        if (earlier != null)
                            err().println("warning: " + certificate.source() + ": host " + name + " (" + certificate.keyType() + ") is also in " + earlier + "; the later file wins");
                    }
                }
                if (!batch.parsed().isEmpty())
                {
                    Importer.Written written = importer.write(batch.parsed());
                    certificates += batch.parsed().size();
                    rows += written.rows();
                    changed += written.names().size();
                    repaired += written.repaired();
                }
                done += batch.parsed().size() + batch.errors().size();
                if (progress != null)
                    progress.update(done);
                err().flush();
            }
        }
        catch (SQLException x)
        {
            throw Database.failed("importing (" + certificates + " certificates were committed before)", x);
        }
        finally
        {
            executor.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out().println(String.format(Locale.ROOT, "imported %,d of %,d certificates from %s in %.1f s (%,.0f/s): %,d host entries, %,d new or changed%s%s%s",
            certificates, total, dir, seconds, certificates / Math.max(seconds, 1e-3), rows, changed,
            repaired > 0 ? String.format(Locale.ROOT, " (%,d of them repaired: same certificate, but the stored key was not the imported one)", repaired) : "",
            rejected > 0 ? String.format(Locale.ROOT, "; %,d rejected (see errors above)", rejected) : "",
            ignored.isEmpty() ? "" : String.format(Locale.ROOT, "; %,d files ignored (see above)", ignored.size())));
        return rejected > 0 ? DynSni.EXIT_REJECTED : DynSni.EXIT_OK;
    }

    private static <T> T await(Future<T> future)
    {
        try
        {
            return future.get();
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", x);
        }
        catch (ExecutionException x)
        {
            throw new IllegalStateException("parsing failed: " + x.getCause(), x.getCause());
        }
    }

    private BatchResult parseBatch(List<PairFiles> slice, long now)
    {
        List<ParsedCertificate> parsed = new ArrayList<>(slice.size());
        List<String> errors = new ArrayList<>();
        for (PairFiles pair : slice)
        {
            try
            {
                String chainPem = CertificateLoader.readFile(pair.cert());
                String keyPem = pair.key().equals(pair.cert()) ? chainPem : CertificateLoader.readFile(pair.key());
                parsed.add(CertificateLoader.parse(pair.label(), chainPem, keyPem, List.of(), allowExpired, now));
            }
            catch (InvalidCredentialException x)
            {
                errors.add(pair.label() + ": " + x.getMessage());
            }
            catch (RuntimeException x)
            {
                errors.add(pair.label() + ": " + x);
            }
        }
        return new BatchResult(parsed, errors);
    }

    /**
     * Pairs the files of a directory: {@code NAME.crt} (or {@code NAME.pem}) with {@code NAME.key},
     * or a {@code NAME.pem} alone holding chain and key. Files that cannot be paired are errors;
     * files not imported (other extensions, directories, a {@code NAME.pem} beside a
     * {@code NAME.crt} and {@code NAME.key} pair) are listed in {@code ignored}, each with why.
     */
    static List<PairFiles> pairFiles(Path dir, List<String> errors, List<String> ignored)
    {
        if (!Files.isDirectory(dir))
            throw CliException.rejected(dir + ": " + (Files.exists(dir) ? "not a directory" : "no such directory"));
        Map<String, Path[]> byName = new TreeMap<>();
        List<String> skipped = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir))
        {
            files.sorted().forEach(file ->
            {
                String fileName = file.getFileName().toString();
                int dot = fileName.lastIndexOf('.');
                String extension = dot < 0 ? "" : fileName.substring(dot + 1).toLowerCase(Locale.ROOT);
                int slot = switch (extension)
                {
                    case "crt" -> 0;
                    case "pem" -> 1;
                    case "key" -> 2;
                    default -> -1;
                };
                if (!Files.isRegularFile(file))
                    skipped.add(fileName + " (not a regular file)");
                else if (slot < 0)
                    skipped.add(fileName + " (not .crt, .key or .pem)");
                else
                    byName.computeIfAbsent(fileName.substring(0, dot), k -> new Path[3])[slot] = file;
            });
        }
        catch (IOException x)
        {
            throw CliException.rejected(dir + ": cannot list: " + x.getMessage());
        }
        ignored.addAll(skipped);
        List<PairFiles> pairs = new ArrayList<>(byName.size());
        for (Map.Entry<String, Path[]> entry : byName.entrySet())
        {
            Path crt = entry.getValue()[0];
            Path pem = entry.getValue()[1];
            Path key = entry.getValue()[2];
            Path cert = crt != null ? crt : pem;
            Path keyFile = key != null ? key : pem;
            if (crt != null && key != null && pem != null)
                ignored.add(pem.getFileName() + " (" + crt.getFileName() + " + " + key.getFileName() + " are imported instead)");
            if (cert == null)
                errors.add(key.getFileName() + ": no matching " + entry.getKey() + ".crt or " + entry.getKey() + ".pem");
            else if (keyFile == null)
                errors.add(cert.getFileName() + ": no matching " + entry.getKey() + ".key (or a combined " + entry.getKey() + ".pem)");
            else if (cert.equals(keyFile))
                pairs.add(new PairFiles(cert.getFileName().toString(), cert, keyFile));
            else
                pairs.add(new PairFiles(cert.getFileName() + "+" + keyFile.getFileName().toString().substring(entry.getKey().length()), cert, keyFile));
        }
        return pairs;
    }
}
