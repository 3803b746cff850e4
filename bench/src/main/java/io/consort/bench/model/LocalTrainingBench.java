package io.consort.bench.model;

import io.consort.model.dl4j.Dl4jNetworks;
import io.consort.model.features.EncodedData;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Milliseconds per optimiser step for the brief's 23-64-32-1 MLP (Adam, binary cross-entropy) on
 * 30,000 rows, at batch 32 and 512, one epoch per sample, medians over samples after a warm-up:
 *
 * <ol>
 *   <li>DL4J naive: {@code fit(ListDataSetIterator)} (the baseline);</li>
 *   <li>DL4J pre-sliced: {@code fit(features, labels)} on batches sliced once, never reshuffled
 *       (a lower bound for feeding DL4J);</li>
 *   <li>DL4J engine: {@link LocalTrainer} on {@link TrainingEngine#DL4J} (shuffled every epoch,
 *       rows copied into reused batch arrays);</li>
 *   <li>native: {@link LocalTrainer} on {@link TrainingEngine#NATIVE} without DP;</li>
 *   <li>native DP-SGD: Poisson sampling at q = batch / rows, per-example clipping, SecureRandom
 *       Gaussian noise (the production path).</li>
 * </ol>
 *
 * Prints median times and the medians of the per-sample ratios naive / native, DL4J engine /
 * native and DP-SGD / native. Features are dense standard normals (no one-hot zeros for the
 * trainer to skip), labels from a noisy linear rule. Run with {@code OMP_NUM_THREADS=1}: on two
 * shared cores one OpenMP thread is the faster DL4J setting.
 * Arguments: {@code [samples] [nd4jThreads]} (defaults 5 and 1; set {@code OMP_NUM_THREADS} to the
 * same thread count).
 */
public final class LocalTrainingBench {
  private static final int ROWS = 30_000;
  private static final int FEATURES = 23;

  private LocalTrainingBench() {}

  public static void main(String[] args) {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    Nd4j.getEnvironment().setMaxMasterThreads(threads);
    Nd4j.getEnvironment().setMaxThreads(threads);
    EncodedData data = syntheticRows();
    System.out.printf(Locale.ROOT, "rows %d, features %d, MLP 64-32-1, %d ND4J thread(s), %d"
        + " samples per figure, ms per step (median)%n", ROWS, FEATURES, threads, samples);
    System.out.printf(Locale.ROOT, "%6s %12s %12s %12s %12s %12s %13s %12s %12s%n", "batch",
        "dl4j-naive", "dl4j-sliced", "dl4j-engine", "native", "native-dp", "naive/native",
        "dl4j/native", "dp/native");
    for (int batch : new int[] {32, 512}) {
      ModelSpec spec = ModelSpec.defaultMlp(1).withBatchSize(batch);
      TrainingOptions standard = TrainingOptions.standard();
      TrainingOptions dp = TrainingOptions.withDpSgd(
          DpSgdConfig.forExpectedBatch(1.0, 1.0, batch, data.rows()));
      List<Sample> methods = List.of(() -> dl4jNaive(spec, data), () -> dl4jPreSliced(spec, data),
          () -> trainer(spec, data, TrainingEngine.DL4J, standard),
          () -> trainer(spec, data, TrainingEngine.NATIVE, standard),
          () -> trainer(spec, data, TrainingEngine.NATIVE, dp));
      // The machine is shared: each sample times every method back to back, and ratios are taken
      // within a sample, so a burst of load elsewhere inflates numerator and denominator.
      methods.forEach(Sample::millisPerStep); // warm-up, untimed
      double[][] times = new double[methods.size()][samples];
      for (int i = 0; i < samples; i++) {
        for (int m = 0; m < methods.size(); m++) {
          times[m][i] = methods.get(m).millisPerStep();
        }
      }
      double[] nativeTimes = times[3];
      System.out.printf(Locale.ROOT, "%6d %12.3f %12.3f %12.3f %12.3f %12.3f %13.1f %12.1f"
          + " %12.2f%n", batch, median(times[0]), median(times[1]), median(times[2]),
          median(nativeTimes), median(times[4]), medianRatio(times[0], nativeTimes),
          medianRatio(times[2], nativeTimes), medianRatio(times[4], nativeTimes));
    }
  }

  /** The median over samples of numerator[i] / denominator[i]. */
  private static double medianRatio(double[] numerator, double[] denominator) {
    double[] ratios = new double[numerator.length];
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = numerator[i] / denominator[i];
    }
    return median(ratios);
  }

  private interface Sample {
    double millisPerStep();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double dl4jNaive(ModelSpec spec, EncodedData data) {
    MultiLayerNetwork net = new MultiLayerNetwork(Dl4jNetworks.configuration(spec, FEATURES));
    net.init();
    DataSet all = new DataSet(Nd4j.createFromArray(data.x()).reshape(data.rows(), FEATURES),
        Nd4j.createFromArray(data.y()).reshape(data.rows(), 1));
    ListDataSetIterator<DataSet> iterator = new ListDataSetIterator<>(all.asList(),
        spec.batchSize());
    long start = System.nanoTime();
    net.fit(iterator);
    int steps = (data.rows() + spec.batchSize() - 1) / spec.batchSize();
    return (System.nanoTime() - start) / 1e6 / steps;
  }

  private static double dl4jPreSliced(ModelSpec spec, EncodedData data) {
    MultiLayerNetwork net = new MultiLayerNetwork(Dl4jNetworks.configuration(spec, FEATURES));
    net.init();
    List<INDArray[]> batches = new ArrayList<>();
    for (int from = 0; from < data.rows(); from += spec.batchSize()) {
      int k = Math.min(spec.batchSize(), data.rows() - from);
      batches.add(new INDArray[] {
          Nd4j.createFromArray(Arrays.copyOfRange(data.x(), from * FEATURES, (from + k) * FEATURES))
              .reshape(k, FEATURES),
          Nd4j.createFromArray(Arrays.copyOfRange(data.y(), from, from + k)).reshape(k, 1)});
    }
    long start = System.nanoTime();
    for (INDArray[] batch : batches) {
      net.fit(batch[0], batch[1]);
    }
    return (System.nanoTime() - start) / 1e6 / batches.size();
  }

  /** One round of one epoch; the trainer (and the DL4J engine's network) is built untimed. */
  private static double trainer(ModelSpec spec, EncodedData data, TrainingEngine engine,
      TrainingOptions options) {
    LocalTrainer trainer = new LocalTrainer(spec, data, engine);
    float[] initial = ModelFactory.initialParameters(spec, FEATURES);
    long start = System.nanoTime();
    TrainingResult result = trainer.train(initial, 1, options);
    return (System.nanoTime() - start) / 1e6 / result.steps();
  }

  /**
   * Benchmark input only (not a data set): seeded so every run times the same work. Also the rows
   * of {@code bench/train-vs-torch} ({@link TrainingWorker}).
   */
  static EncodedData syntheticRows() {
    RandomGenerator random = ReproducibleRandom.of("local-training-bench", 2024);
    float[] x = new float[ROWS * FEATURES];
    float[] y = new float[ROWS];
    double[] weights = new double[FEATURES];
    for (int j = 0; j < FEATURES; j++) {
      weights[j] = random.nextGaussian() / Math.sqrt(FEATURES);
    }
    for (int r = 0; r < ROWS; r++) {
      double logit = -1;
      for (int j = 0; j < FEATURES; j++) {
        x[r * FEATURES + j] = (float) random.nextGaussian();
        logit += weights[j] * x[r * FEATURES + j];
      }
      y[r] = random.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1f : 0f;
    }
    return new EncodedData(ROWS, FEATURES, x, y);
  }
}
