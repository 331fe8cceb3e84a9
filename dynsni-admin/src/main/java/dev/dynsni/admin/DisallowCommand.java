package dev.dynsni.admin;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "disallow", description = {
    "Remove the rules that 'dynsni allow NAME' added: no new order starts for the names they allowed (unless the",
    "ask endpoint allows them). Certificates already issued stay, and are renewed no more; 'dynsni remove NAME'",
    "deletes one."
})
class DisallowCommand extends StoreCommand
{
    @Parameters(paramLabel = "NAME", arity = "1..*", description = "A host name, or *.parent, as given to allow.")
    List<String> names;

    @Override
    public Integer call()
    {
        List<String> rules = AllowCommand.rules(names);
        String table = settings().schema() + ".acme_allowed";
        boolean missing = false;
        try (Connection connection = openDatabase())
        {
            for (String rule : rules)
            {
                try (PreparedStatement statement = connection.prepareStatement("DELETE FROM " + table + " WHERE name = ?"))
                {
                    statement.setString(1, rule);
                    if (statement.executeUpdate() > 0)
                    {
                        out().println("disallowed " + rule);
                    }
                    else
                    {
                        err().println("not allowed: " + rule + " (no such rule; 'dynsni allow --list' shows them)");
                        missing = true;
                    }
                }
            }
            return missing ? DynSni.EXIT_REJECTED : DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("disallowing " + String.join(", ", rules), x);
        }
    }
}
