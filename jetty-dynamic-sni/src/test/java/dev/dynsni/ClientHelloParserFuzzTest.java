package dev.dynsni;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.dynsni.ClientHelloParser.Result;
import dev.dynsni.ClientHelloParser.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property tests of {@link ClientHelloParser} over random and mutated ClientHellos (seeded, so a
 * failure reproduces): the parsing never throws (checked without the catch-all), never reads past
 * the limit (the answer does not depend on bytes beyond it), changes nothing in the buffer, and
 * the answer does not depend on how the bytes were split across reads: for every prefix it is
 * {@code NEED_MORE} or the answer for the whole input.
 */
class ClientHelloParserFuzzTest
{
    private static final Logger LOG = LoggerFactory.getLogger(ClientHelloParserFuzzTest.class);
    private static final long SEED = Long.getLong("dynsni.fuzz.seed", 0x5EED_C11E_A7L);
    private static final int ITERATIONS = Integer.getInteger("dynsni.fuzz.iterations", 30_000);
    private static final int MAX = ClientHelloParser.DEFAULT_MAX_BYTES;

    private static List<byte[]> seeds()
    {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(ClientHellos.records(ClientHellos.clientHello(ClientHellos.withSni("shop.example.com"))));
        seeds.add(ClientHellos.records(ClientHellos.clientHello(ClientHellos.withSni("a.b")), 7));
        seeds.add(ClientHellos.records(ClientHellos.clientHello(null)));
        seeds.add(ClientHellos.records(ClientHellos.clientHello(List.of(ClientHellos.serverName("1:x", "multi.example.com")))));
        seeds.add(ClientHellos.jdk("jdk.example.com"));
        seeds.add(ClientHellos.jdk("tls12.example.com", "TLSv1.2"));
        seeds.add(ClientHellos.jdk(null));
        for (String file : CorpusFiles.names())
        {
            seeds.add(ClientHellos.corpus(file));
        }
        return seeds;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void mutatedAndRandomInputs_neverThrow_andAnswerIndependentlyOfSplits()
    {
        Random random = new Random(SEED);
        List<byte[]> seeds = seeds();
        Map<Status, Integer> seen = new EnumMap<>(Status.class);
        long start = System.nanoTime();
        long bytes = 0;
        for (int i = 0; i < ITERATIONS; i++)
        {
            byte[] input = i % 10 == 0 ? randomBytes(random) : mutate(random, seeds.get(random.nextInt(seeds.size())));
            bytes += input.length;
            Result whole = check(input, "iteration " + i);
            seen.merge(whole.status(), 1, Integer::sum);
            assertSplitIndependent(random, input, whole, "iteration " + i);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        LOG.info("Fuzzed iterations={} bytes={} millis={} seed={} results={}", ITERATIONS, bytes, millis, SEED, seen);
        // Mutation must reach every kind of answer, or the fuzzing is not exploring.
        for (Status status : new Status[]{Status.SNI, Status.NO_SNI, Status.NOT_TLS, Status.MALFORMED, Status.NEED_MORE, Status.TOO_BIG})
        {
            assertTrue(seen.containsKey(status), () -> "no input gave " + status + ": " + seen);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void seeds_everySplitOffset_givesTheSameAnswer()
    {
        Random random = new Random(SEED + 1);
        for (byte[] seed : seeds())
        {
            Result whole = check(seed, "seed");
            assertTrue(whole.isFinal(), "seed incomplete");
            for (int n = 0; n <= seed.length; n++)
            {
                Result prefix = check(Arrays.copyOf(seed, n), "prefix " + n);
                if (n < seed.length)
                    assertEquals(Result.NEED_MORE, prefix, "prefix " + n + " of a complete hello");
            }
            // two reads at every offset, and the same hello re-framed into records of every size up to 64
            for (int cut = 0; cut <= seed.length; cut++)
            {
                assertEquals(whole, feed(seed, cut, seed.length), "split at " + cut);
            }
            byte[] message = messageOf(seed);
            if (message != null)
            {
                for (int fragment = 1; fragment <= 64; fragment++)
                {
                    byte[] reframed = ClientHellos.records(message, fragment);
                    assertEquals(reframed.length <= MAX ? whole : Result.TOO_BIG, check(reframed, "fragment " + fragment));
                    assertEquals(check(reframed, "fragment " + fragment), feed(reframed, random.nextInt(reframed.length + 1), 1 + random.nextInt(40)));
                }
            }
        }
    }

    /** Parses the input as is, then framed by junk outside position and limit; both must agree and not throw. */
    private static Result check(byte[] input, String what)
    {
        Result plain;
        try
        {
            plain = ClientHelloParser.parseUnchecked(ByteBuffer.wrap(input), MAX);
        }
        catch (Throwable x)
        {
            fail(what + ": parser threw on " + hex(input), x);
            return null;
        }
        byte[] framed = new byte[input.length + 16];
        Arrays.fill(framed, (byte)0x16);
        System.arraycopy(input, 0, framed, 8, input.length);
        ByteBuffer window = ByteBuffer.wrap(framed, 8, input.length).asReadOnlyBuffer();
        Result inWindow = ClientHelloParser.parseUnchecked(window, MAX);
        assertEquals(plain, inWindow, () -> what + ": answer depends on bytes outside the window: " + hex(input));
        assertEquals(8, window.position());
        assertEquals(8 + input.length, window.limit());
        return plain;
    }

    /** Feeds the input as a network reader would: a first read of first bytes, then reads of step bytes. */
    private static Result feed(byte[] input, int first, int step)
    {
        ByteBuffer buffer = ByteBuffer.allocate(input.length);
        buffer.flip();
        int offset = 0;
        int chunk = first;
        while (true)
        {
            int n = Math.min(chunk, input.length - offset);
            buffer.compact();
            buffer.put(input, offset, n);
            buffer.flip();
            offset += n;
            Result result = ClientHelloParser.parseUnchecked(buffer, MAX);
            if (result.isFinal() || offset == input.length)
                return result;
            chunk = step;
        }
    }

    private static void assertSplitIndependent(Random random, byte[] input, Result whole, String what)
    {
        for (int k = 0; k < 3; k++)
        {
            int first = input.length == 0 ? 0 : random.nextInt(input.length + 1);
            int step = 1 + random.nextInt(k == 0 ? 4 : 600);
            assertEquals(whole, feed(input, first, step), () -> what + ": answer depends on the split (" + first + "/" + step + ") " + hex(input));
        }
    }

    private static byte[] mutate(Random random, byte[] seed)
    {
        byte[] bytes = seed.clone();
        int rounds = 1 + random.nextInt(3);
        for (int r = 0; r < rounds && bytes.length > 0; r++)
        {
            switch (random.nextInt(8))
            {
                case 0 -> bytes[random.nextInt(bytes.length)] ^= (byte)(1 << random.nextInt(8));
                case 1 -> bytes[random.nextInt(bytes.length)] = (byte)random.nextInt(256);
                case 2 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
                case 3 -> bytes = corruptLength(random, bytes);
                case 4 ->
                {
                    int at = random.nextInt(bytes.length + 1);
                    byte[] inserted = new byte[1 + random.nextInt(8)];
                    random.nextBytes(inserted);
                    bytes = ClientHellos.concat(Arrays.copyOf(bytes, at), inserted, Arrays.copyOfRange(bytes, at, bytes.length));
                }
                case 5 ->
                {
                    int at = random.nextInt(bytes.length);
                    int n = Math.min(bytes.length - at, 1 + random.nextInt(8));
                    bytes = ClientHellos.concat(Arrays.copyOf(bytes, at), Arrays.copyOfRange(bytes, at + n, bytes.length));
                }
                case 6 ->
                {
                    byte[] message = messageOf(bytes);
                    if (message != null)
                        bytes = ClientHellos.records(message, 1 + random.nextInt(Math.max(1, message.length)));
                }
                default ->
                {
                    // a huge extension: over the bound, or just under it
                    byte[] message = messageOf(bytes);
                    if (message != null)
                    {
                        int size = MAX - 300 + random.nextInt(600);
                        byte[] grown = ClientHellos.handshake(1, ClientHellos.body(List.of(ClientHellos.serverName("big.example.com"), ClientHellos.extension(0x0015, new byte[size]))));
                        bytes = ClientHellos.records(grown, Math.min(ClientHelloParser.MAX_RECORD_FRAGMENT, 1000 + random.nextInt(16000)));
                    }
                }
            }
        }
        return bytes;
    }

    /** Sets a 16-bit big-endian field at a random even or odd offset to an edge value. */
    private static byte[] corruptLength(Random random, byte[] bytes)
    {
        if (bytes.length < 2)
            return bytes;
        int at = random.nextInt(bytes.length - 1);
        int value = switch (random.nextInt(6))
        {
            case 0 -> 0;
            case 1 -> 0xFFFF;
            case 2 -> (((bytes[at] & 0xFF) << 8) | (bytes[at + 1] & 0xFF)) + 1;
            case 3 -> (((bytes[at] & 0xFF) << 8) | (bytes[at + 1] & 0xFF)) - 1;
            case 4 -> 0x4001;
            default -> random.nextInt(1 << 16);
        };
        bytes[at] = (byte)(value >>> 8);
        bytes[at + 1] = (byte)value;
        return bytes;
    }

    private static byte[] randomBytes(Random random)
    {
        byte[] bytes = new byte[random.nextInt(600)];
        random.nextBytes(bytes);
        if (bytes.length > 2 && random.nextBoolean())
        {
            bytes[0] = 22;
            bytes[1] = 3;
        }
        return bytes;
    }

    /** The handshake bytes carried by the leading handshake records, or null if the framing is broken. */
    private static byte[] messageOf(byte[] wire)
    {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int p = 0;
        while (p + 5 <= wire.length && wire[p] == 22)
        {
            int length = ((wire[p + 3] & 0xFF) << 8) | (wire[p + 4] & 0xFF);
            if (p + 5 + length > wire.length)
                return null;
            out.write(wire, p + 5, length);
            p += 5 + length;
        }
        return out.size() == 0 ? null : out.toByteArray();
    }

    private static String hex(byte[] bytes)
    {
        StringBuilder builder = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, 256); i++)
        {
            builder.append(String.format("%02x", bytes[i] & 0xFF));
        }
        return builder.append(bytes.length > 256 ? "...(" + bytes.length + " bytes)" : "").toString();
    }
}
