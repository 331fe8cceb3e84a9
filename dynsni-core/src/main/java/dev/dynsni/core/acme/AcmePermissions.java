package dev.dynsni.core.acme;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.dynsni.core.HostNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a name without a certificate may be ordered: the permission model of on-demand
 * issuance. A name is allowed when the table {@code acme_allowed} holds it, or holds {@code *.parent}
 * for its parent (one label below, as a certificate wildcard), else when the ask endpoint answers
 * {@code GET askUrl?domain=NAME} with a 2xx status (Caddy's on-demand {@code ask}); everything else is
 * denied. A failing or slow ask endpoint denies.
 *
 * <p><b>Floods.</b> A client can send any number of random names. Each answer (allowed or denied) is
 * remembered for {@code acme.permissionCacheSeconds}, and concurrent checks of one name share one;
 * names with no remembered answer are checked at most {@code acme.permissionChecksPerSecond} times
 * per second on this node: beyond that a name is denied for now and nothing is remembered, so neither
 * PostgreSQL nor the ask endpoint sees more than that rate, and a name turned away by the limit is
 * checked again on its next contact. Permission is checked before any order, budget or lock, so a
 * flood of disallowed names never reaches the CA.</p>
 *
 * <p><b>Changes.</b> {@code dynsni allow} and {@code disallow} (or any SQL) change the table; its
 * trigger tells every node, which then forgets its remembered answers ({@link #forgetAll}, wired by
 * the node through {@code AcmeService.onPermissionRulesChanged}); answers of the ask endpoint live
 * out their time.</p>
 */
public final class AcmePermissions
{
    private static final Logger LOG = LoggerFactory.getLogger(AcmePermissions.class);

    /** Longest the ask endpoint may take to answer; a slower answer denies. */
    static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

    private final DataSource dataSource;
    private final String table;
    private final URI askUrl;
    private final HttpClient http;
    private final Executor executor;
    private final AsyncCache<String, Boolean> answers;
    private final RateLimit checkBudget;

    private final LongAdder allowed = new LongAdder();
    private final LongAdder denied = new LongAdder();
    private final LongAdder rateLimited = new LongAdder();
    private final LongAdder checks = new LongAdder();
    private final LongAdder askErrors = new LongAdder();

    /**
     * @param dataSource      PostgreSQL, holding {@code schema.acme_allowed}
     * @param askUrl          the ask endpoint, or null/blank for none
     * @param cacheFor        how long an answer is remembered
     * @param checksPerSecond most checks of names without a remembered answer, per second
     * @param executor        runs the table queries (JDBC blocks)
     */
    public AcmePermissions(DataSource dataSource, String schema, String askUrl, Duration cacheFor, long checksPerSecond, Executor executor, Ticker ticker)
    {
        this.dataSource = dataSource;
        this.table = schema + ".acme_allowed";
        this.askUrl = askUrl == null || askUrl.isBlank() ? null : askUri(askUrl);
        this.http = this.askUrl == null ? null : HttpClient.newBuilder().connectTimeout(ASK_TIMEOUT).executor(executor).build();
        this.executor = executor;
        this.checkBudget = new RateLimit(checksPerSecond, ticker::read);
        this.answers = Caffeine.newBuilder()
            .expireAfterWrite(cacheFor)
            .maximumSize(100_000)
            .ticker(ticker)
            .buildAsync();
    }

    /**
     * @throws IllegalArgumentException naming the setting, for a URL that is not absolute http(s)
     */
    static URI askUri(String askUrl)
    {
        try
        {
            URI uri = URI.create(askUrl.trim());
            if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null)
                throw new IllegalArgumentException("not an http or https URL");
            return uri;
        }
        catch (IllegalArgumentException x)
        {
            throw new IllegalArgumentException("jetty.dynamicSni.acme.askUrl='" + askUrl + "' is not valid: " + x.getMessage());
        }
    }

    /**
     * @param host a normalised host name
     * @return whether an order may start for it; never fails (an error denies)
     */
    public CompletableFuture<Boolean> allows(String host)
    {
        CompletableFuture<Boolean> known = answers.getIfPresent(host);
        if (known != null)
            return count(known);
        if (!checkBudget.tryAcquire())
        {
            rateLimited.increment();
            denied.increment();
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Boolean> fresh = new CompletableFuture<>();
        CompletableFuture<Boolean> raced = answers.asMap().putIfAbsent(host, fresh);
        if (raced != null)
            return count(raced);
        checks.increment();
        check(host).whenComplete((answer, failure) ->
        {
            if (failure != null)
            {
                // Not remembered: the next contact asks again (within the rate).
                answers.asMap().remove(host, fresh);
                fresh.complete(false);
            }
            else
                fresh.complete(answer);
        });
        return count(fresh);
    }

    private CompletableFuture<Boolean> count(CompletableFuture<Boolean> answer)
    {
        return answer.thenApply(yes ->
        {
            (yes ? allowed : denied).increment();
            return yes;
        });
    }

    /** The table, then the ask endpoint; completes exceptionally when neither could answer. */
    private CompletableFuture<Boolean> check(String host)
    {
        return CompletableFuture.supplyAsync(() -> inTable(host), executor)
            .thenCompose(inTable ->
            {
                if (inTable)
                    return CompletableFuture.completedFuture(true);
                if (askUrl == null)
                    return CompletableFuture.completedFuture(false);
                return ask(host);
            });
    }

    private boolean inTable(String host)
    {
        List<String> rules = rulesCovering(host);
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement("SELECT 1 FROM " + table + " WHERE name = ANY (?)"))
        {
            statement.setArray(1, connection.createArrayOf("text", rules.toArray()));
            try (ResultSet rs = statement.executeQuery())
            {
                return rs.next();
            }
        }
        catch (SQLException x)
        {
            LOG.warn("ACME permission table cannot be read sni={} reason={}", host, x.toString());
            throw new IllegalStateException(x);
        }
    }

    private CompletableFuture<Boolean> ask(String host)
    {
        String separator = askUrl.getRawQuery() == null ? "?" : "&";
        URI uri = URI.create(askUrl + separator + "domain=" + URLEncoder.encode(host, StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(ASK_TIMEOUT).GET().build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
            .handle((response, failure) ->
            {
                if (failure != null)
                {
                    askErrors.increment();
                    LOG.warn("ACME ask endpoint failed, denying sni={} url={} reason={}", host, askUrl, String.valueOf(failure));
                    throw new IllegalStateException(failure);
                }
                int status = response.statusCode();
                if (LOG.isDebugEnabled())
                    LOG.debug("ACME ask endpoint answered sni={} status={}", host, status);
                return status >= 200 && status < 300;
            });
    }

    /**
     * @param host a normalised host
     * @return the table rows that allow it: itself and, below a parent of two labels or more, {@code *.parent}
     */
    static List<String> rulesCovering(String host)
    {
        List<String> rules = new ArrayList<>(2);
        rules.add(host);
        String wildcard = HostNames.wildcardFor(host);
        if (wildcard != null && HostNames.isValidStoredName(wildcard))
            rules.add(wildcard);
        return rules;
    }

    /**
     * Normalises a rule written by an operator.
     *
     * @param raw a host name, or {@code *.parent} for the names one label below parent
     * @return the rule as stored
     * @throws IllegalArgumentException saying what is wrong
     */
    public static String normalizeRule(String raw)
    {
        String trimmed = raw == null ? "" : raw.trim();
        if (trimmed.startsWith("*."))
        {
            String parent = HostNames.normalize(trimmed.substring(2));
            if (parent == null)
                throw new IllegalArgumentException("'" + raw + "' is not valid: *. must be followed by a host name");
            if (parent.indexOf('.') < 0)
                throw new IllegalArgumentException("'" + raw + "' is not valid: a wildcard needs a parent of at least two labels (*.example.com), not a top-level domain");
            return "*." + parent;
        }
        if (trimmed.contains("*"))
            throw new IllegalArgumentException("'" + raw + "' is not valid: a wildcard is only *. followed by a host name");
        String host = HostNames.normalize(trimmed);
        if (host == null)
            throw new IllegalArgumentException("'" + raw + "' is not a valid host name");
        return host;
    }

    /**
     * Drops what this node remembers about a rule's names, so a change to the table takes effect
     * at once here.
     *
     * @param rule a rule as stored: a host, or {@code *.parent} (then every remembered answer goes)
     */
    public void forget(String rule)
    {
        if (rule.startsWith("*."))
            answers.synchronous().invalidateAll();
        else
            answers.synchronous().invalidate(rule);
    }

    /** Drops every remembered answer: the rules changed somewhere in the fleet. */
    public void forgetAll()
    {
        answers.synchronous().invalidateAll();
    }

    public long getAllowed()
    {
        return allowed.sum();
    }

    public long getDenied()
    {
        return denied.sum();
    }

    /** @return denials because the per-second check budget was spent (included in {@link #getDenied()}) */
    public long getRateLimited()
    {
        return rateLimited.sum();
    }

    /** @return checks made (table, then ask endpoint when the table did not allow) */
    public long getChecks()
    {
        return checks.sum();
    }

    public long getAskErrors()
    {
        return askErrors.sum();
    }
}
