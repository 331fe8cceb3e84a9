package dev.dynsni.testing;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A Pebble ACME test server of the test's own, from Debian's {@code pebble} package, on free loopback
 * ports, with {@code pebble-challtestsrv} as its DNS server answering every name with 127.0.0.1, so
 * that Pebble's validator connects to {@code 127.0.0.1:httpPort} (http-01) and
 * {@code 127.0.0.1:tlsPort} (tls-alpn-01): the ports of the Jetty or test server that answers the
 * challenges.
 *
 * <p>Debian ships no test certificates, so a CA and a certificate for {@code 127.0.0.1} and
 * {@code localhost} are made with {@code openssl} into a temporary directory: the client trusts
 * {@link #caFile()} for Pebble's HTTPS. That CA is not the one that signs issued certificates:
 * Pebble makes a new issuing root on every start, read it from {@link #issuingRoot()}.</p>
 *
 * <p>Pebble runs with {@code PEBBLE_VA_NOSLEEP=1} (no validation delay) and
 * {@code PEBBLE_WFE_NONCEREJECT=0} (no random bad-nonce errors) unless the caller's environment
 * says otherwise ({@link #env}); other knobs, e.g. {@code PEBBLE_VA_ALWAYS_VALID=1}, go the same way.
 * {@link #stop()} and {@link #start()} restart Pebble on the same ports; Pebble keeps nothing across a
 * restart (accounts, orders and the issuing root are new). Output of both processes goes to
 * {@link #log()}, named in every failure. Not thread-safe.</p>
 */
public final class PebbleProcess implements Closeable
{
    private final Path dir;
    private final int acmePort = FreePorts.next();
    private final int managementPort = FreePorts.next();
    private final int dnsPort = FreePorts.next();
    private final int challengeManagementPort = FreePorts.next();
    private final int httpPort;
    private final int tlsPort;
    private final Map<String, String> env = new LinkedHashMap<>(Map.of("PEBBLE_VA_NOSLEEP", "1", "PEBBLE_WFE_NONCEREJECT", "0"));
    private long certificateValiditySeconds;
    private Process pebble;
    private Process dns;
    private SSLContext sslContext;

    /**
     * @param httpPort where Pebble's validator connects for http-01
     * @param tlsPort  where Pebble's validator connects for tls-alpn-01
     */
    public PebbleProcess(int httpPort, int tlsPort) throws IOException
    {
        this.httpPort = httpPort;
        this.tlsPort = tlsPort;
        this.dir = Files.createTempDirectory("dynsni-pebble-");
    }

    /** @return whether the Debian {@code pebble} package (both binaries) and {@code openssl} are installed */
    public static boolean available()
    {
        return RedisProcess.findOnPath("pebble") != null && RedisProcess.findOnPath("pebble-challtestsrv") != null && RedisProcess.findOnPath("openssl") != null;
    }

    /** Sets (or with null removes) an environment variable of the Pebble process, e.g. {@code PEBBLE_VA_ALWAYS_VALID=1}; takes effect at the next start. */
    public PebbleProcess env(String name, String value)
    {
        if (value == null)
            env.remove(name);
        else
            env.put(name, value);
        return this;
    }

    /**
     * Validity of the certificates Pebble issues (its {@code certificateValidityPeriod}, in seconds;
     * 0 for Pebble's default of about five years); takes effect at the next start.
     */
    public PebbleProcess certificateValiditySeconds(long seconds)
    {
        this.certificateValiditySeconds = seconds;
        return this;
    }

    /** @return the ACME directory URL */
    public String directoryUrl()
    {
        return "https://127.0.0.1:" + acmePort + "/dir";
    }

    /** @return the PEM file of the CA of Pebble's HTTPS (the ACME API and the management interface) */
    public Path caFile()
    {
        return dir.resolve("ca.pem");
    }

    /** @return where the output of Pebble and its DNS server goes */
    public Path log()
    {
        return dir.resolve("pebble.log");
    }

    public int httpPort()
    {
        return httpPort;
    }

    public int tlsPort()
    {
        return tlsPort;
    }

    public int acmePort()
    {
        return acmePort;
    }

    public synchronized boolean isRunning()
    {
        return pebble != null && pebble.isAlive();
    }

    /** Starts the DNS server (once) and Pebble, and waits until the directory answers. */
    public synchronized PebbleProcess start() throws IOException
    {
        if (isRunning())
            return this;
        if (!Files.exists(caFile()))
            makeCertificates();
        writeConfig();
        if (dns == null || !dns.isAlive())
        {
            dns = launch(List.of(binary("pebble-challtestsrv"), "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                "-dns01", "127.0.0.1:" + dnsPort, "-http01", "", "-https01", "", "-tlsalpn01", "",
                "-management", "127.0.0.1:" + challengeManagementPort), Map.of());
        }
        pebble = launch(List.of(binary("pebble"), "-config", dir.resolve("pebble-config.json").toString(), "-dnsserver", "127.0.0.1:" + dnsPort), env);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true)
        {
            if (!pebble.isAlive() || !dns.isAlive())
                throw new IOException("pebble exited at start; see " + log() + ":\n" + tail());
            try
            {
                if (get(directoryUrl()).statusCode() == 200)
                    return this;
            }
            catch (IOException x)
            {
                // not listening yet
            }
            if (System.nanoTime() > deadline)
                throw new IOException("pebble did not answer " + directoryUrl() + " within 20 s; see " + log() + ":\n" + tail());
            TestServices.sleep(50);
        }
    }

    /** Stops Pebble (its DNS server keeps running), as an unreachable CA. */
    public synchronized void stop()
    {
        if (pebble != null)
        {
            pebble.destroy();
            try
            {
                if (!pebble.waitFor(5, TimeUnit.SECONDS))
                    pebble.destroyForcibly().waitFor();
            }
            catch (InterruptedException x)
            {
                Thread.currentThread().interrupt();
            }
            pebble = null;
        }
    }

    /**
     * @return the root that signs the certificates this run of Pebble issues (it changes at every
     *     start), to verify issued chains against
     */
    public X509Certificate issuingRoot() throws IOException
    {
        HttpResponse<byte[]> response = get("https://127.0.0.1:" + managementPort + "/roots/0");
        if (response.statusCode() != 200)
            throw new IOException("pebble's management interface answered " + response.statusCode() + " for /roots/0");
        try
        {
            return (X509Certificate)CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(response.body()));
        }
        catch (GeneralSecurityException x)
        {
            throw new IOException("pebble's /roots/0 is not a certificate", x);
        }
    }

    /** @return an SSL context trusting {@link #caFile()}: for HTTP clients of Pebble's API in tests */
    public synchronized SSLContext sslContext() throws IOException
    {
        if (sslContext != null)
            return sslContext;
        try (var in = Files.newInputStream(caFile()))
        {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            int i = 0;
            for (Certificate certificate : certificates)
            {
                trust.setCertificateEntry("ca" + i++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            sslContext = context;
            return context;
        }
        catch (GeneralSecurityException x)
        {
            throw new IOException("cannot trust " + caFile() + ": " + x.getMessage(), x);
        }
    }

    /** @return the last lines of the log, for failure messages */
    public String tail()
    {
        try
        {
            List<String> lines = Files.readAllLines(log(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        }
        catch (IOException x)
        {
            return "(no log: " + x.getMessage() + ")";
        }
    }

    /** Stops both processes and removes the temporary directory. */
    @Override
    public synchronized void close()
    {
        stop();
        if (dns != null)
        {
            dns.destroyForcibly();
            try
            {
                dns.waitFor(5, TimeUnit.SECONDS);
            }
            catch (InterruptedException x)
            {
                Thread.currentThread().interrupt();
            }
            dns = null;
        }
        Commands.deleteTree(dir);
    }

    private HttpResponse<byte[]> get(String url) throws IOException
    {
        HttpClient client = HttpClient.newBuilder().sslContext(sslContext()).connectTimeout(Duration.ofSeconds(2)).build();
        try
        {
            return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofByteArray());
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", x);
        }
    }

    private Process launch(List<String> command, Map<String, String> environment) throws IOException
    {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()));
        builder.environment().putAll(environment);
        Process process = builder.start();
        process.getOutputStream().close();
        return process;
    }

    private void writeConfig() throws IOException
    {
        String config = "{\n  \"pebble\": {\n" +
            "    \"listenAddress\": \"127.0.0.1:" + acmePort + "\",\n" +
            "    \"managementListenAddress\": \"127.0.0.1:" + managementPort + "\",\n" +
            "    \"certificate\": \"" + dir.resolve("server.pem") + "\",\n" +
            "    \"privateKey\": \"" + dir.resolve("server.key") + "\",\n" +
            "    \"httpPort\": " + httpPort + ",\n" +
            "    \"tlsPort\": " + tlsPort + ",\n" +
            "    \"ocspResponderURL\": \"\",\n" +
            "    \"externalAccountBindingRequired\": false" +
            (certificateValiditySeconds > 0 ? ",\n    \"certificateValidityPeriod\": " + certificateValiditySeconds : "") +
            "\n  }\n}\n";
        Files.writeString(dir.resolve("pebble-config.json"), config);
    }

    /** A throw-away CA and a certificate for 127.0.0.1 and localhost signed by it, P-256, valid for 2 days. */
    private void makeCertificates() throws IOException
    {
        String openssl = binary("openssl");
        Path extensions = dir.resolve("server.ext");
        Files.writeString(extensions, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n" +
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
        Commands.run(List.of(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", dir.resolve("ca.key").toString(), "-out", caFile().toString(), "-days", "2", "-subj", "/CN=dynsni test Pebble API CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"), 30);
        Commands.run(List.of(openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", dir.resolve("server.key").toString(), "-out", dir.resolve("server.csr").toString(), "-subj", "/CN=127.0.0.1"), 30);
        Commands.run(List.of(openssl, "x509", "-req", "-in", dir.resolve("server.csr").toString(), "-CA", caFile().toString(),
            "-CAkey", dir.resolve("ca.key").toString(), "-CAcreateserial", "-days", "2", "-extfile", extensions.toString(),
            "-out", dir.resolve("server.pem").toString()), 30);
    }

    private static String binary(String name) throws IOException
    {
        Path path = RedisProcess.findOnPath(name);
        if (path == null)
            throw new IOException(name + " is not installed (Debian packages pebble and openssl)");
        return path.toString();
    }

    @Override
    public String toString()
    {
        return "PebbleProcess[" + directoryUrl() + ", httpPort=" + httpPort + ", tlsPort=" + tlsPort + ", env=" + new ArrayList<>(env.keySet()) + "]";
    }
}
