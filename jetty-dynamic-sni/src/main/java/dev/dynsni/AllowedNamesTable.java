package dev.dynsni;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

import dev.dynsni.core.HostNames;
import dev.dynsni.core.acme.Connections;

/**
 * The minimal ACME permission policy: a name may be ordered when the node's {@code acme_allowed}
 * table holds it, or holds {@code *.parent} for its parent one label up ({@code dynsni allow
 * '*.shops.example'} allows {@code a.shops.example}, not {@code b.a.shops.example} nor
 * {@code shops.example}). One short query on the given executor, never on the caller's thread.
 *
 * <p>A stand-in until the fleet's full policy (ask endpoint, negative caching, the per-node rate
 * limit of permission checks) takes its place; the ACME service already serialises requests per
 * name, so a flood of one name costs one query at a time.</p>
 */
final class AllowedNamesTable implements Function<String, CompletableFuture<Boolean>>
{
    private final Connections connections;
    private final String schema;
    private final Executor executor;

    /** @param schema a validated schema name (the store's) */
    AllowedNamesTable(Connections connections, String schema, Executor executor)
    {
        this.connections = connections;
        this.schema = schema;
        this.executor = executor;
    }

    @Override
    public CompletableFuture<Boolean> apply(String host)
    {
        String wildcard = HostNames.wildcardFor(host);
        return CompletableFuture.supplyAsync(() ->
        {
            try (Connection connection = connections.get();
                 PreparedStatement select = connection.prepareStatement("SELECT 1 FROM " + schema + ".acme_allowed WHERE name = ? OR name = ?"))
            {
                select.setString(1, host);
                select.setString(2, wildcard == null ? host : wildcard);
                try (ResultSet rows = select.executeQuery())
                {
                    return rows.next();
                }
            }
            catch (Exception x)
            {
                throw new IllegalStateException("acme_allowed cannot be read: " + x.getMessage(), x);
            }
        }, executor);
    }
}
