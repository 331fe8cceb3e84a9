package dev.dynsni;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Captures the first bytes real TLS clients send (their ClientHello) into the parser's test corpus:
 * for each client, listens on a loopback port, runs the client against it, saves what arrived until
 * the ClientHello is complete, and closes the connection (the client then fails, as intended).
 * Writes {@code NAME.bin} files and {@code index.txt} (file, expected parser answer from the SNI the
 * client was told to send; not from the parser).
 *
 * <p>Run from the repository root:</p>
 * <pre>
 * mvn -B -q -pl test-support,jetty-dynamic-sni test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/dynsni-cp.txt
 * java -cp jetty-dynamic-sni/target/test-classes:jetty-dynamic-sni/target/classes:$(cat /tmp/dynsni-cp.txt) \
 *     dev.dynsni.ClientHelloCapture jetty-dynamic-sni/src/test/resources/clienthello
 * </pre>
 * <p>{@code curl} and {@code openssl} must be on the PATH; a client that is missing is skipped.</p>
 */
public final class ClientHelloCapture
{
    private ClientHelloCapture()
    {
    }

    private record Capture(String name, String sni, IntConsumer client)
    {
    }

    public static void main(String[] args) throws Exception
    {
        Path dir = Path.of(args.length > 0 ? args[0] : "jetty-dynamic-sni/src/test/resources/clienthello");
        Files.createDirectories(dir);
        List<Capture> captures = new ArrayList<>();
        captures.add(new Capture("curl-default", "curl.example.com", port -> run("curl", "-k", "-s", "--max-time", "3",
            "--resolve", "curl.example.com:" + port + ":127.0.0.1", "https://curl.example.com:" + port + "/")));
        captures.add(new Capture("curl-tls12-http1.1", "curl12.example.com", port -> run("curl", "-k", "-s", "--max-time", "3", "--http1.1",
            "--tlsv1.2", "--tls-max", "1.2", "--resolve", "curl12.example.com:" + port + ":127.0.0.1", "https://curl12.example.com:" + port + "/")));
        captures.add(new Capture("curl-ip-no-sni", null, port -> run("curl", "-k", "-s", "--max-time", "3", "https://127.0.0.1:" + port + "/")));
        captures.add(new Capture("openssl-s_client", "openssl.example.com", port -> run("openssl", "s_client", "-connect", "127.0.0.1:" + port,
            "-servername", "openssl.example.com", "-alpn", "h2,http/1.1")));
        captures.add(new Capture("openssl-s_client-tls12", "openssl12.example.com", port -> run("openssl", "s_client", "-connect", "127.0.0.1:" + port,
            "-servername", "openssl12.example.com", "-tls1_2")));
        captures.add(new Capture("openssl-s_client-noservername", null, port -> run("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-noservername")));
        captures.add(new Capture("jdk" + Runtime.version().feature() + "-sslsocket", "jdk.example.com", port -> jdk(port, "jdk.example.com", null)));
        captures.add(new Capture("jdk" + Runtime.version().feature() + "-sslsocket-tls12", "jdk12.example.com", port -> jdk(port, "jdk12.example.com", "TLSv1.2")));
        captures.add(new Capture("jetty-httpclient-http1.1", "jetty.example.com", port -> jetty(port, "jetty.example.com", false)));
        captures.add(new Capture("jetty-httpclient-h2", "jetty2.example.com", port -> jetty(port, "jetty2.example.com", true)));

        StringBuilder index = new StringBuilder("# file expected-parser-answer (from the SNI the client was told to send); written by ClientHelloCapture\n");
        for (Capture capture : captures)
        {
            byte[] bytes = capture(capture.client());
            if (bytes == null || bytes.length == 0)
            {
                System.err.println("skipped " + capture.name() + ": nothing captured");
                continue;
            }
            String file = capture.name() + ".bin";
            Files.write(dir.resolve(file), bytes);
            String expected = capture.sni() == null ? "NO_SNI" : "SNI(" + capture.sni() + ")";
            index.append(file).append(' ').append(expected).append('\n');
            System.err.println("captured " + file + " bytes=" + bytes.length + " expected=" + expected);
        }
        Files.writeString(dir.resolve("index.txt"), index.toString(), StandardCharsets.UTF_8);
    }

    /** Listens once, runs the client in the background, returns the bytes it sent up to a complete hello. */
    static byte[] capture(IntConsumer client) throws Exception
    {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            server.setSoTimeout(5000);
            int port = server.getLocalPort();
            CompletableFuture<Void> running = CompletableFuture.runAsync(() -> client.accept(port));
            try (Socket socket = server.accept())
            {
                socket.setSoTimeout(3000);
                InputStream in = socket.getInputStream();
                byte[] buffer = new byte[ClientHelloParser.DEFAULT_MAX_BYTES];
                int length = 0;
                while (length < buffer.length)
                {
                    int n = in.read(buffer, length, buffer.length - length);
                    if (n < 0)
                        break;
                    length += n;
                    if (ClientHelloParser.parse(ByteBuffer.wrap(buffer, 0, length), buffer.length).isFinal())
                        break;
                }
                return Arrays.copyOf(buffer, length);
            }
            finally
            {
                try
                {
                    running.get(10, TimeUnit.SECONDS);
                }
                catch (Exception ignored)
                {
                    // the client fails once the connection is closed: expected
                }
            }
        }
        catch (java.net.SocketTimeoutException x)
        {
            return null;
        }
    }

    private static void run(String... command)
    {
        try
        {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            process.getOutputStream().close();
            if (!process.waitFor(8, TimeUnit.SECONDS))
                process.destroyForcibly();
        }
        catch (IOException x)
        {
            System.err.println("cannot run " + command[0] + ": " + x.getMessage());
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static void jdk(int port, String sni, String protocol)
    {
        try
        {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, null, null);
            try (SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket())
            {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 3000);
                socket.setSoTimeout(3000);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setServerNames(List.of(new SNIHostName(sni)));
                parameters.setApplicationProtocols(new String[]{"h2", "http/1.1"});
                if (protocol != null)
                    parameters.setProtocols(new String[]{protocol});
                socket.setSSLParameters(parameters);
                socket.startHandshake();
            }
        }
        catch (Exception ignored)
        {
            // the capture server closes the connection
        }
    }

    private static void jetty(int port, String host, boolean h2)
    {
        SslContextFactory.Client ssl = new SslContextFactory.Client(true);
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(ssl);
        HttpClient client = new HttpClient(h2 ? new HttpClientTransportOverHTTP2(new HTTP2Client(connector)) : new HttpClientTransportOverHTTP(connector));
        client.setSocketAddressResolver(new SocketAddressResolver()
        {
            @Override
            public void resolve(String name, int p, java.util.Map<String, Object> context, Promise<List<InetSocketAddress>> promise)
            {
                try
                {
                    // keep the name as the address's host string: Jetty's client takes the SNI from it
                    promise.succeeded(List.of(new InetSocketAddress(InetAddress.getByAddress(name, new byte[]{127, 0, 0, 1}), p)));
                }
                catch (IOException x)
                {
                    promise.failed(x);
                }
            }
        });
        try
        {
            client.start();
            client.newRequest("https://" + host + ":" + port + "/").timeout(3, TimeUnit.SECONDS).send();
        }
        catch (Exception ignored)
        {
            // the capture server closes the connection
        }
        finally
        {
            try
            {
                client.stop();
            }
            catch (Exception ignored)
            {
                // stopping
            }
        }
    }
}
