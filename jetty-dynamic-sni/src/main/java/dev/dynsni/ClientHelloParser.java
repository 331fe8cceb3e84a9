package dev.dynsni;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SNIHostName;

/**
 * Reads the SNI host name from the first bytes a TLS client sends, before any TLS engine sees them,
 * exactly as the JDK's TLS engine (JSSE, JDK 17) will read it: the same record layer
 * ({@code SSLEngineInputRecord}), the same handshake reassembly and size limit, the same ClientHello
 * and extension decoding ({@code ClientHello.ClientHelloMessage}, {@code SSLExtensions}), the same
 * {@code server_name} decoding and host-name conversion ({@code ServerNameExtension},
 * {@link SNIHostName#SNIHostName(byte[])}: strict UTF-8, then {@code IDN.toASCII} with the STD3
 * rules). So the name found here is the name the key manager will be asked for, and a ClientHello
 * refused here is one JSSE refuses while decoding it.
 *
 * <p><b>Incremental.</b> One parser reads one connection: {@link #resume(ByteBuffer)} is called with
 * the bytes received so far and continues where the previous call stopped, so the cost is linear in
 * the bytes received, however they are split into reads and records. It answers
 * {@link Status#NEED_MORE} until it can decide; the first other answer is final and is repeated by
 * every later call. The whole ClientHello is never copied: the fields are decoded as they stream by;
 * only the four extensions read below are kept (together at most the message's size).</p>
 *
 * <p><b>What JSSE does, and so this parser</b> (JDK 17 sources):</p>
 * <ul>
 *   <li>Records: the first byte must be 22 (handshake) or 21 (alert), else {@link Status#NOT_TLS}
 *   (SSLv2-style hellos, plain HTTP, anything else); every record's version must be at least 3.0
 *   and its length at most {@link #MAX_RECORD_FRAGMENT_LARGE} (JSSE's large-record bound), else
 *   {@link Status#MALFORMED}. Before the first handshake byte, alert records are read as JSSE
 *   reads them: the warnings it ignores (user_canceled and those not tied to the handshake) are
 *   skipped, any other alert is {@link Status#MALFORMED}. Any other record type is
 *   {@link Status#MALFORMED}.
 *   Zero-length handshake records are skipped when the engine accepts them
 *   ({@link JsseRules#emptyRecords()}: JDK 17 does, later JDKs refuse them), else {@link Status#MALFORMED}.</li>
 *   <li>Handshake: the first message must be a ClientHello (type 1), else {@link Status#MALFORMED};
 *   a body longer than {@link JsseRules#maxHandshakeMessageSize()} ({@code jdk.tls.maxHandshakeMessageSize},
 *   default 32768) is {@link Status#TOO_BIG}; the message may span any number of records.</li>
 *   <li>ClientHello: any legacy version; a session id of at most 32 bytes; a non-empty, even-length
 *   cipher suite list; any compression list; then, if any bytes are left, the extensions block: its
 *   length at most what is left (bytes after it are ignored), each extension's length within the
 *   message, no extension type twice (JDK 17 updates before 17.0.16 accept a repeated type and read
 *   its last occurrence: {@link JsseRules#duplicateExtensions()}).</li>
 *   <li>{@code server_name}: a list whose length is not 0 and fills the extension exactly; entries of
 *   any type, no type twice; a {@code host_name} that is not empty and that {@link SNIHostName}
 *   accepts (a full-width or raw UTF-8 name becomes its ASCII form, e.g. {@code xn--...}; a name
 *   with {@code _}, a space, a leading or trailing {@code -} in a label, or a trailing dot is
 *   refused: JSSE answers {@code illegal_parameter}).</li>
 * </ul>
 *
 * <p><b>Results.</b> {@link Status#SNI} carries the host as {@link SNIHostName#getAsciiName()}
 * gives it (case kept; pass it to {@code HostNames.normalize}); {@link Status#NO_SNI} is a
 * well-formed ClientHello without a {@code host_name}; {@link Status#TOO_BIG} a ClientHello beyond
 * JSSE's size limit or beyond the {@code maxBytes} this parser was given; {@link Status#MALFORMED}
 * every other refusal.</p>
 *
 * <p><b>What else a complete ClientHello tells</b> ({@link Status#SNI} and {@link Status#NO_SNI}
 * only; informational: it never changes the status, and an extension that cannot be decoded just
 * tells nothing): the ALPN protocols the client offers ({@link Result#alpn()}, extension 16, at most
 * {@link #MAX_ALPN_PROTOCOLS}), and the certificate key types it can verify ({@link Result#keyTypes()},
 * from its cipher suites, {@code signature_algorithms} (13) and {@code supported_versions} (43)).</p>
 *
 * <p>Not thread-safe: one connection, one reader at a time. Never throws from {@link #resume}:
 * an unexpected error is answered with {@link Status#MALFORMED}.</p>
 */
final class ClientHelloParser
{
    /** Size of a TLS record header: type, version, length. */
    public static final int RECORD_HEADER_LENGTH = 5;
    /** RFC 8446 5.1: a plaintext record fragment is at most 2^14 bytes. */
    public static final int MAX_RECORD_FRAGMENT = 1 << 14;
    /**
     * The longest record JSSE reads ({@code SSLRecord.maxLargeRecordSize} less the header): a
     * conforming record's 16709 bytes plus 2^14 for "large" packets.
     */
    public static final int MAX_RECORD_FRAGMENT_LARGE = 16709 + (1 << 14) - RECORD_HEADER_LENGTH;
    /** JSSE's default {@code jdk.tls.maxHandshakeMessageSize}. */
    public static final int DEFAULT_MAX_HANDSHAKE_MESSAGE_SIZE = 32768;
    /**
     * The most bytes JSSE's largest ClientHello takes when sent in full records: the handshake
     * header and body plus one record header per 16 KiB.
     */
    public static final int DEFAULT_MAX_BYTES = largestClientHelloBytes(DEFAULT_MAX_HANDSHAKE_MESSAGE_SIZE);

    private static final int CONTENT_TYPE_ALERT = 21;
    private static final int CONTENT_TYPE_HANDSHAKE = 22;
    private static final int ALERT_LEVEL_WARNING = 1;
    /**
     * Warning alerts JSSE ignores before the ClientHello ({@code Alert.AlertConsumer}: user_canceled,
     * and the descriptions not marked handshake-only); any other alert ends the connection.
     */
    private static final int[] IGNORED_WARNINGS = {10, 20, 21, 22, 30, 80, 86, 90};
    private static final int HANDSHAKE_CLIENT_HELLO = 1;
    private static final int HANDSHAKE_HEADER_LENGTH = 4;
    private static final int EXTENSION_SERVER_NAME = 0;
    private static final int EXTENSION_SIGNATURE_ALGORITHMS = 13;
    private static final int EXTENSION_ALPN = 16;
    private static final int EXTENSION_SUPPORTED_VERSIONS = 43;
    private static final int TLS_1_3 = 0x0304;
    /** The most ALPN protocols a result lists; a client offering more has the first ones kept. */
    public static final int MAX_ALPN_PROTOCOLS = 16;
    private static final int NAME_TYPE_HOST_NAME = 0;
    private static final int MAX_SESSION_ID = 32;

    /** What the bytes seen so far say. */
    public enum Status
    {
        /** Not enough bytes yet to decide. */
        NEED_MORE,
        /** A complete, well-formed ClientHello with a host_name; see {@link Result#host()}. */
        SNI,
        /** A complete, well-formed ClientHello without a host_name. */
        NO_SNI,
        /** Not a TLS handshake record: SSLv2-compatible hello, an alert, plain text, anything else. */
        NOT_TLS,
        /** The ClientHello is larger than JSSE accepts, or than the byte bound. */
        TOO_BIG,
        /** Refused as JSSE refuses it: framing, encoding or server name. */
        MALFORMED
    }

    /**
     * A parse result: a status, for {@link Status#SNI} the host name, and for a complete ClientHello
     * ({@link Status#SNI}, {@link Status#NO_SNI}) its ALPN protocols and the key types it can verify.
     */
    public static final class Result
    {
        public static final Result NEED_MORE = new Result(Status.NEED_MORE, null, List.of(), null);
        public static final Result NOT_TLS = new Result(Status.NOT_TLS, null, List.of(), null);
        public static final Result TOO_BIG = new Result(Status.TOO_BIG, null, List.of(), null);
        public static final Result MALFORMED = new Result(Status.MALFORMED, null, List.of(), null);

        private final Status status;
        private final String host;
        private final List<String> alpn;
        private final ClientKeyTypes keyTypes;

        private Result(Status status, String host, List<String> alpn, ClientKeyTypes keyTypes)
        {
            this.status = status;
            this.host = host;
            this.alpn = alpn;
            this.keyTypes = keyTypes;
        }

        /** A complete ClientHello: {@link Status#SNI} with a host, else {@link Status#NO_SNI}. */
        static Result complete(String host, List<String> alpn, ClientKeyTypes keyTypes)
        {
            return new Result(host == null ? Status.NO_SNI : Status.SNI, host, alpn, keyTypes);
        }

        public Status status()
        {
            return status;
        }

        /**
         * @return the host name as JSSE converts it ({@link SNIHostName#getAsciiName()}, not yet
         *     lower-cased nor checked as a DNS name) for {@link Status#SNI}, else null
         */
        public String host()
        {
            return host;
        }

        /**
         * @return the protocols of the client's ALPN extension in its order, decoded as ISO-8859-1
         *     (as the JDK does), at most {@link #MAX_ALPN_PROTOCOLS}; empty without the extension, when
         *     it is malformed, and for results other than {@link Status#SNI} and {@link Status#NO_SNI}
         */
        public List<String> alpn()
        {
            return alpn;
        }

        /**
         * @return the certificate key types the client can verify, for {@link Status#SNI} and
         *     {@link Status#NO_SNI}; null for every other result
         */
        public ClientKeyTypes keyTypes()
        {
            return keyTypes;
        }

        /** @return whether more bytes could change the answer */
        public boolean isFinal()
        {
            return status != Status.NEED_MORE;
        }

        @Override
        public boolean equals(Object o)
        {
            return o instanceof Result r && r.status == status && Objects.equals(r.host, host) && r.alpn.equals(alpn) && Objects.equals(r.keyTypes, keyTypes);
        }

        @Override
        public int hashCode()
        {
            return Objects.hash(status, host, alpn, keyTypes);
        }

        /** @return the status and host, as the tests' tables write them ({@code SNI(host)}, {@code NO_SNI}) */
        @Override
        public String toString()
        {
            return host == null ? status.name() : status + "(" + host + ")";
        }
    }

    /** Where the record layer is. */
    private enum Layer
    {
        RECORD_HEADER, RECORD_BODY, ALERT_BODY
    }

    /** Where the ClientHello body decoder is: each state reads or skips one field. */
    private enum Field
    {
        HANDSHAKE_HEADER, VERSION, RANDOM, SESSION_ID_LENGTH, SESSION_ID, CIPHER_SUITES_LENGTH, CIPHER_SUITES,
        COMPRESSION_LENGTH, COMPRESSION, EXTENSIONS_LENGTH, EXTENSION_TYPE, EXTENSION_LENGTH, EXTENSION_DATA,
        IGNORED_TAIL
    }

    private final int maxBytes;
    private final int maxHandshakeMessageSize;
    private final boolean emptyRecords;
    private final boolean duplicateExtensions;

    private Result result = Result.NEED_MORE;
    /** Bytes of the stream consumed so far. */
    private int consumed;
    private boolean firstRecord = true;
    /** Handshake records read, and whether anything else (a skipped alert, an empty record) came between. */
    private int handshakeRecords;
    private boolean onlyHandshakeRecords = true;
    private int firstRecordVersion;
    private int messageLength;

    private Layer layer = Layer.RECORD_HEADER;
    private final byte[] recordHeader = new byte[RECORD_HEADER_LENGTH];
    private int recordHeaderHave;
    private int recordLeft;
    private final byte[] alert = new byte[2];
    private int alertHave;

    private Field field = Field.HANDSHAKE_HEADER;
    /** Bytes of the current field still to read or skip. */
    private int fieldLeft = HANDSHAKE_HEADER_LENGTH;
    /** The value of a numeric field being read, big-endian. */
    private int number;
    /** Handshake body bytes still expected; -1 before the handshake header is read. */
    private int bodyLeft = -1;
    private int extensionsLeft;
    private int extensionType;
    private BitSet extensionTypes;
    /** The first byte of a cipher suite being read, or -1 between suites. */
    private int suiteHigh = -1;
    private boolean ecdsaSuites;
    private boolean rsaSuites;
    /** The data of the extension being read, when it is one of those kept; null otherwise. */
    private byte[] extensionData;
    private int extensionHave;
    private byte[] serverName;
    private byte[] signatureAlgorithms;
    private byte[] alpnData;
    private byte[] supportedVersions;

    /**
     * @param maxBytes the most bytes of the stream read before answering {@link Status#TOO_BIG}
     * @param rules    where the running TLS engine differs from others
     */
    ClientHelloParser(int maxBytes, JsseRules rules)
    {
        this.maxBytes = maxBytes;
        this.maxHandshakeMessageSize = rules.maxHandshakeMessageSize();
        this.emptyRecords = rules.emptyRecords();
        this.duplicateExtensions = rules.duplicateExtensions();
    }

    /**
     * Parses a whole buffer at once, with the rules of JDK 17's current update ({@link JsseRules#JDK_17}).
     *
     * @param buffer   the bytes received so far, between position and limit (flush mode); not modified
     * @param maxBytes the most bytes the ClientHello may take on the wire, record headers included
     * @return the result; never null
     */
    public static Result parse(ByteBuffer buffer, int maxBytes)
    {
        if (buffer == null)
            return Result.MALFORMED;
        return new ClientHelloParser(maxBytes, JsseRules.JDK_17).resume(buffer);
    }

    /**
     * {@link #parse(ByteBuffer, int)} without the safety net, so tests can prove that the parsing
     * itself never throws (an exception here is a bug the catch-all would otherwise hide).
     */
    static Result parseUnchecked(ByteBuffer buffer, int maxBytes)
    {
        if (buffer == null)
            return Result.MALFORMED;
        ClientHelloParser parser = new ClientHelloParser(maxBytes, JsseRules.JDK_17);
        return parser.resumeUnchecked(buffer);
    }

    /**
     * @param maxHandshakeMessageSize JSSE's limit on a handshake message body
     * @return the bytes the largest ClientHello JSSE accepts takes on the wire in full-size records
     */
    static int largestClientHelloBytes(int maxHandshakeMessageSize)
    {
        int message = HANDSHAKE_HEADER_LENGTH + maxHandshakeMessageSize;
        int records = (message + MAX_RECORD_FRAGMENT - 1) / MAX_RECORD_FRAGMENT;
        return message + records * RECORD_HEADER_LENGTH;
    }

    /** @return JSSE's limit on a handshake message body, as the running JDK reads it */
    static int jsseMaxHandshakeMessageSize()
    {
        try
        {
            return Integer.getInteger("jdk.tls.maxHandshakeMessageSize", DEFAULT_MAX_HANDSHAKE_MESSAGE_SIZE);
        }
        catch (SecurityException x)
        {
            return DEFAULT_MAX_HANDSHAKE_MESSAGE_SIZE;
        }
    }

    /**
     * Continues parsing: reads the bytes of {@code buffer} from {@code position + consumed()} to its
     * limit. The buffer must hold the same stream as on the previous calls (it may be a copy that
     * grew); it is not modified.
     *
     * @return the result so far; never null
     */
    public Result resume(ByteBuffer buffer)
    {
        try
        {
            return resumeUnchecked(buffer);
        }
        catch (Throwable x)
        {
            return result = Result.MALFORMED;
        }
    }

    /**
     * Whether the ClientHello can be handed to TLS in fewer records: a well-formed ClientHello that
     * came in more handshake records than it needs, and nothing else, ending at a record's end. Record framing
     * carries no meaning for TLS (the handshake transcript is made of the messages), but each record
     * costs the TLS engine a pass; {@link #reframe(ByteBuffer)} rewrites them.
     *
     * @return the length of the stream prefix that holds the ClientHello's records, or -1
     */
    int reframableLength()
    {
        boolean complete = result.status() == Status.SNI || result.status() == Status.NO_SNI;
        int fewest = (messageLength + MAX_RECORD_FRAGMENT - 1) / MAX_RECORD_FRAGMENT;
        return complete && onlyHandshakeRecords && handshakeRecords > fewest && layer == Layer.RECORD_BODY && recordLeft == 0 ? consumed : -1;
    }

    /**
     * Rewrites the ClientHello's records at the start of the buffer (flush mode, from position 0) as
     * the fewest records of at most 2^14 bytes, with the first record's version; the bytes after them
     * are kept as they are. Does nothing unless {@link #reframableLength()} allows it.
     *
     * @return the number of bytes the buffer shrank by
     */
    int reframe(ByteBuffer buffer)
    {
        int n = reframableLength();
        if (n < 0 || buffer.position() != 0 || buffer.limit() < n)
            return 0;
        ByteArrayOutputStream message = new ByteArrayOutputStream(n);
        for (int p = 0; p < n; )
        {
            int length = ((buffer.get(p + 3) & 0xFF) << 8) | (buffer.get(p + 4) & 0xFF);
            byte[] fragment = new byte[length];
            buffer.get(p + RECORD_HEADER_LENGTH, fragment, 0, length);
            message.writeBytes(fragment);
            p += RECORD_HEADER_LENGTH + length;
        }
        byte[] bytes = message.toByteArray();
        ByteArrayOutputStream framed = new ByteArrayOutputStream(n);
        for (int i = 0; i < bytes.length; i += MAX_RECORD_FRAGMENT)
        {
            int length = Math.min(MAX_RECORD_FRAGMENT, bytes.length - i);
            framed.write(CONTENT_TYPE_HANDSHAKE);
            framed.write(firstRecordVersion >>> 8);
            framed.write(firstRecordVersion);
            framed.write(length >>> 8);
            framed.write(length);
            framed.write(bytes, i, length);
        }
        byte[] tail = new byte[buffer.limit() - n];
        buffer.get(n, tail, 0, tail.length);
        byte[] records = framed.toByteArray();
        buffer.clear();
        buffer.put(records).put(tail).flip();
        return n - records.length;
    }

    /** @return how many bytes of the stream the parser has read */
    public int consumed()
    {
        return consumed;
    }

    /** @return the answer so far */
    public Result result()
    {
        return result;
    }

    private Result resumeUnchecked(ByteBuffer buffer)
    {
        if (result.isFinal())
            return result;
        int p = buffer.position() + consumed;
        int limit = buffer.limit();
        while (p < limit && !result.isFinal())
        {
            if (consumed >= maxBytes)
                return result = Result.TOO_BIG;
            int end = Math.min(limit, p + (maxBytes - consumed));
            int next = step(buffer, p, end);
            consumed += next - p;
            p = next;
        }
        if (!result.isFinal() && consumed >= maxBytes)
            result = Result.TOO_BIG;
        return result;
    }

    /** Reads from {@code p} (exclusive of {@code end}); @return where it stopped */
    private int step(ByteBuffer buf, int p, int end)
    {
        if (layer == Layer.RECORD_HEADER)
        {
            while (p < end && recordHeaderHave < RECORD_HEADER_LENGTH)
            {
                byte b = buf.get(p++);
                recordHeader[recordHeaderHave++] = b;
                if (firstRecord && recordHeaderHave == 1 && (b & 0xFF) != CONTENT_TYPE_HANDSHAKE && (b & 0xFF) != CONTENT_TYPE_ALERT)
                {
                    result = Result.NOT_TLS;
                    return p;
                }
            }
            if (recordHeaderHave < RECORD_HEADER_LENGTH)
                return p;
            recordHeaderHave = 0;
            onRecordHeader();
            return p;
        }
        if (layer == Layer.ALERT_BODY)
        {
            while (p < end && alertHave < 2)
                alert[alertHave++] = buf.get(p++);
            if (alertHave == 2)
            {
                if (!isIgnoredWarning(alert[0] & 0xFF, alert[1] & 0xFF))
                    result = Result.MALFORMED;
                layer = Layer.RECORD_HEADER;
            }
            return p;
        }
        // RECORD_BODY: hand the fragment's bytes to the handshake decoder.
        int n = Math.min(end - p, recordLeft);
        int stop = body(buf, p, p + n);
        recordLeft -= stop - p;
        if (recordLeft == 0 && !result.isFinal())
            layer = Layer.RECORD_HEADER;
        return stop;
    }

    private void onRecordHeader()
    {
        int type = recordHeader[0] & 0xFF;
        int version = ((recordHeader[1] & 0xFF) << 8) | (recordHeader[2] & 0xFF);
        int length = ((recordHeader[3] & 0xFF) << 8) | (recordHeader[4] & 0xFF);
        firstRecord = false;
        // SSLEngineInputRecord: "Unrecognized record version" below SSL 3.0; "Bad input record size".
        if (version < 0x0300 || length > MAX_RECORD_FRAGMENT_LARGE)
        {
            result = Result.MALFORMED;
            return;
        }
        // An alert before any handshake byte: JSSE reads it, and goes on after some warnings.
        if (type == CONTENT_TYPE_ALERT && field == Field.HANDSHAKE_HEADER && fieldLeft == HANDSHAKE_HEADER_LENGTH)
        {
            if (length != 2)
                result = Result.MALFORMED;
            onlyHandshakeRecords = false;
            alertHave = 0;
            layer = Layer.ALERT_BODY;
            return;
        }
        // "Expecting a handshake fragment" for another type inside a handshake message; anything else
        // before the ClientHello is refused too.
        if (type != CONTENT_TYPE_HANDSHAKE)
        {
            result = Result.MALFORMED;
            return;
        }
        if (length == 0)
        {
            onlyHandshakeRecords = false;
            if (!emptyRecords)
                result = Result.MALFORMED;
            return;
        }
        if (handshakeRecords++ == 0)
            firstRecordVersion = version;
        recordLeft = length;
        layer = Layer.RECORD_BODY;
    }

    /**
     * Decodes handshake bytes {@code [p, end)}.
     *
     * @return where it stopped (before {@code end} only once the result is final)
     */
    private int body(ByteBuffer buf, int p, int end)
    {
        while (p < end && !result.isFinal())
        {
            if (bodyLeft == 0)
            {
                // Bytes after the ClientHello (another message): JSSE reads the ClientHello first.
                return end;
            }
            int n = Math.min(end - p, fieldLeft);
            if (bodyLeft > 0)
                n = Math.min(n, bodyLeft);
            switch (field)
            {
                case HANDSHAKE_HEADER, SESSION_ID_LENGTH, CIPHER_SUITES_LENGTH, COMPRESSION_LENGTH, EXTENSIONS_LENGTH, EXTENSION_TYPE, EXTENSION_LENGTH ->
                {
                    for (int i = 0; i < n; i++)
                    {
                        number = (number << 8) | (buf.get(p + i) & 0xFF);
                    }
                }
                case CIPHER_SUITES ->
                {
                    for (int i = 0; i < n; i++)
                    {
                        cipherSuiteByte(buf.get(p + i) & 0xFF);
                    }
                }
                case EXTENSION_DATA ->
                {
                    if (extensionData != null)
                    {
                        buf.get(p, extensionData, extensionHave, n);
                        extensionHave += n;
                    }
                }
                default ->
                {
                    // skipped: version, random, session id, compression, ignored tail
                }
            }
            p += n;
            fieldLeft -= n;
            if (field != Field.HANDSHAKE_HEADER)
                bodyLeft -= n;
            if (fieldLeft == 0)
                endOfField();
            if (bodyLeft == 0 && !result.isFinal())
                endOfBody();
        }
        return p;
    }

    private void next(Field f, int length)
    {
        field = f;
        fieldLeft = length;
        number = 0;
    }

    /** A field is complete: check it and choose the next. */
    private void endOfField()
    {
        int value = number;
        switch (field)
        {
            case HANDSHAKE_HEADER ->
            {
                int type = value >>> 24;
                int length = value & 0xFFFFFF;
                if (type != HANDSHAKE_CLIENT_HELLO)
                {
                    result = Result.MALFORMED;
                    return;
                }
                if (length > maxHandshakeMessageSize)
                {
                    result = Result.TOO_BIG;
                    return;
                }
                if (length == 0)
                {
                    // Nothing to decode: JSSE fails reading the version.
                    result = Result.MALFORMED;
                    return;
                }
                bodyLeft = length;
                messageLength = HANDSHAKE_HEADER_LENGTH + length;
                next(Field.VERSION, 2);
            }
            case VERSION -> next(Field.RANDOM, 32);
            case RANDOM -> next(Field.SESSION_ID_LENGTH, 1);
            case SESSION_ID_LENGTH ->
            {
                if (value > MAX_SESSION_ID || value > bodyLeft)
                    result = Result.MALFORMED;
                else if (value == 0)
                    next(Field.CIPHER_SUITES_LENGTH, 2);
                else
                    next(Field.SESSION_ID, value);
            }
            case SESSION_ID -> next(Field.CIPHER_SUITES_LENGTH, 2);
            case CIPHER_SUITES_LENGTH ->
            {
                if (value == 0 || (value & 1) != 0 || value > bodyLeft)
                    result = Result.MALFORMED;
                else
                    next(Field.CIPHER_SUITES, value);
            }
            case CIPHER_SUITES -> next(Field.COMPRESSION_LENGTH, 1);
            case COMPRESSION_LENGTH ->
            {
                if (value > bodyLeft)
                    result = Result.MALFORMED;
                else if (value == 0)
                    afterCompression();
                else
                    next(Field.COMPRESSION, value);
            }
            case COMPRESSION -> afterCompression();
            case EXTENSIONS_LENGTH ->
            {
                // SSLExtensions: "Insufficient extensions data"; bytes after the block are ignored.
                if (value > bodyLeft)
                    result = Result.MALFORMED;
                else
                {
                    extensionsLeft = value;
                    afterExtension();
                }
            }
            case EXTENSION_TYPE ->
            {
                extensionType = value;
                if (!duplicateExtensions)
                {
                    if (extensionTypes == null)
                        extensionTypes = new BitSet();
                    if (extensionTypes.get(value))
                    {
                        // "Duplicate extension with ID"
                        result = Result.MALFORMED;
                        return;
                    }
                    extensionTypes.set(value);
                }
                next(Field.EXTENSION_LENGTH, 2);
            }
            case EXTENSION_LENGTH ->
            {
                int length = value;
                if (length > bodyLeft)
                {
                    result = Result.MALFORMED;
                    return;
                }
                extensionsLeft -= length + 4;
                extensionData = isKept(extensionType) ? new byte[length] : null;
                extensionHave = 0;
                if (length == 0)
                    endOfExtension();
                else
                    next(Field.EXTENSION_DATA, length);
            }
            case EXTENSION_DATA -> endOfExtension();
            default ->
            {
                // IGNORED_TAIL has no end before the body's end
            }
        }
    }

    private void afterCompression()
    {
        // When the body ends here, endOfBody answers NO_SNI: there is no extensions block.
        next(Field.EXTENSIONS_LENGTH, 2);
    }

    private static boolean isKept(int type)
    {
        return type == EXTENSION_SERVER_NAME || type == EXTENSION_SIGNATURE_ALGORITHMS || type == EXTENSION_ALPN || type == EXTENSION_SUPPORTED_VERSIONS;
    }

    private void endOfExtension()
    {
        // Kept extensions are decoded at the end of the body: with duplicates accepted, the last one counts.
        if (extensionData != null)
        {
            switch (extensionType)
            {
                case EXTENSION_SERVER_NAME -> serverName = extensionData;
                case EXTENSION_SIGNATURE_ALGORITHMS -> signatureAlgorithms = extensionData;
                case EXTENSION_ALPN -> alpnData = extensionData;
                default -> supportedVersions = extensionData;
            }
            extensionData = null;
        }
        afterExtension();
    }

    /** One byte of the cipher suite list: every second one completes a suite. */
    private void cipherSuiteByte(int b)
    {
        if (suiteHigh < 0)
        {
            suiteHigh = b;
            return;
        }
        int suite = (suiteHigh << 8) | b;
        suiteHigh = -1;
        ecdsaSuites |= ClientKeyTypes.Suites.isEcdsa(suite);
        rsaSuites |= ClientKeyTypes.Suites.isRsa(suite);
    }

    private void afterExtension()
    {
        if (extensionsLeft > 0)
            next(Field.EXTENSION_TYPE, 2);
        else
            next(Field.IGNORED_TAIL, Integer.MAX_VALUE);
    }

    /** The whole ClientHello body has been read. */
    private void endOfBody()
    {
        switch (field)
        {
            case IGNORED_TAIL ->
            {
                Object decoded = serverName == null ? null : serverName(serverName);
                if (decoded == Result.MALFORMED)
                    result = Result.MALFORMED;
                else
                    result = complete((String)decoded);
            }
            case EXTENSIONS_LENGTH ->
            {
                // Compression ended the body: no extensions (a body ending inside the length field is refused).
                if (fieldLeft == 2)
                    result = complete(null);
                else
                    result = Result.MALFORMED;
            }
            default -> result = Result.MALFORMED; // a field cut short by the body's end: JSSE underflows
        }
    }

    private Result complete(String host)
    {
        ClientKeyTypes.Signatures signatures = signatureAlgorithms == null ? null : ClientKeyTypes.Signatures.decode(signatureAlgorithms);
        ClientKeyTypes keyTypes = signatureAlgorithms != null && signatures == null
            ? ClientKeyTypes.UNKNOWN
            : ClientKeyTypes.of(offersTls13(supportedVersions), signatures, ecdsaSuites, rsaSuites);
        return Result.complete(host, alpn(alpnData), keyTypes);
    }

    /**
     * Decodes {@code supported_versions} ({@code SupportedVersionsExtension.CHSupportedVersionsSpec}):
     * a one-byte length filling the extension, then 16-bit versions.
     *
     * @return whether it lists TLS 1.3; false when absent or malformed
     */
    private static boolean offersTls13(byte[] data)
    {
        if (data == null || data.length < 1)
            return false;
        int length = data[0] & 0xFF;
        if (length == 0 || (length & 1) != 0 || length != data.length - 1)
            return false;
        for (int i = 1; i < data.length; i += 2)
        {
            if (u16(data, i) == TLS_1_3)
                return true;
        }
        return false;
    }

    /**
     * Decodes {@code application_layer_protocol_negotiation} as {@code AlpnExtension.CHAlpnSpec} does:
     * a 16-bit length filling the extension, then protocols of 1 to 255 bytes.
     *
     * @return the first {@link #MAX_ALPN_PROTOCOLS} protocols; empty when absent or malformed
     */
    private static List<String> alpn(byte[] data)
    {
        if (data == null || data.length < 2)
            return List.of();
        int listLength = u16(data, 0);
        if (listLength == 0 || listLength != data.length - 2)
            return List.of();
        List<String> protocols = new ArrayList<>();
        int p = 2;
        while (p < data.length)
        {
            int length = data[p] & 0xFF;
            p++;
            if (length == 0 || data.length - p < length)
                return List.of();
            if (protocols.size() < MAX_ALPN_PROTOCOLS)
                protocols.add(new String(data, p, length, StandardCharsets.ISO_8859_1));
            p += length;
        }
        return List.copyOf(protocols);
    }

    private static boolean isIgnoredWarning(int level, int description)
    {
        if (level != ALERT_LEVEL_WARNING)
            return false;
        for (int ignored : IGNORED_WARNINGS)
        {
            if (ignored == description)
                return true;
        }
        return false;
    }

    /**
     * Decodes a {@code server_name} extension as {@code ServerNameExtension.CHServerNamesSpec} does.
     *
     * @return the ASCII host name, null when the list holds no host_name, or {@link Result#MALFORMED}
     */
    private static Object serverName(byte[] data)
    {
        int end = data.length;
        if (end < 2)
            return Result.MALFORMED;
        int listLength = u16(data, 0);
        if (listLength == 0 || listLength != end - 2)
            return Result.MALFORMED;
        int p = 2;
        String host = null;
        BitSet types = new BitSet();
        while (p < end)
        {
            if (end - p < 3)
                return Result.MALFORMED;
            int nameType = data[p] & 0xFF;
            int nameLength = u16(data, p + 1);
            p += 3;
            if (end - p < nameLength)
                return Result.MALFORMED;
            if (nameType == NAME_TYPE_HOST_NAME)
            {
                if (nameLength == 0)
                    return Result.MALFORMED;
                byte[] name = new byte[nameLength];
                System.arraycopy(data, p, name, 0, nameLength);
                try
                {
                    host = new SNIHostName(name).getAsciiName();
                }
                catch (IllegalArgumentException x)
                {
                    return Result.MALFORMED;
                }
            }
            if (types.get(nameType))
                return Result.MALFORMED;
            types.set(nameType);
            p += nameLength;
        }
        return host;
    }

    private static int u16(byte[] data, int index)
    {
        return ((data[index] & 0xFF) << 8) | (data[index + 1] & 0xFF);
    }
}
