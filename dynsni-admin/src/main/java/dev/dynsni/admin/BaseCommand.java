package dev.dynsni.admin;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * What every subcommand has: {@code --verbose}, the output streams of its command line, and the
 * root command (for the environment).
 */
abstract class BaseCommand implements Callable<Integer>
{
    @Spec
    CommandSpec spec;

    @ParentCommand
    DynSni root;

    @Option(names = {"-v", "--verbose"}, description = "Show the causes of errors.")
    boolean verbose;

    PrintWriter out()
    {
        return spec.commandLine().getOut();
    }

    PrintWriter err()
    {
        return spec.commandLine().getErr();
    }
}
