package io.consort.model.train;

import static io.consort.model.train.NativeNetworkChecks.assertRelativelyClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.dl4j.Dl4jNetworks;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The hand-written dense passes against DL4J's own, which is the reference for the parameter
 * layout and the loss: batch gradients, predictions, and (for DP-SGD) per-example gradient norms and
 * the clipped sum, brute-forced one example at a time through DL4J. Every check runs on both
 * kernels (the Vector API one is on: this module's tests run with jdk.incubator.vector) and on
 * shapes that reach every path of the blocked kernel: layers narrower than one vector, widths
 * with a whole vector and scalar columns left over, batches that are not a multiple of the 4-row
 * block, inputs whose weight gradient is computed transposed; with ReLU, tanh and sigmoid hidden
 * layers, binary and regression outputs, and dropout (under {@link FixedDropout}'s mask, which DL4J
 * reproduces on masked weights; predictions and losses are without dropout, as DL4J scores). In
 * consort-model's package (the
 * kernel is package-private there) but in consort-model-dl4j, which has DL4J.
 */
class DenseNetworkTest {

  /** One kernel on one network shape, with its rows, labels and (perturbed) initial parameters. */
  static final class Fixture {
    final String name;
    final DenseKernel kernel;
    final ModelSpec spec;
    final int inputs;
    final int rows;
    final float[] x;
    final float[] y;
    final float[] params;

    Fixture(String name, DenseKernel kernel, List<Integer> hidden, int inputs, int rows) {
      this(name, kernel, hidden, inputs, rows, HiddenActivation.RELU, Objective.BINARY, 0);
    }

    Fixture(String name, DenseKernel kernel, List<Integer> hidden, int inputs, int rows,
        HiddenActivation activation, Objective objective, double dropout) {
      this.name = name + (activation == HiddenActivation.RELU ? "" : " " + activation.wireName())
          + (objective == Objective.BINARY ? "" : " " + objective.wireName())
          + (dropout == 0 ? "" : " dropout " + dropout);
      this.kernel = kernel;
      this.spec = new ModelSpec(ModelType.MLP, hidden, 8, 1e-3, 0, 7L)
          .withActivation(activation, dropout).withObjective(objective);
      this.inputs = inputs;
      this.rows = rows;
      SplittableRandom random = new SplittableRandom(42);
      x = new float[rows * inputs];
      y = new float[rows];
      for (int i = 0; i < x.length; i++) {
        // Some exact zeros, as one-hot features have, to exercise the skip paths.
        x[i] = random.nextInt(4) == 0 ? 0f : (float) (2 * random.nextGaussian());
      }
      for (int r = 0; r < rows; r++) {
        y[r] = objective == Objective.REGRESSION ? (float) (1.5 * random.nextGaussian())
            : r % 3 == 0 ? 1f : 0f;
      }
      params = ModelFactory.initialParameters(spec, inputs);
      // Larger biases than Xavier's zeros so that ReLU masks and the bias gradient matter; the
      // weights are perturbed less on wide layers, where 0.3 would saturate the sigmoid (DL4J's
      // loss clips the output to [1e-5, 1 - 1e-5], so its gradient departs from the exact one).
      int[] sizes = spec.layerSizes(inputs);
      int i = 0;
      for (int l = 1; l < sizes.length; l++) {
        double weightScale = 0.3 * Math.min(1, Math.sqrt(5.0 / sizes[l - 1]));
        for (int end = i + sizes[l - 1] * sizes[l]; i < end; i++) {
          params[i] += (float) (weightScale * random.nextGaussian());
        }
        for (int end = i + sizes[l]; i < end; i++) {
          params[i] += (float) (0.3 * random.nextGaussian());
        }
      }
    }

    @Override
    public String toString() {
      return name;
    }

    DenseNetwork loaded(int count, int firstRow) {
      DenseNetwork network = DenseNetwork.of(spec, inputs, kernel);
      System.arraycopy(x, firstRow * inputs, network.inputBuffer(count), 0, count * inputs);
      System.arraycopy(y, firstRow, network.labelBuffer(count), 0, count);
      return network;
    }

    /**
     * The network whose forward pass is the training pass: with dropout, {@link FixedDropout}'s
     * mask.
     */
    NativeNetwork training(int count, int firstRow) {
      NativeNetwork network = loaded(count, firstRow);
      return spec.dropout() > 0 ? FixedDropout.training(network) : network;
    }

    /**
     * DL4J's gradient over {@code count} rows starting at {@code firstRow}: the sum over the batch
     * (DL4J divides by the batch size later, in its updater); with dropout, under
     * {@link FixedDropout}'s mask.
     */
    float[] dl4jGradient(int firstRow, int count) {
      float[] m = FixedDropout.multipliers(spec, inputs);
      MultiLayerNetwork net = Dl4jNetworks.network(spec.withActivation(spec.activation(), 0), inputs,
          FixedDropout.times(params, m));
      INDArray features = Nd4j.createFromArray(Arrays.copyOfRange(x, firstRow * inputs,
          (firstRow + count) * inputs)).reshape(count, inputs);
      INDArray labels = Nd4j.createFromArray(Arrays.copyOfRange(y, firstRow, firstRow + count))
          .reshape(count, 1);
      net.setInput(features);
      net.setLabels(labels);
      net.computeGradientAndScore();
      return FixedDropout.times(net.gradient().gradient().toFloatVector(), m);
    }
  }

  static Stream<Fixture> fixtures() {
    DenseKernel vector = DenseKernel.vectorOrNull();
    assertNotNull(vector, "the Vector API kernel must be available: the build runs this module's"
        + " tests with --add-modules jdk.incubator.vector");
    return Stream.of(DenseKernel.scalar(), vector).flatMap(kernel -> {
      String name = kernel == vector ? "vector" : "scalar";
      return Stream.of(
          // narrower than any vector: the dot-product and scalar fallbacks
          new Fixture(name + " 5-4-3-1, 9 rows", kernel, List.of(4, 3), 5, 9),
          // 37 inputs: transposed weight gradient; 40 = 2 vectors of 16 + 8 scalar columns
          new Fixture(name + " 37-64-40-1, 11 rows", kernel, List.of(64, 40), 37, 11),
          // 48 and 24: a single vector left over after the 2-vector blocks
          new Fixture(name + " 23-48-24-1, 13 rows", kernel, List.of(48, 24), 23, 13),
          // the default MLP on a realistic batch
          new Fixture(name + " 23-64-32-1, 130 rows", kernel, List.of(64, 32), 23, 130),
          // the other hidden activations and the regression output (identity, squared error)
          new Fixture(name + " 5-4-3-1, 9 rows", kernel, List.of(4, 3), 5, 9,
              HiddenActivation.TANH, Objective.BINARY, 0),
          new Fixture(name + " 37-64-40-1, 11 rows", kernel, List.of(64, 40), 37, 11,
              HiddenActivation.SIGMOID, Objective.BINARY, 0),
          new Fixture(name + " 23-48-24-1, 13 rows", kernel, List.of(48, 24), 23, 13,
              HiddenActivation.RELU, Objective.REGRESSION, 0),
          new Fixture(name + " 23-64-32-1, 130 rows", kernel, List.of(64, 32), 23, 130,
              HiddenActivation.TANH, Objective.REGRESSION, 0),
          new Fixture(name + " 5-4-1, 9 rows", kernel, List.of(4), 5, 9,
              HiddenActivation.SIGMOID, Objective.REGRESSION, 0),
          // dropout on the inputs of every layer after the first
          new Fixture(name + " 5-4-6-1, 9 rows", kernel, List.of(4, 6), 5, 9,
              HiddenActivation.TANH, Objective.BINARY, 0.3),
          new Fixture(name + " 23-64-32-1, 130 rows", kernel, List.of(64, 32), 23, 130,
              HiddenActivation.RELU, Objective.BINARY, 0.2),
          new Fixture(name + " 23-48-24-1, 13 rows", kernel, List.of(48, 24), 23, 13,
              HiddenActivation.SIGMOID, Objective.REGRESSION, 0.5));
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void batchGradientEqualsDl4jGradient_whenNotClipping(Fixture f) {
    NativeNetworkChecks.batchGradientEqualsDl4jGradient(f::training, f::dl4jGradient, f.params,
        f.rows);
  }


  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void lossEqualsDl4jScore_whenSummedOverTheBatch(Fixture f) {
    DenseNetwork network = f.loaded(f.rows, 0);
    network.forward(f.params, f.rows);
    double loss = network.backward(f.params, f.rows, 0, new float[network.parameterCount()]);

    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    double score = net.score(new org.nd4j.linalg.dataset.DataSet(
        Nd4j.createFromArray(f.x).reshape(f.rows, f.inputs),
        Nd4j.createFromArray(f.y).reshape(f.rows, 1)));
    assertEquals(score, loss / f.rows, 1e-5);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void predictionsEqualDl4jOutput(Fixture f) {
    DenseNetwork network = f.loaded(f.rows, 0);
    network.forward(f.params, f.rows);
    float[] scores = NativeNetworkChecks.scores(f.spec, network, f.rows);
    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    float[] reference = net.output(Nd4j.createFromArray(f.x).reshape(f.rows, f.inputs))
        .toFloatVector();
    assertRelativelyClose(reference, scores, 1e-6);
    if (f.kernel == DenseKernel.preferred()) {
      assertRelativelyClose(reference, Predictor.predict(f.spec, f.params,
          new io.consort.model.features.EncodedData(f.rows, f.inputs, f.x, f.y)), 1e-6);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void perExampleNormsAndClippedSumEqualBruteForce_whenSomeExamplesExceedTheClipNorm(Fixture f) {
    NativeNetworkChecks.perExampleNormsAndClippedSumEqualBruteForce(f::training, f::dl4jGradient,
        f.params, f.rows);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void everyClippedContributionHasNormAtMostC_whenGradientsAreLarge(Fixture f) {
    NativeNetworkChecks.everyClippedContributionHasNormAtMostC(f::training, f.params, f.rows);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void buffersSizedForALargeBatch_giveTheSameGradient_forASmallerOne(Fixture f) {
    NativeNetworkChecks.buffersSizedForALargeBatchGiveTheSameGradientForASmallerOne(f::training,
        f.params, f.rows);
  }
}
