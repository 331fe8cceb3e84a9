package dev.dynsni.admin;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import dev.dynsni.core.acme.AcmePermissions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "allow", description = {
    "Allow automatic certificates (ACME, jetty.dynamicSni.acme.directoryUrl) for NAME: the first handshake for it",
    "without a certificate orders one. NAME is a host, or *.parent for every name one label below parent",
    "(a.example.com, not example.com nor b.a.example.com). Names no rule allows may still be allowed by the",
    "ask endpoint (jetty.dynamicSni.acme.askUrl). --list shows the rules."
})
class AllowCommand extends StoreCommand
{
    @Parameters(paramLabel = "NAME", arity = "0..*", description = "A host name, or *.parent.")
    List<String> names = new ArrayList<>();

    @Option(names = "--list", description = "List the rules, one per line, instead.")
    boolean list;

    @Override
    public Integer call()
    {
        if (list == !names.isEmpty())
            throw CliException.usage(list ? "--list takes no NAME" : "NAME or --list is required");
        List<String> rules = rules(names);
        String table = settings().schema() + ".acme_allowed";
        try (Connection connection = openDatabase())
        {
            if (list)
            {
                try (PreparedStatement statement = connection.prepareStatement("SELECT name FROM " + table + " ORDER BY name");
                     ResultSet rs = statement.executeQuery())
                {
                    while (rs.next())
                    {
                        out().println(rs.getString(1));
                    }
                }
                return DynSni.EXIT_OK;
            }
            for (String rule : rules)
            {
                try (PreparedStatement statement = connection.prepareStatement("INSERT INTO " + table + " (name) VALUES (?) ON CONFLICT (name) DO NOTHING"))
                {
                    statement.setString(1, rule);
                    boolean added = statement.executeUpdate() > 0;
                    out().println((added ? "allowed " : "already allowed ") + rule);
                }
            }
            return DynSni.EXIT_OK;
        }
        catch (SQLException x)
        {
            throw Database.failed("allowing " + String.join(", ", rules), x);
        }
    }

    /** @return the rules as stored, or a rejection naming the first bad one */
    static List<String> rules(List<String> names)
    {
        List<String> rules = new ArrayList<>();
        for (String name : names)
        {
            try
            {
                rules.add(AcmePermissions.normalizeRule(name));
            }
            catch (IllegalArgumentException x)
            {
                throw CliException.rejected(x.getMessage());
            }
        }
        return rules;
    }
}
