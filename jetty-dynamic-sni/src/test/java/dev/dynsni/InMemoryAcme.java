package dev.dynsni;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dev.dynsni.core.CertificateRecord;
import dev.dynsni.core.acme.AcmeChallenges;
import dev.dynsni.core.acme.OnDemandIssuance;
import dev.dynsni.core.pki.CertificateAuthority;
import dev.dynsni.core.pki.IssuedCertificate;
import dev.dynsni.core.store.InMemoryCertificateStore;

/**
 * The two ACME contracts in memory, for the serving side's tests (as {@link InMemoryCertificateStore}
 * is for the stores): challenges set by the test, and an "issuance" that, after a delay, stores a
 * certificate of the test's CA and answers {@code ISSUED} (or answers what the test's policy says).
 * The real service, against a real Pebble, is tested end to end in it-tests.
 */
final class InMemoryAcme implements AcmeChallenges, OnDemandIssuance
{
    final Map<String, byte[]> tlsAlpn01 = new ConcurrentHashMap<>();
    final Map<String, String> http01 = new ConcurrentHashMap<>();
    final Map<String, IssuedCertificate> issued = new ConcurrentHashMap<>();
    final AtomicInteger requests = new AtomicInteger();
    private final InMemoryCertificateStore store;
    private final CertificateAuthority ca;
    volatile long delayMillis;
    /** The answer per host; ISSUED stores a certificate first. */
    volatile Function<String, Result> policy = host -> Result.ISSUED;

    InMemoryAcme(InMemoryCertificateStore store, CertificateAuthority ca)
    {
        this.store = store;
        this.ca = ca;
    }

    @Override
    public CompletableFuture<byte[]> tlsAlpn01(String host)
    {
        return CompletableFuture.completedFuture(tlsAlpn01.get(host));
    }

    @Override
    public CompletableFuture<String> http01(String token)
    {
        return CompletableFuture.completedFuture(http01.get(token));
    }

    @Override
    public CompletableFuture<Result> request(String host)
    {
        requests.incrementAndGet();
        return CompletableFuture.supplyAsync(() ->
        {
            Result result = policy.apply(host);
            if (result == Result.ISSUED)
            {
                IssuedCertificate certificate = issued.computeIfAbsent(host, ca::ec);
                store.put(new CertificateRecord(host, certificate.keyType(), certificate.chainPem(), certificate.pkcs8KeyPem(), CertificateRecord.PLAIN, 0));
            }
            return result;
        }, CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS));
    }
}
