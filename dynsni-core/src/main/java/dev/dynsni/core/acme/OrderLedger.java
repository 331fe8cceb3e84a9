package dev.dynsni.core.acme;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fleet's bookkeeping of orders in PostgreSQL ({@code acme_order}, {@code acme_order_log}): who
 * orders a name now (a lease), when a failed name may be ordered again (backoff), and how many orders
 * the fleet started lately (budgets).
 *
 * <p>{@link #begin} decides and takes the lease in one short transaction under a transaction-level
 * advisory lock of the schema, so that all nodes' order starts are serialised: two nodes asking for
 * one name at once give one lease, and the budget counts cannot be overtaken between the count and
 * the log entry. A lease lasts the order timeout; a node that dies holding it loses it then. The lease
 * is released by {@link #succeeded} or {@link #failed}, which only touch a row this node still holds.</p>
 *
 * <p>Registered domain, for the weekly budget: the last two labels of the name ({@code a.shop.example.com}
 * counts for {@code example.com}; {@code a.example.co.uk} for {@code co.uk}, stricter than the CA's
 * public-suffix rule, never looser). Thread-safe: every call takes its own connection.</p>
 */
public final class OrderLedger
{
    /** Longest backoff after repeated failures. */
    static final long MAX_BACKOFF_SECONDS = 86_400;

    /** What {@link #begin} decided. */
    public enum Decision
    {
        /** This node holds the lease: order now. */
        LEASED,
        /** Another node's order for the name is in flight: wait for its certificate. */
        HELD,
        /** A certificate for the name is stored already (on-demand requests only). */
        ISSUED,
        /** The name failed lately and waits out its backoff. */
        BACKOFF,
        /** The fleet's orders per hour at this directory are used up. */
        HOURLY_BUDGET,
        /** The fleet's orders per week for the name's registered domain are used up. */
        WEEKLY_BUDGET
    }

    /** The state of one name, as {@code dynsni acme status} shows it. */
    public record Status(String name, String state, String leaseHolder, Instant leaseUntil, int attempts, Instant nextAttemptAt, String lastError,
                         Instant notBefore, Instant notAfter, boolean renewRequested, Instant updatedAt)
    {
    }

    /** What a waiting node learns about a name another node orders. */
    public enum Progress
    {
        /** a certificate is stored */
        ISSUED,
        /** still leased */
        ORDERING,
        /** the order failed */
        FAILED,
        /** no lease, no certificate (the holder died, or never was) */
        GONE
    }

    private final Connections connections;
    private final String schema;
    private final String directoryUrl;
    private final String node;
    private final long maxOrdersPerHour;
    private final long maxOrdersPerDomainPerWeek;
    private final long leaseSeconds;
    private final long retrySeconds;

    public OrderLedger(Connections connections, String schema, String directoryUrl, String node, long maxOrdersPerHour, long maxOrdersPerDomainPerWeek,
                       long leaseSeconds, long retrySeconds)
    {
        this.connections = connections;
        this.schema = schema;
        this.directoryUrl = directoryUrl;
        this.node = node;
        this.maxOrdersPerHour = maxOrdersPerHour;
        this.maxOrdersPerDomainPerWeek = maxOrdersPerDomainPerWeek;
        this.leaseSeconds = leaseSeconds;
        this.retrySeconds = retrySeconds;
    }

    /** @return the last two labels of a host name (the whole name when it has fewer) */
    public static String registeredDomain(String host)
    {
        int last = host.lastIndexOf('.');
        if (last <= 0)
            return host;
        int previous = host.lastIndexOf('.', last - 1);
        return previous < 0 ? host : host.substring(previous + 1);
    }

    /** @return this ledger's node id, the {@code lease_holder} of its leases */
    public String node()
    {
        return node;
    }

    /**
     * Decides whether this node orders the name now and, if so, takes the lease and logs the order
     * start against the budgets.
     *
     * @param renewal true for a renewal (a stored certificate does not end it)
     * @param force   true to skip the backoff (an operator's forced renewal); budgets still hold
     */
    public Decision begin(String name, boolean renewal, boolean force) throws SQLException
    {
        try (Connection connection = connections.get())
        {
            connection.setAutoCommit(false);
            try
            {
                Decision decision = decide(connection, name, renewal, force);
                if (decision == Decision.LEASED)
                    lease(connection, name);
                connection.commit();
                return decision;
            }
            catch (SQLException | RuntimeException x)
            {
                connection.rollback();
                throw x;
            }
            finally
            {
                connection.setAutoCommit(true);
            }
        }
    }

    private Decision decide(Connection connection, String name, boolean renewal, boolean force) throws SQLException
    {
        try (Statement lock = connection.createStatement())
        {
            lock.execute("SELECT pg_advisory_xact_lock(hashtext('dynsni-acme-order:" + schema + "'))");
        }
        if (!renewal)
        {
            try (PreparedStatement exists = connection.prepareStatement("SELECT EXISTS (SELECT 1 FROM " + schema + ".certificate WHERE host = ?)"))
            {
                exists.setString(1, name);
                try (ResultSet rs = exists.executeQuery())
                {
                    rs.next();
                    if (rs.getBoolean(1))
                        return Decision.ISSUED;
                }
            }
        }
        try (PreparedStatement row = connection.prepareStatement(
            "SELECT lease_until > now(), next_attempt_at > now() FROM " + schema + ".acme_order WHERE name = ? FOR UPDATE"))
        {
            row.setString(1, name);
            try (ResultSet rs = row.executeQuery())
            {
                if (rs.next())
                {
                    if (rs.getBoolean(1))
                        return Decision.HELD;
                    if (rs.getBoolean(2) && !force)
                        return Decision.BACKOFF;
                }
            }
        }
        if (count("directory_url = ? AND started_at > now() - interval '1 hour'", directoryUrl, connection) >= maxOrdersPerHour)
            return Decision.HOURLY_BUDGET;
        if (count("registered_domain = ? AND started_at > now() - interval '7 days'", registeredDomain(name), connection) >= maxOrdersPerDomainPerWeek)
            return Decision.WEEKLY_BUDGET;
        return Decision.LEASED;
    }

    private long count(String where, String value, Connection connection) throws SQLException
    {
        try (PreparedStatement count = connection.prepareStatement("SELECT count(*) FROM " + schema + ".acme_order_log WHERE " + where))
        {
            count.setString(1, value);
            try (ResultSet rs = count.executeQuery())
            {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private void lease(Connection connection, String name) throws SQLException
    {
        try (PreparedStatement upsert = connection.prepareStatement(
            "INSERT INTO " + schema + ".acme_order (name, state, lease_holder, lease_until) VALUES (?, 'ordering', ?, now() + ? * interval '1 second') " +
                "ON CONFLICT (name) DO UPDATE SET state = 'ordering', lease_holder = EXCLUDED.lease_holder, lease_until = EXCLUDED.lease_until, updated_at = now()");
             PreparedStatement log = connection.prepareStatement(
                 "INSERT INTO " + schema + ".acme_order_log (directory_url, name, registered_domain, node) VALUES (?, ?, ?, ?)");
             PreparedStatement prune = connection.prepareStatement(
                 "DELETE FROM " + schema + ".acme_order_log WHERE directory_url = ? AND started_at < now() - interval '8 days'"))
        {
            upsert.setString(1, name);
            upsert.setString(2, node);
            upsert.setLong(3, leaseSeconds);
            upsert.executeUpdate();
            log.setString(1, directoryUrl);
            log.setString(2, name);
            log.setString(3, registeredDomain(name));
            log.setString(4, node);
            log.executeUpdate();
            prune.setString(1, directoryUrl);
            prune.executeUpdate();
        }
    }

    /** Releases the lease of an order that stored its certificate; clears the backoff and any renewal request. */
    public void succeeded(String name, Instant notBefore, Instant notAfter) throws SQLException
    {
        try (Connection connection = connections.get();
             PreparedStatement update = connection.prepareStatement(
                 "UPDATE " + schema + ".acme_order SET state = 'issued', lease_holder = NULL, lease_until = NULL, attempts = 0, next_attempt_at = NULL, " +
                     "last_error = NULL, not_before = ?, not_after = ?, renew_requested = false, updated_at = now() WHERE name = ? AND lease_holder = ?"))
        {
            update.setTimestamp(1, Timestamp.from(notBefore));
            update.setTimestamp(2, Timestamp.from(notAfter));
            update.setString(3, name);
            update.setString(4, node);
            update.executeUpdate();
        }
    }

    /**
     * Releases the lease of a failed order and sets its backoff: the retry time, doubled per failure
     * in a row, at most a day.
     *
     * @return when the name may be ordered again
     */
    public Instant failed(String name, String error) throws SQLException
    {
        try (Connection connection = connections.get();
             PreparedStatement update = connection.prepareStatement(
                 "UPDATE " + schema + ".acme_order SET state = 'failed', lease_holder = NULL, lease_until = NULL, attempts = attempts + 1, " +
                     "next_attempt_at = now() + LEAST(? * power(2, LEAST(attempts, 30)), ?) * interval '1 second', last_error = ?, updated_at = now() " +
                     "WHERE name = ? AND lease_holder = ? RETURNING next_attempt_at"))
        {
            update.setLong(1, retrySeconds);
            update.setLong(2, MAX_BACKOFF_SECONDS);
            update.setString(3, error == null ? "(no detail)" : error.length() > 2000 ? error.substring(0, 2000) : error);
            update.setString(4, name);
            update.setString(5, node);
            try (ResultSet rs = update.executeQuery())
            {
                return rs.next() ? rs.getTimestamp(1).toInstant() : null;
            }
        }
    }

    /** @return for each name another node orders, how far it got */
    public Map<String, Progress> progress(Collection<String> names) throws SQLException
    {
        Map<String, Progress> result = new HashMap<>();
        try (Connection connection = connections.get();
             PreparedStatement query = connection.prepareStatement(
                 "SELECT n.name, EXISTS (SELECT 1 FROM " + schema + ".certificate c WHERE c.host = n.name), o.state, o.lease_until > now() " +
                     "FROM unnest(?::text[]) AS n(name) LEFT JOIN " + schema + ".acme_order o ON o.name = n.name"))
        {
            Array array = connection.createArrayOf("text", names.toArray());
            query.setArray(1, array);
            try (ResultSet rs = query.executeQuery())
            {
                while (rs.next())
                {
                    Progress progress;
                    if (rs.getBoolean(2))
                        progress = Progress.ISSUED;
                    else if (rs.getBoolean(4))
                        progress = Progress.ORDERING;
                    else if ("failed".equals(rs.getString(3)))
                        progress = Progress.FAILED;
                    else
                        progress = Progress.GONE;
                    result.put(rs.getString(1), progress);
                }
            }
        }
        return result;
    }

    /** @return the order state of a name, or null when ACME never ordered it */
    public Status status(String name) throws SQLException
    {
        try (Connection connection = connections.get();
             PreparedStatement query = connection.prepareStatement(
                 "SELECT name, state, lease_holder, lease_until, attempts, next_attempt_at, last_error, not_before, not_after, renew_requested, updated_at " +
                     "FROM " + schema + ".acme_order WHERE name = ?"))
        {
            query.setString(1, name);
            try (ResultSet rs = query.executeQuery())
            {
                if (!rs.next())
                    return null;
                return new Status(rs.getString(1), rs.getString(2), rs.getString(3), instant(rs.getTimestamp(4)), rs.getInt(5), instant(rs.getTimestamp(6)),
                    rs.getString(7), instant(rs.getTimestamp(8)), instant(rs.getTimestamp(9)), rs.getBoolean(10), instant(rs.getTimestamp(11)));
            }
        }
    }

    /**
     * Asks the renewal leader to renew a name at its next round, whatever its lifetime and backoff.
     *
     * @return false when ACME never issued the name (nothing to renew)
     */
    public boolean requestRenewal(String name) throws SQLException
    {
        try (Connection connection = connections.get();
             PreparedStatement update = connection.prepareStatement("UPDATE " + schema + ".acme_order SET renew_requested = true, updated_at = now() WHERE name = ?"))
        {
            update.setString(1, name);
            return update.executeUpdate() > 0;
        }
    }

    /** A name ACME issued, with the lifetime of its last certificate. */
    public record Issued(String name, Instant notBefore, Instant notAfter, boolean renewRequested)
    {
    }

    /**
     * @param fraction of the lifetime of a name's last certificate after which it is a candidate
     * @return names ACME issued past that fraction of their certificate's lifetime, or whose renewal was
     *     requested, not leased and not in backoff (unless requested); requested first, then soonest end
     */
    public List<Issued> renewalCandidates(double fraction, int limit) throws SQLException
    {
        List<Issued> result = new ArrayList<>();
        try (Connection connection = connections.get();
             PreparedStatement query = connection.prepareStatement(
                 "SELECT name, not_before, not_after, renew_requested FROM " + schema + ".acme_order " +
                     "WHERE not_after IS NOT NULL AND (renew_requested OR now() >= not_before + (not_after - not_before) * ?) AND (lease_until IS NULL OR lease_until < now()) " +
                     "AND (renew_requested OR next_attempt_at IS NULL OR next_attempt_at <= now()) " +
                     // a certificate an operator removed is not brought back
                     "AND EXISTS (SELECT 1 FROM " + schema + ".certificate c WHERE c.host = acme_order.name) " +
                     "ORDER BY renew_requested DESC, not_after LIMIT ?"))
        {
            query.setDouble(1, fraction);
            query.setInt(2, limit);
            try (ResultSet rs = query.executeQuery())
            {
                while (rs.next())
                {
                    result.add(new Issued(rs.getString(1), instant(rs.getTimestamp(2)), instant(rs.getTimestamp(3)), rs.getBoolean(4)));
                }
            }
        }
        return result;
    }

    private static Instant instant(Timestamp timestamp)
    {
        return timestamp == null ? null : timestamp.toInstant();
    }
}
