package dev.dynsni.admin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import dev.dynsni.core.HostNames;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Writes a demo PKI: {@code DIR/ca.pem} + {@code ca.key} (reused when present and valid, so clients
 * keep trusting it across runs), {@code DIR/default.crt} + {@code .key} for {@code default.DOMAIN},
 * and under {@code DIR/certs/} (emptied of earlier .crt/.key/.pem files first) one EC P-256 certificate
 * per tenant {@code tI.DOMAIN}, an extra RSA one for the first K tenants ({@code tI.DOMAIN-rsa.*}) and
 * a wildcard {@code wild.DOMAIN.*} for {@code *.wild.DOMAIN}. Each {@code .crt} is leaf then CA.
 */
@Command(name = "gen-demo",
    description = {
        "Generate a demo CA and tenant certificates for the demo: DIR/ca.pem (trust it with curl --cacert), DIR/ca.key,",
        "DIR/default.crt+.key (default.DOMAIN), DIR/certs/tI.DOMAIN.crt+.key for I=1..N (ECDSA P-256),",
        "DIR/certs/tI.DOMAIN-rsa.crt+.key for I=1..K (RSA 2048) and DIR/certs/wild.DOMAIN.crt+.key (*.wild.DOMAIN).",
        "An existing valid DIR/ca.pem + ca.key is reused; earlier files in DIR/certs are replaced."
    })
class GenDemoCommand extends BaseCommand
{
    @Option(names = "--tenants", paramLabel = "N", defaultValue = "10", description = "Number of tenants t1..tN (default ${DEFAULT-VALUE}).")
    int tenants;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (created if needed).")
    Path out;

    @Option(names = "--rsa", paramLabel = "K", defaultValue = "0", description = "The first K tenants also get an RSA certificate (default ${DEFAULT-VALUE}).")
    int rsa;

    @Option(names = "--domain", paramLabel = "DOMAIN", defaultValue = "demo.test", description = "Parent domain of the tenants (default ${DEFAULT-VALUE}).")
    String domain;

    @Option(names = "--days", paramLabel = "DAYS", defaultValue = "365", description = "Validity of the tenant certificates in days (default ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--threads", paramLabel = "N", description = "Generating threads (default: the number of processors).")
    Integer threads;

    @Option(names = "--no-progress", description = "Do not show progress on stderr.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception
    {
        if (tenants < 0)
            throw CliException.usage("--tenants must not be negative");
        if (rsa < 0 || rsa > tenants)
            throw CliException.usage("--rsa must be between 0 and --tenants (" + tenants + ")");
        if (days < 1)
            throw CliException.usage("--days must be at least 1");
        String parent = CertificateLoader.normalizeName(domain);
        if (parent == null || parent.startsWith("*.") || HostNames.normalize("wild." + parent) == null || HostNames.normalize("t" + tenants + "." + parent) == null)
            throw CliException.usage("--domain '" + domain + "' is not a valid DNS domain");
        int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (workers < 1)
            throw CliException.usage("--threads must be at least 1");

        long start = System.nanoTime();
        Path certs = out.resolve("certs");
        Files.createDirectories(certs);
        int removed = clean(certs);

        Path caPem = out.resolve("ca.pem");
        Path caKey = out.resolve("ca.key");
        boolean reused = Files.isRegularFile(caPem) && Files.isRegularFile(caKey);
        CertificateAuthority pki;
        if (reused)
        {
            try
            {
                pki = CertificateAuthority.load(caPem, caKey);
            }
            catch (IllegalArgumentException x)
            {
                throw CliException.rejected(x.getMessage());
            }
        }
        else
        {
            // valid from an hour ago for 10 years of 366 days
            Instant caNotBefore = Instant.now().minusSeconds(3600);
            pki = CertificateAuthority.create("dynsni demo CA " + parent, "jetty-dynamic-sni demo", caNotBefore, caNotBefore.plusSeconds(10 * 366L * 86400));
            DemoFiles.writePublic(caPem, pki.caPem());
            DemoFiles.writePrivate(caKey, pki.caKeyPem());
        }

        Instant notBefore = Instant.now().minus(Duration.ofHours(1));
        Instant notAfter = notBefore.plus(Duration.ofDays(days)).plus(Duration.ofHours(1));
        write(out, "default." + parent, pki.issue(false, notBefore, notAfter, "default." + parent), "default");
        write(certs, "wild." + parent, pki.issue(false, notBefore, notAfter, "*.wild." + parent), null);

        int total = tenants + rsa;
        Progress progress = noProgress ? null : new Progress(err(), "generating", total, Progress.isTerminal());
        AtomicLong done = new AtomicLong();
        ExecutorService executor = Executors.newFixedThreadPool(workers, r ->
        {
            Thread thread = new Thread(r, "dynsni-gen-demo");
            thread.setDaemon(true);
            return thread;
        });
        try
        {
            List<Future<?>> futures = new ArrayList<>();
            int chunk = 500;
            // RSA first: its key generation is slow and unevenly long, so it should not be left for the end.
            for (int from = 1; from <= rsa; from += 50)
            {
                int first = from;
                int last = Math.min(rsa, from + 49);
                futures.add(executor.submit(() -> generate(pki, certs, parent, first, last, true, notBefore, notAfter, done)));
            }
            for (int from = 1; from <= tenants; from += chunk)
            {
                int first = from;
                int last = Math.min(tenants, from + chunk - 1);
                futures.add(executor.submit(() -> generate(pki, certs, parent, first, last, false, notBefore, notAfter, done)));
            }
            for (Future<?> future : futures)
            {
                while (true)
                {
                    try
                    {
                        future.get(200, java.util.concurrent.TimeUnit.MILLISECONDS);
                        break;
                    }
                    catch (java.util.concurrent.TimeoutException x)
                    {
                        if (progress != null)
                            progress.update(done.get());
                    }
                    catch (ExecutionException x)
                    {
                        Throwable cause = x.getCause();
                        if (cause instanceof IOException io)
                            throw CliException.rejected("cannot write under " + out + ": " + io.getMessage());
                        throw new IllegalStateException("generation failed: " + cause, cause);
                    }
                }
            }
            if (progress != null)
                progress.update(done.get());
        }
        finally
        {
            executor.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out().println(String.format(Locale.ROOT, "%s demo CA %s; wrote %s (default.%s), %,d tenant certificates t1..t%d.%s (%,d also RSA) and *.wild.%s under %s in %.1f s%s",
            reused ? "reused" : "created", caPem, out.resolve("default.crt"), parent, tenants, tenants, parent, rsa, parent, certs, seconds,
            removed > 0 ? String.format(Locale.ROOT, " (%,d earlier files removed)", removed) : ""));
        return DynSni.EXIT_OK;
    }

    private static Void generate(CertificateAuthority pki, Path certs, String parent, int first, int last, boolean rsa,
                                 Instant notBefore, Instant notAfter, AtomicLong done) throws IOException
    {
        for (int i = first; i <= last; i++)
        {
            String host = "t" + i + "." + parent;
            if (rsa)
                write(certs, host + "-rsa", pki.issue(true, notBefore, notAfter, host), null);
            else
                write(certs, host, pki.issue(false, notBefore, notAfter, host), null);
            done.incrementAndGet();
        }
        return null;
    }

    private static void write(Path dir, String name, IssuedCertificate issued, String fileName) throws IOException
    {
        String base = fileName == null ? name : fileName;
        DemoFiles.writePublic(dir.resolve(base + ".crt"), issued.chainPem());
        DemoFiles.writePrivate(dir.resolve(base + ".key"), issued.pkcs8KeyPem());
    }

    private static int clean(Path certs) throws IOException
    {
        int removed = 0;
        try (Stream<Path> files = Files.list(certs))
        {
            for (Path file : (Iterable<Path>)files::iterator)
            {
                String fileName = file.getFileName().toString();
                if (Files.isRegularFile(file) && (fileName.endsWith(".crt") || fileName.endsWith(".key") || fileName.endsWith(".pem")))
                {
                    Files.delete(file);
                    removed++;
                }
            }
        }
        return removed;
    }
}
