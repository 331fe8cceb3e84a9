package dev.dynsni;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToLongFunction;

import dev.dynsni.core.acme.AcmePermissions;
import dev.dynsni.core.acme.AcmeService;
import dev.dynsni.core.acme.AcmeStatistics;
import dev.dynsni.core.acme.OnDemandIssuance;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.ManagedOperation;

/**
 * ACME over JMX, next to {@link DynamicSniStatistics}: the work seen from the serving side
 * (challenges answered, issuance asked for by handshakes, waits) counted here, and the orders,
 * permission answers and expiry gauges of the ACME service the factory runs, read from its own
 * counters. Cumulative since start; updates are lock-free.
 */
@ManagedObject("ACME challenges answered and on-demand issuance asked for by handshakes")
public class AcmeHandshakeStatistics
{
    final LongAdder tlsAlpn01Validations = new LongAdder();
    final LongAdder tlsAlpn01Answered = new LongAdder();
    final LongAdder tlsAlpn01Refused = new LongAdder();
    final LongAdder http01Requests = new LongAdder();
    final LongAdder http01Answered = new LongAdder();
    final LongAdder issuanceRequests = new LongAdder();
    final LongAdder issued = new LongAdder();
    final LongAdder denied = new LongAdder();
    final LongAdder deferred = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder waitsExpired = new LongAdder();
    final LongAdder servedAfterIssuance = new LongAdder();
    private volatile AcmeService service;
    private volatile AcmePermissions permissions;

    /** Attaches the counters of the permission policy the factory made; null: none. */
    void setPermissions(AcmePermissions permissions)
    {
        this.permissions = permissions;
    }

    @ManagedAttribute("Permission checks turned away by acme.permissionChecksPerSecond (denied for now, not remembered)")
    public long getPermissionRateLimited()
    {
        AcmePermissions p = permissions;
        return p == null ? 0 : p.getRateLimited();
    }

    @ManagedAttribute("Ask endpoint calls that failed (denied, asked again later)")
    public long getPermissionAskErrors()
    {
        AcmePermissions p = permissions;
        return p == null ? 0 : p.getAskErrors();
    }

    /** Attaches the counters of the ACME service the factory runs (orders, permissions, expiry); null: none. */
    void setService(AcmeService service)
    {
        this.service = service;
    }

    private long service(ToLongFunction<AcmeStatistics> counter)
    {
        AcmeService s = service;
        return s == null ? 0 : counter.applyAsLong(s.statistics());
    }

    @ManagedAttribute("ACME orders started by this node")
    public long getOrdersStarted()
    {
        return service(AcmeStatistics::getOrdersStarted);
    }

    @ManagedAttribute("ACME orders of this node that ended with a stored certificate")
    public long getOrdersSucceeded()
    {
        return service(AcmeStatistics::getOrdersSucceeded);
    }

    @ManagedAttribute("ACME orders of this node that failed (CA refusal, validation, timeout)")
    public long getOrdersFailed()
    {
        return service(AcmeStatistics::getOrdersFailed);
    }

    @ManagedAttribute("ACME requests held back without asking the CA: a fleet budget, a backoff, an unreachable CA or unhealthy stores")
    public long getOrdersDeferred()
    {
        return service(AcmeStatistics::getOrdersDeferred);
    }

    @ManagedAttribute("ACME orders held back by a fleet budget (orders per hour, per registered domain per week)")
    public long getOrdersRateLimited()
    {
        return service(AcmeStatistics::getOrdersRateLimited);
    }

    @ManagedAttribute("Permission checks that allowed a name")
    public long getPermissionAllowed()
    {
        return service(AcmeStatistics::getPermissionAllowed);
    }

    @ManagedAttribute("Permission checks that denied a name")
    public long getPermissionDenied()
    {
        return service(AcmeStatistics::getPermissionDenied);
    }

    @ManagedAttribute("Renewals started by this node")
    public long getRenewalsStarted()
    {
        return service(AcmeStatistics::getRenewalsStarted);
    }

    @ManagedAttribute("ACME-issued certificates expiring within 7 days (fleet-wide, refreshed every renewal interval)")
    public long getExpiringWithin7Days()
    {
        return service(AcmeStatistics::getExpiringWithin7Days);
    }

    @ManagedAttribute("ACME-issued certificates expiring within 30 days (fleet-wide, refreshed every renewal interval)")
    public long getExpiringWithin30Days()
    {
        return service(AcmeStatistics::getExpiringWithin30Days);
    }

    void count(OnDemandIssuance.Result result)
    {
        switch (result)
        {
            case ISSUED -> issued.increment();
            case DENIED -> denied.increment();
            case DEFERRED -> deferred.increment();
            default -> failed.increment();
        }
    }

    @ManagedAttribute("TLS connections offering ALPN acme-tls/1 (tls-alpn-01 validations)")
    public long getTlsAlpn01Validations()
    {
        return tlsAlpn01Validations.sum();
    }

    @ManagedAttribute("tls-alpn-01 validations answered with a challenge certificate")
    public long getTlsAlpn01Answered()
    {
        return tlsAlpn01Answered.sum();
    }

    @ManagedAttribute("tls-alpn-01 validations refused: no challenge pending for the name")
    public long getTlsAlpn01Refused()
    {
        return tlsAlpn01Refused.sum();
    }

    @ManagedAttribute("Requests for /.well-known/acme-challenge/ (http-01)")
    public long getHttp01Requests()
    {
        return http01Requests.sum();
    }

    @ManagedAttribute("http-01 requests answered with a key authorization")
    public long getHttp01Answered()
    {
        return http01Answered.sum();
    }

    @ManagedAttribute("Handshakes for a name without a certificate that asked for one")
    public long getIssuanceRequests()
    {
        return issuanceRequests.sum();
    }

    @ManagedAttribute("Issuance requests answered ISSUED")
    public long getIssued()
    {
        return issued.sum();
    }

    @ManagedAttribute("Issuance requests answered DENIED (permission)")
    public long getDenied()
    {
        return denied.sum();
    }

    @ManagedAttribute("Issuance requests answered DEFERRED (budget, backoff, unhealthy stores)")
    public long getDeferred()
    {
        return deferred.sum();
    }

    @ManagedAttribute("Issuance requests answered FAILED")
    public long getFailed()
    {
        return failed.sum();
    }

    @ManagedAttribute("Connections whose wait for a new certificate ended before it arrived (they got the unknown-host policy)")
    public long getWaitsExpired()
    {
        return waitsExpired.sum();
    }

    @ManagedAttribute("Connections served a certificate issued while they waited")
    public long getServedAfterIssuance()
    {
        return servedAfterIssuance.sum();
    }

    @ManagedOperation(value = "Resets the counters", impact = "ACTION")
    public void reset()
    {
        for (LongAdder adder : new LongAdder[]{tlsAlpn01Validations, tlsAlpn01Answered, tlsAlpn01Refused, http01Requests, http01Answered, issuanceRequests, issued,
            denied, deferred, failed, waitsExpired, servedAfterIssuance})
        {
            adder.reset();
        }
    }
}
