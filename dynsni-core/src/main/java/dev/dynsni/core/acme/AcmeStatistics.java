package dev.dynsni.core.acme;

import java.util.concurrent.atomic.LongAdder;

/**
 * What ACME issuance did on this node, for JMX (the Jetty side exposes it as a managed bean): counters
 * since start, and the fleet-wide expiry gauges this node last read from PostgreSQL. Thread-safe;
 * reads are cheap and never touch a store.
 */
public final class AcmeStatistics
{
    final LongAdder ordersStarted = new LongAdder();
    final LongAdder ordersSucceeded = new LongAdder();
    final LongAdder ordersFailed = new LongAdder();
    final LongAdder ordersDeferred = new LongAdder();
    final LongAdder ordersRateLimited = new LongAdder();
    final LongAdder permissionAllowed = new LongAdder();
    final LongAdder permissionDenied = new LongAdder();
    final LongAdder renewalsStarted = new LongAdder();
    private volatile long expiringWithin7Days = -1;
    private volatile long expiringWithin30Days = -1;

    /** @return orders this node started with the CA (on demand and renewals) */
    public long getOrdersStarted()
    {
        return ordersStarted.sum();
    }

    /** @return orders of this node that ended with a stored certificate */
    public long getOrdersSucceeded()
    {
        return ordersSucceeded.sum();
    }

    /** @return orders of this node that failed (CA refused, validation failed, CA unreachable, timeout) */
    public long getOrdersFailed()
    {
        return ordersFailed.sum();
    }

    /** @return requests held back without asking the CA: a fleet budget, a backoff, an unreachable CA or unhealthy stores */
    public long getOrdersDeferred()
    {
        return ordersDeferred.sum();
    }

    /** @return requests deferred because a fleet budget (orders per hour, per registered domain per week) was used up; also counted as deferred */
    public long getOrdersRateLimited()
    {
        return ordersRateLimited.sum();
    }

    /** @return requests the permission policy allowed */
    public long getPermissionAllowed()
    {
        return permissionAllowed.sum();
    }

    /** @return requests the permission policy denied (or could not answer) */
    public long getPermissionDenied()
    {
        return permissionDenied.sum();
    }

    /** @return renewals the fleet's renewal leader started while this node led */
    public long getRenewalsStarted()
    {
        return renewalsStarted.sum();
    }

    /** @return stored names whose certificate ends within 7 days (all certificates, not only ACME's); -1 before the first read */
    public long getExpiringWithin7Days()
    {
        return expiringWithin7Days;
    }

    /** @return stored names whose certificate ends within 30 days; -1 before the first read */
    public long getExpiringWithin30Days()
    {
        return expiringWithin30Days;
    }

    void expiring(long within7Days, long within30Days)
    {
        this.expiringWithin7Days = within7Days;
        this.expiringWithin30Days = within30Days;
    }

    @Override
    public String toString()
    {
        return "AcmeStatistics[started=" + getOrdersStarted() + ", succeeded=" + getOrdersSucceeded() + ", failed=" + getOrdersFailed() +
            ", deferred=" + getOrdersDeferred() + ", rateLimited=" + getOrdersRateLimited() + ", allowed=" + getPermissionAllowed() + ", denied=" + getPermissionDenied() + "]";
    }
}
