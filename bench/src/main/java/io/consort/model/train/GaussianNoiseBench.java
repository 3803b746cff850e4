package io.consort.model.train;

import java.util.Arrays;
import java.util.Locale;

/**
 * DP-SGD's noise per coordinate, nanoseconds per sample: {@link GaussianNoise#addOnGrid} on the
 * 6,209 parameters of the bench round's MLP with the JDK ziggurat ({@link ZigguratGaussianNoise},
 * production) and Marsaglia's polar method ({@link PolarGaussianNoise}, before), both over
 * {@link BufferedSecureRandom#create()}, and one {@code nextLong()} per coordinate from the same
 * source ({@code uniforms}), the floor both sit on. Each sample times 6 DP-SGD steps' noise (what
 * one bank's round of 200 rows at batch 32 draws) with every method back to back, after two
 * seconds of warm-up; the figures are medians over samples, and the ratio is the median of the
 * per-sample ratios polar / ziggurat, so load from other processes falls on all alike. In this
 * package because the samplers are package-private. Arguments: {@code [samples]} (default 301).
 * Run: {@code java -cp bench/target/benchmarks.jar io.consort.model.train.GaussianNoiseBench}.
 */
public final class GaussianNoiseBench {
  private static final int PARAMETERS = 6209;
  private static final int STEPS = 6;

  private GaussianNoiseBench() {}

  public static void main(String[] args) {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 301;
    float[] gradient = new float[PARAMETERS];
    double grid = GaussianNoise.gridFor(1.0, PARAMETERS);
    GaussianNoise ziggurat = new ZigguratGaussianNoise(BufferedSecureRandom.create());
    GaussianNoise polar = new PolarGaussianNoise(BufferedSecureRandom.create());
    BufferedSecureRandom uniforms = BufferedSecureRandom.create();
    Runnable[] methods = {
        () -> noise(ziggurat, gradient, grid),
        () -> noise(polar, gradient, grid),
        () -> sink ^= longs(uniforms)};
    long warmUpEnds = System.nanoTime() + 2_000_000_000L;
    while (System.nanoTime() < warmUpEnds) {
      for (Runnable m : methods) {
        m.run();
      }
    }
    double[][] ns = new double[methods.length][samples];
    double[] ratios = new double[samples];
    for (int s = 0; s < samples; s++) {
      for (int m = 0; m < methods.length; m++) {
        long t0 = System.nanoTime();
        methods[m].run();
        ns[m][s] = (System.nanoTime() - t0) / (double) (PARAMETERS * STEPS);
      }
      ratios[s] = ns[1][s] / ns[0][s];
    }
    System.out.printf(Locale.ROOT, "ns per sample, medians of %d samples of %d x %d: ziggurat %.2f, polar %.2f,"
        + " uniforms only %.2f; polar / ziggurat %.2f (median of per-sample ratios)%n", samples, STEPS, PARAMETERS,
        median(ns[0]), median(ns[1]), median(ns[2]), median(ratios));
    if (sink == 42) {
      System.out.println(gradient[0]);
    }
  }

  private static long sink;

  private static void noise(GaussianNoise noise, float[] gradient, double grid) {
    for (int step = 0; step < STEPS; step++) {
      noise.addOnGrid(gradient, PARAMETERS, 1.1, grid);
    }
  }

  private static long longs(BufferedSecureRandom uniforms) {
    long x = 0;
    for (int i = 0; i < PARAMETERS * STEPS; i++) {
      x ^= uniforms.nextLong();
    }
    return x;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
