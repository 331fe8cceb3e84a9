package dev.dynsni;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real ClientHellos captured from curl, openssl s_client, the JDK and Jetty's HttpClient (see
 * {@code clienthello/README.md} and {@link ClientHelloCapture}): each parses to the SNI the client
 * was told to send, whole and split into two reads at every offset.
 */
class ClientHelloCorpusTest
{
    static Stream<Arguments> corpus()
    {
        return CorpusFiles.expected().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @Test
    void corpus_coversEveryClient()
    {
        String names = String.join(" ", CorpusFiles.names());
        for (String client : new String[]{"curl", "openssl", "jdk", "jetty-httpclient"})
        {
            assertTrue(names.contains(client), () -> "no capture of " + client + " in " + names);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("corpus")
    void capturedHello_parsesToItsSni(String file, String expected)
    {
        byte[] bytes = ClientHellos.corpus(file);
        if (expected.startsWith("SNI("))
        {
            String host = expected.substring(4, expected.length() - 1);
            assertTrue(new String(bytes, StandardCharsets.ISO_8859_1).contains(host), "the capture carries the host");
        }
        assertEquals(expected, ClientHelloParser.parse(ByteBuffer.wrap(bytes), ClientHelloParser.DEFAULT_MAX_BYTES).toString());
        for (int cut = 0; cut < bytes.length; cut++)
        {
            ByteBuffer buffer = ByteBuffer.allocate(bytes.length);
            buffer.put(bytes, 0, cut).flip();
            assertEquals(ClientHelloParser.Result.NEED_MORE, ClientHelloParser.parseUnchecked(buffer, ClientHelloParser.DEFAULT_MAX_BYTES), "prefix " + cut);
            buffer.compact().put(Arrays.copyOfRange(bytes, cut, bytes.length)).flip();
            assertEquals(expected, ClientHelloParser.parseUnchecked(buffer, ClientHelloParser.DEFAULT_MAX_BYTES).toString(), "split at " + cut);
        }
    }
}
