package dev.dynsni.admin;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

import dev.dynsni.core.RedisKeys;
import dev.dynsni.core.Secrets;

/**
 * A minimal blocking RESP2 client for the few commands the tool needs (PING, INFO, SCAN, DEL, EVAL),
 * with pipelining. The library reaches Redis through Redisson; a short-lived command does not need
 * Redisson's event loops and connection pools, and starts faster without them. Not thread-safe.
 */
final class RedisClient implements Closeable
{
    /** The library's invalidation: fence the name at {@code version}, then drop the cached value. */
    static final String INVALIDATE_SCRIPT = RedisKeys.INVALIDATE_SCRIPT;
    static final String FENCE_TTL_MILLIS = String.valueOf(RedisKeys.MIN_FENCE_TTL_MILLIS);

    private final String redactedUrl;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RedisClient(String redactedUrl, Socket socket) throws IOException
    {
        this.redactedUrl = redactedUrl;
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 65536);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 65536);
    }

    /**
     * @param url {@code redis://[user:password@]host:port[/db]} or {@code rediss://...}
     */
    static RedisClient connect(String url, int timeoutMillis)
    {
        String redacted = Secrets.redactUrl(url);
        URI uri;
        try
        {
            uri = URI.create(url);
        }
        catch (IllegalArgumentException x)
        {
            throw CliException.usage("Redis URL " + redacted + " does not parse: use redis://host:port");
        }
        String scheme = uri.getScheme();
        if (!"redis".equals(scheme) && !"rediss".equals(scheme) || uri.getHost() == null)
            throw CliException.usage("Redis URL " + redacted + " is not a Redis URL: use redis://host:port or rediss://host:port");
        int port = uri.getPort() > 0 ? uri.getPort() : 6379;
        Socket socket = null;
        try
        {
            socket = new Socket();
            socket.connect(new InetSocketAddress(uri.getHost(), port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis * 6);
            socket.setTcpNoDelay(true);
            if ("rediss".equals(scheme))
            {
                SSLSocket tls = (SSLSocket)((SSLSocketFactory)SSLSocketFactory.getDefault()).createSocket(socket, uri.getHost(), port, true);
                SSLParameters parameters = tls.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                parameters.setServerNames(List.of(new SNIHostName(uri.getHost())));
                tls.setSSLParameters(parameters);
                tls.startHandshake();
                socket = tls;
            }
            RedisClient client = new RedisClient(redacted, socket);
            String userInfo = uri.getRawUserInfo();
            if (userInfo != null && !userInfo.isEmpty())
            {
                int colon = userInfo.indexOf(':');
                String user = decode(colon < 0 ? "" : userInfo.substring(0, colon));
                String password = decode(colon < 0 ? userInfo : userInfo.substring(colon + 1));
                if (user.isEmpty())
                    client.command("AUTH", password);
                else
                    client.command("AUTH", user, password);
            }
            String path = uri.getPath();
            if (path != null && path.length() > 1)
                client.command("SELECT", path.substring(1));
            return client;
        }
        catch (IOException x)
        {
            closeQuietly(socket);
            throw CliException.unreachable("cannot connect to Redis at " + redacted + ": " + x.getMessage(), x);
        }
        catch (CliException x)
        {
            closeQuietly(socket);
            throw x;
        }
    }

    private static String decode(String s)
    {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    String redactedUrl()
    {
        return redactedUrl;
    }

    /** @return the reply: String, Long, null, or List of replies; an error reply throws */
    Object command(String... args)
    {
        return pipeline(List.<String[]>of(args)).get(0);
    }

    /** Sends all commands, then reads all replies. */
    List<Object> pipeline(List<String[]> commands)
    {
        try
        {
            for (String[] command : commands)
            {
                write(command);
            }
            out.flush();
            List<Object> replies = new ArrayList<>(commands.size());
            RedisError error = null;
            for (int i = 0; i < commands.size(); i++)
            {
                Object reply = read();
                if (reply instanceof RedisError e && error == null)
                    error = e;
                replies.add(reply);
            }
            if (error != null)
                throw CliException.unreachable("Redis at " + redactedUrl + " answered: " + error.message, null);
            return replies;
        }
        catch (IOException x)
        {
            throw CliException.unreachable("Redis at " + redactedUrl + " failed: " + x.getMessage(), x);
        }
    }

    /**
     * Drops the cached value of each name and fences out older writes, as a node does on a change.
     */
    void invalidate(String keyPrefix, List<String> names, List<Long> versions)
    {
        List<String[]> commands = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++)
        {
            commands.add(new String[]{"EVAL", INVALIDATE_SCRIPT, "2", RedisKeys.dataKey(keyPrefix, names.get(i)), RedisKeys.fenceKey(keyPrefix, names.get(i)),
                String.valueOf(versions.get(i)), FENCE_TTL_MILLIS});
            if (commands.size() == 1000)
            {
                pipeline(commands);
                commands.clear();
            }
        }
        if (!commands.isEmpty())
            pipeline(commands);
    }

    /**
     * SCANs the keys matching a glob and hands each page to {@code page}; stops when it returns false.
     */
    void scan(String match, java.util.function.Predicate<List<String>> page)
    {
        String cursor = "0";
        do
        {
            List<?> reply = (List<?>)command("SCAN", cursor, "MATCH", match, "COUNT", "1000");
            cursor = (String)reply.get(0);
            List<String> keys = new ArrayList<>();
            for (Object key : (List<?>)reply.get(1))
            {
                keys.add((String)key);
            }
            if (!page.test(keys))
                return;
        }
        while (!"0".equals(cursor));
    }

    /** @return the glob that matches exactly the keys starting with {@code prefix} */
    static String globPrefix(String prefix)
    {
        StringBuilder glob = new StringBuilder();
        for (char c : prefix.toCharArray())
        {
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
                glob.append('\\');
            glob.append(c);
        }
        return glob.append('*').toString();
    }

    private void write(String[] args) throws IOException
    {
        out.write('*');
        out.write(Integer.toString(args.length).getBytes(StandardCharsets.US_ASCII));
        out.write('\r');
        out.write('\n');
        for (String arg : args)
        {
            byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
            out.write('$');
            out.write(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
            out.write('\r');
            out.write('\n');
            out.write(bytes);
            out.write('\r');
            out.write('\n');
        }
    }

    private Object read() throws IOException
    {
        int type = in.read();
        if (type < 0)
            throw new EOFException("connection closed by Redis");
        String line = readLine();
        switch (type)
        {
            case '+':
                return line;
            case '-':
                return new RedisError(line);
            case ':':
                return Long.parseLong(line);
            case '$':
            {
                int length = Integer.parseInt(line);
                if (length < 0)
                    return null;
                byte[] bytes = in.readNBytes(length);
                if (bytes.length < length)
                    throw new EOFException("connection closed by Redis");
                readLine();
                return new String(bytes, StandardCharsets.UTF_8);
            }
            case '*':
            {
                int count = Integer.parseInt(line);
                if (count < 0)
                    return null;
                List<Object> items = new ArrayList<>(count);
                for (int i = 0; i < count; i++)
                {
                    items.add(read());
                }
                return items;
            }
            default:
                throw new IOException("unexpected RESP reply type '" + (char)type + "'");
        }
    }

    private String readLine() throws IOException
    {
        StringBuilder line = new StringBuilder();
        while (true)
        {
            int c = in.read();
            if (c < 0)
                throw new EOFException("connection closed by Redis");
            if (c == '\r')
            {
                in.read();
                return line.toString();
            }
            line.append((char)c);
        }
    }

    @Override
    public void close()
    {
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket)
    {
        if (socket == null)
            return;
        try
        {
            socket.close();
        }
        catch (IOException ignored)
        {
            // nothing to do
        }
    }

    private record RedisError(String message)
    {
    }
}
