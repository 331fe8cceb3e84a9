package dev.dynsni.admin;

import java.net.URL;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.dynsni.core.Setting;
import dev.dynsni.core.acme.AcmeService;
import dev.dynsni.core.acme.OnDemandIssuance;
import dev.dynsni.core.acme.OrderLedger;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.exception.AcmeNetworkException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dynsni acme register | status HOST | renew HOST}: the fleet's ACME account and the ACME state
 * of a host, from the same tables the nodes use.
 *
 * <p>{@code renew} runs the order from the tool itself (as one more node: it takes the name's fleet
 * lease, counts against the budgets, publishes the challenge in {@code acme_challenge}, which the
 * running nodes answer, and stores the certificate like an import), so the operator sees the outcome;
 * {@code --later} instead marks the name for the nodes' renewal leader, which renews it at its next
 * round (needs no route from the CA to anything but the nodes).</p>
 */
@Command(name = "acme", description = {
    "ACME: 'register' creates (or finds) the fleet's account at the directory and prints its URL;",
    "'status HOST' shows HOST's certificate expiry, order state, attempts, next attempt, last error and pending challenge;",
    "'renew HOST' renews HOST now (the running nodes answer the CA's validation), or with --later at the renewal leader's next round."
})
class AcmeCommand extends StoreCommand
{
    enum Action
    {
        register, status, renew
    }

    @Parameters(index = "0", paramLabel = "ACTION", description = "register, status or renew.")
    Action action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "HOST", description = "The host (status and renew).")
    String host;

    @Option(names = "--later", description = "renew: mark HOST for the renewal leader instead of ordering from this tool.")
    boolean later;

    @Override
    public Integer call()
    {
        String name = null;
        if (action != Action.register)
        {
            if (host == null)
                throw CliException.usage("'acme " + action + "' needs a HOST");
            name = CertificateLoader.normalizeName(host);
            if (name == null || name.startsWith("*."))
                throw CliException.rejected("'" + host + "' is not a valid host name (ACME issues exact names here, no wildcards)");
        }
        else if (host != null)
            throw CliException.usage("'acme register' takes no HOST");
        return switch (action)
        {
            case register -> register();
            case status -> status(name);
            case renew -> renew(name);
        };
    }

    private AcmeService service()
    {
        if (!AcmeService.enabled(settings().core()))
            throw CliException.usage("no ACME directory: pass --acme-directory-url, or point --jetty-base at a base with " + Setting.ACME_DIRECTORY_URL.property());
        try (Connection ignored = openDatabase())
        {
            // checks reachability and the schema version before anything else
        }
        catch (SQLException x)
        {
            throw Database.failed("opening", x);
        }
        try
        {
            return AcmeService.build(settings().core(), () -> Database.open(settings()), null, masterKeys(), () -> true,
                host -> CompletableFuture.completedFuture(true));
        }
        catch (IllegalStateException x)
        {
            throw CliException.usage(x.getMessage());
        }
    }

    private int register()
    {
        AcmeService service = service();
        try
        {
            URL url = service.account().register();
            out().println("account " + url);
            return DynSni.EXIT_OK;
        }
        catch (AcmeNetworkException x)
        {
            throw CliException.unreachable("cannot reach the ACME directory " + settings().core().string(Setting.ACME_DIRECTORY_URL) + ": " + x.getMessage(), x);
        }
        catch (AcmeException x)
        {
            throw CliException.rejected("the CA refused the registration: " + x.getMessage());
        }
        catch (SQLException x)
        {
            throw Database.failed("storing the ACME account", x);
        }
    }

    private int status(String name)
    {
        try (Connection connection = openDatabase())
        {
            String schema = settings().schema();
            boolean known = false;
            Instant now = Instant.now();
            try (PreparedStatement query = connection.prepareStatement("SELECT key_type, not_after, fingerprint FROM " + schema + ".certificate WHERE host = ? ORDER BY key_type"))
            {
                query.setString(1, name);
                try (ResultSet rs = query.executeQuery())
                {
                    while (rs.next())
                    {
                        known = true;
                        Instant notAfter = instant(rs.getTimestamp(2));
                        out().println("certificate " + rs.getString(1) + " notAfter=" + (notAfter == null ? "unknown" : notAfter + " (" + in(now, notAfter) + ")") +
                            " fingerprint=" + rs.getString(3));
                    }
                }
            }
            if (!known)
                out().println("certificate none");
            OrderLedger.Status status = new OrderLedger(() -> Database.open(settings()), schema, null, null, 0, 0, 0, 0).status(name);
            if (status == null)
                out().println("order       never ordered by ACME");
            else
            {
                known = true;
                out().println("order       state=" + status.state() + " attempts=" + status.attempts() +
                    " nextAttempt=" + (status.nextAttemptAt() == null || status.nextAttemptAt().isBefore(now) ? "now" : status.nextAttemptAt() + " (" + in(now, status.nextAttemptAt()) + ")") +
                    (status.leaseUntil() != null && status.leaseUntil().isAfter(now) ? " leasedBy=" + status.leaseHolder() + " until " + status.leaseUntil() : "") +
                    (status.renewRequested() ? " renewal=requested" : ""));
                if (status.lastError() != null)
                    out().println("last error  " + status.lastError());
                if (status.notAfter() != null)
                    out().println("issued      notBefore=" + status.notBefore() + " notAfter=" + status.notAfter());
            }
            try (PreparedStatement query = connection.prepareStatement("SELECT type, expires_at FROM " + schema + ".acme_challenge WHERE host = ? AND expires_at > now()"))
            {
                query.setString(1, name);
                try (ResultSet rs = query.executeQuery())
                {
                    boolean any = false;
                    while (rs.next())
                    {
                        any = true;
                        out().println("challenge   " + rs.getString(1) + " pending until " + instant(rs.getTimestamp(2)));
                    }
                    if (!any)
                        out().println("challenge   none pending");
                }
            }
            return DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("reading the ACME state of " + name, x);
        }
    }

    private int renew(String name)
    {
        if (later)
        {
            try
            {
                boolean marked = new OrderLedger(() -> Database.open(settings()), settings().schema(), null, null, 0, 0, 0, 0).requestRenewal(name);
                if (!marked)
                    throw CliException.rejected(name + " was never issued by ACME: nothing to renew (a name is ordered on its first handshake)");
                out().println("renewal of " + name + " requested: the renewal leader renews it at its next round");
                return DynSni.EXIT_OK;
            }
            catch (SQLException x)
            {
                throw Database.failed("requesting the renewal of " + name, x);
            }
        }
        AcmeService service = service();
        service.start();
        try
        {
            long timeout = settings().core().longValue(Setting.ACME_ORDER_TIMEOUT_SECONDS) + 10;
            OnDemandIssuance.Result result = service.renew(name).get(timeout, TimeUnit.SECONDS);
            return switch (result)
            {
                case ISSUED ->
                {
                    OrderLedger.Status status = service.ledger().status(name);
                    out().println("renewed " + name + (status == null || status.notAfter() == null ? "" : " notAfter=" + status.notAfter()));
                    yield DynSni.EXIT_OK;
                }
                case DEFERRED -> throw CliException.rejected("not renewed: another node is ordering " + name + " now, or a fleet budget is used up; see 'dynsni acme status " + name + "'");
                case DENIED -> throw CliException.rejected("not renewed: " + name + " is not permitted");
                case FAILED ->
                {
                    OrderLedger.Status status = service.ledger().status(name);
                    throw CliException.rejected("renewal of " + name + " failed: " + (status == null ? "see the log" : status.lastError()));
                }
            };
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            throw CliException.rejected("interrupted");
        }
        catch (ExecutionException | TimeoutException x)
        {
            throw CliException.rejected("renewal of " + name + " did not finish: " + x.getMessage());
        }
        catch (SQLException x)
        {
            throw Database.failed("reading the ACME state of " + name, x);
        }
        finally
        {
            service.stop();
        }
    }

    private static Instant instant(Timestamp timestamp)
    {
        return timestamp == null ? null : timestamp.toInstant();
    }

    private static String in(Instant now, Instant then)
    {
        Duration left = Duration.between(now, then);
        if (left.isNegative())
            return "ended " + human(left.negated()) + " ago";
        return "in " + human(left);
    }

    private static String human(Duration duration)
    {
        if (duration.toDays() >= 2)
            return duration.toDays() + " days";
        if (duration.toHours() >= 2)
            return duration.toHours() + " hours";
        if (duration.toMinutes() >= 2)
            return duration.toMinutes() + " minutes";
        return duration.toSeconds() + " s";
    }
}
