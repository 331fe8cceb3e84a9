package dev.dynsni.it;

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

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientConnectionFactory;
import org.eclipse.jetty.client.transport.HttpClientTransportDynamic;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.ClientConnectionFactoryOverHTTP2;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import static org.junit.jupiter.api.Assertions.fail;

/** Real clients: Jetty's HttpClient (h2 or http/1.1 by ALPN), curl and openssl processes. */
final class Clients
{
    private Clients()
    {
    }

    /**
     * A Jetty HttpClient that offers h2 and http/1.1 by ALPN, resolves every host to the loopback
     * address (SNI stays the host name), trusts the test CA only, and records the leaf certificate
     * each TLS handshake received, by SNI host.
     */
    static final class Jetty implements AutoCloseable
    {
        final HttpClient client;
        final Map<String, X509Certificate> peerLeaf = new ConcurrentHashMap<>();

        Jetty(KeyStore trustStore) throws Exception
        {
            SslContextFactory.Client tls = new SslContextFactory.Client();
            tls.setTrustStore(trustStore);
            ClientConnector connector = new ClientConnector();
            connector.setSslContextFactory(tls);
            HTTP2Client http2Client = new HTTP2Client(connector);
            HttpClientTransportDynamic transport = new HttpClientTransportDynamic(connector, new ClientConnectionFactoryOverHTTP2.HTTP2(http2Client), HttpClientConnectionFactory.HTTP11);
            client = new HttpClient(transport);
            client.setSocketAddressResolver((host, port, context, promise) ->
            {
                try
                {
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
                public void handshakeSucceeded(Event event) throws javax.net.ssl.SSLException
                {
                    SSLEngine engine = event.getSSLEngine();
                    Certificate[] chain = engine.getSession().getPeerCertificates();
                    peerLeaf.put(engine.getPeerHost(), (X509Certificate)chain[0]);
                }
            });
            client.start();
        }

        @Override
        public void close() throws Exception
        {
            client.stop();
        }
    }

    record Output(int exitCode, String stdout)
    {
    }

    /** Runs a command, feeding it no input, and returns its exit code and output (stderr merged). */
    static Output run(List<String> command) throws Exception
    {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in 30 s");
        }
        return new Output(process.exitValue(), output);
    }

    static List<String> curl(String caFile, String host, int port, String path, String... options)
    {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "--cacert", caFile, "--resolve", host + ":" + port + ":127.0.0.1"));
        command.addAll(List.of(options));
        command.add("https://" + host + ":" + port + path);
        return command;
    }

    /** @return the string value of a top-level or nested JSON field (the demo's flat format), or null */
    static String json(String body, String field)
    {
        Matcher matcher = Pattern.compile("\"" + Pattern.quote(field) + "\":\"([^\"]*)\"").matcher(body);
        return matcher.find() ? matcher.group(1) : null;
    }
}
