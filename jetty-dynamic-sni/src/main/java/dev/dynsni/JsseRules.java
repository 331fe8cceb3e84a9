package dev.dynsni;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.StandardConstants;

/**
 * The points where JDK releases differ in how their TLS engine reads a ClientHello, as the running
 * engine answers them: {@link ClientHelloParser} follows these, so the prefetch reads the name the
 * engine of this JVM will read, on JDK 17 updates old and new and on later JDKs.
 *
 * @param emptyRecords            whether a zero-length handshake record is skipped (JDK 17; JDK 21+ refuse it)
 * @param duplicateExtensions     whether an extension type may appear twice, the last one counting
 *                                (JDK 17 before 17.0.16; later releases refuse the ClientHello)
 * @param maxHandshakeMessageSize the largest handshake message body read ({@code jdk.tls.maxHandshakeMessageSize})
 */
record JsseRules(boolean emptyRecords, boolean duplicateExtensions, int maxHandshakeMessageSize)
{
    /** JDK 17's current update (17.0.16 and later): what a parser without a probe follows. */
    static final JsseRules JDK_17 = new JsseRules(true, false, ClientHelloParser.DEFAULT_MAX_HANDSHAKE_MESSAGE_SIZE);

    /**
     * Asks fresh server engines (two small ClientHellos, no key exchange).
     *
     * @param engines new server-mode engines of the TLS context in use
     */
    static JsseRules probe(Supplier<SSLEngine> engines)
    {
        return new JsseRules(skipsEmptyRecord(engines.get()), acceptsDuplicateExtensions(engines.get()), ClientHelloParser.jsseMaxHandshakeMessageSize());
    }

    private static boolean skipsEmptyRecord(SSLEngine engine)
    {
        try
        {
            SSLEngineResult result = engine.unwrap(ByteBuffer.wrap(new byte[]{22, 3, 3, 0, 0}), ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()));
            return result.bytesConsumed() == 5 && result.getStatus() == SSLEngineResult.Status.OK;
        }
        catch (Exception x)
        {
            return false;
        }
        finally
        {
            engine.closeOutbound();
        }
    }

    /** Sends two server_name extensions; an engine that accepts them decodes the second. */
    private static boolean acceptsDuplicateExtensions(SSLEngine engine)
    {
        AtomicReference<String> seen = new AtomicReference<>();
        try
        {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setSNIMatchers(List.of(new SNIMatcher(StandardConstants.SNI_HOST_NAME)
            {
                @Override
                public boolean matches(SNIServerName name)
                {
                    seen.set(name instanceof SNIHostName host ? host.getAsciiName() : "");
                    return true;
                }
            }));
            engine.setSSLParameters(parameters);
            ByteBuffer in = ByteBuffer.wrap(twoServerNames());
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
            engine.unwrap(in, out);
            Runnable task;
            while ((task = engine.getDelegatedTask()) != null)
                task.run();
        }
        catch (Exception x)
        {
            // refused: see below
        }
        finally
        {
            engine.closeOutbound();
        }
        return "b.invalid".equals(seen.get());
    }

    private static byte[] twoServerNames()
    {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[]{3, 3});
        body.writeBytes(new byte[32]);
        body.write(0);
        body.writeBytes(new byte[]{0, 2, 0x13, 0x01, 1, 0});
        byte[] a = serverName("a.invalid");
        byte[] b = serverName("b.invalid");
        int extensions = a.length + b.length;
        body.write(extensions >>> 8);
        body.write(extensions);
        body.writeBytes(a);
        body.writeBytes(b);
        byte[] hello = body.toByteArray();
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        int message = hello.length + 4;
        record.writeBytes(new byte[]{22, 3, 1, (byte)(message >>> 8), (byte)message, 1, 0, (byte)(hello.length >>> 8), (byte)hello.length});
        record.writeBytes(hello);
        return record.toByteArray();
    }

    private static byte[] serverName(String host)
    {
        byte[] name = host.getBytes(StandardCharsets.US_ASCII);
        int list = name.length + 3;
        int data = list + 2;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[]{0, 0, (byte)(data >>> 8), (byte)data, (byte)(list >>> 8), (byte)list, 0, (byte)(name.length >>> 8), (byte)name.length});
        out.writeBytes(name);
        return out.toByteArray();
    }
}
