package dev.dynsni.core.acme;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.PollableResource;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.util.KeyPairUtils;

/**
 * Runs one ACME order for one host, start to end, on the calling thread: new order, the configured
 * challenge published on the {@link ChallengeBoard} before the CA is asked to validate (and withdrawn
 * whatever happens), finalisation with a new key, download of the chain. Every wait is bounded by the
 * order's deadline; polls follow the CA's Retry-After, else back off from 200 ms to 2 s (Pebble
 * validates at once, Let's Encrypt within seconds).
 */
final class Issuer
{
    private static final Duration FIRST_POLL = Duration.ofMillis(200);
    private static final Duration LAST_POLL = Duration.ofSeconds(2);

    /** The certificate an order gave. */
    record Issued(List<X509Certificate> chain, KeyPair keys)
    {
    }

    private final ChallengeBoard board;
    private final String challengeType;
    private final String keyType;

    /**
     * @param challengeType {@code http-01} or {@code tls-alpn-01}
     * @param keyType       {@code ec} (P-256) or {@code rsa} (2048 bits)
     */
    Issuer(ChallengeBoard board, String challengeType, String keyType)
    {
        this.board = board;
        this.challengeType = challengeType;
        this.keyType = keyType;
    }

    Issued issue(Login login, String host, Instant deadline) throws AcmeException, SQLException, InterruptedException
    {
        Order order = login.newOrder().domain(host).create();
        for (Authorization authorization : order.getAuthorizations())
        {
            if (authorization.getStatus() == Status.VALID)
                continue;
            validate(authorization, host, deadline);
        }
        if (poll(order, EnumSet.of(Status.READY, Status.VALID, Status.INVALID), deadline) == Status.INVALID)
            throw new AcmeException("order became invalid: " + describe(order.getError()));
        KeyPair keys = "rsa".equals(keyType) ? KeyPairUtils.createKeyPair(2048) : KeyPairUtils.createECKeyPair("secp256r1");
        order.execute(keys);
        if (poll(order, EnumSet.of(Status.VALID, Status.INVALID), deadline) != Status.VALID)
            throw new AcmeException("finalisation failed: " + describe(order.getError()));
        List<X509Certificate> chain = order.getCertificate().getCertificateChain();
        return new Issued(chain, keys);
    }

    private void validate(Authorization authorization, String host, Instant deadline) throws AcmeException, SQLException, InterruptedException
    {
        Challenge challenge;
        ChallengeBoard.Pending pending;
        if (ChallengeBoard.HTTP_01.equals(challengeType))
        {
            Http01Challenge http = authorization.findChallenge(Http01Challenge.class)
                .orElseThrow(() -> new AcmeException("the CA offers no http-01 challenge for " + host));
            pending = new ChallengeBoard.Pending(host, ChallengeBoard.HTTP_01, http.getToken(), http.getAuthorization());
            challenge = http;
        }
        else
        {
            TlsAlpn01Challenge alpn = authorization.findChallenge(TlsAlpn01Challenge.class)
                .orElseThrow(() -> new AcmeException("the CA offers no tls-alpn-01 challenge for " + host));
            pending = new ChallengeBoard.Pending(host, ChallengeBoard.TLS_ALPN_01, alpn.getJSON().get("token").asString(), alpn.getAuthorization());
            challenge = alpn;
        }
        board.publish(pending, Duration.between(Instant.now(), deadline).plusSeconds(5));
        try
        {
            challenge.trigger();
            if (poll(challenge, EnumSet.of(Status.VALID, Status.INVALID), deadline) != Status.VALID)
                throw new AcmeException(challengeType + " validation of " + host + " failed: " + describe(challenge.getError()));
        }
        finally
        {
            board.withdraw(pending);
        }
    }

    /** Polls until the resource reaches one of the states, honouring Retry-After within the deadline. */
    static Status poll(PollableResource resource, Set<Status> done, Instant deadline) throws AcmeException, InterruptedException
    {
        Duration pause = FIRST_POLL;
        while (true)
        {
            if (done.contains(resource.getStatus()))
                return resource.getStatus();
            Instant now = Instant.now();
            if (!now.isBefore(deadline))
                throw new AcmeException("order timeout reached (status " + resource.getStatus() + ")");
            Optional<Instant> retryAfter = resource.fetch();
            if (done.contains(resource.getStatus()))
                return resource.getStatus();
            Instant next = retryAfter.filter(at -> at.isAfter(Instant.now())).orElse(Instant.now().plus(pause));
            if (next.isAfter(deadline))
                next = deadline;
            long millis = Duration.between(Instant.now(), next).toMillis();
            if (millis > 0)
                Thread.sleep(millis);
            pause = pause.multipliedBy(2).compareTo(LAST_POLL) > 0 ? LAST_POLL : pause.multipliedBy(2);
        }
    }

    private static String describe(Optional<Problem> problem)
    {
        return problem.map(p -> p.getDetail().orElse(p.getType().toString())).orElse("no detail from the CA");
    }
}
