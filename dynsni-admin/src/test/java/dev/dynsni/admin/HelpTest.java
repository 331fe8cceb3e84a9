package dev.dynsni.admin;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --help} of every command, and usage errors pointing at it; no store needed. */
class HelpTest
{
    /** @return the name of every registered subcommand */
    static Stream<String> commands()
    {
        return DynSni.newCommandLine(new DynSni(Map.of())).getSubcommands().keySet().stream();
    }

    @Test
    void everyCommandIsCovered()
    {
        assertEquals(List.of("import", "import-dir", "list", "show", "remove", "evict", "gen-demo", "init-db", "doctor", "rotate-master-key", "allow", "disallow", "acme", "help"),
            commands().toList());
    }

    @ParameterizedTest
    @MethodSource("commands")
    void commandHelp_printsItsUsage(String command)
    {
        for (String help : List.of("--help", "-h"))
        {
            AdminTestBase.Result result = AdminTestBase.runWith(Map.of(), command, help);
            assertEquals(0, result.exit(), result::toString);
            // picocli's own help command puts its description first
            assertTrue(result.out().startsWith("Usage: dynsni " + command) || command.equals("help") && result.out().contains("Usage: dynsni help"), result::toString);
            assertEquals("", result.err(), result::toString);
        }
        AdminTestBase.Result viaHelp = AdminTestBase.runWith(Map.of(), "help", command);
        assertEquals(0, viaHelp.exit(), viaHelp::toString);
        assertTrue(viaHelp.out().contains("Usage: dynsni " + command), viaHelp::toString);
    }

    /** @return the commands of this tool (picocli's own {@code help} answers differently) */
    static Stream<String> toolCommands()
    {
        return commands().filter(command -> !command.equals("help"));
    }

    @ParameterizedTest
    @MethodSource("toolCommands")
    void usageError_oneLineThatNamesTheHelpThatWorks(String command)
    {
        AdminTestBase.Result result = AdminTestBase.runWith(Map.of(), command, "--no-such-option");
        assertEquals(DynSni.EXIT_USAGE, result.exit(), result::toString);
        assertEquals(1, result.errLines().size(), result::toString);
        String line = result.errLines().get(0);
        assertTrue(line.startsWith("dynsni " + command + ": usage error: "), line);
        assertTrue(line.endsWith(" (see dynsni " + command + " --help)"), line);
        assertEquals("", result.out(), result::toString);
        assertEquals(0, AdminTestBase.runWith(Map.of(), command, "--help").exit());
    }

    @Test
    void unknownOption_named()
    {
        AdminTestBase.Result result = AdminTestBase.runWith(Map.of(), "list", "--no-such-option");
        assertEquals(List.of("dynsni list: usage error: Unknown option: '--no-such-option' (see dynsni list --help)"), result.errLines());
        AdminTestBase.Result root = AdminTestBase.runWith(Map.of(), "--no-such-option", "list");
        assertEquals(DynSni.EXIT_USAGE, root.exit(), root::toString);
        assertEquals(List.of("dynsni: usage error: Unknown option: '--no-such-option' (see dynsni --help)"), root.errLines());
    }

    @Test
    void storeCommands_listEverySettingFlag_genDemoDoesNot()
    {
        String importHelp = AdminTestBase.runWith(Map.of(), "import", "--help").out();
        for (dev.dynsni.core.Setting setting : Settings.READ)
        {
            for (String flag : SettingOptions.names(setting))
            {
                assertTrue(importHelp.contains(flag), () -> flag + " missing from\n" + importHelp);
            }
            assertTrue(importHelp.contains(setting.property()), () -> setting.property() + " missing from\n" + importHelp);
        }
        assertTrue(importHelp.contains("--jetty-base=DIR"), importHelp);
        String genDemoHelp = AdminTestBase.runWith(Map.of(), "gen-demo", "--help").out();
        assertTrue(!genDemoHelp.contains("--jdbc-url"), genDemoHelp);
        assertTrue(genDemoHelp.contains("--verbose"), genDemoHelp);
    }

    @Test
    void rootHelp_listsGlobalOptionsAndPrecedence()
    {
        AdminTestBase.Result result = AdminTestBase.runWith(Map.of(), "--help");
        assertEquals(0, result.exit(), result::toString);
        assertTrue(result.out().contains("--jetty-base=DIR"), result::toString);
        assertTrue(result.out().contains("--redis-password-file=FILE"), result::toString);
        assertTrue(result.out().contains("flag > environment variable > --jetty-base > default"), result::toString);
        assertTrue(result.out().contains("rotate-master-key"), result::toString);

        AdminTestBase.Result none = AdminTestBase.runWith(Map.of());
        assertEquals(DynSni.EXIT_USAGE, none.exit(), none::toString);
        assertEquals(List.of("dynsni: usage error: a command is required (see dynsni --help)"), none.errLines());
    }
}
