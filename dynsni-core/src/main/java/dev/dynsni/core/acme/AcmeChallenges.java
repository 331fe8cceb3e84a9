package dev.dynsni.core.acme;

import java.util.concurrent.CompletableFuture;

/**
 * The answers an ACME CA's validation asks for, as every node of the fleet reads them: whichever
 * node the CA reaches answers the challenge of an order another node placed. Published by the
 * issuing node before it asks the CA to validate, withdrawn when the order ends.
 *
 * <p>Reads never throw and never block; a flood of validation-looking connections for names with
 * no pending challenge must not cost one store query each (implementations bound it).</p>
 */
public interface AcmeChallenges
{
    /**
     * tls-alpn-01 (RFC 8737): what the challenge certificate for a host must carry.
     *
     * @param host a normalised host name (the SNI of an {@code acme-tls/1} connection)
     * @return the SHA-256 digest of the key authorization (the value of the certificate's
     *     {@code acmeIdentifier} extension), or null when no tls-alpn-01 challenge is pending for the host
     */
    CompletableFuture<byte[]> tlsAlpn01(String host);

    /**
     * http-01 (RFC 8555 section 8.3): the body served at {@code /.well-known/acme-challenge/TOKEN}.
     *
     * @param token the last path segment of the request
     * @return the key authorization, or null when no http-01 challenge with this token is pending
     */
    CompletableFuture<String> http01(String token);
}
