package dev.dynsni.admin;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "list", description = "List stored certificates: host, key type, expiry, fingerprint. Never key material.")
class ListCommand extends StoreCommand
{
    @Option(names = "--expiring-within", paramLabel = "DAYS", description = "Only certificates that expire within DAYS days (expired ones included), soonest first.")
    Integer expiringWithin;

    @Option(names = "--host-like", paramLabel = "PATTERN", description = "Only hosts matching a SQL LIKE pattern (%% any characters, _ one), case-insensitive.")
    String hostLike;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "1000", description = "At most N rows (default ${DEFAULT-VALUE}; 0 = all).")
    int limit;

    @Override
    public Integer call()
    {
        if (limit < 0)
            throw CliException.usage("--limit must not be negative");
        if (expiringWithin != null && expiringWithin < 0)
            throw CliException.usage("--expiring-within must not be negative");
        String schema = settings().schema();
        List<String> where = new ArrayList<>();
        if (expiringWithin != null)
            where.add("not_after < now() + make_interval(days => ?)");
        if (hostLike != null)
            where.add("host LIKE lower(?)");
        String sql = "SELECT host, key_type, not_after, fingerprint, version, updated_at FROM " + schema + ".certificate" +
            (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where)) +
            (expiringWithin != null ? " ORDER BY not_after NULLS FIRST, host, key_type" : " ORDER BY host, key_type") +
            (limit > 0 ? " LIMIT " + (limit + 1) : "");
        try (Connection connection = openDatabase();
             PreparedStatement statement = connection.prepareStatement(sql))
        {
            int index = 1;
            if (expiringWithin != null)
                statement.setInt(index++, expiringWithin);
            if (hostLike != null)
                statement.setString(index, hostLike);
            statement.setFetchSize(1000);
            connection.setAutoCommit(false);
            Instant now = Instant.now();
            int rows = 0;
            boolean more = false;
            try (ResultSet rs = statement.executeQuery())
            {
                while (rs.next())
                {
                    if (limit > 0 && rows == limit)
                    {
                        more = true;
                        break;
                    }
                    if (rows == 0)
                        out().println(String.format(Locale.ROOT, "%-40s %-10s %-20s %6s  %-16s %10s", "HOST", "KEY", "NOT AFTER", "DAYS", "FINGERPRINT", "VERSION"));
                    Timestamp notAfter = rs.getTimestamp(3);
                    String days = notAfter == null ? "?" : String.valueOf(Duration.between(now, notAfter.toInstant()).toDays());
                    if (notAfter != null && notAfter.toInstant().isBefore(now))
                        days = "EXPIRED";
                    String fingerprint = rs.getString(4);
                    out().println(String.format(Locale.ROOT, "%-40s %-10s %-20s %6s  %-16s %10d", rs.getString(1), rs.getString(2),
                        notAfter == null ? "?" : notAfter.toInstant().toString().replace("T", " ").replaceAll("(\\.\\d+)?Z$", ""),
                        days, fingerprint == null ? "?" : fingerprint.substring(0, Math.min(16, fingerprint.length())), rs.getLong(5)));
                    rows++;
                }
            }
            connection.commit();
            if (rows == 0)
                err().println("no certificates match");
            else if (more)
                err().println("(more than " + limit + " rows; raise --limit, or --limit 0 for all)");
            return DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("listing certificates", x);
        }
    }
}
