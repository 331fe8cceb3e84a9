package dev.dynsni;

import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.dynsni.ClientHellos.concat;
import static dev.dynsni.ClientHellos.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The prefetch reads the name JSSE will ask the key manager for: every ClientHello here, generated
 * or captured, goes through {@link ClientHelloParser} and through a real JDK server {@link SSLEngine}
 * (unwrapped until its key manager is asked, it refuses, or it needs more bytes), and the answers
 * must agree:
 * <ul>
 *   <li>JSSE asks its key manager with SNI {@code N}: the parser says {@code SNI(N)};</li>
 *   <li>JSSE asks it without SNI: the parser says {@code NO_SNI};</li>
 *   <li>JSSE refuses before decoding a server name: the parser refuses too (MALFORMED, TOO_BIG,
 *   NOT_TLS), except for the refusals JSSE makes later than the ClientHello's decoding (version
 *   negotiation), for which the parser may answer NO_SNI (the connection then just costs no lookup);</li>
 *   <li>JSSE decoded a server name and refused afterwards: the parser says SNI of that name (one
 *   lookup for a handshake that fails) or refuses;</li>
 *   <li>JSSE needs more bytes: the parser says NEED_MORE.</li>
 * </ul>
 * The engine is the one running the test (JDK 17 in the build); the parser is configured as the
 * prefetch configures it for that engine ({@link JsseRules#probe}: zero-length records and repeated
 * extensions, which JDK releases treat differently).
 */
class JsseParityTest
{
    /** The rules of this JVM's engine, probed as the prefetch probes them at start. */
    private static final JsseRules RULES = JsseRules.probe(() -> serverEngine(new Capture()));

    static Stream<Arguments> hellos()
    {
        List<Arguments> cases = new ArrayList<>();
        // every hand-crafted case of the parser's own table
        ClientHelloParserTest.cases().forEach(a -> cases.add(Arguments.of("crafted: " + a.get()[0], a.get()[1])));
        // the captured corpus
        for (String file : CorpusFiles.names())
            cases.add(Arguments.of("captured: " + file, ClientHellos.corpus(file)));
        // real JDK ClientHellos, reshaped
        byte[] tls13 = ClientHellos.jdk("shop.example.com");
        byte[] message = message(tls13);
        cases.add(Arguments.of("jdk: TLS 1.3", tls13));
        cases.add(Arguments.of("jdk: TLS 1.2", ClientHellos.jdk("tls12.example.com", "TLSv1.2")));
        cases.add(Arguments.of("jdk: no SNI", ClientHellos.jdk(null)));
        cases.add(Arguments.of("jdk: one-byte records", records(message, 1)));
        cases.add(Arguments.of("jdk: zero-length record first", concat(new byte[]{22, 3, 3, 0, 0}, tls13)));
        cases.add(Arguments.of("jdk: zero-length records between", ClientHelloParserTest.zeroLengthBetween(message)));
        cases.add(Arguments.of("jdk: 16 KiB record around it", ClientHelloParserTest.sixteenKiBRecordAround(message)));
        for (int padding : new int[]{16_000, 20_000, 32_000, 32_700, 32_767, 33_000})
            cases.add(Arguments.of("jdk: padded by " + padding, records(withPadding(message, padding), 16384)));
        cases.add(Arguments.of("jdk: padded by 20000, 1000-byte records", records(withPadding(message, 20_000), 1000)));
        for (String name : new String[]{"Shop.Example.COM", "\uFF53\uFF48\uFF4F\uFF50.example.com", "b\u00fccher.example.com", "shop\uFF0Eexample.com",
            "\u0411\u0443\u043A\u0432\u044B.\u0440\u0444", "xn--bcher-kva.example.com", "a.b-c.example", "10.0.0.1", "ab--cd.example.com", "xn--zz.example.com",
            "shop.example.com.", "bad_name.example.com", "x", "\u00DF.example.com", "\u2488.example.com"})
        {
            cases.add(Arguments.of("jdk, UTF-8 name: " + name, records(withServerName(message, name.getBytes(StandardCharsets.UTF_8)))));
        }
        for (int alert : new int[]{0, 40, 90, 100, 112})
            cases.add(Arguments.of("jdk: warning alert " + alert + " first", concat(new byte[]{21, 3, 3, 0, 2, 1, (byte)alert}, tls13)));
        cases.add(Arguments.of("jdk: change_cipher_spec first", concat(new byte[]{20, 3, 3, 0, 1, 1}, tls13)));
        cases.add(Arguments.of("jdk: application data first", concat(new byte[]{23, 3, 3, 0, 1, 1}, tls13)));
        cases.add(Arguments.of("jdk: heartbeat first", concat(new byte[]{24, 3, 3, 0, 1, 1}, tls13)));
        cases.add(Arguments.of("jdk, invalid UTF-8 name", records(withServerName(message, new byte[]{'a', (byte)0xC3, '.', 'c', 'o', 'm'}))));
        cases.add(Arguments.of("jdk, 254-character name", records(withServerName(message, ("a".repeat(60) + ".").repeat(4).concat("abcdefghij").substring(0, 254).getBytes(StandardCharsets.US_ASCII)))));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hellos")
    void parserAndJsse_agreeOnTheName(String name, byte[] input)
    {
        ClientHelloParser parser = new ClientHelloParser(Integer.MAX_VALUE, RULES);
        ClientHelloParser.Result parsed = parser.resume(ByteBuffer.wrap(input));
        Jsse jsse = Jsse.run(input);
        if (parser.reframableLength() > 0)
        {
            // what the prefetch hands to TLS for a ClientHello in many records: the same, to JSSE
            ByteBuffer reframed = ByteBuffer.allocate(input.length);
            reframed.put(input).flip();
            assertTrue(parser.reframe(reframed) > 0, name);
            byte[] bytes = new byte[reframed.remaining()];
            reframed.get(bytes);
            Jsse again = Jsse.run(bytes);
            assertEquals(jsse.outcome + " " + jsse.name, again.outcome + " " + again.name, name + ": JSSE reads the reframed ClientHello alike");
        }
        String parsedText = parsed.toString();
        switch (jsse.outcome)
        {
            case KEY_MANAGER -> assertEquals(jsse.name == null ? "NO_SNI" : "SNI(" + jsse.name + ")", parsedText, name + ": JSSE asked the key manager");
            case NEEDS_MORE ->
            {
                // The parser may refuse from a record's first bytes where JSSE waits for the whole
                // record: given the rest (zeros), JSSE must refuse too.
                if (refusal(parsed))
                {
                    Jsse completed = Jsse.run(concat(input, new byte[1 << 16]));
                    assertTrue(completed.outcome == Jsse.Outcome.REFUSED, name + ": the parser refused early (" + parsedText + "), JSSE given the rest: " + completed.outcome);
                }
                else
                    assertEquals("NEED_MORE", parsedText, name + ": JSSE needs more bytes");
            }
            case REFUSED_AFTER_NAME -> assertTrue(parsedText.equals("SNI(" + jsse.name + ")") || refusal(parsed),
                name + ": JSSE read " + jsse.name + " then refused (" + jsse.failure + "), parser said " + parsedText);
            case REFUSED ->
            {
                if (!refusal(parsed) && !(parsed.status() == ClientHelloParser.Status.NO_SNI && jsse.failure.contains("protocol")))
                    fail(name + ": JSSE refused (" + jsse.failure + ") but the parser said " + parsedText);
            }
        }
    }

    private static boolean refusal(ClientHelloParser.Result result)
    {
        return switch (result.status())
        {
            case MALFORMED, TOO_BIG, NOT_TLS -> true;
            default -> false;
        };
    }

    /** What a real JDK server engine made of the bytes. */
    private static final class Jsse
    {
        enum Outcome
        {
            KEY_MANAGER, REFUSED_AFTER_NAME, REFUSED, NEEDS_MORE
        }

        Outcome outcome;
        String name;
        String failure;

        static Jsse run(byte[] input)
        {
            Capture capture = new Capture();
            SSLEngine engine = serverEngine(capture);
            Jsse jsse = new Jsse();
            ByteBuffer src = ByteBuffer.wrap(input);
            ByteBuffer dst = ByteBuffer.allocate(1 << 17);
            try
            {
                for (int i = 0; i < 100_000; i++)
                {
                    SSLEngineResult result = engine.unwrap(src, dst);
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null)
                        task.run();
                    if (capture.keyManagerAsked)
                        return jsse.asked(capture);
                    SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
                    if (status == SSLEngineResult.HandshakeStatus.NEED_WRAP)
                    {
                        // Something to send before the key manager was asked: an alert.
                        engine.wrap(ByteBuffer.allocate(0), ByteBuffer.allocate(1 << 17));
                        return jsse.refused(capture, "alert without exception");
                    }
                    if (result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || (result.bytesConsumed() == 0 && !src.hasRemaining()))
                    {
                        jsse.outcome = Outcome.NEEDS_MORE;
                        return jsse;
                    }
                    if (result.getStatus() == SSLEngineResult.Status.CLOSED)
                        return jsse.refused(capture, "closed");
                }
                throw new IllegalStateException("no progress");
            }
            catch (SSLException | RuntimeException x)
            {
                if (capture.keyManagerAsked)
                    return jsse.asked(capture);
                return jsse.refused(capture, String.valueOf(x.getMessage()));
            }
        }

        private Jsse asked(Capture capture)
        {
            outcome = Outcome.KEY_MANAGER;
            name = capture.keyManagerName;
            return this;
        }

        private Jsse refused(Capture capture, String why)
        {
            failure = why;
            if (capture.matcherName != null)
            {
                outcome = Outcome.REFUSED_AFTER_NAME;
                name = capture.matcherName;
            }
            else
                outcome = Outcome.REFUSED;
            return this;
        }
    }

    /** Records the server name JSSE decoded (SNI matcher) and the one its key manager is asked with. */
    private static final class Capture extends X509ExtendedKeyManager
    {
        volatile String matcherName;
        volatile boolean keyManagerAsked;
        volatile String keyManagerName;

        /** One matcher per name type, each accepting every name: JSSE then behaves as with no matcher, and tells the host_name. */
        List<SNIMatcher> matchers()
        {
            List<SNIMatcher> matchers = new ArrayList<>();
            for (int type = 0; type < 256; type++)
            {
                matchers.add(new SNIMatcher(type)
                {
                    @Override
                    public boolean matches(SNIServerName serverName)
                    {
                        if (serverName.getType() == StandardConstants.SNI_HOST_NAME)
                            matcherName = serverName instanceof SNIHostName host ? host.getAsciiName() : "?";
                        return true;
                    }
                });
            }
            return matchers;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine)
        {
            if (!keyManagerAsked)
            {
                keyManagerAsked = true;
                keyManagerName = CertificateResolver.requestedHost(engine.getHandshakeSession());
            }
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket)
        {
            return null;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers)
        {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket)
        {
            return null;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers)
        {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias)
        {
            return null;
        }

        @Override
        public PrivateKey getPrivateKey(String alias)
        {
            return null;
        }
    }

    private static SSLEngine serverEngine(Capture capture)
    {
        try
        {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[]{capture}, null, null);
            SSLEngine engine = context.createSSLEngine();
            engine.setUseClientMode(false);
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setSNIMatchers(capture.matchers());
            engine.setSSLParameters(parameters);
            return engine;
        }
        catch (Exception x)
        {
            throw new IllegalStateException(x);
        }
    }

    // ---- reshaping a real ClientHello

    /** @return the handshake message inside a single-record ClientHello */
    static byte[] message(byte[] record)
    {
        int length = ((record[3] & 0xFF) << 8) | (record[4] & 0xFF);
        return Arrays.copyOfRange(record, 5, 5 + length);
    }

    /** The extensions of a ClientHello message, and where they start. */
    private record Parts(byte[] head, List<int[]> extensions, byte[] message)
    {
        static Parts of(byte[] message)
        {
            int p = 4 + 2 + 32;
            p += 1 + (message[p] & 0xFF);
            p += 2 + (((message[p] & 0xFF) << 8) | (message[p + 1] & 0xFF));
            p += 1 + (message[p] & 0xFF);
            byte[] head = Arrays.copyOfRange(message, 4, p);
            p += 2;
            List<int[]> extensions = new ArrayList<>();
            while (p < message.length)
            {
                int type = ((message[p] & 0xFF) << 8) | (message[p + 1] & 0xFF);
                int length = ((message[p + 2] & 0xFF) << 8) | (message[p + 3] & 0xFF);
                extensions.add(new int[]{type, p + 4, length});
                p += 4 + length;
            }
            return new Parts(head, extensions, message);
        }

        byte[] rebuild(int replaceType, byte[] replacement, byte[] append)
        {
            ByteArrayOutputStream ext = new ByteArrayOutputStream();
            for (int[] e : extensions)
            {
                if (e[0] == replaceType && replacement != null)
                    ext.writeBytes(ClientHellos.extension(e[0], replacement));
                else
                    ext.writeBytes(ClientHellos.extension(e[0], Arrays.copyOfRange(message, e[1], e[1] + e[2])));
            }
            if (append != null)
                ext.writeBytes(append);
            byte[] extensionBytes = ext.toByteArray();
            byte[] body = concat(head, new byte[]{(byte)(extensionBytes.length >>> 8), (byte)extensionBytes.length}, extensionBytes);
            return ClientHellos.handshake(1, body);
        }
    }

    /** The message with a padding extension (21) of the given size added at the end. */
    static byte[] withPadding(byte[] message, int padding)
    {
        return Parts.of(message).rebuild(-1, null, ClientHellos.extension(21, new byte[padding]));
    }

    /** The message with its server_name's host_name replaced by raw bytes. */
    static byte[] withServerName(byte[] message, byte[] hostName)
    {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        int entry = 3 + hostName.length;
        data.write(entry >>> 8);
        data.write(entry);
        data.write(0);
        data.write(hostName.length >>> 8);
        data.write(hostName.length);
        data.writeBytes(hostName);
        return Parts.of(message).rebuild(0, data.toByteArray(), null);
    }
}
