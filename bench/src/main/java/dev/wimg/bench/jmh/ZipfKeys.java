package dev.wimg.bench.jmh;

import java.util.SplittableRandom;

/**
 * A fixed table of item indexes drawn from a Zipf distribution, for benchmarks that read a few
 * items far more often than the rest, as picture traffic does.
 *
 * <p>Item of rank r (1-based) is drawn with probability proportional to 1 / r^{@code exponent}.
 * Ranks are then scrambled through a seeded permutation, so the hot items are spread over the
 * whole key space (and over a volume's pages) instead of being its first entries. Drawing is done
 * once, up front, so a benchmark's hot loop only reads {@code table[i & mask]}.
 *
 * <p>Implementation notes: the inverse of the cumulative distribution is found by binary search
 * over a precomputed table of n doubles; for the 10^5..10^6 items used here that is a few
 * milliseconds at setup. The idea of a precomputed, power-of-two table of skewed keys follows
 * Caffeine's {@code GetPutBenchmark}; the code is ours.
 */
final class ZipfKeys {

  /** Exponent of the distribution: 1.0 is classic Zipf, web object popularity is near 0.6..1.0. */
  static final double DEFAULT_EXPONENT = 1.0;
  /** Length of the drawn table: 2^20 draws, a power of two so that it wraps with a mask. */
  static final int TABLE_SIZE = 1 << 20;

  private ZipfKeys() {}

  /**
   * Draws {@value #TABLE_SIZE} indexes in {@code [0, items)}.
   *
   * @param items    number of distinct items, at least 1
   * @param exponent Zipf exponent, greater than 0
   * @param seed     seed of both the draws and the rank permutation
   */
  static int[] draw(int items, double exponent, long seed) {
    if (items < 1) {
      throw new IllegalArgumentException("items must be >= 1, got " + items);
    }
    if (!(exponent > 0)) {
      throw new IllegalArgumentException("exponent must be > 0, got " + exponent);
    }
    double[] cumulative = new double[items];
    double sum = 0;
    for (int r = 0; r < items; r++) {
      sum += 1.0 / Math.pow(r + 1, exponent);
      cumulative[r] = sum;
    }
    SplittableRandom random = new SplittableRandom(seed);
    int[] permutation = new int[items];
    for (int i = 0; i < items; i++) {
      permutation[i] = i;
    }
    for (int i = items - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = permutation[i];
      permutation[i] = permutation[j];
      permutation[j] = t;
    }
    int[] table = new int[TABLE_SIZE];
    for (int i = 0; i < TABLE_SIZE; i++) {
      double u = random.nextDouble() * sum;
      int lo = 0;
      int hi = items - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cumulative[mid] < u) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      table[i] = permutation[lo];
    }
    return table;
  }
}
