package dev.dynsni.admin;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "remove", description = {
    "Delete what is stored for HOST (all key types, or one). Running nodes stop serving it within about a second",
    "for new handshakes; clients resuming an earlier TLS session may keep it until their session expires."
})
class RemoveCommand extends StoreCommand
{
    static final Set<String> KEY_TYPES = Set.of("EC", "RSA", "RSASSA-PSS", "EdDSA");

    @Parameters(index = "0", paramLabel = "HOST", description = "The stored name: a host, or a *.parent wildcard.")
    String host;

    @Option(names = "--key-type", paramLabel = "T", description = "Only this key type: EC, RSA, RSASSA-PSS or EdDSA.")
    String keyType;

    @Override
    public Integer call()
    {
        String name = CertificateLoader.normalizeName(host);
        if (name == null)
            throw CliException.rejected("'" + host + "' is not a valid host name or *.parent wildcard");
        String type = null;
        if (keyType != null)
        {
            type = KEY_TYPES.stream().filter(t -> t.equalsIgnoreCase(keyType)).findFirst()
                .orElseThrow(() -> CliException.usage("--key-type " + keyType + " is not one of EC, RSA, RSASSA-PSS, EdDSA"));
        }
        Settings settings = settings();
        try (Connection connection = openDatabase())
        {
            List<String> removed = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement("DELETE FROM " + settings.schema() + ".certificate WHERE host = ?" +
                (type == null ? "" : " AND key_type = ?") + " RETURNING key_type"))
            {
                statement.setString(1, name);
                if (type != null)
                    statement.setString(2, type);
                try (ResultSet rs = statement.executeQuery())
                {
                    while (rs.next())
                    {
                        removed.add(rs.getString(1));
                    }
                }
            }
            if (removed.isEmpty())
                throw CliException.rejected("nothing stored for " + name + (type == null ? "" : " with key type " + type));
            try
            {
                EvictCommand.invalidateRedis(this, name, Database.nextVersion(connection, settings.schema()));
            }
            catch (CliException x)
            {
                if (x.getExitCode() != DynSni.EXIT_UNREACHABLE)
                    throw x;
                err().println("warning: " + x.getMessage() + "; running nodes drop the Redis entry themselves on the change feed");
            }
            removed.sort(null);
            out().println("removed " + name + " (" + String.join(", ", removed) + ")");
            return DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("removing " + name, x);
        }
    }
}
