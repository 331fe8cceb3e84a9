package dev.dynsni.core.acme;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pure rules of the fleet's bookkeeping: registered domains for the weekly budget, renewal points. */
class OrderLedgerRulesTest
{
    @ParameterizedTest
    @CsvSource({
        "shop.example.com, example.com",
        "a.b.c.example.com, example.com",
        "example.com, example.com",
        "localhost, localhost",
        "a.example.co.uk, co.uk",
        "xn--bcher-kva.example, xn--bcher-kva.example"
    })
    void registeredDomain_isTheLastTwoLabels(String host, String expected)
    {
        assertEquals(expected, OrderLedger.registeredDomain(host));
    }

    @Test
    void renewalPoint_isBetweenSevenTwelfthsAndTwoThirdsOfTheLifetime_andStablePerName()
    {
        Instant notBefore = Instant.parse("2026-01-01T00:00:00Z");
        Instant notAfter = notBefore.plus(Duration.ofDays(90));
        long earliest = Duration.ofDays(90).toMillis() * 7 / 12;
        long latest = Duration.ofDays(90).toMillis() * 2 / 3;
        long distinct = 0;
        Instant previous = null;
        for (int i = 0; i < 200; i++)
        {
            OrderLedger.Issued issued = new OrderLedger.Issued("host" + i + ".example.com", notBefore, notAfter, false);
            Instant point = AcmeService.renewalPoint(issued);
            long offset = Duration.between(notBefore, point).toMillis();
            assertTrue(offset >= earliest - 1 && offset <= latest + 1, issued.name() + " at " + offset);
            assertEquals(point, AcmeService.renewalPoint(issued), "the same name always gets the same point");
            if (!point.equals(previous))
                distinct++;
            previous = point;
        }
        assertTrue(distinct > 150, "names issued together are spread: " + distinct + " distinct points of 200");
    }

    @Test
    void challengeDigest_isSha256OfTheKeyAuthorization_asRfc8737Says() throws Exception
    {
        String keyAuthorization = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.nysa3bXGM3dm2dSEqCx15xIfi_G3BdEzvNM4uaFP6f0";
        byte[] expected = java.security.MessageDigest.getInstance("SHA-256").digest(keyAuthorization.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertTrue(java.util.Arrays.equals(expected, ChallengeBoard.digest(keyAuthorization)));
    }
}
