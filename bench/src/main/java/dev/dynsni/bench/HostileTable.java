package dev.dynsni.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * Table 10: hostile ClientHellos against a dynamic node (SNI prefetch on, as shipped).
 *
 * <p><b>CPU per connection.</b> One client sends the same real ClientHello (a JDK client's, TLS 1.3,
 * SNI of a stored tenant held in L1) on {@code HOSTILE_CONNECTIONS} connections, one after the
 * other, either in one record written at once or re-framed as 1-byte TLS records written one byte
 * per write (TCP_NODELAY); it reads the server's first flight (ServerHello to Finished: the key
 * exchange and the signature are done by then) and closes. The server's CPU is the server
 * process' own CPU time (its threads' user and system time from /proc, the JIT compiler threads
 * left out: a young JVM's one-time work), less its idle rate measured just before, divided by the
 * connections; the modes are interleaved over {@code BENCH_RUNS} rounds, median reported.</p>
 *
 * <p><b>Stalled connections.</b> {@code HOSTILE_STALLED} connections of each shape are opened at
 * once and never completed; the table gives the longest time from connect to the server's close,
 * against the target of the handshake deadline ({@code HOSTILE_DEADLINE_MILLIS}, the server's
 * {@code prefetch.handshakeTimeoutMillis}) plus 1 s.</p>
 */
final class HostileTable
{
    private final BenchContext context;
    private final BenchConfig config;

    HostileTable(BenchContext context)
    {
        this.context = context;
        this.config = context.config;
    }

    String run() throws Exception
    {
        String schema = context.tenantSchema();
        String host = BenchData.tenant(0);
        byte[] hello = clientHello(host);
        byte[] message = Arrays.copyOfRange(hello, 5, 5 + (((hello[3] & 0xFF) << 8) | (hello[4] & 0xFF)));
        byte[] oneByteRecords = records(message, 1);
        List<String> args = new ArrayList<>(List.of("--mode", "dynamic", "--jdbc-url", config.jdbcUrl, "--schema", schema, "--cache", "10000",
            "--redis", config.redisAddress, "--prefix", context.redisPrefix("hostile"), "--handshake-timeout-millis", Long.toString(config.hostileDeadlineMillis)));
        StringBuilder out = new StringBuilder();
        out.append("## 10. Hostile ClientHellos\n\n");
        try (ServerProcess server = ServerProcess.start(config, "server-hostile", args))
        {
            server.prefetch(0, 1);
            // warm up every path (JIT) before measuring, then interleave the modes over BENCH_RUNS rounds
            for (int i = 0; i < 2; i++)
            {
                cpuPerConnection(server, hello, false, Math.max(5, config.hostileConnections));
                cpuPerConnection(server, oneByteRecords, true, Math.max(5, config.hostileConnections / 2));
                cpuPerConnection(server, oneByteRecords, false, Math.max(5, config.hostileConnections / 2));
            }
            List<double[]> normals = new ArrayList<>();
            List<double[]> trickles = new ArrayList<>();
            List<double[]> framings = new ArrayList<>();
            for (int round = 0; round < Math.max(1, config.runs); round++)
            {
                normals.add(cpuPerConnection(server, hello, false, config.hostileConnections));
                trickles.add(cpuPerConnection(server, oneByteRecords, true, config.hostileConnections));
                framings.add(cpuPerConnection(server, oneByteRecords, false, config.hostileConnections));
            }
            double[] normal = median(normals);
            double[] trickled = median(trickles);
            double[] framedOnly = median(framings);
            double ratio = trickled[0] / normal[0];
            out.append(String.format(Locale.ROOT, "Server CPU per connection, from the server process' CPU time (its threads' user + system time from /proc, JIT compiler threads excluded, idle rate subtracted): median of %d rounds, the modes interleaved, "
                + "%d connections per mode and round, one at a time, after a warm-up of every mode; the client sends a real TLS 1.3 ClientHello (%d bytes, SNI of a stored tenant in L1), "
                + "reads the server's first flight and closes. Rounds of the 1-byte mode, server CPU per connection: %s.%n%n",
                Math.max(1, config.runs), config.hostileConnections, hello.length, rounds(trickles)));
            out.append("| ClientHello sent as | bytes on the wire | writes | server CPU per connection | of which user / system | client time per connection | vs one record | target |\n");
            out.append("|---|---:|---:|---:|---:|---:|---:|---|\n");
            out.append(String.format(Locale.ROOT, "| one record, one write | %d | 1 | %.2f ms | %.1f / %.1f ms | %.2f ms | 1.00x | |%n", hello.length, normal[0], normal[2], normal[3], normal[1]));
            out.append(String.format(Locale.ROOT, "| 1-byte records, one byte per write | %d | %d | %.2f ms | %.1f / %.1f ms | %.2f ms | %.2fx | within 2x: %s |%n",
                oneByteRecords.length, oneByteRecords.length, trickled[0], trickled[2], trickled[3], trickled[1], ratio, ratio <= 2.0 ? "**met**" : "**missed**"));
            out.append(String.format(Locale.ROOT, "| 1-byte records, one write (the framing alone) | %d | 1 | %.2f ms | %.1f / %.1f ms | %.2f ms | %.2fx | |%n",
                oneByteRecords.length, framedOnly[0], framedOnly[2], framedOnly[3], framedOnly[1], framedOnly[0] / normal[0]));
            out.append('\n');

            List<Shape> shapes = shapes(hello, message);
            out.append(String.format(Locale.ROOT, "Stalled pre-handshake connections: %d of each shape opened at once and never completed; handshake deadline %d ms "
                + "(`prefetch.handshakeTimeoutMillis`), Jetty's idle timeout 30 s. Life = connect to the server's close.%n%n", config.hostileStalled, config.hostileDeadlineMillis));
            out.append("| shape | longest life | shortest life | target (deadline + 1 s) |\n");
            out.append("|---|---:|---:|---|\n");
            // every shape at once: the table takes one deadline, not one per shape
            ExecutorService threads = Executors.newCachedThreadPool(r ->
            {
                Thread thread = new Thread(r, "hostile-client");
                thread.setDaemon(true);
                return thread;
            });
            List<List<Future<Long>>> started = new ArrayList<>();
            try
            {
                for (Shape shape : shapes)
                    started.add(stall(server, shape, threads));
            }
            finally
            {
                threads.shutdown();
            }
            for (int s = 0; s < shapes.size(); s++)
            {
                Shape shape = shapes.get(s);
                long[] lives = new long[started.get(s).size()];
                for (int i = 0; i < lives.length; i++)
                    lives[i] = started.get(s).get(i).get(90, TimeUnit.SECONDS);
                long longest = Arrays.stream(lives).max().orElse(-1);
                long shortest = Arrays.stream(lives).min().orElse(-1);
                boolean met = longest >= 0 && longest <= config.hostileDeadlineMillis + 1000;
                out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", shape.name, life(longest), life(shortest), met ? "**met**" : "**missed**"));
            }
        }
        out.append("\nRerun: `").append(config.rerun("hostile", "HOSTILE_CONNECTIONS", "HOSTILE_STALLED", "HOSTILE_DEADLINE_MILLIS", "RUNS", "TENANTS")).append("`\n");
        return out.toString();
    }

    /** @return per column, the median over the rounds */
    private static double[] median(List<double[]> rounds)
    {
        double[] result = new double[rounds.get(0).length];
        for (int k = 0; k < result.length; k++)
        {
            int column = k;
            double[] values = rounds.stream().mapToDouble(r -> r[column]).sorted().toArray();
            result[k] = values[values.length / 2];
        }
        return result;
    }

    private static String rounds(List<double[]> rounds)
    {
        StringBuilder text = new StringBuilder();
        for (double[] r : rounds)
            text.append(text.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f ms", r[0]));
        return text.toString();
    }

    private static String life(long millis)
    {
        return millis < 0 ? "not closed within 60 s" : String.format(Locale.ROOT, "%.2f s", millis / 1000.0);
    }

    /** @return {server CPU ms per connection, client wall ms per connection, user ms, system ms (-1 when unknown)} */
    private double[] cpuPerConnection(ServerProcess server, byte[] bytes, boolean bytePerWrite, int connections) throws Exception
    {
        double[] idlePerNano = idleRate(server);
        long[] before = cpuNanos(server);
        long start = System.nanoTime();
        for (int i = 0; i < connections; i++)
            exchange(server, bytes, bytePerWrite);
        long elapsed = System.nanoTime() - start;
        long[] after = cpuNanos(server);
        double[] result = new double[4];
        result[1] = elapsed / 1e6 / connections;
        for (int k = 0; k < 3; k++)
        {
            double cpu = after[k] < 0 ? -1 : after[k] - before[k] - idlePerNano[k] * elapsed;
            result[k == 0 ? 0 : k + 1] = cpu < 0 && after[k] < 0 ? -1 : cpu / 1e6 / connections;
        }
        return result;
    }

    /** @return the server's CPU nanoseconds (total, user, system) per wall nanosecond while nobody connects */
    private static double[] idleRate(ServerProcess server) throws Exception
    {
        long[] cpu = cpuNanos(server);
        long start = System.nanoTime();
        Thread.sleep(1000);
        long[] after = cpuNanos(server);
        double wall = System.nanoTime() - start;
        double[] rate = new double[3];
        for (int k = 0; k < 3; k++)
            rate[k] = Math.max(0, (after[k] - cpu[k]) / wall);
        return rate;
    }

    /**
     * @return the server process' CPU time, JIT compiler threads excluded (one-time work of a young
     *     JVM, not a cost per connection): total, user, system, in ns; from /proc/PID/task/TID/stat
     *     (utime and stime, fields 14 and 15, in clock ticks of 10 ms); without /proc, the whole
     *     process' total and -1
     */
    private static long[] cpuNanos(ServerProcess server)
    {
        Path tasks = Path.of("/proc", Long.toString(server.pid()), "task");
        try (java.util.stream.Stream<Path> threads = Files.list(tasks))
        {
            long user = 0;
            long system = 0;
            for (Path thread : (Iterable<Path>)threads::iterator)
            {
                String stat;
                try
                {
                    stat = Files.readString(thread.resolve("stat"));
                }
                catch (IOException x)
                {
                    continue; // the thread ended
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre"))
                    continue;
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                user += Long.parseLong(fields[11]) * 10_000_000L;
                system += Long.parseLong(fields[12]) * 10_000_000L;
            }
            return new long[]{user + system, user, system};
        }
        catch (IOException | RuntimeException x)
        {
            long total = ProcessHandle.of(server.pid()).flatMap(p -> p.info().totalCpuDuration()).map(Duration::toNanos)
                .orElseThrow(() -> new IllegalStateException("no CPU time for the server process " + server.pid() + " (still alive: " + ProcessHandle.of(server.pid()).map(ProcessHandle::isAlive).orElse(false) + ")"));
            return new long[]{total, -1, -1};
        }
    }

    /** Sends the bytes, waits for the server's first bytes, closes. */
    private static void exchange(ServerProcess server, byte[] bytes, boolean bytePerWrite) throws IOException
    {
        try (Socket socket = new Socket("127.0.0.1", server.tlsPort))
        {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(10_000);
            OutputStream output = socket.getOutputStream();
            if (bytePerWrite)
            {
                for (byte b : bytes)
                {
                    output.write(b);
                    output.flush();
                }
            }
            else
            {
                output.write(bytes);
                output.flush();
            }
            byte[] header = socket.getInputStream().readNBytes(7);
            if (header.length < 5)
                throw new IOException("the server closed without answering the ClientHello");
            // a handshake record (the ServerHello), not an alert: the server did the handshake's work
            if (header[0] != 22)
                throw new IOException("the server answered with record type " + header[0] + (header[0] == 21 && header.length == 7 ? ", alert " + header[6] : ""));
        }
    }

    private record Shape(String name, byte[] bytes, boolean trickle)
    {
    }

    private static List<Shape> shapes(byte[] hello, byte[] message)
    {
        List<Shape> shapes = new ArrayList<>();
        shapes.add(new Shape("connects, sends nothing", new byte[0], false));
        shapes.add(new Shape("half a ClientHello", Arrays.copyOf(hello, hello.length / 2), false));
        shapes.add(new Shape("ClientHello trickled one byte per second", hello, true));
        shapes.add(new Shape("record header announcing 16 KiB, then nothing", new byte[]{22, 3, 1, 0x40, 0x00}, false));
        shapes.add(new Shape("handshake header announcing 64 KiB (over the JDK's limit)", new byte[]{22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00}, false));
        byte[] around = new byte[5 + 16384];
        around[0] = 22;
        around[1] = 3;
        around[2] = 1;
        around[3] = 0x40;
        System.arraycopy(message, 0, around, 5, message.length);
        shapes.add(new Shape("16 KiB record around a small ClientHello, cut after it", Arrays.copyOf(around, 5 + message.length + 100), false));
        shapes.add(new Shape("SSLv2-style header, cut", new byte[]{(byte)0x80, 0x2E, 0x01, 0x03, 0x01, 0x00, 0x15}, false));
        shapes.add(new Shape("whole ClientHello, then silence", hello, false));
        shapes.add(new Shape("plain HTTP request line, unfinished", "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII), false));
        return shapes;
    }

    /** @return the life of each connection of the shape, ms (-1 for one still open after 60 s), once they end */
    private List<Future<Long>> stall(ServerProcess server, Shape shape, ExecutorService threads)
    {
        List<Future<Long>> lives = new ArrayList<>();
        for (int i = 0; i < config.hostileStalled; i++)
        {
            lives.add(threads.submit(() ->
            {
                long start = System.nanoTime();
                try (Socket socket = new Socket("127.0.0.1", server.tlsPort))
                {
                    socket.setTcpNoDelay(true);
                    socket.setSoTimeout(60_000);
                    OutputStream output = socket.getOutputStream();
                    if (shape.trickle)
                    {
                        Thread trickle = new Thread(() ->
                        {
                            try
                            {
                                for (byte b : shape.bytes)
                                {
                                    output.write(b);
                                    output.flush();
                                    Thread.sleep(1000);
                                }
                            }
                            catch (IOException | InterruptedException x)
                            {
                                // closed by the server
                            }
                        }, "hostile-trickle");
                        trickle.setDaemon(true);
                        trickle.start();
                    }
                    else
                    {
                        output.write(shape.bytes);
                        output.flush();
                    }
                    InputStream input = socket.getInputStream();
                    byte[] buffer = new byte[8192];
                    try
                    {
                        while (input.read(buffer) >= 0)
                        {
                            // the server's answer, if any: keep reading until it closes
                        }
                    }
                    catch (SocketTimeoutException x)
                    {
                        return -1L;
                    }
                    catch (IOException x)
                    {
                        // reset: closed
                    }
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                }
            }));
        }
        return lives;
    }

    /** A real client's first flight: its ClientHello record. */
    static byte[] clientHello(String sni) throws Exception
    {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine(sni, 443);
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(sni)));
        parameters.setApplicationProtocols(new String[]{"h2", "http/1.1"});
        engine.setSSLParameters(parameters);
        ByteBuffer buffer = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), buffer);
        buffer.flip();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /** The handshake message in handshake records of at most {@code fragment} bytes. */
    static byte[] records(byte[] message, int fragment)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < message.length; i += fragment)
        {
            int n = Math.min(fragment, message.length - i);
            out.write(22);
            out.write(3);
            out.write(1);
            out.write(n >>> 8);
            out.write(n);
            out.write(message, i, n);
        }
        return out.toByteArray();
    }
}
