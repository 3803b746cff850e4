package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.dl4j.Dl4jNetworks;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The native LSTM's passes against DL4J's LSTM with {@code LastTimeStep} and the same head, built
 * from the same spec and loaded with the same parameters: batch gradients, loss, outputs, and for
 * DP-SGD the per-example gradient norms and the clipped sum, brute-forced one example at a time
 * through DL4J. On both kernels, and on shapes that take each per-example norm path (the Gram
 * identity for short windows, the formed gradient for a long window of few units).
 */
class LstmNetworkTest {

  @BeforeAll
  static void oneThread() {
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
  }

  /** One kernel on one LSTM shape, with its rows, labels and (perturbed) initial parameters. */
  static final class Fixture {
    final String name;
    final DenseKernel kernel;
    final ModelSpec spec;
    final int inputs;
    final int rows;
    final float[] x;
    final float[] y;
    final float[] params;

    Fixture(String name, DenseKernel kernel, int channels, int window, int units, int head,
        int rows) {
      this.name = name;
      this.kernel = kernel;
      this.spec = ModelSpec.sequence(ModelType.LSTM, new SequenceSpec(window, units, 0, 0),
          List.of(head), Objective.BINARY, 7L);
      this.inputs = channels * window;
      this.rows = rows;
      SplittableRandom random = new SplittableRandom(42);
      x = new float[rows * inputs];
      y = new float[rows];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) random.nextGaussian();
      }
      for (int r = 0; r < rows; r++) {
        y[r] = r % 3 == 0 ? 1f : 0f;
      }
      params = ModelFactory.initialParameters(spec, inputs);
      // Non-zero biases so that every bias gradient path matters; small enough not to saturate.
      for (int i = 0; i < params.length; i++) {
        params[i] += (float) (0.2 * random.nextGaussian());
      }
    }

    @Override
    public String toString() {
      return name;
    }

    LstmNetwork loaded(int count, int firstRow) {
      LstmNetwork network = new LstmNetwork(spec.sequence().orElseThrow(), inputs,
          spec.hiddenLayers(), kernel);
      System.arraycopy(x, firstRow * inputs, network.inputBuffer(count), 0, count * inputs);
      System.arraycopy(y, firstRow, network.labelBuffer(count), 0, count);
      return network;
    }

    INDArray features(int firstRow, int count) {
      return Nd4j.createFromArray(Arrays.copyOfRange(x, firstRow * inputs,
          (firstRow + count) * inputs)).reshape(count, inputs / window(), window());
    }

    int window() {
      return spec.sequence().orElseThrow().window();
    }

    /** DL4J's gradient over {@code count} rows from {@code firstRow}: the sum over the batch. */
    float[] dl4jGradient(int firstRow, int count) {
      MultiLayerNetwork net = Dl4jNetworks.network(spec, inputs, params);
      net.setInput(features(firstRow, count));
      net.setLabels(Nd4j.createFromArray(Arrays.copyOfRange(y, firstRow, firstRow + count))
          .reshape(count, 1));
      net.computeGradientAndScore();
      return net.gradient().gradient().toFloatVector();
    }
  }

  static Stream<Fixture> fixtures() {
    DenseKernel vector = DenseKernel.vectorOrNull();
    assertNotNull(vector, "the Vector API kernel must be available: the build runs this module's"
        + " tests with --add-modules jdk.incubator.vector");
    return Stream.of(DenseKernel.scalar(), vector).flatMap(kernel -> {
      String name = kernel == vector ? "vector" : "scalar";
      return Stream.of(
          // narrower than a vector; Gram-identity norms
          new Fixture(name + " 3 channels x 5 steps, 4 units, head 6, 9 rows", kernel, 3, 5, 4, 6,
              9),
          // a long window of few units: norms from the formed per-example gradient
          new Fixture(name + " 2 channels x 40 steps, 2 units, head 3, 7 rows", kernel, 2, 40, 2,
              3, 7),
          // the benchmark's and market experiment's shape
          new Fixture(name + " 2 channels x 10 steps, 16 units, head 16, 37 rows", kernel, 2, 10,
              16, 16, 37));
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void batchGradientEqualsDl4jGradient_whenNotClipping(Fixture f) {
    LstmNetwork network = f.loaded(f.rows, 0);
    float[] gradient = new float[network.parameterCount()];
    network.forward(f.params, f.rows);
    network.backward(f.params, f.rows, 0, gradient);

    assertRelativelyClose(f.dl4jGradient(0, f.rows), gradient, 1e-5);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void lossEqualsDl4jScore_whenSummedOverTheBatch(Fixture f) {
    LstmNetwork network = f.loaded(f.rows, 0);
    network.forward(f.params, f.rows);
    double loss = network.backward(f.params, f.rows, 0, new float[network.parameterCount()]);

    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    double score = net.score(new DataSet(f.features(0, f.rows),
        Nd4j.createFromArray(f.y).reshape(f.rows, 1)));
    assertEquals(score, loss / f.rows, 1e-5);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void predictionsEqualDl4jOutput(Fixture f) {
    LstmNetwork network = f.loaded(f.rows, 0);
    network.forward(f.params, f.rows);
    float[] scores = new float[f.rows];
    for (int r = 0; r < f.rows; r++) {
      scores[r] = (float) (1.0 / (1.0 + Math.exp(-network.logits()[r])));
    }
    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    float[] reference = net.output(f.features(0, f.rows)).toFloatVector();
    assertRelativelyClose(reference, scores, 1e-6);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void perExampleNormsAndClippedSumEqualBruteForce_whenSomeExamplesExceedTheClipNorm(Fixture f) {
    int rows = f.rows;
    float[][] perExample = new float[rows][];
    double[] norms = new double[rows];
    for (int r = 0; r < rows; r++) {
      perExample[r] = f.dl4jGradient(r, 1);
      norms[r] = norm(perExample[r]);
    }
    double[] sorted = norms.clone();
    Arrays.sort(sorted);
    double clip = sorted[rows / 2];
    assertTrue(sorted[0] < clip && clip < sorted[rows - 1], "clip must bind for some rows only");
    double[] clippedSum = new double[f.params.length];
    for (int r = 0; r < rows; r++) {
      double scale = Math.min(1, clip * DenseNetwork.CLIP_MARGIN / norms[r]);
      for (int i = 0; i < f.params.length; i++) {
        clippedSum[i] += scale * perExample[r][i];
      }
    }

    LstmNetwork network = f.loaded(rows, 0);
    float[] gradient = new float[network.parameterCount()];
    network.forward(f.params, rows);
    network.backward(f.params, rows, clip, gradient);

    for (int r = 0; r < rows; r++) {
      assertEquals(norms[r], Math.sqrt(network.squaredNorms()[r]), 1e-5 * norms[r], "row " + r);
    }
    float[] expected = new float[clippedSum.length];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = (float) clippedSum[i];
    }
    assertRelativelyClose(expected, gradient, 1e-5);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void everyClippedContributionHasNormAtMostC_whenTheClipBindsOnEveryRow(Fixture f) {
    double smallest = Double.POSITIVE_INFINITY;
    for (int r = 0; r < f.rows; r++) {
      LstmNetwork network = f.loaded(1, r);
      network.forward(f.params, 1);
      network.backward(f.params, 1, Double.MAX_VALUE, new float[network.parameterCount()]);
      smallest = Math.min(smallest, Math.sqrt(network.squaredNorms()[0]));
    }
    double clip = smallest / 2;
    for (int r = 0; r < f.rows; r++) {
      LstmNetwork network = f.loaded(1, r);
      float[] gradient = new float[network.parameterCount()];
      network.forward(f.params, 1);
      network.backward(f.params, 1, clip, gradient);
      assertTrue(Math.sqrt(network.squaredNorms()[0]) > clip, "the test needs binding clips");
      assertTrue(norm(gradient) <= clip, "row " + r + " norm " + norm(gradient));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void buffersSizedForALargeBatch_giveTheSameGradient_forASmallerOne(Fixture f) {
    LstmNetwork fresh = f.loaded(f.rows - 1, 0);
    float[] expected = new float[fresh.parameterCount()];
    fresh.forward(f.params, f.rows - 1);
    fresh.backward(f.params, f.rows - 1, 0, expected);

    LstmNetwork reused = f.loaded(f.rows, 0);
    float[] gradient = new float[reused.parameterCount()];
    reused.forward(f.params, f.rows);
    reused.backward(f.params, f.rows, 0, gradient);
    reused.forward(f.params, f.rows - 1);
    reused.backward(f.params, f.rows - 1, 0, gradient);

    assertTrue(Arrays.equals(expected, gradient));
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
