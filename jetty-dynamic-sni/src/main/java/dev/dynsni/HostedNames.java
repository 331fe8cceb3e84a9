package dev.dynsni;

/**
 * The host names this server hosts: the names a request can reach a site for. With
 * {@code jetty.dynamicSni.hostedNames=deployed} the {@link CertificateResolver} asks it before
 * serving a tenant certificate, and a name it does not host is an <em>unknown host</em> (it gets the
 * unknown-host policy) even when a certificate is stored for it. The module's implementation is
 * {@link DeployedHostNames}: the virtual hosts of the contexts deployed in the server.
 *
 * <p><b>One predicate, two decisions.</b> The same question, "is this name ours?", is the permission
 * policy of automatic certificates: when ACME issuance is configured, a certificate is ordered only
 * for a name this predicate hosts, so a client cannot make the server order certificates for names
 * nobody deployed. An implementation must therefore never answer {@code true} for a name merely
 * because a client asked for it.</p>
 *
 * <p><b>Contract.</b></p>
 * <ul>
 *   <li>The argument is a normalised host name (lower case, A-labels, no trailing dot, never a
 *       wildcard, never {@code null}), as {@link dev.dynsni.core.HostNames#normalize(String)} returns it.</li>
 *   <li>Called on the handshake path, from the SNI prefetch (possibly a selector thread) and from the
 *       key manager: it must answer from memory, without blocking or I/O, and must not throw. It is
 *       called concurrently and must be thread-safe.</li>
 *   <li>Not hosted is {@code false}; there is no "don't know". Answers may change at any time
 *       (contexts are deployed and undeployed); a handshake uses the answer it got.</li>
 *   <li>Wildcards: a name is hosted when it, or its one-label wildcard {@code *.parent}, is claimed;
 *       {@code *.example.com} hosts {@code shop.example.com}, not {@code example.com} or
 *       {@code a.shop.example.com}, the same rule as TLS certificates and Jetty's virtual hosts.</li>
 * </ul>
 */
@FunctionalInterface
public interface HostedNames
{
    /**
     * @param host a normalised host name
     * @return whether a request for this name reaches a site on this server
     */
    boolean isHosted(String host);
}
