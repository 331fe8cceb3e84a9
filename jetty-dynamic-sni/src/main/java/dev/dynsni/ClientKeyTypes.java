package dev.dynsni;

import java.util.Arrays;

/**
 * Which server certificate key types a TLS client can verify, as its ClientHello says, for each
 * protocol version it may end up speaking. Read by {@link ClientHelloParser} before any TLS engine
 * exists, and used where the engine cannot tell: Conscrypt asks the key manager before BoringSSL has
 * read the client's {@code signature_algorithms}, so a host with both an EC and an RSA certificate
 * picks by this.
 *
 * <ul>
 *   <li>TLS 1.3: the {@code signature_algorithms} decide: an ECDSA scheme for EC, an
 *   {@code rsa_pss_rsae_*} scheme for RSA (PKCS#1 v1.5 signs no TLS 1.3 handshake).</li>
 *   <li>TLS 1.2: the cipher suite names the server's key type, so the client must offer a suite
 *   authenticated by that type ({@code ECDHE_ECDSA}; {@code ECDHE_RSA}, {@code DHE_RSA} or
 *   {@code RSA}) and, when it sends {@code signature_algorithms}, a scheme of that type
 *   ({@code rsa_pkcs1_*} counts for RSA). Without the extension TLS 1.2 defaults to SHA-1 with the
 *   suite's algorithm, so the suites alone decide.</li>
 * </ul>
 *
 * <p>Curves are not looked at: an EC certificate on P-384 offered to a TLS 1.3 client that lists
 * only {@code ecdsa_secp256r1_sha256} still counts as "EC". A ClientHello whose extensions cannot be
 * decoded gives {@link #UNKNOWN}. Immutable.</p>
 *
 * @param offersTls13 the client lists TLS 1.3 in {@code supported_versions}
 * @param ecTls13     a TLS 1.3 handshake can use an EC certificate
 * @param rsaTls13    a TLS 1.3 handshake can use an RSA certificate
 * @param ecTls12     a TLS 1.2 handshake can use an EC certificate
 * @param rsaTls12    a TLS 1.2 handshake can use an RSA certificate
 */
record ClientKeyTypes(boolean offersTls13, boolean ecTls13, boolean rsaTls13, boolean ecTls12, boolean rsaTls12)
{
    /** Nothing known: every key type may do. */
    static final ClientKeyTypes UNKNOWN = new ClientKeyTypes(true, true, true, true, true);

    /**
     * @param offersTls13    TLS 1.3 in {@code supported_versions}
     * @param signatures     what {@code signature_algorithms} lists (null: the extension is absent)
     * @param ecdsaSuites    a TLS 1.2 suite authenticated by an EC key is offered
     * @param rsaSuites      a TLS 1.2 suite authenticated by an RSA key is offered
     */
    static ClientKeyTypes of(boolean offersTls13, Signatures signatures, boolean ecdsaSuites, boolean rsaSuites)
    {
        if (signatures == null)
            return new ClientKeyTypes(offersTls13, true, true, ecdsaSuites, rsaSuites);
        return new ClientKeyTypes(offersTls13, signatures.ecdsa(), signatures.rsaPss(),
            ecdsaSuites && signatures.ecdsa(), rsaSuites && (signatures.rsaPss() || signatures.rsaPkcs1()));
    }

    /** @return whether a handshake of that version can use an EC certificate */
    boolean ec(boolean tls13)
    {
        return tls13 ? ecTls13 : ecTls12;
    }

    /** @return whether a handshake of that version can use an RSA certificate */
    boolean rsa(boolean tls13)
    {
        return tls13 ? rsaTls13 : rsaTls12;
    }

    /** The kinds of scheme a {@code signature_algorithms} extension lists. */
    record Signatures(boolean ecdsa, boolean rsaPss, boolean rsaPkcs1)
    {
        /**
         * @param list the extension's data (a 16-bit length, then 16-bit scheme codes)
         * @return what it lists; null when it is not a well-formed list (JSSE refuses the hello then)
         */
        static Signatures decode(byte[] list)
        {
            if (list.length < 2)
                return null;
            int length = ((list[0] & 0xFF) << 8) | (list[1] & 0xFF);
            if (length == 0 || (length & 1) != 0 || length != list.length - 2)
                return null;
            boolean ecdsa = false;
            boolean rsaPss = false;
            boolean rsaPkcs1 = false;
            for (int i = 2; i < list.length; i += 2)
            {
                int hash = list[i] & 0xFF;
                int signature = list[i + 1] & 0xFF;
                int scheme = (hash << 8) | signature;
                // TLS 1.2 (hash, signature) pairs; TLS 1.3's ecdsa_secp*_sha* and rsa_pkcs1_* keep that layout.
                if (hash >= 1 && hash <= 6 && signature == 3)
                    ecdsa = true;
                else if (hash >= 1 && hash <= 6 && signature == 1)
                    rsaPkcs1 = true;
                else if (scheme >= 0x0804 && scheme <= 0x0806)
                    rsaPss = true; // rsa_pss_rsae_*: an RSA key (rsa_pss_pss_* needs an RSASSA-PSS key)
                else if (scheme >= 0x081A && scheme <= 0x081C)
                    ecdsa = true; // ecdsa_brainpool*_tls13
            }
            return new Signatures(ecdsa, rsaPss, rsaPkcs1);
        }
    }

    /**
     * TLS 1.2 cipher suites by the key type that authenticates the server (IANA codes, sorted): the
     * ECDHE_ECDSA, ECDHE_RSA, DHE_RSA and RSA key-exchange suites that JSSE or BoringSSL implement.
     * Suites of other kinds (TLS 1.3's, PSK, anonymous, ECDH_*, DSS, signalling values) count for
     * neither.
     */
    static final class Suites
    {
        private static final int[] ECDSA = {
            0xC008, 0xC009, 0xC00A, 0xC023, 0xC024, 0xC02B, 0xC02C, 0xC0AC, 0xC0AD, 0xC0AE, 0xC0AF, 0xCCA9
        };
        private static final int[] RSA = {
            0x000A, 0x0016, 0x002F, 0x0033, 0x0035, 0x0039, 0x003C, 0x003D, 0x0067, 0x006B, 0x009C, 0x009D, 0x009E, 0x009F,
            0xC012, 0xC013, 0xC014, 0xC027, 0xC028, 0xC02F, 0xC030, 0xC09C, 0xC09D, 0xC09E, 0xC09F, 0xCCA8, 0xCCAA
        };

        private Suites()
        {
        }

        static boolean isEcdsa(int suite)
        {
            return Arrays.binarySearch(ECDSA, suite) >= 0;
        }

        static boolean isRsa(int suite)
        {
            return Arrays.binarySearch(RSA, suite) >= 0;
        }
    }
}
