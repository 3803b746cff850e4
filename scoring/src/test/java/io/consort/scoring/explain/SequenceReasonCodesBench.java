package io.consort.scoring.explain;

import io.consort.model.features.EncodedData;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Milliseconds per explained row (reason codes of one row: {@link Attributor#explain} on a sequence
 * model) for each family, on models trained 5 epochs by the native engine on 2,000 learnable rows: the
 * market demo's size (2 channels over a 10-step window, 16 units, head [16]) and a larger one (4 channels
 * over 30 steps, 32 units). Prints per family the median, 90th percentile and largest time per row over
 * {@code rows} rows (after as many rows of warm-up), the forward pass's time per row, and the panels.
 *
 * <pre>{@code java -cp scoring/target/test-classes:scoring/target/classes:$(cat /tmp/cp.txt) \
 *     io.consort.scoring.explain.SequenceReasonCodesBench 200}</pre>
 */
public final class SequenceReasonCodesBench {
  private SequenceReasonCodesBench() {}

  public static void main(String[] args) {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int[][] sizes = {{2, 10, 16}, {4, 30, 32}};
    System.out.println("| size | family | median ms/row | p90 | max | forward ms/row | median panels | max panels |");
    System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
    for (int[] size : sizes) {
      for (ModelType type : new ModelType[] {ModelType.LSTM, ModelType.SIMPLE_RNN, ModelType.CNN1D,
          ModelType.ATTENTION}) {
        run(type, size[0], size[1], size[2], rows);
      }
    }
  }

  private static void run(ModelType type, int channels, int window, int units, int rows) {
    int features = channels * window;
    ModelSpec spec = ModelSpec.sequence(type, new SequenceSpec(window, units, type == ModelType.CNN1D ? 3 : 0,
        type == ModelType.ATTENTION ? 2 : 0), List.of(16), Objective.BINARY, 7);
    EncodedData train = learnable(2000, features, 5);
    LocalTrainer trainer = new LocalTrainer(spec, train, TrainingEngine.NATIVE, new SplittableRandom(7), sigma -> {
      throw new AssertionError("no noise without DP-SGD");
    });
    float[] parameters = trainer.train(ModelFactory.initialParameters(spec, features), 5, TrainingOptions.standard())
        .parameters();
    SequenceNetwork network = SequenceNetwork.of(spec, features, parameters);
    Attributor attributor = new Attributor(network, SequenceIntegratedGradientsTest.encoding(features));
    EncodedData test = learnable(2 * rows, features, 6);
    float[] logits = new float[test.rows()];
    long forwardStart = System.nanoTime();
    for (int r = 0; r < test.rows(); r++) {
      logits[r] = network.logit(Arrays.copyOfRange(test.x(), r * features, (r + 1) * features));
    }
    double forwardMs = (System.nanoTime() - forwardStart) / 1e6 / test.rows();
    double[] ms = new double[rows];
    int[] panels = new int[rows];
    for (int r = 0; r < test.rows(); r++) {
      float[] x = Arrays.copyOfRange(test.x(), r * features, (r + 1) * features);
      long start = System.nanoTime();
      Attribution a = attributor.explain(x, logits[r]);
      long elapsed = System.nanoTime() - start;
      if (r >= rows) {
        ms[r - rows] = elapsed / 1e6;
        panels[r - rows] = a.pieces();
      }
    }
    Arrays.sort(ms);
    Arrays.sort(panels);
    System.out.printf(Locale.ROOT, "| %d x %d, %d units | %s | %.2f | %.2f | %.2f | %.3f | %d | %d |%n", channels, window,
        units, type.wireName(), ms[rows / 2], ms[rows * 9 / 10], ms[rows - 1], forwardMs, panels[rows / 2],
        panels[rows - 1]);
  }

  private static EncodedData learnable(int rows, int features, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] x = new float[rows * features];
    float[] y = new float[rows];
    for (int r = 0; r < rows; r++) {
      double sum = 0;
      for (int c = 0; c < features; c++) {
        x[r * features + c] = (float) random.nextGaussian();
        sum += c < features / 2 ? x[r * features + c] : 0;
      }
      y[r] = sum > 0 ? 1 : 0;
    }
    return new EncodedData(rows, features, x, y);
  }
}
