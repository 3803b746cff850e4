package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.dl4j.Dl4jNetworks;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The hand-written dense passes against DL4J's own, which is the reference for the parameter
 * layout and the loss: batch gradients, predictions, and (for DP-SGD) per-example gradient norms and
 * the clipped sum, brute-forced one example at a time through DL4J. In consort-model's package (the
 * kernel is package-private there) but in consort-model-dl4j, which has DL4J.
 */
class DenseNetworkTest {
  private static final ModelSpec SMALL =
      new ModelSpec(ModelType.MLP, List.of(4, 3), 8, 1e-3, 0, 7L);
  private static final int INPUTS = 5;
  private static final int ROWS = 9;

  private final SplittableRandom random = new SplittableRandom(42);
  private final float[] x = new float[ROWS * INPUTS];
  private final float[] y = new float[ROWS];
  private final float[] params = ModelFactory.initialParameters(SMALL, INPUTS);

  DenseNetworkTest() {
    for (int i = 0; i < x.length; i++) {
      // Some exact zeros, as one-hot features have, to exercise the skip paths.
      x[i] = random.nextInt(4) == 0 ? 0f : (float) (2 * random.nextGaussian());
    }
    for (int r = 0; r < ROWS; r++) {
      y[r] = r % 3 == 0 ? 1f : 0f;
    }
    // Larger biases than Xavier's zeros so that ReLU masks and the bias gradient matter.
    for (int i = 0; i < params.length; i++) {
      params[i] += (float) (0.3 * random.nextGaussian());
    }
  }

  private DenseNetwork loaded(int rows, int firstRow) {
    DenseNetwork network = new DenseNetwork(SMALL.layerSizes(INPUTS));
    System.arraycopy(x, firstRow * INPUTS, network.inputBuffer(rows), 0, rows * INPUTS);
    System.arraycopy(y, firstRow, network.labelBuffer(rows), 0, rows);
    return network;
  }

  /**
   * DL4J's gradient over {@code rows} rows starting at {@code firstRow}: the sum over the batch
   * (DL4J divides by the batch size later, in its updater).
   */
  private float[] dl4jGradient(int firstRow, int rows) {
    MultiLayerNetwork net = Dl4jNetworks.network(SMALL, INPUTS, params);
    INDArray features = Nd4j.createFromArray(Arrays.copyOfRange(x, firstRow * INPUTS,
        (firstRow + rows) * INPUTS)).reshape(rows, INPUTS);
    INDArray labels = Nd4j.createFromArray(Arrays.copyOfRange(y, firstRow, firstRow + rows))
        .reshape(rows, 1);
    net.setInput(features);
    net.setLabels(labels);
    net.computeGradientAndScore();
    return net.gradient().gradient().toFloatVector();
  }

  @Test
  void batchGradientEqualsDl4jGradient_whenNotClipping() {
    DenseNetwork network = loaded(ROWS, 0);
    float[] gradient = new float[network.parameterCount()];
    network.forward(params, ROWS);
    network.backward(params, ROWS, 0, gradient);

    assertRelativelyClose(dl4jGradient(0, ROWS), gradient, 1e-5);
  }

  @Test
  void lossEqualsDl4jScore_whenSummedOverTheBatch() {
    DenseNetwork network = loaded(ROWS, 0);
    network.forward(params, ROWS);
    double loss = network.backward(params, ROWS, 0, new float[network.parameterCount()]);

    MultiLayerNetwork net = Dl4jNetworks.network(SMALL, INPUTS, params);
    double score = net.score(new org.nd4j.linalg.dataset.DataSet(
        Nd4j.createFromArray(x).reshape(ROWS, INPUTS), Nd4j.createFromArray(y).reshape(ROWS, 1)));
    assertEquals(score, loss / ROWS, 1e-5);
  }

  @Test
  void predictionsEqualDl4jOutput() {
    float[] scores = Predictor.predict(SMALL, params,
        new io.consort.model.features.EncodedData(ROWS, INPUTS, x, y));
    MultiLayerNetwork net = Dl4jNetworks.network(SMALL, INPUTS, params);
    float[] reference = net.output(Nd4j.createFromArray(x).reshape(ROWS, INPUTS)).toFloatVector();
    assertRelativelyClose(reference, scores, 1e-6);
  }

  @Test
  void perExampleNormsAndClippedSumEqualBruteForce_whenSomeExamplesExceedTheClipNorm() {
    // Brute force: each example's gradient on its own through DL4J, then clip and sum.
    float[][] perExample = new float[ROWS][];
    double[] norms = new double[ROWS];
    for (int r = 0; r < ROWS; r++) {
      perExample[r] = dl4jGradient(r, 1);
      norms[r] = norm(perExample[r]);
    }
    double[] sorted = norms.clone();
    Arrays.sort(sorted);
    double clip = sorted[ROWS / 2];
    assertTrue(sorted[0] < clip && clip < sorted[ROWS - 1], "clip must bind for some rows only");
    double[] clippedSum = new double[params.length];
    for (int r = 0; r < ROWS; r++) {
      // the kernel aims just inside the clip (DenseNetwork.CLIP_MARGIN) so float rounding cannot pass it
      double scale = Math.min(1, clip * DenseNetwork.CLIP_MARGIN / norms[r]);
      for (int i = 0; i < params.length; i++) {
        clippedSum[i] += scale * perExample[r][i];
      }
    }

    DenseNetwork network = loaded(ROWS, 0);
    float[] gradient = new float[network.parameterCount()];
    network.forward(params, ROWS);
    network.backward(params, ROWS, clip, gradient);

    for (int r = 0; r < ROWS; r++) {
      assertEquals(norms[r], Math.sqrt(network.squaredNorms()[r]), 1e-5 * norms[r], "row " + r);
    }
    float[] expected = new float[clippedSum.length];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = (float) clippedSum[i];
    }
    assertRelativelyClose(expected, gradient, 1e-5);
  }

  @Test
  void everyClippedContributionHasNormAtMostC_whenGradientsAreLarge() {
    // Half the smallest per-example norm, so that the clip binds on every row.
    double smallest = Double.POSITIVE_INFINITY;
    for (int r = 0; r < ROWS; r++) {
      DenseNetwork network = loaded(1, r);
      network.forward(params, 1);
      network.backward(params, 1, Double.MAX_VALUE, new float[network.parameterCount()]);
      smallest = Math.min(smallest, Math.sqrt(network.squaredNorms()[0]));
    }
    double clip = smallest / 2;
    for (int r = 0; r < ROWS; r++) {
      DenseNetwork network = loaded(1, r);
      float[] gradient = new float[network.parameterCount()];
      network.forward(params, 1);
      network.backward(params, 1, clip, gradient);
      assertTrue(Math.sqrt(network.squaredNorms()[0]) > clip, "the test needs binding clips");
      assertTrue(norm(gradient) <= clip * (1 + 1e-6), "row " + r + " norm " + norm(gradient));
    }
  }

  private static double norm(float[] v) {
    double sum = 0;
    for (float f : v) {
      sum += (double) f * f;
    }
    return Math.sqrt(sum);
  }

  /** ||actual - expected|| <= tolerance * ||expected||. */
  private static void assertRelativelyClose(float[] expected, float[] actual, double tolerance) {
    assertEquals(expected.length, actual.length);
    double diff = 0;
    for (int i = 0; i < expected.length; i++) {
      diff += Math.pow(expected[i] - actual[i], 2);
    }
    double relative = Math.sqrt(diff) / norm(expected);
    assertTrue(relative <= tolerance, "relative difference " + relative);
  }
}
