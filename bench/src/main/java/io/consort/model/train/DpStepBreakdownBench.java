package io.consort.model.train;

import io.consort.model.features.EncodedData;
import io.consort.model.random.ReproducibleRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Where a native DP-SGD step's time goes, against a plain step, on the bench round's two shapes:
 * the default MLP (23 features, 64-32, 3,649 parameters, one bank's 200 rows, batch 32) and
 * {@code --model large} (61 features, 1024-896, 982,785 parameters, 200 rows, batch 32). Each part is
 * timed alone, on the trainer's own objects, per step: Poisson sampling by geometric gaps at q = 32 / 200
 * with the buffered CSPRNG ({@code sampling}); the rows' gather, forward and backward without clipping
 * ({@code passes-plain}) and with clipping (norms and per-example scaling, {@code passes-clipped}); the
 * noise, {@link GaussianNoise#addOnGrid} at z = 1, C = 1 with {@link GaussianNoise#secure()} (the JDK
 * ziggurat) and Marsaglia's polar method ({@code noise-<name>}), and one {@code nextLong()} per
 * coordinate ({@code uniforms-only}, the floor the ziggurat sits on); the gradient's scaling and
 * Adam ({@code step}). Then whole rounds of one epoch through {@link LocalTrainer}: plain, and DP-SGD
 * with each sampler ({@code round-...}, ms per round). docs/BENCHMARKS.md ("DP-SGD's step, part by
 * part") has the figures, and a Box-Muller on vector lanes that was tried and left out. Every sample
 * times all parts back to back, so load from other processes falls on all alike; figures are
 * medians over samples, after four seconds of warm-up. In this package because the samplers and
 * networks are package-private. Arguments: {@code [samples] [mlp|large|both]} (default 31, both).
 * Run: {@code java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar
 * io.consort.model.train.DpStepBreakdownBench}.
 */
public final class DpStepBreakdownBench {
  private static final int ROWS = 200;
  private static final int BATCH = 32;
  private static final double CLIP = 1.0;
  private static final double SIGMA = 1.0;

  private DpStepBreakdownBench() {}

  public static void main(String[] args) {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 31;
    String which = args.length > 1 ? args[1] : "both";
    System.out.printf(Locale.ROOT, "kernel %s; %d rows, batch %d (DP: q = %d / %d), z = 1, C = 1; medians of %d"
        + " samples%n", DenseKernel.preferred().description(), ROWS, BATCH, BATCH, ROWS, samples);
    if (!which.equals("large")) {
      run("mlp 23-64-32-1", 23, ModelSpec.defaultMlp(1), samples);
    }
    if (!which.equals("mlp")) {
      run("large 61-1024-896-1", 61, new ModelSpec(ModelType.MLP, List.of(1024, 896), BATCH,
          0.02, 0, 1), samples);
    }
  }

  /** The samplers timed, by name: production's, and the polar method it replaced, over its own buffered CSPRNG. */
  static Map<String, Supplier<GaussianNoise>> samplers() {
    Map<String, Supplier<GaussianNoise>> samplers = new LinkedHashMap<>();
    samplers.put("secure()", GaussianNoise::secure);
    samplers.put("polar", () -> new PolarGaussianNoise(BufferedSecureRandom.create()));
    return samplers;
  }

  private static void run(String name, int features, ModelSpec spec, int samples) {
    EncodedData data = rows(features);
    NativeNetwork network = NativeNetwork.of(spec, features);
    int d = network.parameterCount();
    float[] parameters = ModelFactory.initialParameters(spec, features);
    float[] gradient = new float[d];
    AdamOptimizer adam = new AdamOptimizer(d, spec.learningRate());
    BufferedSecureRandom randomness = BufferedSecureRandom.create();
    double q = (double) BATCH / ROWS;
    double logMiss = Math.log1p(-q);
    int[] order = new int[ROWS];
    double grid = GaussianNoise.gridFor(CLIP, d);
    Map<String, Supplier<GaussianNoise>> samplers = samplers();
    List<String> names = new ArrayList<>();
    List<Runnable> parts = new ArrayList<>();
    names.add("sampling");
    parts.add(() -> sink += poisson(randomness, logMiss, order));
    names.add("passes-plain");
    parts.add(() -> sink += passes(network, data, parameters, gradient, 0));
    names.add("passes-clipped");
    parts.add(() -> sink += passes(network, data, parameters, gradient, CLIP));
    for (Map.Entry<String, Supplier<GaussianNoise>> sampler : samplers.entrySet()) {
      GaussianNoise noise = sampler.getValue().get();
      names.add("noise-" + sampler.getKey());
      parts.add(() -> noise.addOnGrid(gradient, d, SIGMA, grid));
    }
    names.add("uniforms-only");
    parts.add(() -> {
      long x = 0;
      for (int i = 0; i < d; i++) {
        x ^= randomness.nextLong();
      }
      sink += x;
    });
    names.add("step");
    parts.add(() -> {
      float s = (float) (1.0 / BATCH);
      for (int i = 0; i < d; i++) {
        gradient[i] *= s;
      }
      adam.step(parameters.clone(), gradient);
    });
    int stepParts = parts.size();
    LocalTrainer plainTrainer = new LocalTrainer(spec, data);
    names.add("round-plain");
    parts.add(() -> sink += plainTrainer.train(parameters, 1, TrainingOptions.standard()).steps());
    TrainingOptions dp = TrainingOptions.withDpSgd(new DpSgdConfig(SIGMA / CLIP, CLIP, q));
    for (Map.Entry<String, Supplier<GaussianNoise>> sampler : samplers.entrySet()) {
      LocalTrainer trainer = new LocalTrainer(spec, data, TrainingEngine.NATIVE, BufferedSecureRandom.create(),
          sampler.getValue().get());
      names.add("round-dp-" + sampler.getKey());
      parts.add(() -> sink += trainer.train(parameters, 1, dp).steps());
    }
    long warmUpEnds = System.nanoTime() + 4_000_000_000L;
    while (System.nanoTime() < warmUpEnds) {
      parts.forEach(Runnable::run);
    }
    double[][] ms = new double[parts.size()][samples];
    for (int s = 0; s < samples; s++) {
      for (int p = 0; p < parts.size(); p++) {
        long t0 = System.nanoTime();
        parts.get(p).run();
        ms[p][s] = (System.nanoTime() - t0) / 1e6;
      }
    }
    System.out.printf(Locale.ROOT, "%s: %d parameters, grid 2^%d; ms per step (parts), ms per round of one"
        + " epoch (round-*)%n", name, d, Math.getExponent(grid));
    for (int p = 0; p < parts.size(); p++) {
      System.out.printf(Locale.ROOT, "  %-20s %9.4f%s%n", names.get(p), median(ms[p]),
          p < stepParts && names.get(p).startsWith("noise") ? String.format(Locale.ROOT, "  (%.2f ns a coordinate)",
              median(ms[p]) * 1e6 / d) : "");
    }
  }

  private static long sink;

  /** One step's Poisson sample, as {@code LocalTrainer} draws it; returns its size. */
  private static int poisson(RandomGenerator randomness, double logMiss, int[] order) {
    int k = 0;
    int next = gap(randomness, logMiss);
    while (next < ROWS) {
      order[k++] = next;
      next += 1 + gap(randomness, logMiss);
    }
    return k;
  }

  private static int gap(RandomGenerator randomness, double logMiss) {
    double u = 1.0 - (randomness.nextLong() >>> 11) * 0x1.0p-53;
    return (int) Math.floor(Math.log(u) / logMiss);
  }

  /** Gather of the first {@link #BATCH} rows, forward and backward; returns the loss. */
  private static double passes(NativeNetwork network, EncodedData data, float[] parameters, float[] gradient,
      double clip) {
    int f = data.features();
    float[] x = network.inputBuffer(BATCH);
    float[] y = network.labelBuffer(BATCH);
    System.arraycopy(data.x(), 0, x, 0, BATCH * f);
    System.arraycopy(data.y(), 0, y, 0, BATCH);
    network.forwardTraining(parameters, BATCH, null);
    return network.backward(parameters, BATCH, clip, gradient);
  }

  /** Benchmark input only: seeded Gaussian features, labels from a noisy linear rule. */
  private static EncodedData rows(int features) {
    RandomGenerator random = ReproducibleRandom.of("dp-step-breakdown-bench", 2026);
    float[] x = new float[ROWS * features];
    float[] y = new float[ROWS];
    for (int r = 0; r < ROWS; r++) {
      double sum = 0;
      for (int j = 0; j < features; j++) {
        x[r * features + j] = (float) random.nextGaussian();
        sum += x[r * features + j];
      }
      y[r] = random.nextDouble() < 1 / (1 + Math.exp(-sum / 3)) ? 1f : 0f;
    }
    return new EncodedData(ROWS, features, x, y);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
