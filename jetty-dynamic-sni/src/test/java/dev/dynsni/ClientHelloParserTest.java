package dev.dynsni;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.dynsni.ClientHellos.alpn;
import static dev.dynsni.ClientHellos.body;
import static dev.dynsni.ClientHellos.clientHello;
import static dev.dynsni.ClientHellos.concat;
import static dev.dynsni.ClientHellos.extension;
import static dev.dynsni.ClientHellos.handshake;
import static dev.dynsni.ClientHellos.records;
import static dev.dynsni.ClientHellos.recordsSplit;
import static dev.dynsni.ClientHellos.serverName;
import static dev.dynsni.ClientHellos.signatureAlgorithms;
import static dev.dynsni.ClientHellos.supportedVersions;
import static dev.dynsni.ClientHellos.withSni;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ClientHelloParserTest
{
    private static final int MAX = ClientHelloParser.DEFAULT_MAX_BYTES;
    private static final String HOST = "shop.example.com";

    static Stream<Arguments> cases()
    {
        byte[] hello = clientHello(withSni(HOST));
        byte[] helloRecord = records(hello);
        List<Arguments> cases = new ArrayList<>();
        cases.add(Arguments.of("one record", helloRecord, "SNI(shop.example.com)"));
        cases.add(Arguments.of("upper case kept", records(clientHello(withSni("Shop.Example.COM"))), "SNI(Shop.Example.COM)"));
        cases.add(Arguments.of("full-width name as JSSE converts it", records(clientHello(List.of(serverNameUtf8("\uFF53\uFF48\uFF4F\uFF50.example.com")))), "SNI(shop.example.com)"));
        cases.add(Arguments.of("raw UTF-8 U-label as its A-label", records(clientHello(List.of(serverNameUtf8("b\u00fccher.example.com")))), "SNI(xn--bcher-kva.example.com)"));
        cases.add(Arguments.of("full-width dot separates labels", records(clientHello(List.of(serverNameUtf8("shop\uFF0Eexample.com")))), "SNI(shop.example.com)"));
        cases.add(Arguments.of("zero-length record before the hello (JDK 17)", concat(new byte[]{22, 3, 1, 0, 0}, helloRecord), "SNI(shop.example.com)"));
        cases.add(Arguments.of("zero-length records between fragments (JDK 17)", zeroLengthBetween(hello), "SNI(shop.example.com)"));
        cases.add(Arguments.of("16 KiB record around a small hello", sixteenKiBRecordAround(hello), "SNI(shop.example.com)"));
        cases.add(Arguments.of("hello of 20 KiB over two records", records(clientHello(List.of(serverName(HOST), extension(0x0015, new byte[20_000]))), 16384), "SNI(shop.example.com)"));
        cases.add(Arguments.of("record version 4.0", concat(new byte[]{22, 4, 0}, Arrays.copyOfRange(helloRecord, 3, helloRecord.length)), "SNI(shop.example.com)"));
        cases.add(Arguments.of("record of 2^14 + 1 bytes", records(clientHello(List.of(serverName(HOST), extension(0x0015, new byte[16_400]))), 16385), "SNI(shop.example.com)"));
        cases.add(Arguments.of("bytes after the extensions block ignored", records(handshake(1, concat(body(List.of(serverName(HOST))), new byte[]{0}))), "SNI(shop.example.com)"));
        cases.add(Arguments.of("SNI only extension", records(clientHello(List.of(serverName(HOST)))), "SNI(shop.example.com)"));
        cases.add(Arguments.of("two records", records(hello, hello.length / 2 + 1), "SNI(shop.example.com)"));
        cases.add(Arguments.of("one-byte records", records(hello, 1), "SNI(shop.example.com)"));
        cases.add(Arguments.of("handshake header split 1|3", recordsSplit(hello, 1, 3), "SNI(shop.example.com)"));
        cases.add(Arguments.of("handshake header split 3|rest", recordsSplit(hello, 3), "SNI(shop.example.com)"));
        cases.add(Arguments.of("record version 3.0", concat(new byte[]{22, 3, 0}, Arrays.copyOfRange(helloRecord, 3, helloRecord.length)), "SNI(shop.example.com)"));
        cases.add(Arguments.of("bytes after the hello ignored", concat(helloRecord, new byte[]{20, 3, 3, 0, 1, 1}), "SNI(shop.example.com)"));
        cases.add(Arguments.of("garbage after the hello ignored", concat(helloRecord, "GET / HTTP/1.1".getBytes(StandardCharsets.US_ASCII)), "SNI(shop.example.com)"));
        cases.add(Arguments.of("host_name after another name type", records(clientHello(List.of(serverName("7:opaque", HOST)))), "SNI(shop.example.com)"));

        cases.add(Arguments.of("no extensions block", records(clientHello(null)), "NO_SNI"));
        cases.add(Arguments.of("empty extensions block", records(clientHello(List.of())), "NO_SNI"));
        cases.add(Arguments.of("extensions without server_name", records(clientHello(List.of(extension(0x0017, new byte[0]), extension(0xFF01, new byte[]{0})))), "NO_SNI"));
        cases.add(Arguments.of("server_name of another type only", records(clientHello(List.of(serverName("1:something")))), "NO_SNI"));

        cases.add(Arguments.of("empty input", new byte[0], "NEED_MORE"));
        cases.add(Arguments.of("record header only", Arrays.copyOf(helloRecord, 5), "NEED_MORE"));
        cases.add(Arguments.of("truncated hello", Arrays.copyOf(helloRecord, helloRecord.length - 1), "NEED_MORE"));
        cases.add(Arguments.of("first of two records", Arrays.copyOf(records(hello, 100), 105), "NEED_MORE"));

        cases.add(Arguments.of("SSLv2-compatible hello", new byte[]{(byte)0x80, 0x2E, 0x01, 0x03, 0x01, 0x00, 0x15, 0, 0, 0, 0x10}, "NOT_TLS"));
        cases.add(Arguments.of("plain HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII), "NOT_TLS"));
        cases.add(Arguments.of("PROXY v1 line", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n".getBytes(StandardCharsets.US_ASCII), "NOT_TLS"));
        cases.add(Arguments.of("fatal alert record", new byte[]{21, 3, 3, 0, 2, 2, 40}, "MALFORMED"));
        cases.add(Arguments.of("warning alert JSSE does not ignore", concat(new byte[]{21, 3, 3, 0, 2, 1, 112}, helloRecord), "MALFORMED"));
        cases.add(Arguments.of("warning user_canceled before the hello (JSSE goes on)", concat(new byte[]{21, 3, 3, 0, 2, 1, 90}, helloRecord), "SNI(shop.example.com)"));
        cases.add(Arguments.of("change_cipher_spec before the hello", concat(new byte[]{20, 3, 3, 0, 1, 1}, helloRecord), "NOT_TLS"));

        cases.add(Arguments.of("one zero byte", new byte[]{0}, "NOT_TLS"));

        cases.add(Arguments.of("hello larger than the bound", Arrays.copyOf(records(handshake(1, new byte[MAX]), 16384), 9), "TOO_BIG"));
        cases.add(Arguments.of("bound filled by small records", records(clientHello(List.of(extension(0x0015, new byte[MAX - 200]))), 16), "TOO_BIG"));

        cases.add(Arguments.of("handshake record, version 2", new byte[]{22, 2, 0, 0, 4}, "MALFORMED"));
        cases.add(Arguments.of("record longer than JSSE reads", new byte[]{22, 3, 1, (byte)0x81, 0x41, 1, 0, 0, 4}, "MALFORMED"));
        cases.add(Arguments.of("handshake message over 32 KiB", records(handshake(1, new byte[32_769]), 16384), "TOO_BIG"));
        cases.add(Arguments.of("trailing dot", records(clientHello(withSni("shop.example.com."))), "MALFORMED"));
        cases.add(Arguments.of("underscore", records(clientHello(List.of(serverName("bad_name.example.com")))), "MALFORMED"));
        cases.add(Arguments.of("NUL byte", records(clientHello(List.of(serverName("bad\u0000.example.com")))), "MALFORMED"));
        cases.add(Arguments.of("space", records(clientHello(List.of(serverName("host name.example.com")))), "MALFORMED"));
        cases.add(Arguments.of("leading hyphen", records(clientHello(List.of(serverName("-leading.example.com")))), "MALFORMED"));
        cases.add(Arguments.of("Latin-1 byte that is not UTF-8", records(clientHello(List.of(serverName("b\u00fccher.example.com")))), "MALFORMED"));
        cases.add(Arguments.of("empty label", records(clientHello(List.of(serverName("a..b.example.com")))), "MALFORMED"));
        cases.add(Arguments.of("duplicate extension of another type (JDK 17.0.16+)", records(clientHello(List.of(serverName(HOST), extension(0x0017, new byte[0]), extension(0x0017, new byte[0])))), "MALFORMED"));
        cases.add(Arguments.of("server hello", records(handshake(2, body(withSni(HOST)))), "MALFORMED"));
        cases.add(Arguments.of("alert between fragments", interleaved(hello), "MALFORMED"));
        cases.add(Arguments.of("second record not version 3", secondRecordVersion(hello), "MALFORMED"));
        cases.add(Arguments.of("duplicate server_name (JDK 17.0.16+)", records(clientHello(List.of(serverName(HOST), serverName("other.example.com")))), "MALFORMED"));
        cases.add(Arguments.of("two host_names", records(clientHello(List.of(serverName(HOST, "other.example.com")))), "MALFORMED"));
        cases.add(Arguments.of("empty host_name", records(clientHello(List.of(serverName("")))), "MALFORMED"));
        cases.add(Arguments.of("empty server_name extension", records(clientHello(List.of(extension(0, new byte[0])))), "MALFORMED"));
        cases.add(Arguments.of("server_name list length short", records(clientHello(List.of(extension(0, new byte[]{0, 3, 0, 0, 1, 'a'})))), "MALFORMED"));
        cases.add(Arguments.of("host_name length past list", records(clientHello(List.of(extension(0, new byte[]{0, 4, 0, 0, 9, 'a'})))), "MALFORMED"));
        cases.add(Arguments.of("extension length past end", records(handshake(1, concat(body(null), new byte[]{0, 4, 0, 0, 0, 9}))), "MALFORMED"));
        cases.add(Arguments.of("extensions length short", records(handshake(1, concat(body(null), new byte[]{0, 2, 0, 0x17, 0, 0}))), "NO_SNI"));
        cases.add(Arguments.of("one stray byte instead of extensions", records(handshake(1, concat(body(null), new byte[]{0}))), "MALFORMED"));
        cases.add(Arguments.of("session id of 33 bytes", records(handshake(1, patch(body(null), 34, 33))), "MALFORMED"));
        cases.add(Arguments.of("odd cipher suites length", records(handshake(1, patch(body(null), 68, 3))), "MALFORMED"));
        cases.add(Arguments.of("no compression method", records(handshake(1, patch(body(null), 73, 0))), "MALFORMED"));
        cases.add(Arguments.of("legacy_version 2.0 (refused later, at version negotiation)", records(handshake(1, patch(body(null), 0, 2))), "NO_SNI"));
        cases.add(Arguments.of("body shorter than the random", records(handshake(1, new byte[]{3, 3, 1, 2})), "MALFORMED"));
        cases.add(Arguments.of("empty body", records(handshake(1, new byte[0])), "MALFORMED"));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void parse_craftedInput(String name, byte[] input, String expected)
    {
        assertEquals(expected, ClientHelloParser.parseUnchecked(ByteBuffer.wrap(input), MAX).toString(), name);
        assertEquals(expected, ClientHelloParser.parse(ByteBuffer.wrap(input), MAX).toString(), name);
    }

    @Test
    void parse_everyPrefixOfAHello_needsMore()
    {
        byte[] input = records(clientHello(withSni(HOST)), 50);
        for (int n = 0; n < input.length; n++)
        {
            assertEquals(ClientHelloParser.Result.NEED_MORE, ClientHelloParser.parseUnchecked(ByteBuffer.wrap(input, 0, n), MAX), "prefix " + n);
        }
        assertEquals("SNI(shop.example.com)", ClientHelloParser.parseUnchecked(ByteBuffer.wrap(input), MAX).toString());
    }

    @Test
    void parse_readsOnlyBetweenPositionAndLimit_andChangesNothing()
    {
        byte[] hello = records(clientHello(withSni(HOST)));
        byte[] framed = concat(new byte[]{22, 3, 3, 0x7F, 0x7F}, hello, ClientHellos.filled(64, 0xEE));
        ByteBuffer buffer = ByteBuffer.wrap(framed, 5, hello.length).asReadOnlyBuffer();
        assertEquals("SNI(shop.example.com)", ClientHelloParser.parseUnchecked(buffer, MAX).toString());
        assertEquals(5, buffer.position());
        assertEquals(5 + hello.length, buffer.limit());
        // the limit cuts the hello short: what lies beyond is never looked at
        buffer.limit(buffer.limit() - 1);
        assertEquals(ClientHelloParser.Result.NEED_MORE, ClientHelloParser.parseUnchecked(buffer, MAX));
    }

    @Test
    void parse_directBuffer()
    {
        byte[] hello = records(clientHello(withSni(HOST)), 7);
        ByteBuffer direct = ByteBuffer.allocateDirect(hello.length + 10);
        direct.put(hello).flip();
        assertEquals("SNI(shop.example.com)", ClientHelloParser.parse(direct, MAX).toString());
    }

    @Test
    void parse_boundIsTheWireSize()
    {
        byte[] hello = records(clientHello(withSni(HOST)));
        assertEquals("SNI(shop.example.com)", ClientHelloParser.parse(ByteBuffer.wrap(hello), hello.length).toString());
        assertEquals(ClientHelloParser.Result.TOO_BIG, ClientHelloParser.parse(ByteBuffer.wrap(hello), hello.length - 1));
        byte[] split = records(clientHello(withSni(HOST)), 40);
        assertEquals(ClientHelloParser.Result.TOO_BIG, ClientHelloParser.parse(ByteBuffer.wrap(split), hello.length));
        assertEquals(ClientHelloParser.Result.TOO_BIG, ClientHelloParser.parse(ByteBuffer.wrap(hello), 3));
        assertEquals(ClientHelloParser.Result.MALFORMED, ClientHelloParser.parse(null, MAX));
    }

    @Test
    void parse_jdkClientHellos()
    {
        assertEquals("SNI(jdk.example.com)", ClientHelloParser.parse(ByteBuffer.wrap(ClientHellos.jdk("jdk.example.com")), MAX).toString());
        assertEquals("SNI(tls12.example.com)", ClientHelloParser.parse(ByteBuffer.wrap(ClientHellos.jdk("tls12.example.com", "TLSv1.2")), MAX).toString());
        assertEquals("NO_SNI", ClientHelloParser.parse(ByteBuffer.wrap(ClientHellos.jdk(null)), MAX).toString());
    }

    static Stream<Arguments> alpnCases()
    {
        byte[] sni = serverName(HOST);
        List<String> seventeen = new ArrayList<>();
        for (int i = 0; i < 17; i++)
        {
            seventeen.add("p" + i);
        }
        return Stream.of(
            Arguments.of("absent", List.of(sni), List.of()),
            Arguments.of("h2 and http/1.1 in the client's order", List.of(sni, alpn("h2", "http/1.1")), List.of("h2", "http/1.1")),
            Arguments.of("acme-tls/1 alone", List.of(sni, alpn("acme-tls/1")), List.of("acme-tls/1")),
            Arguments.of("before server_name", List.of(alpn("acme-tls/1"), sni), List.of("acme-tls/1")),
            Arguments.of("bytes beyond ASCII kept as ISO-8859-1", List.of(sni, alpn("été")), List.of("été")),
            Arguments.of("more than the bound: the first 16", List.of(sni, alpn(seventeen.toArray(new String[0]))), seventeen.subList(0, ClientHelloParser.MAX_ALPN_PROTOCOLS)),
            Arguments.of("empty list", List.of(sni, ClientHellos.extension(16, new byte[]{0, 0})), List.of()),
            Arguments.of("empty protocol name", List.of(sni, ClientHellos.extension(16, new byte[]{0, 4, 2, 'h', '2', 0})), List.of()),
            Arguments.of("protocol longer than the list", List.of(sni, ClientHellos.extension(16, new byte[]{0, 3, 5, 'h', '2'})), List.of()),
            Arguments.of("list length short", List.of(sni, ClientHellos.extension(16, new byte[]{0, 2, 2, 'h', '2'})), List.of()),
            Arguments.of("one byte", List.of(sni, ClientHellos.extension(16, new byte[]{0})), List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("alpnCases")
    void parse_alpnProtocols_listedInOrder_malformedListIsEmpty_statusUnchanged(String name, List<byte[]> extensions, List<String> expected)
    {
        byte[] input = records(clientHello(extensions));
        ClientHelloParser.Result result = ClientHelloParser.parseUnchecked(ByteBuffer.wrap(input), MAX);
        assertEquals("SNI(shop.example.com)", result.toString(), name);
        assertEquals(expected, result.alpn(), name);
        // the same answer whatever the framing
        assertEquals(result, ClientHelloParser.parseUnchecked(ByteBuffer.wrap(records(clientHello(extensions), 3)), MAX), name);
    }

    @Test
    void parse_alpnWithoutSni_andNoneForIncompleteOrRefusedHellos()
    {
        ClientHelloParser.Result noSni = ClientHelloParser.parse(ByteBuffer.wrap(records(clientHello(List.of(alpn("acme-tls/1"))))), MAX);
        assertEquals("NO_SNI", noSni.toString());
        assertEquals(List.of("acme-tls/1"), noSni.alpn());
        byte[] hello = records(clientHello(List.of(serverName(HOST), alpn("h2"))));
        ClientHelloParser.Result partial = ClientHelloParser.parse(ByteBuffer.wrap(hello, 0, hello.length - 1), MAX);
        assertEquals(List.of(), partial.alpn());
        assertNull(partial.keyTypes());
        ClientHelloParser.Result refused = ClientHelloParser.parse(ByteBuffer.wrap(records(clientHello(List.of(serverName("bad_name.example.com"), alpn("h2"))))), MAX);
        assertEquals("MALFORMED", refused.toString());
        assertEquals(List.of(), refused.alpn());
        assertNull(refused.keyTypes());
    }

    private static final int ECDHE_ECDSA_AES128_GCM = 0xC02B;
    private static final int ECDHE_RSA_AES128_GCM = 0xC02F;
    private static final int RSA_AES128_GCM = 0x009C;
    private static final int TLS13_AES128_GCM = 0x1301;
    private static final int ECDSA_SECP256R1_SHA256 = 0x0403;
    private static final int RSA_PSS_RSAE_SHA256 = 0x0804;
    private static final int RSA_PSS_PSS_SHA256 = 0x0809;
    private static final int RSA_PKCS1_SHA256 = 0x0401;
    private static final int ED25519 = 0x0807;

    /** name, cipher suites, extensions, expected key types: offersTls13, ecTls13, rsaTls13, ecTls12, rsaTls12 */
    static Stream<Arguments> keyTypeCases()
    {
        int[] both12 = {TLS13_AES128_GCM, ECDHE_ECDSA_AES128_GCM, ECDHE_RSA_AES128_GCM};
        byte[] tls13 = supportedVersions(0x0304, 0x0303);
        return Stream.of(
            Arguments.of("every kind offered", both12, List.of(tls13, signatureAlgorithms(ECDSA_SECP256R1_SHA256, RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA256)), "true,true,true,true,true"),
            Arguments.of("TLS 1.3, ECDSA signatures only", both12, List.of(tls13, signatureAlgorithms(ECDSA_SECP256R1_SHA256)), "true,true,false,true,false"),
            Arguments.of("TLS 1.3, rsa_pss_rsae only", both12, List.of(tls13, signatureAlgorithms(RSA_PSS_RSAE_SHA256)), "true,false,true,false,true"),
            Arguments.of("PKCS#1 signs TLS 1.2 only", both12, List.of(tls13, signatureAlgorithms(RSA_PKCS1_SHA256)), "true,false,false,false,true"),
            Arguments.of("rsa_pss_pss and Ed25519 are neither", both12, List.of(tls13, signatureAlgorithms(RSA_PSS_PSS_SHA256, ED25519)), "true,false,false,false,false"),
            Arguments.of("TLS 1.2 only: no supported_versions", both12, List.of(signatureAlgorithms(ECDSA_SECP256R1_SHA256, RSA_PKCS1_SHA256)), "false,true,false,true,true"),
            Arguments.of("supported_versions without TLS 1.3", both12, List.of(supportedVersions(0x0303)), "false,true,true,true,true"),
            Arguments.of("TLS 1.2, ECDHE_RSA suites only", new int[]{ECDHE_RSA_AES128_GCM}, List.of(), "false,true,true,false,true"),
            Arguments.of("TLS 1.2, RSA key exchange only", new int[]{RSA_AES128_GCM, 0x00FF}, List.of(), "false,true,true,false,true"),
            Arguments.of("TLS 1.2, ECDHE_ECDSA suites only", new int[]{ECDHE_ECDSA_AES128_GCM}, List.of(), "false,true,true,true,false"),
            Arguments.of("TLS 1.2, RSA suites but ECDSA signatures only", new int[]{ECDHE_RSA_AES128_GCM}, List.of(signatureAlgorithms(ECDSA_SECP256R1_SHA256)), "false,true,false,false,false"),
            Arguments.of("TLS 1.3 suites only", new int[]{TLS13_AES128_GCM}, List.of(tls13, signatureAlgorithms(ECDSA_SECP256R1_SHA256)), "true,true,false,false,false"),
            Arguments.of("malformed signature_algorithms: unknown", both12, List.of(tls13, ClientHellos.extension(13, new byte[]{0, 3, 4, 3, 8})), "true,true,true,true,true"),
            Arguments.of("empty signature_algorithms: unknown", both12, List.of(ClientHellos.extension(13, new byte[]{0, 0})), "true,true,true,true,true"),
            Arguments.of("malformed supported_versions: no TLS 1.3", both12, List.of(ClientHellos.extension(43, new byte[]{3, 3, 4})), "false,true,true,true,true"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keyTypeCases")
    void parse_keyTypesTheClientCanVerify(String name, int[] suites, List<byte[]> extensions, String expected)
    {
        List<byte[]> all = new ArrayList<>(extensions);
        all.add(0, serverName(HOST));
        byte[] message = ClientHellos.handshake(1, body(suites, all));
        ClientHelloParser.Result result = ClientHelloParser.parseUnchecked(ByteBuffer.wrap(records(message)), MAX);
        assertEquals("SNI(shop.example.com)", result.toString(), name);
        ClientKeyTypes k = result.keyTypes();
        assertEquals(expected, k.offersTls13() + "," + k.ecTls13() + "," + k.rsaTls13() + "," + k.ecTls12() + "," + k.rsaTls12(), name);
        // cipher suites split across records and reads give the same answer
        for (int fragment : new int[]{1, 2, 3, 77})
        {
            assertEquals(result, ClientHelloParser.parseUnchecked(ByteBuffer.wrap(records(message, fragment)), MAX), name + ", records of " + fragment);
        }
    }

    @Test
    void parse_realClients_alpnAndKeyTypes()
    {
        ClientHelloParser.Result jdk = ClientHelloParser.parse(ByteBuffer.wrap(ClientHellos.jdk("jdk.example.com")), MAX);
        assertEquals(List.of("h2", "http/1.1"), jdk.alpn());
        assertEquals(new ClientKeyTypes(true, true, true, true, true), jdk.keyTypes());
        ClientHelloParser.Result jdk12 = ClientHelloParser.parse(ByteBuffer.wrap(ClientHellos.jdk("tls12.example.com", "TLSv1.2")), MAX);
        assertEquals(new ClientKeyTypes(false, true, true, true, true), jdk12.keyTypes());
        ClientHelloParser.Result openssl = ClientHelloParser.parse(ByteBuffer.wrap(ClientHellos.corpus("openssl-s_client.bin")), MAX);
        assertEquals(List.of("h2", "http/1.1"), openssl.alpn());
        assertEquals(new ClientKeyTypes(true, true, true, true, true), openssl.keyTypes());
        ClientHelloParser.Result curl12 = ClientHelloParser.parse(ByteBuffer.wrap(ClientHellos.corpus("curl-tls12-http1.1.bin")), MAX);
        assertEquals(List.of("http/1.1"), curl12.alpn());
        assertEquals(false, curl12.keyTypes().offersTls13());
        ClientHelloParser.Result noServerName = ClientHelloParser.parse(ByteBuffer.wrap(ClientHellos.corpus("openssl-s_client-noservername.bin")), MAX);
        assertEquals(List.of(), noServerName.alpn());
    }

    /** A server_name extension whose host_name is the UTF-8 encoding of the name (as a client might send a U-label). */
    static byte[] serverNameUtf8(String name)
    {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        return serverName(new String(bytes, StandardCharsets.ISO_8859_1));
    }

    /** The hello in 50-byte records with a zero-length handshake record after each. */
    static byte[] zeroLengthBetween(byte[] hello)
    {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < hello.length; i += 50)
        {
            ClientHellos.record(out, 22, 0x0303, Arrays.copyOfRange(hello, i, Math.min(hello.length, i + 50)));
            ClientHellos.record(out, 22, 0x0303, new byte[0]);
        }
        return out.toByteArray();
    }

    /** One record of 2^14 bytes: the hello, then zeros (read by JSSE as empty hello_request messages). */
    static byte[] sixteenKiBRecordAround(byte[] hello)
    {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ClientHellos.record(out, 22, 0x0301, Arrays.copyOf(hello, 16384));
        return out.toByteArray();
    }

    private static byte[] patch(byte[] bytes, int index, int value)
    {
        byte[] copy = bytes.clone();
        copy[index] = (byte)value;
        return copy;
    }

    private static byte[] interleaved(byte[] hello)
    {
        byte[] first = Arrays.copyOf(records(hello, 20), 25);
        byte[] alert = {21, 3, 3, 0, 2, 1, 0};
        return concat(first, alert, records(Arrays.copyOfRange(hello, 20, hello.length)));
    }

    private static byte[] secondRecordVersion(byte[] hello)
    {
        byte[] bytes = records(hello, 20);
        bytes[26] = 2;
        return bytes;
    }
}
