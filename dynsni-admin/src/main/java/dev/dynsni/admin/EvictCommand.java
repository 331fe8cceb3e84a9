package dev.dynsni.admin;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import dev.dynsni.core.ChangeFeed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "evict", description = {
    "Drop cached copies on every node (their in-process cache and Redis) so the next handshake reads PostgreSQL:",
    "of one stored name (HOST, or a *.parent wildcard), or of everything with --all. PostgreSQL is not changed."
})
class EvictCommand extends StoreCommand
{
    @Parameters(index = "0", arity = "0..1", paramLabel = "HOST", description = "The stored name to evict.")
    String host;

    @Option(names = "--all", description = "Evict every name (deletes the Redis entries under the key prefix).")
    boolean all;

    @Override
    public Integer call()
    {
        if (all == (host != null))
            throw CliException.usage("give either HOST or --all");
        String name = all ? ChangeFeed.EVICT_ALL : CertificateLoader.normalizeName(host);
        if (name == null)
            throw CliException.rejected("'" + host + "' is not a valid host name or *.parent wildcard");
        Settings settings = settings();
        try (Connection connection = openDatabase())
        {
            long version = Database.nextVersion(connection, settings.schema());
            long deleted = 0;
            CliException redisFailure = null;
            try
            {
                if (all)
                    deleted = deleteAllRedis();
                else
                    invalidateRedis(this, name, version);
            }
            catch (CliException x)
            {
                if (x.getExitCode() != DynSni.EXIT_UNREACHABLE)
                    throw x;
                redisFailure = x;
            }
            // After Redis: a node that reloads on this notice finds no stale Redis entry.
            Database.notifyChange(connection, settings.schema(), name, version);
            if (redisFailure != null)
            {
                // Nodes invalidate Redis for a single name themselves, but not for EVICT_ALL.
                if (all)
                    throw new CliException(DynSni.EXIT_UNREACHABLE, "notified all nodes, but the Redis entries were not deleted: " + redisFailure.getMessage(), redisFailure);
                err().println("warning: " + redisFailure.getMessage() + "; running nodes drop the Redis entry themselves on the notice");
            }
            if (all)
                out().println("evicted everything: notified all nodes" + (settings.redisAddress() == null ? "" : ", deleted " + deleted + " Redis entries under " + settings.redisKeyPrefix()));
            else
                out().println("evicted " + name + ": notified all nodes" + (settings.redisAddress() == null || redisFailure != null ? "" : ", dropped its Redis entry"));
            return DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("notifying the nodes", x);
        }
    }

    private long deleteAllRedis()
    {
        try (Redis redis = openRedis())
        {
            return redis == null ? 0 : redis.evictAll();
        }
    }

    /** Fences and drops the Redis entry of one name, as a node does on a change; no-op without Redis. */
    static void invalidateRedis(StoreCommand command, String name, long version)
    {
        try (Redis redis = command.openRedis())
        {
            if (redis != null)
                redis.invalidate(List.of(name), List.of(version));
        }
    }
}
