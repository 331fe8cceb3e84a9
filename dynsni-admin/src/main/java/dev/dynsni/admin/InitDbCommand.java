package dev.dynsni.admin;

import java.sql.Connection;
import java.sql.SQLException;

import dev.dynsni.core.SchemaMigrations;
import picocli.CommandLine.Command;

@Command(name = "init-db", description = "Create the schema, or migrate it to the version this tool knows. Safe to repeat.")
class InitDbCommand extends StoreCommand
{
    @Override
    public Integer call()
    {
        Settings settings = settings();
        String schema = settings.schema();
        try (Connection connection = Database.open(settings))
        {
            int before = SchemaMigrations.currentVersion(connection, schema);
            int after = SchemaMigrations.migrate(connection, schema);
            if (before == after)
                out().println("schema " + schema + " is up to date (version " + after + ")");
            else if (before == 0)
                out().println("created schema " + schema + " (version " + after + ")");
            else
                out().println("migrated schema " + schema + " from version " + before + " to " + after);
            return DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("creating schema " + schema, x);
        }
    }
}
