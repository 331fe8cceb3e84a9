package dev.dynsni.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Summaries of repeated measurements: median and min-max of runs, percentiles of samples.
 */
public final class Stats
{
    private Stats()
    {
    }

    public static double median(List<Double> values)
    {
        if (values.isEmpty())
            return Double.NaN;
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    public static double min(List<Double> values)
    {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    public static double max(List<Double> values)
    {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /**
     * @param sorted ascending samples
     * @param p      0..100
     */
    static long percentile(long[] sorted, double p)
    {
        if (sorted.length == 0)
            return -1;
        int index = (int)Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static long[] sorted(List<Long> samples)
    {
        long[] array = samples.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(array);
        return array;
    }

    /** "median (min–max)" with the given format, or "n/a". */
    static String cell(List<Double> values, String format)
    {
        List<Double> finite = new ArrayList<>();
        for (Double value : values)
        {
            if (value != null && !value.isNaN() && !value.isInfinite())
                finite.add(value);
        }
        if (finite.isEmpty())
            return "n/a";
        if (finite.size() == 1)
            return fmt(format, finite.get(0));
        return fmt(format, median(finite)) + " (" + fmt(format, min(finite)) + "–" + fmt(format, max(finite)) + ")";
    }

    static String fmt(String format, double value)
    {
        return String.format(Locale.ROOT, format, value);
    }
}
