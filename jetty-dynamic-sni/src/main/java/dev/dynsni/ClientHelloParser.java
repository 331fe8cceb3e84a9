package dev.dynsni;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads the SNI host name from the first bytes a TLS client sends, before any TLS engine sees them:
 * a strict, bounded parser of the TLS record layer and the ClientHello (RFC 8446 section 4.1.2,
 * RFC 5246 section 7.4.1.2, RFC 6066 section 3).
 *
 * <p><b>Contract.</b> {@link #parse(ByteBuffer, int)} is a pure function of the bytes between the
 * buffer's position and limit (at most {@code maxBytes} of them): it never changes the buffer's
 * position, limit or content, never reads outside {@code [position, min(limit, position + maxBytes))},
 * never blocks and never throws (any unexpected error is answered with {@link Status#MALFORMED}).
 * It is incremental in the sense that matters for a network reader: call it again with the same
 * buffer after more bytes arrive; it answers {@link Status#NEED_MORE} until it can decide, and the
 * first other answer for a growing prefix of a byte stream is the answer for the whole stream,
 * whatever the read boundaries were. TLS records split across reads, a ClientHello split across
 * several handshake records, and a handshake header split across records are all handled.</p>
 *
 * <p><b>Results.</b> {@link Status#SNI} carries the raw {@code host_name} bytes as an ISO-8859-1
 * string: it is <em>not</em> validated here; pass it to {@link HostNames#normalize(String)}.
 * {@link Status#NO_SNI} is a well-formed ClientHello without a {@code host_name}.
 * {@link Status#NOT_TLS} means the first bytes are not a TLS handshake record (SSLv2-compatible
 * hellos, plain HTTP, anything else). {@link Status#TOO_BIG} means the ClientHello (with its record
 * headers) does not fit in {@code maxBytes}. {@link Status#MALFORMED} is every other violation of
 * the formats (lengths that do not add up, a non-ClientHello handshake message, interleaved records,
 * a duplicate {@code server_name} extension or host name, ...).</p>
 *
 * <p>Thread-safe: no state is kept between calls. Allocation: the result (constants except for
 * {@code SNI}), the host string, and, only when the ClientHello spans several records, one array of
 * the ClientHello's size.</p>
 */
final class ClientHelloParser
{
    /** Size of a TLS record header: type, version, length. */
    public static final int RECORD_HEADER_LENGTH = 5;
    /** RFC 8446 5.1: a plaintext record fragment is at most 2^14 bytes. */
    public static final int MAX_RECORD_FRAGMENT = 1 << 14;
    /** Default bound: a 16 KiB ClientHello in one record, plus the record header. */
    public static final int DEFAULT_MAX_BYTES = MAX_RECORD_FRAGMENT + RECORD_HEADER_LENGTH;

    private static final int CONTENT_TYPE_HANDSHAKE = 22;
    private static final int HANDSHAKE_CLIENT_HELLO = 1;
    private static final int HANDSHAKE_HEADER_LENGTH = 4;
    private static final int EXTENSION_SERVER_NAME = 0;
    private static final int NAME_TYPE_HOST_NAME = 0;

    /** What the bytes seen so far say. */
    public enum Status
    {
        /** Not enough bytes yet to decide. */
        NEED_MORE,
        /** A complete, well-formed ClientHello with a host_name; see {@link Result#host()}. */
        SNI,
        /** A complete, well-formed ClientHello without a host_name. */
        NO_SNI,
        /** Not a TLS handshake record: SSLv2-compatible hello, plain text, anything else. */
        NOT_TLS,
        /** The ClientHello does not fit in the byte bound. */
        TOO_BIG,
        /** TLS framing or ClientHello encoding violated. */
        MALFORMED
    }

    /**
     * A parse result: a status, and for {@link Status#SNI} the raw host name.
     */
    public static final class Result
    {
        public static final Result NEED_MORE = new Result(Status.NEED_MORE, null);
        public static final Result NO_SNI = new Result(Status.NO_SNI, null);
        public static final Result NOT_TLS = new Result(Status.NOT_TLS, null);
        public static final Result TOO_BIG = new Result(Status.TOO_BIG, null);
        public static final Result MALFORMED = new Result(Status.MALFORMED, null);

        private final Status status;
        private final String host;

        private Result(Status status, String host)
        {
            this.status = status;
            this.host = host;
        }

        static Result sni(String host)
        {
            return new Result(Status.SNI, host);
        }

        public Status status()
        {
            return status;
        }

        /**
         * @return the raw {@code host_name} (ISO-8859-1 decoded, not validated) for {@link Status#SNI}, else null
         */
        public String host()
        {
            return host;
        }

        /** @return whether more bytes could change the answer */
        public boolean isFinal()
        {
            return status != Status.NEED_MORE;
        }

        @Override
        public boolean equals(Object o)
        {
            return o instanceof Result r && r.status == status && java.util.Objects.equals(r.host, host);
        }

        @Override
        public int hashCode()
        {
            return status.hashCode() * 31 + (host == null ? 0 : host.hashCode());
        }

        @Override
        public String toString()
        {
            return host == null ? status.name() : status + "(" + host + ")";
        }
    }

    private ClientHelloParser()
    {
    }

    /**
     * @param buffer   the bytes received so far, between position and limit (flush mode); not modified
     * @param maxBytes the most bytes the ClientHello may take on the wire, record headers included
     * @return the result; never null
     */
    public static Result parse(ByteBuffer buffer, int maxBytes)
    {
        try
        {
            return parseUnchecked(buffer, maxBytes);
        }
        catch (Throwable x)
        {
            return Result.MALFORMED;
        }
    }

    /**
     * {@link #parse(ByteBuffer, int)} without the safety net, so tests can prove that the parsing
     * itself never throws (an exception here is a bug the catch-all would otherwise hide).
     */
    static Result parseUnchecked(ByteBuffer buffer, int maxBytes)
    {
        if (buffer == null || maxBytes < RECORD_HEADER_LENGTH + HANDSHAKE_HEADER_LENGTH)
            return Result.MALFORMED;
        int base = buffer.position();
        int remaining = buffer.remaining();
        boolean capped = remaining >= maxBytes;
        int end = base + Math.min(remaining, maxBytes);
        return parseRecords(buffer, base, end, capped, maxBytes);
    }

    private static Result needMore(boolean capped)
    {
        // The bound is reached and the ClientHello is still incomplete.
        return capped ? Result.TOO_BIG : Result.NEED_MORE;
    }

    private static Result parseRecords(ByteBuffer buf, int base, int end, boolean capped, int maxBytes)
    {
        if (end - base < 1)
            return needMore(capped);
        if ((buf.get(base) & 0xFF) != CONTENT_TYPE_HANDSHAKE)
            return Result.NOT_TLS;
        if (end - base < 2)
            return needMore(capped);
        if ((buf.get(base + 1) & 0xFF) != 3)
            return Result.NOT_TLS;

        int recordStart = base;
        int headerBytes = 0;
        int messageType = 0;
        int messageLength = 0;
        int total = -1;      // handshake message bytes needed (header + body), once known
        int have = 0;        // handshake message bytes seen
        int records = 0;
        while (true)
        {
            if (end - recordStart < RECORD_HEADER_LENGTH)
                return needMore(capped);
            int contentType = buf.get(recordStart) & 0xFF;
            int major = buf.get(recordStart + 1) & 0xFF;
            int length = ((buf.get(recordStart + 3) & 0xFF) << 8) | (buf.get(recordStart + 4) & 0xFF);
            // RFC 8446 5.1: handshake messages are not interleaved with other records; no empty handshake fragments.
            if (contentType != CONTENT_TYPE_HANDSHAKE || major != 3 || length == 0 || length > MAX_RECORD_FRAGMENT)
                return Result.MALFORMED;
            int fragmentStart = recordStart + RECORD_HEADER_LENGTH;
            int available = Math.min(length, end - fragmentStart);
            for (int i = fragmentStart; i < fragmentStart + available && headerBytes < HANDSHAKE_HEADER_LENGTH; i++)
            {
                int b = buf.get(i) & 0xFF;
                if (headerBytes == 0)
                    messageType = b;
                else
                    messageLength = (messageLength << 8) | b;
                headerBytes++;
            }
            if (headerBytes == HANDSHAKE_HEADER_LENGTH && total < 0)
            {
                if (messageType != HANDSHAKE_CLIENT_HELLO)
                    return Result.MALFORMED;
                total = HANDSHAKE_HEADER_LENGTH + messageLength;
                // Even in a single record it could not fit in the bound.
                if (total + RECORD_HEADER_LENGTH > maxBytes)
                    return Result.TOO_BIG;
            }
            have += available;
            if (total >= 0 && have >= total)
            {
                if (records == 0)
                    return parseClientHello(buf, fragmentStart + HANDSHAKE_HEADER_LENGTH, fragmentStart + total);
                byte[] message = assemble(buf, base, total);
                return parseClientHello(ByteBuffer.wrap(message), HANDSHAKE_HEADER_LENGTH, total);
            }
            if (available < length)
                return needMore(capped);
            records++;
            recordStart = fragmentStart + length;
        }
    }

    /** Copies the handshake message out of its records (already checked to be complete). */
    private static byte[] assemble(ByteBuffer buf, int base, int total)
    {
        byte[] message = new byte[total];
        int copied = 0;
        int recordStart = base;
        while (copied < total)
        {
            int length = ((buf.get(recordStart + 3) & 0xFF) << 8) | (buf.get(recordStart + 4) & 0xFF);
            int n = Math.min(length, total - copied);
            buf.get(recordStart + RECORD_HEADER_LENGTH, message, copied, n);
            copied += n;
            recordStart += RECORD_HEADER_LENGTH + length;
        }
        return message;
    }

    /**
     * @param p   index of the first byte of the ClientHello body
     * @param end index just past the body
     */
    private static Result parseClientHello(ByteBuffer buf, int p, int end)
    {
        // legacy_version
        if (end - p < 2 || (buf.get(p) & 0xFF) != 3)
            return Result.MALFORMED;
        p += 2;
        // random
        if (end - p < 32)
            return Result.MALFORMED;
        p += 32;
        // legacy_session_id <0..32>
        if (end - p < 1)
            return Result.MALFORMED;
        int sessionIdLength = buf.get(p) & 0xFF;
        p += 1;
        if (sessionIdLength > 32 || end - p < sessionIdLength)
            return Result.MALFORMED;
        p += sessionIdLength;
        // cipher_suites <2..2^16-2>
        if (end - p < 2)
            return Result.MALFORMED;
        int cipherSuitesLength = u16(buf, p);
        p += 2;
        if (cipherSuitesLength < 2 || (cipherSuitesLength & 1) != 0 || end - p < cipherSuitesLength)
            return Result.MALFORMED;
        p += cipherSuitesLength;
        // legacy_compression_methods <1..2^8-1>
        if (end - p < 1)
            return Result.MALFORMED;
        int compressionLength = buf.get(p) & 0xFF;
        p += 1;
        if (compressionLength < 1 || end - p < compressionLength)
            return Result.MALFORMED;
        p += compressionLength;
        // extensions: absent in old clients, else they must fill the message exactly
        if (p == end)
            return Result.NO_SNI;
        if (end - p < 2)
            return Result.MALFORMED;
        int extensionsLength = u16(buf, p);
        p += 2;
        if (end - p != extensionsLength)
            return Result.MALFORMED;
        String host = null;
        boolean serverNameSeen = false;
        while (p < end)
        {
            if (end - p < 4)
                return Result.MALFORMED;
            int type = u16(buf, p);
            int length = u16(buf, p + 2);
            p += 4;
            if (end - p < length)
                return Result.MALFORMED;
            if (type == EXTENSION_SERVER_NAME)
            {
                if (serverNameSeen)
                    return Result.MALFORMED;
                serverNameSeen = true;
                Object parsed = parseServerName(buf, p, p + length);
                if (parsed == Result.MALFORMED)
                    return Result.MALFORMED;
                host = (String)parsed;
            }
            p += length;
        }
        return host == null ? Result.NO_SNI : Result.sni(host);
    }

    /**
     * @return the host name, null when the list holds no host_name, or {@link Result#MALFORMED}
     */
    private static Object parseServerName(ByteBuffer buf, int p, int end)
    {
        // ServerNameList server_name_list <1..2^16-1>
        if (end - p < 2)
            return Result.MALFORMED;
        int listLength = u16(buf, p);
        p += 2;
        if (listLength < 1 || end - p != listLength)
            return Result.MALFORMED;
        String host = null;
        while (p < end)
        {
            if (end - p < 3)
                return Result.MALFORMED;
            int nameType = buf.get(p) & 0xFF;
            int nameLength = u16(buf, p + 1);
            p += 3;
            if (end - p < nameLength)
                return Result.MALFORMED;
            if (nameType == NAME_TYPE_HOST_NAME)
            {
                // RFC 6066: HostName <1..2^16-1>, and at most one name of each type.
                if (host != null || nameLength == 0)
                    return Result.MALFORMED;
                byte[] name = new byte[nameLength];
                buf.get(p, name, 0, nameLength);
                host = new String(name, StandardCharsets.ISO_8859_1);
            }
            p += nameLength;
        }
        return host;
    }

    private static int u16(ByteBuffer buf, int index)
    {
        return ((buf.get(index) & 0xFF) << 8) | (buf.get(index + 1) & 0xFF);
    }
}
