package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.random.BulkSecureRandom;
import java.lang.reflect.Field;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JDK ziggurat behind {@link GaussianNoise#secure()}: its distribution on the JDK running the
 * build (statistical tests on production randomness, each stating its false-failure probability),
 * and that its bits come only from the given uniforms' {@code nextLong()}, in production a
 * SecureRandom.
 */
class ZigguratGaussianNoiseTest {
  private static final int N = 2_000_000;
  /** N standard normals from the production source, sorted. */
  private static double[] sorted;

  @BeforeAll
  static void drawProductionSamples() {
    GaussianNoise noise = GaussianNoise.secure();
    sorted = new double[N];
    for (int i = 0; i < N; i++) {
      sorted[i] = noise.sample(1.0);
    }
    Arrays.sort(sorted);
  }

  @Test
  void secureNoise_isTheZigguratOverBufferedBulkSecureRandom() throws Exception {
    GaussianNoise noise = GaussianNoise.secure();
    if (!ZigguratGaussianNoise.exactOn(Runtime.version())) {
      // 17.0.0 to 17.0.3: the JDK's ziggurat is wrong there (JDK-8273056), production keeps the polar method
      assertInstanceOf(PolarGaussianNoise.class, noise, "this JDK (" + Runtime.version() + ") is before 17.0.4");
      return;
    }
    ZigguratGaussianNoise ziggurat = assertInstanceOf(ZigguratGaussianNoise.class, noise,
        "this JDK (" + Runtime.version() + ") is past 17.0.4");
    BufferedSecureRandom buffered = assertInstanceOf(BufferedSecureRandom.class, ziggurat.uniforms());
    Field source = BufferedSecureRandom.class.getDeclaredField("source");
    source.setAccessible(true);
    assertInstanceOf(BulkSecureRandom.class, source.get(buffered));
  }

  @Test
  void zigguratIsUsed_onlyFromTheFirstJdkThatFixedIt() {
    assertFalse(ZigguratGaussianNoise.exactOn(Runtime.Version.parse("17")));
    assertFalse(ZigguratGaussianNoise.exactOn(Runtime.Version.parse("17.0.3+7")));
    assertTrue(ZigguratGaussianNoise.exactOn(Runtime.Version.parse("17.0.4")));
    assertTrue(ZigguratGaussianNoise.exactOn(Runtime.Version.parse("17.0.15+6-Debian-1deb12u1")));
    assertTrue(ZigguratGaussianNoise.exactOn(Runtime.Version.parse("21.0.2")));
  }

  /** Every other method throws, so a sample that returns drew only {@code nextLong()}. */
  private static final class LongsOnly implements RandomGenerator {
    private final SplittableRandom longs = new SplittableRandom(11);
    long draws;

    @Override
    public long nextLong() {
      draws++;
      return longs.nextLong();
    }

    @Override
    public int nextInt() {
      throw new AssertionError("nextInt drawn");
    }

    @Override
    public double nextDouble() {
      throw new AssertionError("nextDouble drawn");
    }

    @Override
    public double nextGaussian() {
      throw new AssertionError("the generator's own nextGaussian was called");
    }
  }

  @Test
  void samples_drawOnlyNextLongOfTheUniforms_evenWhenTheyOverrideNextGaussian() {
    LongsOnly uniforms = new LongsOnly();
    GaussianNoise noise = new ZigguratGaussianNoise(uniforms);
    float[] values = new float[100_000];
    noise.addOnGrid(values, values.length, 1.0, 0x1.0p-20);
    // more than 98% of samples take one long; the rest a few more
    assertTrue(uniforms.draws >= values.length && uniforms.draws < 1.1 * values.length,
        "longs drawn: " + uniforms.draws);
  }

  /** Repeats the same bytes forever (a stand-in source whose output the test knows). */
  private static final class FixedSource extends SecureRandom {
    private final long seed;
    private SplittableRandom bytes;

    FixedSource(long seed) {
      this.seed = seed;
      this.bytes = new SplittableRandom(seed);
    }

    @Override
    public void nextBytes(byte[] out) {
      bytes.nextBytes(out);
    }

    void rewind() {
      bytes = new SplittableRandom(seed);
    }
  }

  @Test
  void samples_areAFunctionOfTheSecureRandomsBytesAlone() {
    FixedSource source = new FixedSource(5);
    double[] first = draw(new ZigguratGaussianNoise(new BufferedSecureRandom(source)), 3000);
    source.rewind();
    double[] again = draw(new ZigguratGaussianNoise(new BufferedSecureRandom(source)), 3000);
    double[] other = draw(new ZigguratGaussianNoise(new BufferedSecureRandom(new FixedSource(6))), 3000);
    assertTrue(Arrays.equals(first, again), "same bytes, different samples");
    assertFalse(Arrays.equals(first, other), "different bytes, same samples");
  }

  private static double[] draw(GaussianNoise noise, int n) {
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = noise.sample(1.0);
    }
    return out;
  }

  /**
   * Chi-square over 1,000 bins of equal normal probability (edges at the normal's quantiles; 2,000
   * expected per bin, the narrowest 0.0025 wide at 0): the test that showed JDK 17.0.0's ziggurat
   * wrong (JDK-8273056). The bound is the upper 1e-6 quantile of chi-square with 999 degrees of
   * freedom (Wilson-Hilferty, within 1% there), so a correct sampler fails with probability about
   * 1e-6. Checked by hand (2026-12-03): the production sampler gave 945 against the bound 1,226; scaled
   * by 1.01 it gave 1,539, and with 1% of draws replaced by uniforms on [-0.5, 0.5] 1,335.
   */
  @Test
  void productionNormals_passChiSquareOverThousandEquiprobableBins() {
    int bins = 1000;
    double expected = (double) N / bins;
    double chiSquare = 0;
    int at = 0;
    for (int b = 0; b < bins; b++) {
      double upper = b == bins - 1 ? Double.POSITIVE_INFINITY : normalQuantile((b + 1.0) / bins);
      int count = 0;
      while (at < N && sorted[at] < upper) {
        count++;
        at++;
      }
      chiSquare += (count - expected) * (count - expected) / expected;
    }
    int df = bins - 1;
    double z = 4.753;   // upper 1e-6 quantile of N(0, 1)
    double h = 2.0 / (9 * df);
    double limit = df * Math.pow(1 - h + z * Math.sqrt(h), 3);
    assertTrue(chiSquare < limit, "chi-square " + chiSquare + " >= " + limit);
  }

  /**
   * Mean and variance within 5 standard errors (each fails a correct sampler with probability about
   * 5.7e-7, normal approximation).
   */
  @Test
  void productionNormals_haveMeanZeroAndUnitVariance() {
    double sum = 0;
    double squares = 0;
    for (double v : sorted) {
      sum += v;
      squares += v * v;
    }
    double mean = sum / N;
    double variance = (squares - N * mean * mean) / (N - 1);
    assertTrue(Math.abs(mean) < 5 / Math.sqrt(N), "mean " + mean);
    assertTrue(Math.abs(variance - 1) < 5 * Math.sqrt(2.0 / (N - 1)), "variance " + variance);
  }

  /**
   * The frequency of |z| beyond 3 and 4 (expected 5,400 and 127 in 2e6 draws) and beyond the
   * ziggurat's base layer at 3.6360 (its exponential tail sampler; expected 554) within Chernoff
   * bounds at 1e-7 per side: P[X >= (1 + d) mu] <= exp(-d^2 mu / (2 + d)), P[X <= (1 - d) mu] <=
   * exp(-d^2 mu / 2), so a correct sampler fails with probability below 6e-7 in all.
   */
  @Test
  void productionNormals_haveNormalTailFrequencies() {
    for (double t : new double[] {3.0, 3.6360066255009458, 4.0}) {
      long beyond = Arrays.stream(sorted).filter(v -> Math.abs(v) > t).count();
      double mu = N * 2 * upperTail(t);
      double l = Math.log(1e7);
      double up = (l + Math.sqrt(l * l + 8 * l * mu)) / (2 * mu);
      double down = Math.sqrt(2 * l / mu);
      assertTrue(beyond < (1 + up) * mu && beyond > (1 - down) * mu,
          "|z| > " + t + ": " + beyond + " draws, expected " + mu);
    }
  }

  /**
   * Beyond the base layer (|z| > 3.7, about 430 draws) the magnitudes follow the normal's tail,
   * conditioned: Kolmogorov-Smirnov at alpha = 1e-6 (DKW with Massart's constant), so a correct
   * sampler fails with probability at most 1e-6. Catches a truncated or mis-shaped tail.
   */
  @Test
  void productionNormals_tailBeyondTheBaseLayerHasTheNormalsShape() {
    double t = 3.7;
    double[] tail = Arrays.stream(sorted).map(Math::abs).filter(v -> v > t).sorted().toArray();
    int n = tail.length;
    assertTrue(n > 300, "only " + n + " draws beyond " + t);
    double d = 0;
    for (int i = 0; i < n; i++) {
      double cdf = 1 - upperTail(tail[i]) / upperTail(t);
      d = Math.max(d, Math.max((i + 1.0) / n - cdf, cdf - (double) i / n));
    }
    double limit = Math.sqrt(Math.log(2 / 1e-6) / (2.0 * n));
    assertTrue(d < limit, "KS distance " + d + " >= " + limit + " over " + n + " tail draws");
  }

  @Test
  void quantileAndTail_matchKnownValues() {
    assertEquals(1.959963984540054, normalQuantile(0.975), 1e-6);
    assertEquals(0.0013498980316301, upperTail(3.0), 0.0013498980316301 * 2e-7);
    assertEquals(3.1671241833119863e-05, upperTail(4.0), 3.1671241833119863e-05 * 2e-7);
    assertEquals(0.5, upperTail(0), 1e-7);
    assertEquals(1 - 0.0013498980316301, upperTail(-3.0), 1e-9);
  }

  /** Q(x) = P[Z > x] = erfc(x / sqrt 2) / 2, by Numerical Recipes' erfc (fractional error < 1.2e-7). */
  static double upperTail(double x) {
    double z = Math.abs(x) / Math.sqrt(2);
    double t = 1 / (1 + 0.5 * z);
    double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? erfc / 2 : 1 - erfc / 2;
  }

  /** The p-quantile of N(0, 1) by bisection on {@link #upperTail}. */
  static double normalQuantile(double p) {
    double lo = -40;
    double hi = 40;
    for (int i = 0; i < 200; i++) {
      double mid = (lo + hi) / 2;
      if (1 - upperTail(mid) < p) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }
}
