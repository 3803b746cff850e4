package io.consort.bench.model;

import io.consort.model.features.EncodedData;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
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
 *   <li>DL4J pre-sliced: {@code fit(features, labels)} on batches sliced once;</li>
 *   <li>Consort: {@link LocalTrainer} without DP;</li>
 *   <li>Consort DP-SGD: Poisson sampling at q = batch / rows, per-example clipping, SecureRandom
 *       Gaussian noise (the production path).</li>
 * </ol>
 *
 * Prints median times and the medians of the per-sample ratios naive / Consort and DP-SGD /
 * Consort. Features are dense standard normals (no one-hot zeros for the trainer to skip), labels
 * from a noisy linear rule. Run with {@code OMP_NUM_THREADS=1}: on two shared cores one OpenMP
 * thread is the faster DL4J setting.
 * Arguments: {@code [samples]} (default 5).
 */
public final class LocalTrainingBench {
  private static final int ROWS = 30_000;
  private static final int FEATURES = 23;

  private LocalTrainingBench() {}

  public static void main(String[] args) {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
    EncodedData data = syntheticRows();
    System.out.printf(Locale.ROOT, "rows %d, features %d, MLP 64-32-1, %d samples per figure,"
        + " ms per step (median)%n", ROWS, FEATURES, samples);
    System.out.printf(Locale.ROOT, "%6s %12s %12s %12s %12s %14s %12s%n", "batch", "dl4j-naive",
        "dl4j-sliced", "consort", "consort-dp", "naive/consort", "dp/consort");
    for (int batch : new int[] {32, 512}) {
      ModelSpec spec = ModelSpec.defaultMlp(1).withBatchSize(batch);
      TrainingOptions dp = TrainingOptions.withDpSgd(
          DpSgdConfig.forExpectedBatch(1.0, 1.0, batch, data.rows()));
      List<Sample> methods = List.of(() -> dl4jNaive(spec, data), () -> dl4jPreSliced(spec, data),
          () -> consort(spec, data, TrainingOptions.standard()), () -> consort(spec, data, dp));
      // The machine is shared: each sample times all four methods back to back, and ratios are
      // taken within a sample, so a burst of load elsewhere inflates numerator and denominator.
      methods.forEach(Sample::millisPerStep); // warm-up, untimed
      double[][] times = new double[methods.size()][samples];
      double[] naiveRatio = new double[samples];
      double[] dpRatio = new double[samples];
      for (int i = 0; i < samples; i++) {
        for (int m = 0; m < methods.size(); m++) {
          times[m][i] = methods.get(m).millisPerStep();
        }
        naiveRatio[i] = times[0][i] / times[2][i];
        dpRatio[i] = times[3][i] / times[2][i];
      }
      System.out.printf(Locale.ROOT, "%6d %12.3f %12.3f %12.3f %12.3f %14.1f %12.2f%n", batch,
          median(times[0]), median(times[1]), median(times[2]), median(times[3]),
          median(naiveRatio), median(dpRatio));
    }
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
    MultiLayerNetwork net = new MultiLayerNetwork(ModelFactory.configuration(spec, FEATURES));
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
    MultiLayerNetwork net = new MultiLayerNetwork(ModelFactory.configuration(spec, FEATURES));
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

  private static double consort(ModelSpec spec, EncodedData data, TrainingOptions options) {
    LocalTrainer trainer = new LocalTrainer(spec, data);
    float[] initial = ModelFactory.initialParameters(spec, FEATURES);
    long start = System.nanoTime();
    TrainingResult result = trainer.train(initial, 1, options);
    return (System.nanoTime() - start) / 1e6 / result.steps();
  }

  /** Benchmark input only (not a data set): seeded so every run times the same work. */
  private static EncodedData syntheticRows() {
    SplittableRandom random = new SplittableRandom(2024);
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
