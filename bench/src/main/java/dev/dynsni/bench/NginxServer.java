package dev.dynsni.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.dynsni.testing.FreePorts;

/**
 * nginx as table 2's reference server, a child process of the harness: {@code daemon off},
 * {@code master_process on}, one worker per core ({@code worker_processes} = the machine's
 * processors, as Jetty uses every core), TLS 1.2 and 1.3 on 127.0.0.1, session cache and tickets
 * off (the load generator never resumes anyway), answering {@code 200 ok} to every request, access
 * log off. Two shapes:
 * <ul>
 *   <li>{@link #staticCertificate}: one {@code ssl_certificate}, the static Jetty's certificate;</li>
 *   <li>{@link #perHost}: {@code ssl_certificate $ssl_server_name}, one PEM file pair per host on disk
 *   (the tenants' own certificates, as stored for the dynamic servers), which nginx reads and parses on
 *   every handshake.</li>
 * </ul>
 * Everything lives in a fresh directory under the system temp directory, readable by nginx's
 * workers whatever user they run as (when started as root they drop to {@code nobody}): the keys
 * are the benchmark's generated test keys. Deleted on {@link #close()}.
 */
final class NginxServer implements AutoCloseable
{
    final String version;
    final int tlsPort;
    private final Jvm process;
    private final Path dir;

    private NginxServer(String version, int tlsPort, Jvm process, Path dir)
    {
        this.version = version;
        this.tlsPort = tlsPort;
        this.process = process;
        this.dir = dir;
    }

    /** @return the nginx executable on the PATH (or Debian's /usr/sbin, not on a user's PATH), or null */
    static Path find()
    {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.add("/usr/sbin");
        for (String d : dirs)
        {
            if (d.isBlank())
                continue;
            Path candidate = Path.of(d, "nginx");
            if (Files.isExecutable(candidate))
                return candidate;
        }
        return null;
    }

    /** nginx serving one certificate, the static Jetty's: chain and key as PEM. */
    static NginxServer staticCertificate(BenchConfig config, Path nginx, String chainPem, String keyPem) throws Exception
    {
        Path dir = directory("static");
        write(dir.resolve("static.crt"), chainPem);
        write(dir.resolve("static.key"), keyPem);
        return start(config, nginx, dir, "nginx-static", "ssl_certificate " + dir.resolve("static.crt") + ";\n        ssl_certificate_key " + dir.resolve("static.key") + ";");
    }

    /**
     * nginx loading the certificate of each handshake's SNI from disk: {@code certs/HOST.crt} and
     * {@code .key}, written from the tenant schema (hosts {@code t*}), and a default pair for a
     * ClientHello without SNI ({@code $ssl_server_name} is then empty).
     *
     * @return the server and the number of hosts written
     */
    static NginxServer perHost(BenchConfig config, Path nginx, String schema, String defaultChainPem, String defaultKeyPem) throws Exception
    {
        Path dir = directory("per-host");
        Path certs = dir.resolve("certs");
        Files.createDirectories(certs);
        certs.toFile().setReadable(true, false);
        certs.toFile().setExecutable(true, false);
        int hosts = 0;
        try (Connection connection = BenchData.connect(config); Statement statement = connection.createStatement())
        {
            statement.setFetchSize(1000);
            connection.setAutoCommit(false);
            try (ResultSet rows = statement.executeQuery("SELECT host, chain_pem, key_pem FROM " + schema + ".certificate WHERE host LIKE 't%'"))
            {
                while (rows.next())
                {
                    write(certs.resolve(rows.getString(1) + ".crt"), rows.getString(2));
                    write(certs.resolve(rows.getString(1) + ".key"), rows.getString(3));
                    hosts++;
                }
            }
            connection.commit();
        }
        write(certs.resolve(".crt"), defaultChainPem);
        write(certs.resolve(".key"), defaultKeyPem);
        Bench.log("nginx per-host certificates: %d hosts in %s", hosts, certs);
        return start(config, nginx, dir, "nginx-per-host",
            "ssl_certificate " + certs + "/$ssl_server_name.crt;\n        ssl_certificate_key " + certs + "/$ssl_server_name.key;");
    }

    private static NginxServer start(BenchConfig config, Path nginx, Path dir, String name, String certificateLines) throws Exception
    {
        int port = FreePorts.next();
        Path conf = dir.resolve("nginx.conf");
        String temp = dir.resolve("temp").toString();
        Files.createDirectories(dir.resolve("temp"));
        Files.createDirectories(dir.resolve("logs"));
        write(conf, String.join("\n",
            "daemon off;",
            "master_process on;",
            "worker_processes " + Runtime.getRuntime().availableProcessors() + ";",
            "pid " + dir.resolve("nginx.pid") + ";",
            "error_log " + dir.resolve("logs/error.log") + " warn;",
            "events { worker_connections 4096; }",
            "http {",
            "    access_log off;",
            "    client_body_temp_path " + temp + "/body;",
            "    proxy_temp_path " + temp + "/proxy;",
            "    fastcgi_temp_path " + temp + "/fastcgi;",
            "    uwsgi_temp_path " + temp + "/uwsgi;",
            "    scgi_temp_path " + temp + "/scgi;",
            "    server {",
            "        listen 127.0.0.1:" + port + " ssl backlog=1024;",
            "        ssl_protocols TLSv1.2 TLSv1.3;",
            "        ssl_session_cache off;",
            "        ssl_session_tickets off;",
            "        " + certificateLines,
            "        location / { return 200 \"ok\\n\"; }",
            "    }",
            "}",
            ""));
        String version = versionOf(nginx);
        Jvm process = Jvm.launch(config.logDir, name, List.of(nginx.toString(), "-p", dir.toString(), "-c", conf.toString(), "-e", dir.resolve("logs/error.log").toString()), dir);
        long deadline = System.currentTimeMillis() + 10_000;
        while (true)
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            }
            catch (IOException x)
            {
                if (!process.process.isAlive() || System.currentTimeMillis() > deadline)
                {
                    String log = Files.exists(dir.resolve("logs/error.log")) ? Files.readString(dir.resolve("logs/error.log")) : "";
                    process.close();
                    throw new IllegalStateException(name + " did not listen on " + port + ": " + process.tail() + "\n" + log);
                }
                Thread.sleep(50);
            }
        }
        return new NginxServer(version, port, process, dir);
    }

    /** @return the master's pid and its workers' */
    List<Long> pids()
    {
        return ProcessCpu.withChildren(process.pid());
    }

    private static String versionOf(Path nginx) throws Exception
    {
        Process p = new ProcessBuilder(nginx.toString(), "-v").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor(10, TimeUnit.SECONDS);
        int slash = out.indexOf("nginx/");
        return slash < 0 ? out : out.substring(slash + "nginx/".length()).split("\\s")[0];
    }

    private static Path directory(String name) throws IOException
    {
        Path dir = Files.createTempDirectory("dynsni-bench-nginx-" + name + "-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        return dir;
    }

    private static void write(Path file, String text) throws IOException
    {
        Files.writeString(file, text, StandardCharsets.US_ASCII);
        file.toFile().setReadable(true, false);
    }

    @Override
    public void close()
    {
        // SIGTERM to the master: a fast shutdown that ends its workers too
        process.close();
        try (var files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (IOException x)
        {
            Bench.log("cannot delete %s: %s", dir, x);
        }
    }
}
