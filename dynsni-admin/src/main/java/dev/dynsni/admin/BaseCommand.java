package dev.dynsni.admin;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * What every subcommand has: {@code --help}, {@code --verbose} (also accepted before the command's
 * name), the output streams of its command line, and the root command (for the environment and
 * the global options).
 */
abstract class BaseCommand implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @ParentCommand
    DynSni root;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = {"-v", "--verbose"}, description = "Show the causes of errors and the libraries' informational logs.")
    boolean verbose;

    /** @return whether {@code --verbose} was given before or after the command's name */
    boolean verbose()
    {
        return verbose || root != null && root.verbose;
    }

    PrintWriter out()
    {
        return spec.commandLine().getOut();
    }

    PrintWriter err()
    {
        return spec.commandLine().getErr();
    }
}
