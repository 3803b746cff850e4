package io.consort.bench.model;

import io.consort.model.features.EncodedData;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What DP-SGD costs per step on the DL4J engine, for every model family: milliseconds per
 * optimiser step of plain DL4J training ({@code fit} on batches of 32) against DP-SGD on the same
 * engine (Poisson sampling at q = 32 / rows, per-example clipping by microbatches of one, SecureRandom
 * noise), and for the dense MLP also the native kernel's DP-SGD. Rows are 20 features (2 channels of a
 * 10-step window for the sequence models), seeded synthetic benchmark input, 1,024 rows, one epoch
 * per sample. Each sample times every method back to back; the ratio column is the median over
 * samples of the per-sample ratio DP / plain. Run with {@code OMP_NUM_THREADS=1}.
 * Arguments: {@code [samples] [models]} (default 5 and all; {@code models} a comma-separated list of
 * the row names' first words, e.g. {@code cnn1d,attention}).
 */
public final class DpStepCostBench {
  private static final int ROWS = 1024;
  static final int WINDOW = 10;
  static final int CHANNELS = 2;
  static final int FEATURES = WINDOW * CHANNELS;
  private static final int BATCH = 32;

  private DpStepCostBench() {}

  public static void main(String[] args) {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    List<String> only = args.length > 1 ? List.of(args[1].split(",")) : null;
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
    EncodedData data = syntheticRows(ROWS);
    Map<String, ModelSpec> models = new LinkedHashMap<>();
    models.put("mlp 64-32 relu", ModelSpec.defaultMlp(1));
    models.put("mlp 64-32 tanh+dropout", ModelSpec.defaultMlp(1).withActivation(HiddenActivation.TANH, 0.2));
    models.put("lstm 16, head 16", seq(ModelType.LSTM, new SequenceSpec(WINDOW, 16, 0, 0)));
    models.put("simple-rnn 16, head 16", seq(ModelType.SIMPLE_RNN, new SequenceSpec(WINDOW, 16, 0, 0)));
    models.put("cnn1d 16x3, head 16", seq(ModelType.CNN1D, new SequenceSpec(WINDOW, 16, 3, 0)));
    models.put("attention 16/2, head 16", seq(ModelType.ATTENTION, new SequenceSpec(WINDOW, 16, 0, 2)));
    System.out.printf(Locale.ROOT, "rows %d, %d features, batch %d (DP: expected batch), 1 ND4J thread, %d samples,"
        + " ms per step (median)%n", ROWS, FEATURES, BATCH, samples);
    System.out.printf(Locale.ROOT, "%-26s %8s %12s %12s %10s %12s%n", "model", "params", "dl4j-plain", "dl4j-dp",
        "dp/plain", "native-dp");
    TrainingOptions plain = TrainingOptions.standard();
    TrainingOptions dp = TrainingOptions.withDpSgd(DpSgdConfig.forExpectedBatch(1.0, 1.0, BATCH, ROWS));
    for (Map.Entry<String, ModelSpec> model : models.entrySet()) {
      if (only != null && !only.contains(model.getKey().split(" ")[0])) {
        continue;
      }
      ModelSpec spec = model.getValue();
      boolean nativeToo = spec.nativeKernel();
      List<Sample> methods = nativeToo
          ? List.of(() -> step(spec, data, TrainingEngine.DL4J, plain), () -> step(spec, data, TrainingEngine.DL4J, dp),
              () -> step(spec, data, TrainingEngine.NATIVE, dp))
          : List.of(() -> step(spec, data, TrainingEngine.DL4J, plain), () -> step(spec, data, TrainingEngine.DL4J, dp));
      methods.forEach(Sample::millisPerStep); // warm-up, untimed
      double[][] times = new double[methods.size()][samples];
      for (int i = 0; i < samples; i++) {
        for (int m = 0; m < methods.size(); m++) {
          times[m][i] = methods.get(m).millisPerStep();
        }
      }
      double[] ratios = new double[samples];
      for (int i = 0; i < samples; i++) {
        ratios[i] = times[1][i] / times[0][i];
      }
      System.out.printf(Locale.ROOT, "%-26s %8d %12.3f %12.3f %10.1f %12s%n", model.getKey(),
          ModelFactory.parameterCount(spec, FEATURES), median(times[0]), median(times[1]), median(ratios),
          nativeToo ? String.format(Locale.ROOT, "%.3f", median(times[2])) : "-");
    }
  }

  static ModelSpec seq(ModelType type, SequenceSpec s) {
    return ModelSpec.sequence(type, s, List.of(16), Objective.BINARY, 1);
  }

  private interface Sample {
    double millisPerStep();
  }

  /** One round of one epoch; the trainer (and its DL4J network) is built untimed. */
  private static double step(ModelSpec spec, EncodedData data, TrainingEngine engine, TrainingOptions options) {
    LocalTrainer trainer = new LocalTrainer(spec, data, engine);
    float[] initial = ModelFactory.initialParameters(spec, FEATURES);
    long start = System.nanoTime();
    TrainingResult result = trainer.train(initial, 1, options);
    return (System.nanoTime() - start) / 1e6 / result.steps();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /**
   * Benchmark input only (not a data set): {@code rows} rows of {@link #CHANNELS} channels over a
   * {@link #WINDOW}-step window, seeded so every run times the same work.
   */
  static EncodedData syntheticRows(int rows) {
    RandomGenerator random = ReproducibleRandom.of("dp-step-cost-bench", 2026);
    float[] x = new float[rows * FEATURES];
    float[] y = new float[rows];
    for (int r = 0; r < rows; r++) {
      double sum = 0;
      for (int j = 0; j < FEATURES; j++) {
        x[r * FEATURES + j] = (float) random.nextGaussian();
        sum += j < WINDOW ? x[r * FEATURES + j] : 0;
      }
      y[r] = random.nextDouble() < 1 / (1 + Math.exp(-sum / 3)) ? 1f : 0f;
    }
    return new EncodedData(rows, FEATURES, x, y);
  }
}
