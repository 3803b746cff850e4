package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.dl4j.Dl4jNetworks;
import io.consort.model.features.EncodedData;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Checks every {@link NativeNetwork} must pass against DL4J, shared by the tests of each network:
 * DP-SGD's per-example norms and clipped sum against DL4J one example at a time, the clip bound,
 * buffer reuse across batch sizes, and whole training runs of a sequence model on both engines.
 */
final class NativeNetworkChecks {

  /** A network of the fixture's shape holding {@code count} rows from {@code firstRow}. */
  interface Loader {
    NativeNetwork loaded(int count, int firstRow);
  }

  /** DL4J's gradient summed over {@code count} rows from {@code firstRow}. */
  interface Reference {
    float[] gradient(int firstRow, int count);
  }

  private NativeNetworkChecks() {}

  /** Without clipping, the batch gradient equals DL4J's. */
  static void batchGradientEqualsDl4jGradient(Loader loader, Reference dl4j, float[] params,
      int rows) {
    NativeNetwork network = loader.loaded(rows, 0);
    float[] gradient = new float[network.parameterCount()];
    network.forward(params, rows);
    network.backward(params, rows, 0, gradient);

    assertRelativelyClose(dl4j.gradient(0, rows), gradient, 1e-5);
  }

  /** The sigmoid scores of the network's last forward pass, rows {@code 0..rows-1}. */
  static float[] scores(NativeNetwork network, int rows) {
    return scores(null, network, rows);
  }

  /**
   * The outputs of the network's last forward pass, rows {@code 0..rows-1}: sigmoid scores, or a
   * regression's (spec's) predictions.
   */
  static float[] scores(ModelSpec spec, NativeNetwork network, int rows) {
    if (spec != null && spec.objective() == Objective.REGRESSION) {
      return Arrays.copyOf(network.logits(), rows);
    }
    float[] scores = new float[rows];
    for (int r = 0; r < rows; r++) {
      scores[r] = (float) (1.0 / (1.0 + Math.exp(-network.logits()[r])));
    }
    return scores;
  }

  /** With a clip at the median per-example norm: norms and the clipped sum equal brute force. */
  static void perExampleNormsAndClippedSumEqualBruteForce(Loader loader, Reference dl4j,
      float[] params, int rows) {
    float[][] perExample = new float[rows][];
    double[] norms = new double[rows];
    for (int r = 0; r < rows; r++) {
      perExample[r] = dl4j.gradient(r, 1);
      norms[r] = norm(perExample[r]);
    }
    double[] sorted = norms.clone();
    Arrays.sort(sorted);
    double clip = sorted[rows / 2];
    assertTrue(sorted[0] < clip && clip < sorted[rows - 1], "clip must bind for some rows only");
    double[] clippedSum = new double[params.length];
    for (int r = 0; r < rows; r++) {
      // the networks aim just inside the clip (DenseNetwork.CLIP_MARGIN), past float rounding
      double scale = Math.min(1, clip * DenseNetwork.CLIP_MARGIN / norms[r]);
      for (int i = 0; i < params.length; i++) {
        clippedSum[i] += scale * perExample[r][i];
      }
    }

    NativeNetwork network = loader.loaded(rows, 0);
    float[] gradient = new float[network.parameterCount()];
    network.forward(params, rows);
    network.backward(params, rows, clip, gradient);

    for (int r = 0; r < rows; r++) {
      // relative to the norm, plus 1e-6 of the clip: a regression row that nearly fits has a small
      // error 2 (z - y) whose float rounding is relative to |z|, not to the error
      assertEquals(norms[r], Math.sqrt(network.squaredNorms()[r]), 1e-5 * norms[r] + 1e-6 * clip,
          "row " + r);
    }
    float[] expected = new float[clippedSum.length];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = (float) clippedSum[i];
    }
    assertRelativelyClose(expected, gradient, 1e-5);
  }

  /** With a clip at half the smallest per-example norm, every example's gradient has norm <= C. */
  static void everyClippedContributionHasNormAtMostC(Loader loader, float[] params, int rows) {
    double smallest = Double.POSITIVE_INFINITY;
    for (int r = 0; r < rows; r++) {
      NativeNetwork network = loader.loaded(1, r);
      network.forward(params, 1);
      network.backward(params, 1, Double.MAX_VALUE, new float[network.parameterCount()]);
      smallest = Math.min(smallest, Math.sqrt(network.squaredNorms()[0]));
    }
    double clip = smallest / 2;
    for (int r = 0; r < rows; r++) {
      NativeNetwork network = loader.loaded(1, r);
      float[] gradient = new float[network.parameterCount()];
      network.forward(params, 1);
      network.backward(params, 1, clip, gradient);
      assertTrue(Math.sqrt(network.squaredNorms()[0]) > clip, "the test needs binding clips");
      assertTrue(norm(gradient) <= clip * (1 + 1e-6), "row " + r + " norm " + norm(gradient));
    }
  }

  /** A trainer reuses one network for batches of every size (DP-SGD's Poisson batches vary). */
  static void buffersSizedForALargeBatchGiveTheSameGradientForASmallerOne(Loader loader,
      float[] params, int rows) {
    NativeNetwork fresh = loader.loaded(rows - 1, 0);
    float[] expected = new float[fresh.parameterCount()];
    fresh.forward(params, rows - 1);
    fresh.backward(params, rows - 1, 0, expected);

    NativeNetwork reused = loader.loaded(rows, 0);
    float[] gradient = new float[reused.parameterCount()];
    reused.forward(params, rows);
    reused.backward(params, rows, 0, gradient);
    reused.forward(params, rows - 1);
    reused.backward(params, rows - 1, 0, gradient);

    // Not bit for bit: the Vector API kernel's lane reductions (reduceLanes(ADD), whose order is
    // unspecified) round differently once the JIT intrinsifies them, which can happen between the
    // two networks' passes; a stale buffer would be off by far more than 1e-6.
    assertRelativelyClose(expected, gradient, 1e-6);
  }

  static double norm(float[] v) {
    double sum = 0;
    for (float f : v) {
      sum += (double) f * f;
    }
    return Math.sqrt(sum);
  }

  /** ||actual - expected|| <= tolerance * ||expected||. */
  static void assertRelativelyClose(float[] expected, float[] actual, double tolerance) {
    assertEquals(expected.length, actual.length);
    double diff = 0;
    for (int i = 0; i < expected.length; i++) {
      diff += Math.pow(expected[i] - actual[i], 2);
    }
    double relative = Math.sqrt(diff) / norm(expected);
    assertTrue(relative <= tolerance, "relative difference " + relative);
  }

  /** DP-SGD without noise on the same Poisson samples: the native and DL4J engines take the same steps. */
  static void dpSgdOnTheNativeEngineMatchesTheDl4jEngine(ModelSpec spec, EncodedData rows) {
    float[] start = ModelFactory.initialParameters(spec, rows.features());
    TrainingOptions dp = TrainingOptions.withDpSgd(new DpSgdConfig(0.0, 0.05, 0.2));

    TrainingResult nativeDp = FederatedGermanCreditTest.seededTrainer(spec, rows, 3,
        TrainingEngine.NATIVE).train(start, 2, dp);
    TrainingResult dl4jDp = FederatedGermanCreditTest.seededTrainer(spec, rows, 3,
        TrainingEngine.DL4J).train(start, 2, dp);

    assertEquals(nativeDp.examplesSeen(), dl4jDp.examplesSeen());
    assertEquals(dl4jDp.meanLoss(), nativeDp.meanLoss(), 1e-4);
    Dl4jEngineTest.assertStepsClose(start, dl4jDp.parameters(), nativeDp.parameters());
  }

  /**
   * 16 native epochs on {@code rows} (of {@code channels} over the spec's window) cut the loss by a
   * fifth, and {@link Predictor} scores the trained model as DL4J does.
   */
  static void nativeTrainingReducesTheLossAndPredictorMatchesDl4j(ModelSpec spec, EncodedData rows,
      int channels) {
    LocalTrainer trainer = FederatedGermanCreditTest.seededTrainer(spec, rows, 11,
        TrainingEngine.NATIVE);
    float[] start = ModelFactory.initialParameters(spec, rows.features());
    TrainingResult first = trainer.train(start, 1, TrainingOptions.standard());
    TrainingResult later = trainer.train(first.parameters(), 15, TrainingOptions.standard());
    assertTrue(later.meanLoss() < 0.8 * first.meanLoss(),
        "first epoch " + first.meanLoss() + ", next 15 " + later.meanLoss());

    float[] predicted = Predictor.predict(spec, later.parameters(), rows);
    float[] reference = Dl4jNetworks.network(spec, rows.features(), later.parameters())
        .output(Nd4j.createFromArray(rows.x()).reshape(rows.rows(), channels,
            rows.features() / channels)).toFloatVector();
    assertRelativelyClose(reference, predicted, 1e-5);
  }

  /**
   * A regression head ({@code spec}'s, without dropout): native training on {@code rows} equals the
   * DL4J engine's step for step, plain and DP-SGD; with dropout 0.2, native training on {@code many}
   * lowers the error by a fifth over 10 epochs, and {@link Predictor} scores the trained model as
   * DL4J does (scoring ignores dropout). Rows are {@code channels} over the spec's window.
   */
  static void regressionHeadTrainsAsOnDl4j_andWithDropoutScoresAsDl4j(ModelSpec spec, EncodedData rows,
      EncodedData many, int channels) {
    float[] start = ModelFactory.initialParameters(spec, rows.features());
    for (TrainingOptions options : List.of(TrainingOptions.standard(),
        TrainingOptions.withDpSgd(new DpSgdConfig(0.0, 0.05, 0.2)))) {
      TrainingResult nativeRun = FederatedGermanCreditTest.seededTrainer(spec, rows, 9,
          TrainingEngine.NATIVE).train(start, 2, options);
      TrainingResult dl4jRun = FederatedGermanCreditTest.seededTrainer(spec, rows, 9,
          TrainingEngine.DL4J).train(start, 2, options);
      assertEquals(nativeRun.examplesSeen(), dl4jRun.examplesSeen());
      Dl4jEngineTest.assertStepsClose(start, dl4jRun.parameters(), nativeRun.parameters());
    }

    ModelSpec dropout = spec.withActivation(spec.activation(), 0.2);
    LocalTrainer trainer = FederatedGermanCreditTest.seededTrainer(dropout, many, 11, TrainingEngine.NATIVE);
    TrainingResult first = trainer.train(start, 1, TrainingOptions.standard());
    TrainingResult later = trainer.train(first.parameters(), 10, TrainingOptions.standard());
    assertTrue(later.meanLoss() < 0.8 * first.meanLoss(),
        "first epoch " + first.meanLoss() + ", next 10 " + later.meanLoss());
    float[] predicted = Predictor.predict(dropout, later.parameters(), many);
    float[] reference = Dl4jNetworks.network(dropout, many.features(), later.parameters())
        .output(Nd4j.createFromArray(many.x()).reshape(many.rows(), channels,
            many.features() / channels)).toFloatVector();
    assertRelativelyClose(reference, predicted, 1e-5);
  }
}
