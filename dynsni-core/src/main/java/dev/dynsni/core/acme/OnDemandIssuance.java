package dev.dynsni.core.acme;

import java.util.concurrent.CompletableFuture;

/**
 * Issuance on first contact, as the handshake path sees it: a handshake for a name with no
 * certificate asks for one; the permission policy, the rate limits, the fleet-wide lock and the
 * budgets decide whether an order starts.
 */
public interface OnDemandIssuance
{
    /** Why a request ended without a certificate, or that it got one. */
    enum Result
    {
        /** A certificate for the host is stored (ordered by this node or another): look it up again. */
        ISSUED,
        /** The permission policy refuses the name (or could not be asked within its rate limit). */
        DENIED,
        /** A fleet budget, a backoff after failures or unhealthy stores hold the order back for now. */
        DEFERRED,
        /** The order failed (the CA refused, validation failed, timeout). */
        FAILED
    }

    /**
     * Asks for a certificate for a host that has none. Never throws and never blocks: permission
     * checks, the fleet lock and the order run elsewhere. Requests for the same host share one order
     * on this node; across the fleet one node orders and the others learn the result through the
     * change feed.
     *
     * @param host a normalised host name
     * @return completes with the outcome; {@link Result#ISSUED} once the new certificate is committed
     *     to PostgreSQL (the change feed then reaches every node)
     */
    CompletableFuture<Result> request(String host);
}
