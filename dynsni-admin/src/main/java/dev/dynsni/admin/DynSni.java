package dev.dynsni.admin;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

import dev.dynsni.core.Setting;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code dynsni} command: administration of the certificates that jetty-dynamic-sni serves.
 *
 * <p>Exit codes: {@value #EXIT_OK} success, {@value #EXIT_REJECTED} some input rejected,
 * {@value #EXIT_USAGE} usage error, {@value #EXIT_UNREACHABLE} a store cannot be reached (or its
 * schema is missing). Errors are one line each; {@code --verbose} adds their causes.</p>
 *
 * <p>Run as {@code java -cp 'lib/dynamic-sni/*:lib/dynamic-sni-admin/*' dev.dynsni.admin.DynSni ...}
 * or through {@code bin/dynsni}.</p>
 */
@Command(name = "dynsni",
    mixinStandardHelpOptions = true,
    versionProvider = DynSni.Version.class,
    description = "Administer the TLS certificates served by jetty-dynamic-sni (PostgreSQL + Redis).",
    subcommands = {
        ImportCommand.class,
        ImportDirCommand.class,
        ListCommand.class,
        ShowCommand.class,
        RemoveCommand.class,
        EvictCommand.class,
        GenDemoCommand.class,
        InitDbCommand.class,
        DoctorCommand.class,
        RotateMasterKeyCommand.class,
        AllowCommand.class,
        DisallowCommand.class,
        AcmeCommand.class,
        CommandLine.HelpCommand.class
    },
    footerHeading = "%nSettings:%n",
    footer = {
        "  Global options (--jetty-base, the setting flags above, --verbose) may",
        "  come before or after the command's name. Each setting is taken from its",
        "  flag, else its environment variable, else the jetty.dynamicSni.* property",
        "  of --jetty-base DIR (start.ini, then start.d/*.ini, as the nodes of that",
        "  base read them), else its default. Relative file paths from the base",
        "  resolve against the base. 'dynsni doctor' shows every value and where it",
        "  came from; passwords are never printed.",
        "%nRun 'dynsni COMMAND --help' for the options of a command.",
        "%nExit codes: 0 success, 1 some input rejected, 2 usage error, 3 cannot reach",
        "a store."
    })
public class DynSni implements Runnable
{
    public static final int EXIT_OK = 0;
    public static final int EXIT_REJECTED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_UNREACHABLE = 3;

    static final String JETTY_BASE_DESCRIPTION = "The Jetty base of the nodes: read the jetty.dynamicSni.* properties of its start.ini and start.d/*.ini.";

    final Map<String, String> environment;

    /** The setting flags given before the command's name. */
    final Map<Setting, Settings.Flag> flags = new EnumMap<>(Setting.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--jetty-base", paramLabel = "DIR", description = JETTY_BASE_DESCRIPTION)
    Path jettyBase;

    @Option(names = {"-v", "--verbose"}, description = "Show the causes of errors and the libraries' informational logs.")
    boolean verbose;

    public DynSni()
    {
        this(System.getenv());
    }

    /**
     * @param environment the environment variables to read settings from (tests pass their own)
     */
    public DynSni(Map<String, String> environment)
    {
        this.environment = environment;
    }

    public static void main(String[] args)
    {
        for (String arg : args)
        {
            if ("--verbose".equals(arg) || "-v".equals(arg))
            {
                System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
                System.setProperty("org.slf4j.simpleLogger.log.dev.dynsni.core.store", "info");
                System.setProperty("org.slf4j.simpleLogger.log.org.redisson", "info");
            }
        }
        System.exit(newCommandLine(new DynSni()).execute(args));
    }

    /**
     * @return a command line with the exit-code and error-reporting behaviour of the tool; tests
     *     call {@code execute} on it with their own out/err writers
     */
    public static CommandLine newCommandLine(DynSni root)
    {
        CommandLine commandLine = new CommandLine(root);
        SettingOptions.addTo(commandLine.getCommandSpec(), root.flags);
        commandLine.getCommandSpec().usageMessage().abbreviateSynopsis(true);
        for (CommandLine subcommand : commandLine.getSubcommands().values())
        {
            if (subcommand.getCommand() instanceof StoreCommand command)
            {
                SettingOptions.addTo(subcommand.getCommandSpec(), command.flags);
                subcommand.getCommandSpec().usageMessage().abbreviateSynopsis(true);
            }
        }
        // 100 columns: the longest property names (jetty.dynamicSni.acme.maxOrdersPerDomainPerWeek) stay whole
        commandLine.setUsageHelpWidth(100);
        commandLine.setExecutionExceptionHandler(DynSni::handleExecutionException);
        commandLine.setParameterExceptionHandler(DynSni::handleParameterException);
        return commandLine;
    }

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    private static int handleExecutionException(Exception x, CommandLine commandLine, CommandLine.ParseResult parseResult)
    {
        PrintWriter err = commandLine.getErr();
        boolean verbose = commandLine.getCommand() instanceof BaseCommand command ? command.verbose() : commandLine.getCommand() instanceof DynSni root && root.verbose;
        String name = commandLine.getCommandSpec().qualifiedName();
        if (x instanceof CliException cli)
        {
            err.println(name + ": error: " + cli.getMessage());
            if (verbose)
                printCauses(err, cli.getCause());
            err.flush();
            return cli.getExitCode();
        }
        err.println(name + ": internal error: " + x + (verbose ? "" : " (run with --verbose for details)"));
        if (verbose)
            x.printStackTrace(err);
        err.flush();
        return EXIT_REJECTED;
    }

    private static void printCauses(PrintWriter err, Throwable cause)
    {
        while (cause != null)
        {
            err.println("  caused by: " + cause);
            cause = cause.getCause();
        }
    }

    private static int handleParameterException(CommandLine.ParameterException x, String[] args)
    {
        CommandLine commandLine = x.getCommandLine();
        PrintWriter err = commandLine.getErr();
        String name = commandLine.getCommandSpec().qualifiedName();
        err.println(name + ": usage error: " + x.getMessage() + " (see " + name + " --help)");
        err.flush();
        return EXIT_USAGE;
    }

    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            String version = DynSni.class.getPackage().getImplementationVersion();
            return new String[]{"dynsni " + (version == null ? "(development build)" : version)};
        }
    }
}
