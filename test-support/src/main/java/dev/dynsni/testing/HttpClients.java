package dev.dynsni.testing;

import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpClientTransport;
import org.eclipse.jetty.client.transport.HttpClientConnectionFactory;
import org.eclipse.jetty.client.transport.HttpClientTransportDynamic;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.ClientConnectionFactoryOverHTTP2;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * HTTP clients over TLS for tests, next to {@link TlsClient}: Jetty's {@code HttpClient}, and
 * curl and openssl as processes.
 *
 * <p>The Jetty client needs {@code jetty-client}, {@code jetty-http2-client-transport} and
 * {@code jetty-alpn-java-client} on the test class path: this module declares them optional, so
 * the modules that use it declare them too (and the Jetty-free ones stay so).</p>
 */
public final class HttpClients
{
    private HttpClients()
    {
    }

    /** Which HTTP versions a {@link Jetty} client speaks. */
    public enum Versions
    {
        /** h2 or http/1.1, as ALPN agrees */
        ALPN,
        /** h2 only */
        HTTP_2,
        /** http/1.1 only */
        HTTP_1_1
    }

    /**
     * Jetty's {@code HttpClient}: resolves every host name to the loopback address (the name stays
     * the SNI and is checked against the certificate), trusts the given trust store only, and
     * records the leaf certificate each TLS handshake received, by SNI host.
     */
    public static final class Jetty implements AutoCloseable
    {
        private final HttpClient client;
        private final Map<String, X509Certificate> peerLeaf = new ConcurrentHashMap<>();

        /** A started client offering h2 and http/1.1 by ALPN. */
        public Jetty(KeyStore trustStore) throws Exception
        {
            this(trustStore, Versions.ALPN);
        }

        /** A started client speaking the given HTTP versions. */
        public Jetty(KeyStore trustStore, Versions versions) throws Exception
        {
            SslContextFactory.Client tls = new SslContextFactory.Client();
            tls.setTrustStore(trustStore);
            ClientConnector connector = new ClientConnector();
            connector.setSslContextFactory(tls);
            HttpClientTransport transport = switch (versions)
            {
                case ALPN -> new HttpClientTransportDynamic(connector, new ClientConnectionFactoryOverHTTP2.HTTP2(new HTTP2Client(connector)), HttpClientConnectionFactory.HTTP11);
                case HTTP_2 -> new HttpClientTransportOverHTTP2(new HTTP2Client(connector));
                case HTTP_1_1 -> new HttpClientTransportOverHTTP(connector);
            };
            client = new HttpClient(transport);
            client.setSocketAddressResolver((host, port, context, promise) ->
            {
                try
                {
                    // keep the name as the address's host string: the TLS client takes the SNI from it
                    promise.succeeded(List.of(new InetSocketAddress(InetAddress.getByAddress(host, new byte[]{127, 0, 0, 1}), port)));
                }
                catch (Exception x)
                {
                    promise.failed(x);
                }
            });
            client.addBean(new SslHandshakeListener()
            {
                @Override
                public void handshakeSucceeded(Event event) throws SSLException
                {
                    SSLEngine engine = event.getSSLEngine();
                    Certificate[] chain = engine.getSession().getPeerCertificates();
                    peerLeaf.put(engine.getPeerHost(), (X509Certificate)chain[0]);
                }
            });
            client.start();
        }

        public HttpClient client()
        {
            return client;
        }

        /** @return the leaf certificate the last handshake with this SNI host received, or null */
        public X509Certificate peerLeaf(String host)
        {
            return peerLeaf.get(host);
        }

        @Override
        public void close() throws Exception
        {
            client.stop();
        }
    }

    /** What a process printed and how it exited. */
    public record Output(int exitCode, String stdout)
    {
    }

    /**
     * Runs a command, feeding it no input, and returns its exit code and output (stderr merged).
     *
     * @throws IllegalStateException when it does not finish within 30 s
     */
    public static Output run(List<String> command) throws Exception
    {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish in 30 s");
        }
        return new Output(process.exitValue(), output);
    }

    /** @return a curl command for {@code https://host:port/path} that trusts the CA file and resolves the host to 127.0.0.1 */
    public static List<String> curl(String caFile, String host, int port, String path, String... options)
    {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "--cacert", caFile, "--resolve", host + ":" + port + ":127.0.0.1"));
        command.addAll(List.of(options));
        command.add("https://" + host + ":" + port + path);
        return command;
    }

    /** @return the string value of a top-level or nested JSON field (a flat format, as the demo's), or null */
    public static String json(String body, String field)
    {
        Matcher matcher = Pattern.compile("\"" + Pattern.quote(field) + "\":\"([^\"]*)\"").matcher(body);
        return matcher.find() ? matcher.group(1) : null;
    }
}
