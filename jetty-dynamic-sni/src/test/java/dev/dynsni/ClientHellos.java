package dev.dynsni;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * Builds ClientHellos for parser tests: hand-crafted ones field by field, and real ones from the
 * JDK's own client {@link SSLEngine}; reads the captured corpus under {@code clienthello/}.
 */
final class ClientHellos
{
    static final String CORPUS = "/clienthello/";

    private ClientHellos()
    {
    }

    /** A well-formed ClientHello body with the given extensions (null: no extensions block at all). */
    static byte[] body(List<byte[]> extensions)
    {
        return body(new int[]{0x1301, 0xC02B}, extensions);
    }

    /** A well-formed ClientHello body offering the given cipher suites, with the given extensions. */
    static byte[] body(int[] cipherSuites, List<byte[]> extensions)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(3);
        out.write(3);
        out.writeBytes(new byte[32]);
        out.write(32);
        out.writeBytes(filled(32, 0x5A));
        u16(out, 2 * cipherSuites.length);
        for (int suite : cipherSuites)
        {
            u16(out, suite);
        }
        out.write(1);
        out.write(0);
        if (extensions != null)
        {
            ByteArrayOutputStream ext = new ByteArrayOutputStream();
            extensions.forEach(ext::writeBytes);
            u16(out, ext.size());
            out.writeBytes(ext.toByteArray());
        }
        return out.toByteArray();
    }

    static byte[] extension(int type, byte[] data)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        u16(out, type);
        u16(out, data.length);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** A server_name extension with one entry per name; type 0 (host_name) unless given as "type:name". */
    static byte[] serverName(String... names)
    {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (String name : names)
        {
            int type = 0;
            String value = name;
            int colon = name.indexOf(':');
            if (colon > 0 && name.substring(0, colon).chars().allMatch(Character::isDigit))
            {
                type = Integer.parseInt(name.substring(0, colon));
                value = name.substring(colon + 1);
            }
            byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
            list.write(type);
            u16(list, bytes.length);
            list.writeBytes(bytes);
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        u16(data, list.size());
        data.writeBytes(list.toByteArray());
        return extension(0, data.toByteArray());
    }

    /** A signature_algorithms extension listing the given scheme codes. */
    static byte[] signatureAlgorithms(int... schemes)
    {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        u16(data, 2 * schemes.length);
        for (int scheme : schemes)
        {
            u16(data, scheme);
        }
        return extension(0x000D, data.toByteArray());
    }

    /** A supported_versions extension listing the given versions (0x0304: TLS 1.3). */
    static byte[] supportedVersions(int... versions)
    {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.write(2 * versions.length);
        for (int version : versions)
        {
            u16(data, version);
        }
        return extension(0x002B, data.toByteArray());
    }

    /** An ALPN extension listing the given protocols. */
    static byte[] alpn(String... protocols)
    {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (String protocol : protocols)
        {
            byte[] bytes = protocol.getBytes(StandardCharsets.ISO_8859_1);
            list.write(bytes.length);
            list.writeBytes(bytes);
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        u16(data, list.size());
        data.writeBytes(list.toByteArray());
        return extension(0x0010, data.toByteArray());
    }

    /** A typical set of other extensions around the SNI one. */
    static List<byte[]> withSni(String host)
    {
        List<byte[]> extensions = new ArrayList<>();
        extensions.add(extension(0x000A, new byte[]{0, 4, 0, 0x1D, 0, 0x17}));
        extensions.add(serverName(host));
        extensions.add(extension(0x002B, new byte[]{4, 3, 4, 3, 3}));
        extensions.add(extension(0x0010, new byte[]{0, 3, 2, 'h', '2'}));
        return extensions;
    }

    /** The handshake message: type, 24-bit length, body. */
    static byte[] handshake(int type, byte[] body)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(type);
        out.write(body.length >>> 16);
        out.write(body.length >>> 8);
        out.write(body.length);
        out.writeBytes(body);
        return out.toByteArray();
    }

    static byte[] clientHello(List<byte[]> extensions)
    {
        return handshake(1, body(extensions));
    }

    /** The message in one handshake record. */
    static byte[] records(byte[] message)
    {
        return records(message, message.length);
    }

    /** The message in handshake records of at most fragment bytes each. */
    static byte[] records(byte[] message, int fragment)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < message.length; i += fragment)
        {
            int n = Math.min(fragment, message.length - i);
            record(out, 22, 0x0301, Arrays.copyOfRange(message, i, i + n));
        }
        return out.toByteArray();
    }

    /** The message in handshake records with the given fragment sizes (the last one takes the rest). */
    static byte[] recordsSplit(byte[] message, int... sizes)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        for (int size : sizes)
        {
            int n = Math.min(size, message.length - i);
            if (n <= 0)
                break;
            record(out, 22, 0x0301, Arrays.copyOfRange(message, i, i + n));
            i += n;
        }
        if (i < message.length)
            record(out, 22, 0x0301, Arrays.copyOfRange(message, i, message.length));
        return out.toByteArray();
    }

    static void record(ByteArrayOutputStream out, int type, int version, byte[] fragment)
    {
        out.write(type);
        u16(out, version);
        u16(out, fragment.length);
        out.writeBytes(fragment);
    }

    static byte[] concat(byte[]... parts)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** The first flight of a real JDK client engine: its ClientHello record(s). */
    static byte[] jdk(String sni, String... protocols)
    {
        try
        {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, null, null);
            SSLEngine engine = context.createSSLEngine("peer.invalid", 443);
            engine.setUseClientMode(true);
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            parameters.setApplicationProtocols(new String[]{"h2", "http/1.1"});
            if (protocols.length > 0)
                parameters.setProtocols(protocols);
            engine.setSSLParameters(parameters);
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            engine.wrap(ByteBuffer.allocate(0), out);
            out.flip();
            byte[] bytes = new byte[out.remaining()];
            out.get(bytes);
            return bytes;
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    /** A captured ClientHello from the test resources. */
    static byte[] corpus(String file)
    {
        try (InputStream in = ClientHellos.class.getResourceAsStream(CORPUS + file))
        {
            if (in == null)
                throw new IllegalArgumentException("no corpus file " + file);
            return in.readAllBytes();
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
    }

    static byte[] filled(int n, int value)
    {
        byte[] bytes = new byte[n];
        Arrays.fill(bytes, (byte)value);
        return bytes;
    }

    private static void u16(ByteArrayOutputStream out, int value)
    {
        out.write(value >>> 8);
        out.write(value);
    }
}
