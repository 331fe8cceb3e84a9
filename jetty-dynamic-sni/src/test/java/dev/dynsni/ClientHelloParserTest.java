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

import static dev.dynsni.ClientHellos.body;
import static dev.dynsni.ClientHellos.clientHello;
import static dev.dynsni.ClientHellos.concat;
import static dev.dynsni.ClientHellos.extension;
import static dev.dynsni.ClientHellos.handshake;
import static dev.dynsni.ClientHellos.records;
import static dev.dynsni.ClientHellos.recordsSplit;
import static dev.dynsni.ClientHellos.serverName;
import static dev.dynsni.ClientHellos.withSni;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
