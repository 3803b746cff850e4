package io.consort.model.train;

import static io.consort.model.train.NativeNetworkChecks.assertRelativelyClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.dl4j.Dl4jNetworks;
import io.consort.model.features.EncodedData;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The native 1-D CNN against DL4J's {@code Convolution1DLayer} network for the same spec and flat
 * parameters, which is the reference for the layout (the weight of tap j, channel c, filter n at
 * {@code (j*C + c)*N + n} after the N biases), same padding (odd and even kernels), max pooling
 * and the loss: batch gradients, loss, predictions, and for DP-SGD the per-example norms and the
 * clipped sum brute-forced one example at a time through DL4J. On both kernels, and on shapes that
 * reach the dot-product path (fewer filters than a vector's lanes), the blocked path, an even kernel,
 * one channel and no dense head. In consort-model's package (the network is package-private) but in
 * consort-model-dl4j, which has DL4J.
 */
class Conv1dNetworkTest {

  static final class Fixture {
    final String name;
    final DenseKernel kernel;
    final ModelSpec spec;
    final int inputs;
    final int rows;
    final float[] x;
    final float[] y;
    final float[] params;

    Fixture(DenseKernel kernel, String kernelName, int window, int channels, int filters,
        int kernelSize, List<Integer> head, int rows) {
      this(kernel, kernelName, window, channels, filters, kernelSize, head, rows,
          HiddenActivation.RELU, Objective.BINARY, 0);
    }

    Fixture(DenseKernel kernel, String kernelName, int window, int channels, int filters,
        int kernelSize, List<Integer> head, int rows, HiddenActivation activation,
        Objective objective, double dropout) {
      this.name = kernelName + " W" + window + " C" + channels + " N" + filters + " K" + kernelSize
          + " head " + head + ", " + rows + " rows"
          + (activation == HiddenActivation.RELU ? "" : ", " + activation.wireName())
          + (objective == Objective.BINARY ? "" : ", " + objective.wireName())
          + (dropout == 0 ? "" : ", dropout " + dropout);
      this.kernel = kernel;
      this.spec = ModelSpec.sequence(ModelType.CNN1D,
          new SequenceSpec(window, filters, kernelSize, 0), head, objective, 5)
          .withActivation(activation, dropout);
      this.inputs = window * channels;
      this.rows = rows;
      SplittableRandom random = new SplittableRandom(17);
      x = new float[rows * inputs];
      y = new float[rows];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) random.nextGaussian();
      }
      for (int r = 0; r < rows; r++) {
        y[r] = objective == Objective.REGRESSION ? (float) random.nextGaussian() : r % 3 == 0 ? 1f : 0f;
      }
      params = ModelFactory.initialParameters(spec, inputs);
      // biases away from Xavier's zeros, so that ReLU masks and bias gradients matter
      for (int i = 0; i < params.length; i++) {
        params[i] += (float) (0.2 * random.nextGaussian());
      }
    }

    @Override
    public String toString() {
      return name;
    }

    Conv1dNetwork loaded(int count, int firstRow) {
      Conv1dNetwork network = new Conv1dNetwork(spec, inputs, kernel);
      System.arraycopy(x, firstRow * inputs, network.inputBuffer(count), 0, count * inputs);
      System.arraycopy(y, firstRow, network.labelBuffer(count), 0, count);
      return network;
    }

    /** The network whose forward pass is the training pass: with dropout, {@link FixedDropout}'s mask. */
    NativeNetwork training(int count, int firstRow) {
      NativeNetwork network = loaded(count, firstRow);
      return spec.dropout() > 0 ? FixedDropout.training(network) : network;
    }

    INDArray features(int firstRow, int count) {
      return Nd4j.createFromArray(Arrays.copyOfRange(x, firstRow * inputs,
          (firstRow + count) * inputs)).reshape(count, inputs / spec.sequence().get().window(),
          spec.sequence().get().window());
    }

    /**
     * DL4J's gradient over {@code count} rows from {@code firstRow}: the sum over the batch; with
     * dropout, under {@link FixedDropout}'s mask.
     */
    float[] dl4jGradient(int firstRow, int count) {
      float[] m = FixedDropout.multipliers(spec, inputs);
      MultiLayerNetwork net = Dl4jNetworks.network(spec.withActivation(spec.activation(), 0), inputs,
          FixedDropout.times(params, m));
      net.setInput(features(firstRow, count));
      net.setLabels(Nd4j.createFromArray(Arrays.copyOfRange(y, firstRow, firstRow + count))
          .reshape(count, 1));
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
          new Fixture(kernel, name, 7, 2, 5, 3, List.of(4), 9),
          new Fixture(kernel, name, 6, 3, 9, 2, List.of(), 11),
          new Fixture(kernel, name, 12, 1, 32, 4, List.of(8, 3), 13),
          // the benchmark's model on a realistic batch
          new Fixture(kernel, name, 10, 2, 16, 3, List.of(16), 130),
          // the other heads: tanh, sigmoid, regression, dropout (also straight into the output)
          new Fixture(kernel, name, 10, 2, 16, 3, List.of(16), 130, HiddenActivation.TANH,
              Objective.REGRESSION, 0.2),
          new Fixture(kernel, name, 7, 2, 6, 3, List.of(4), 9, HiddenActivation.SIGMOID,
              Objective.BINARY, 0.5),
          new Fixture(kernel, name, 6, 3, 10, 2, List.of(), 11, HiddenActivation.RELU,
              Objective.REGRESSION, 0.3));
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void parameterCountIsTheLayouts(Fixture f) {
    assertEquals(ParameterLayout.of(f.spec, f.inputs).parameterCount(),
        f.loaded(1, 0).parameterCount());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void batchGradientEqualsDl4jGradient_whenNotClipping(Fixture f) {
    NativeNetworkChecks.batchGradientEqualsDl4jGradient(f::training, f::dl4jGradient, f.params, f.rows);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void lossEqualsDl4jScore_andPredictionsEqualDl4jOutput(Fixture f) {
    Conv1dNetwork network = f.loaded(f.rows, 0);
    network.forward(f.params, f.rows);
    float[] scores = NativeNetworkChecks.scores(f.spec, network, f.rows);
    double loss = network.backward(f.params, f.rows, 0, new float[network.parameterCount()]);

    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    INDArray features = f.features(0, f.rows);
    double score = net.score(new DataSet(features, Nd4j.createFromArray(f.y).reshape(f.rows, 1)));
    assertEquals(score, loss / f.rows, 1e-5);
    float[] reference = net.output(features).toFloatVector();
    assertRelativelyClose(reference, scores, 1e-6);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void perExampleNormsAndClippedSumEqualBruteForce_whenSomeExamplesExceedTheClipNorm(Fixture f) {
    NativeNetworkChecks.perExampleNormsAndClippedSumEqualBruteForce(f::training, f::dl4jGradient,
        f.params, f.rows);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void everyClippedContributionHasNormAtMostC_whenTheClipBindsOnEveryRow(Fixture f) {
    NativeNetworkChecks.everyClippedContributionHasNormAtMostC(f::training, f.params, f.rows);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void buffersSizedForALargeBatch_giveTheSameGradient_forASmallerOne(Fixture f) {
    NativeNetworkChecks.buffersSizedForALargeBatchGiveTheSameGradientForASmallerOne(f::training,
        f.params, f.rows);
  }

  /** Rows whose label is whether channel 0 peaks above 1 somewhere in the window: a max-pooling task. */
  private static EncodedData peaks(int rows, int window, int channels, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] x = new float[rows * channels * window];
    float[] y = new float[rows];
    for (int r = 0; r < rows; r++) {
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < channels * window; i++) {
        x[r * channels * window + i] = (float) random.nextGaussian();
        if (i < window) {
          max = Math.max(max, x[r * channels * window + i]);
        }
      }
      y[r] = max > 1.3f ? 1f : 0f;
    }
    return new EncodedData(rows, channels * window, x, y);
  }

  private static double meanLoss(float[] scores, float[] labels) {
    double sum = 0;
    for (int r = 0; r < scores.length; r++) {
      double p = Math.min(Math.max(scores[r], 1e-7), 1 - 1e-7);
      sum -= labels[r] * Math.log(p) + (1 - labels[r]) * Math.log(1 - p);
    }
    return sum / scores.length;
  }

  @Test
  void aBatchWhoseColumnsWouldOverflowTheBuffers_isRefusedNamingTheBatch() {
    // im2col keeps window x kernel x channels values a row: 4096 x 64 x 8 = 2^21, so 1,024 rows are 2^31
    ModelSpec spec = ModelSpec.sequence(ModelType.CNN1D, new SequenceSpec(4096, 8, 64, 0), List.of(4),
        Objective.BINARY, 3);
    Conv1dNetwork network = new Conv1dNetwork(spec, 4096 * 8, DenseKernel.scalar());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> network.inputBuffer(1024));
    assertTrue(e.getMessage().contains("a batch of 1024 rows over a window of 4096 steps of 8 channels, kernel"
        + " size 64 and 8 filters"), e.getMessage());
  }

  @Test
  void nativeTrainingOfACnn1d_reducesTheLoss_andPredictorScoresAsDl4jDoes() {
    ModelSpec spec = ModelSpec.sequence(ModelType.CNN1D, new SequenceSpec(10, 8, 3, 0), List.of(8),
        Objective.BINARY, 3);
    assertTrue(spec.nativeKernel());
    EncodedData data = peaks(600, 10, 2, 1);
    float[] start = ModelFactory.initialParameters(spec, data.features());
    LocalTrainer trainer = FederatedGermanCreditTest.seededTrainer(spec, data, 5);
    float[] trained = trainer.train(start, 8, TrainingOptions.standard()).parameters();

    float[] scores = Predictor.predict(spec, trained, data);
    MultiLayerNetwork net = Dl4jNetworks.network(spec, data.features(), trained);
    float[] reference = net.output(Nd4j.createFromArray(data.x()).reshape(data.rows(), 2, 10)).toFloatVector();
    assertRelativelyClose(reference, scores, 1e-5);
    double before = meanLoss(Predictor.predict(spec, start, data), data.y());
    double after = meanLoss(scores, data.y());
    assertTrue(after < 0.6 * before, "mean loss " + before + " before, " + after + " after training");
  }

  @Test
  void clippedGradientSumOfTheNativeEngine_equalsTheDl4jEnginesPerExampleClipping() {
    ModelSpec spec = ModelSpec.sequence(ModelType.CNN1D, new SequenceSpec(10, 16, 3, 0), List.of(16),
        Objective.BINARY, 3);
    EncodedData data = peaks(40, 10, 2, 2);
    float[] parameters = ModelFactory.initialParameters(spec, data.features());
    for (double clip : new double[] {1e6, 0.05}) {
      // sampling rate 1: every row, no random draws, so both engines sum the same examples
      LocalTrainer.GradientSum nativeSum = FederatedGermanCreditTest.seededTrainer(spec, data, 1)
          .clippedGradientSum(parameters, 1.0, clip);
      LocalTrainer.GradientSum dl4jSum = FederatedGermanCreditTest.seededTrainer(spec, data, 1,
          TrainingEngine.DL4J).clippedGradientSum(parameters, 1.0, clip);
      assertEquals(data.rows(), nativeSum.examples());
      assertRelativelyClose(dl4jSum.sum(), nativeSum.sum(), 3e-5);
      assertEquals(dl4jSum.meanLoss(), nativeSum.meanLoss(), 1e-5);
    }
  }
}
