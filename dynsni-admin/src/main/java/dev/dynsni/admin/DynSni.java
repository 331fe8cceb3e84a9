package dev.dynsni.admin;

import java.io.PrintWriter;
import java.util.Map;

import picocli.CommandLine;
import picocli.CommandLine.Command;

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
        CommandLine.HelpCommand.class
    },
    footerHeading = "%nSettings:%n",
    footer = {
        "  Flags win over environment variables (DYNSNI_JDBC_URL, DYNSNI_JDBC_USER, DYNSNI_JDBC_PASSWORD,",
        "  DYNSNI_JDBC_SCHEMA, DYNSNI_REDIS_URL, DYNSNI_REDIS_KEY_PREFIX), which win over the",
        "  jetty.dynamicSni.* properties of --jetty-base DIR (start.d/dynamic-sni.ini or start.ini).",
        "%nExit codes: 0 success, 1 some input rejected, 2 usage error, 3 cannot reach a store."
    })
public class DynSni implements Runnable
{
    public static final int EXIT_OK = 0;
    public static final int EXIT_REJECTED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_UNREACHABLE = 3;

    final Map<String, String> environment;

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
                System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
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
        commandLine.setExecutionExceptionHandler(DynSni::handleExecutionException);
        commandLine.setParameterExceptionHandler(DynSni::handleParameterException);
        return commandLine;
    }

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is required (see dynsni --help)");
    }

    private static int handleExecutionException(Exception x, CommandLine commandLine, CommandLine.ParseResult parseResult)
    {
        PrintWriter err = commandLine.getErr();
        boolean verbose = commandLine.getCommand() instanceof BaseCommand command && command.verbose;
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
