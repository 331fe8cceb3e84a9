package dev.dynsni.admin;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress of a long operation on stderr: a redrawn bar on a terminal, otherwise a line every 10 %.
 */
final class Progress
{
    private final PrintWriter err;
    private final String what;
    private final long total;
    private final boolean terminal;
    private final long startNanos = System.nanoTime();
    private long lastDrawNanos;
    private int lastDecile;

    Progress(PrintWriter err, String what, long total, boolean terminal)
    {
        this.err = err;
        this.what = what;
        this.total = total;
        this.terminal = terminal;
    }

    void update(long done)
    {
        if (total <= 0)
            return;
        long now = System.nanoTime();
        if (terminal)
        {
            if (done < total && now - lastDrawNanos < 200_000_000L)
                return;
            lastDrawNanos = now;
            int width = 30;
            int filled = (int)(width * done / total);
            err.print("\r" + what + " [" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + line(done, now));
            if (done >= total)
                err.println();
            err.flush();
            return;
        }
        int decile = (int)(10 * done / total);
        if (decile > lastDecile)
        {
            lastDecile = decile;
            err.println(what + ": " + line(done, now));
            err.flush();
        }
    }

    private String line(long done, long now)
    {
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        return String.format(Locale.ROOT, "%,d/%,d (%d%%) %,.0f/s", done, total, 100 * done / total, done / seconds);
    }

    static boolean isTerminal()
    {
        return System.console() != null;
    }
}
