package dev.dynsni.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * CPU time of processes on this machine, from {@code /proc/PID/stat} (user + system time, fields 14
 * and 15, in clock ticks of 10 ms): what the load generator reads of itself and of the server it
 * loads, over the same window, to show which side the handshakes' CPU goes to.
 */
final class ProcessCpu
{
    private static final long NANOS_PER_TICK = 10_000_000L;

    private ProcessCpu()
    {
    }

    /** @return the summed CPU time of the processes, in ns; -1 when {@code /proc} cannot tell */
    static long nanos(List<Long> pids)
    {
        long total = 0;
        for (long pid : pids)
        {
            long[] fields = stat(pid);
            if (fields == null)
                return -1;
            total += (fields[0] + fields[1]) * NANOS_PER_TICK;
        }
        return total;
    }

    /** @return the process and its children (nginx's master and its workers) */
    static List<Long> withChildren(long pid)
    {
        List<Long> pids = new ArrayList<>(List.of(pid));
        try (Stream<Path> entries = Files.list(Path.of("/proc")))
        {
            entries.map(p -> p.getFileName().toString()).filter(name -> name.chars().allMatch(Character::isDigit)).forEach(name ->
            {
                long child = Long.parseLong(name);
                long[] fields = stat(child);
                if (fields != null && fields[2] == pid)
                    pids.add(child);
            });
        }
        catch (IOException | RuntimeException x)
        {
            // no /proc: the process alone
        }
        return pids;
    }

    /** @return utime, stime and the parent pid of a process, or null */
    private static long[] stat(long pid)
    {
        try
        {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[]{Long.parseLong(fields[11]), Long.parseLong(fields[12]), Long.parseLong(fields[1])};
        }
        catch (IOException | RuntimeException x)
        {
            return null;
        }
    }
}
