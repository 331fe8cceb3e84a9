package dev.dynsni.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Zipf-distributed ranks 0..n-1 (rank 0 most frequent), P(k) proportional to 1/(k+1)^s, by
 * inverse transform over a precomputed cumulative table.
 */
final class Zipf
{
    private final double[] cumulative;

    Zipf(int n, double s)
    {
        if (n <= 0)
            throw new IllegalArgumentException("n=" + n);
        cumulative = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++)
        {
            sum += 1.0 / Math.pow(k + 1, s);
            cumulative[k] = sum;
        }
        for (int k = 0; k < n; k++)
        {
            cumulative[k] /= sum;
        }
    }

    int next(SplittableRandom random)
    {
        double u = random.nextDouble();
        int index = Arrays.binarySearch(cumulative, u);
        if (index < 0)
            index = -index - 1;
        return Math.min(index, cumulative.length - 1);
    }

    int size()
    {
        return cumulative.length;
    }
}
