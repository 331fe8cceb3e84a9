package dev.dynsni;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.dynsni.core.acme.AcmeChallenges;
import dev.dynsni.core.acme.OnDemandIssuance;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wait of a connection for a new certificate: after ISSUED it waits for the name's change event,
 * whichever comes first (PostgreSQL's NOTIFY may arrive before or after the service's answer), and
 * never longer than its bound.
 */
class OnDemandAcmeTest
{
    private final AcmeHandshakeStatistics statistics = new AcmeHandshakeStatistics();
    private final CompletableFuture<OnDemandIssuance.Result> answer = new CompletableFuture<>();
    private final AcmeChallenges noChallenges = new AcmeChallenges()
    {
        @Override
        public CompletableFuture<byte[]> tlsAlpn01(String host)
        {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<String> http01(String token)
        {
            return CompletableFuture.completedFuture(null);
        }
    };
    private final OnDemandAcme acme = new OnDemandAcme(noChallenges, host -> answer, 8000, statistics);

    @Test
    void issued_thenChangeEvent_completesOnTheEvent() throws Exception
    {
        CompletableFuture<Boolean> waiting = acme.issue("a.example", 5000);
        answer.complete(OnDemandIssuance.Result.ISSUED);
        Thread.sleep(100);
        assertFalse(waiting.isDone(), "ISSUED alone: this node's caches have not heard of it yet");
        acme.onChange("a.example");
        assertTrue(waiting.get(1, TimeUnit.SECONDS));
        assertEquals(0, statistics.getWaitsExpired());
    }

    @Test
    void changeEvent_thenIssued_completesAtOnce() throws Exception
    {
        CompletableFuture<Boolean> waiting = acme.issue("b.example", 5000);
        acme.onChange("b.example");
        answer.complete(OnDemandIssuance.Result.ISSUED);
        assertTrue(waiting.get(1, TimeUnit.SECONDS));
    }

    @Test
    void issued_noChangeEvent_looksUpAnywayAtTheBound() throws Exception
    {
        long start = System.nanoTime();
        CompletableFuture<Boolean> waiting = acme.issue("c.example", 300);
        answer.complete(OnDemandIssuance.Result.ISSUED);
        assertTrue(waiting.get(2, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(250));
    }

    @Test
    void deniedOrNoAnswerInTime_false_andNothingStaysRegistered() throws Exception
    {
        CompletableFuture<Boolean> slow = acme.issue("d.example", 200);
        assertFalse(slow.get(2, TimeUnit.SECONDS));
        assertEquals(1, statistics.getWaitsExpired());
        answer.complete(OnDemandIssuance.Result.DENIED);
        assertFalse(acme.issue("e.example", 1000).get(1, TimeUnit.SECONDS));
        assertEquals(1, statistics.getDenied(), "the expired wait's answer is not counted: nobody waits for it");
        assertEquals(1, statistics.getWaitsExpired(), "a denial is not an expired wait");
    }
}
