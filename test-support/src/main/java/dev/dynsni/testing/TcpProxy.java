package dev.dynsni.testing;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy for fault injection: forwards to a target; {@link #cut()} drops every
 * connection and refuses new ones (the service looks unreachable), {@link #restore()} undoes it;
 * {@link #setDelayMillis(long)} adds latency to every chunk forwarded in either direction.
 * One thread per direction per connection: for tests, not for load.
 */
public final class TcpProxy implements Closeable
{
    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;
    private volatile long delayMillis;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicLong connections = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong bytesToTarget = new java.util.concurrent.atomic.AtomicLong();

    public TcpProxy(InetSocketAddress target) throws IOException
    {
        this.target = target;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "tcp-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port()
    {
        return server.getLocalPort();
    }

    public void setDelayMillis(long delayMillis)
    {
        this.delayMillis = delayMillis;
    }

    /** Drops every open connection and refuses new ones until {@link #restore()}. */
    public void cut()
    {
        cut = true;
        for (Socket socket : sockets)
        {
            closeQuietly(socket);
        }
        sockets.clear();
    }

    public void restore()
    {
        cut = false;
    }

    private void accept()
    {
        while (!closed)
        {
            try
            {
                Socket client = server.accept();
                if (cut)
                {
                    client.setSoLinger(true, 0);
                    closeQuietly(client);
                    continue;
                }
                Socket upstream = new Socket();
                try
                {
                    upstream.connect(target, 2000);
                }
                catch (IOException x)
                {
                    closeQuietly(client);
                    continue;
                }
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(upstream);
                connections.incrementAndGet();
                pipe(client, upstream, bytesToTarget);
                pipe(upstream, client, null);
            }
            catch (IOException x)
            {
                if (closed)
                    return;
            }
        }
    }

    private void pipe(Socket from, Socket to, java.util.concurrent.atomic.AtomicLong counted)
    {
        Thread thread = new Thread(() ->
        {
            byte[] buffer = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream())
            {
                int read;
                while ((read = in.read(buffer)) >= 0)
                {
                    long delay = delayMillis;
                    if (delay > 0)
                        TestServices.sleep(delay);
                    if (cut)
                        break;
                    out.write(buffer, 0, read);
                    out.flush();
                    if (counted != null)
                        counted.addAndGet(read);
                }
            }
            catch (IOException ignored)
            {
                // the other side went away
            }
            finally
            {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }, "tcp-proxy-pipe");
        thread.setDaemon(true);
        thread.start();
    }

    /** @return connections let through to the target so far */
    public long connections()
    {
        return connections.get();
    }

    /** @return bytes clients sent the target so far: 0 means the target was asked nothing */
    public long bytesToTarget()
    {
        return bytesToTarget.get();
    }

    @Override
    public void close()
    {
        closed = true;
        closeQuietly(server);
        cut();
    }

    private static void closeQuietly(Closeable closeable)
    {
        try
        {
            closeable.close();
        }
        catch (IOException ignored)
        {
            // closing
        }
    }
}
