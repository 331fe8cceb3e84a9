package dev.dynsni.admin;

/**
 * A failure the command reports as one line and an exit code, without a stack trace: rejected input
 * ({@link DynSni#EXIT_REJECTED}), a usage error ({@link DynSni#EXIT_USAGE}) or an unreachable store
 * ({@link DynSni#EXIT_UNREACHABLE}). The cause, if any, is shown with {@code --verbose}.
 */
public class CliException extends RuntimeException
{
    private final int exitCode;

    public CliException(int exitCode, String message, Throwable cause)
    {
        super(message, cause, false, false);
        this.exitCode = exitCode;
    }

    public static CliException rejected(String message)
    {
        return new CliException(DynSni.EXIT_REJECTED, message, null);
    }

    public static CliException usage(String message)
    {
        return new CliException(DynSni.EXIT_USAGE, message, null);
    }

    public static CliException unreachable(String message, Throwable cause)
    {
        return new CliException(DynSni.EXIT_UNREACHABLE, message, cause);
    }

    public int getExitCode()
    {
        return exitCode;
    }
}
