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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A native {@link RecurrentNetwork}'s passes against DL4J's layer of the same type with
 * {@code LastTimeStep} and the same head, built from the same spec and loaded with the same
 * parameters: batch gradients, loss, outputs, and for DP-SGD the per-example gradient norms and the
 * clipped sum, brute-forced one example at a time through DL4J; then whole training runs, plain and
 * DP-SGD, on the native and DL4J engines. On both kernels, with ReLU, tanh and sigmoid heads,
 * binary and regression outputs and dropout ({@link FixedDropout}'s mask), and on shapes that take
 * each per-example norm path (the Gram identity for short windows, the formed gradient for a long window of few
 * units). Each recurrent type's test class extends this one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RecurrentNetworkChecks {

  /** The model type under test. */
  abstract ModelType type();

  /** The native network of that type. */
  abstract RecurrentNetwork network(SequenceSpec sequence, int inputs, List<Integer> head,
      DenseKernel kernel);

  /** The native network of {@code spec}: its head's activation, objective and dropout. */
  abstract RecurrentNetwork network(ModelSpec spec, int inputs, DenseKernel kernel);

  @BeforeAll
  void oneThread() {
    Dl4jEngineTest.oneNd4jThread();
  }

  /** One kernel on one shape, with its rows, labels and (perturbed) initial parameters. */
  final class Fixture {
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
      this(name, kernel, channels, window, units, head, rows, HiddenActivation.RELU,
          Objective.BINARY, 0);
    }

    Fixture(String name, DenseKernel kernel, int channels, int window, int units, int head,
        int rows, HiddenActivation activation, Objective objective, double dropout) {
      this.name = name + (activation == HiddenActivation.RELU ? "" : ", " + activation.wireName())
          + (objective == Objective.BINARY ? "" : ", " + objective.wireName())
          + (dropout == 0 ? "" : ", dropout " + dropout);
      this.kernel = kernel;
      this.spec = ModelSpec.sequence(type(), new SequenceSpec(window, units, 0, 0), List.of(head),
          objective, 7L).withActivation(activation, dropout);
      this.inputs = channels * window;
      this.rows = rows;
      SplittableRandom random = new SplittableRandom(42);
      x = new float[rows * inputs];
      y = new float[rows];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) random.nextGaussian();
      }
      for (int r = 0; r < rows; r++) {
        y[r] = objective == Objective.REGRESSION ? (float) random.nextGaussian() : r % 3 == 0 ? 1f : 0f;
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

    RecurrentNetwork loaded(int count, int firstRow) {
      RecurrentNetwork network = network(spec, inputs, kernel);
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
          (firstRow + count) * inputs)).reshape(count, inputs / window(), window());
    }

    int window() {
      return spec.sequence().orElseThrow().window();
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

  Stream<Fixture> fixtures() {
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
              16, 16, 37),
          // the other heads: tanh and sigmoid layers, the regression output, dropout on the
          // sequence layer's output and the head's
          new Fixture(name + " 3 channels x 5 steps, 4 units, head 6, 9 rows", kernel, 3, 5, 4, 6,
              9, HiddenActivation.TANH, Objective.REGRESSION, 0),
          new Fixture(name + " 2 channels x 10 steps, 16 units, head 16, 37 rows", kernel, 2, 10,
              16, 16, 37, HiddenActivation.SIGMOID, Objective.BINARY, 0),
          new Fixture(name + " 2 channels x 10 steps, 16 units, head 16, 37 rows", kernel, 2, 10,
              16, 16, 37, HiddenActivation.RELU, Objective.REGRESSION, 0.2),
          new Fixture(name + " 3 channels x 5 steps, 4 units, head 6, 9 rows", kernel, 3, 5, 4, 6,
              9, HiddenActivation.TANH, Objective.BINARY, 0.5));
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
    RecurrentNetwork network = f.loaded(f.rows, 0);
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
    RecurrentNetwork network = f.loaded(f.rows, 0);
    network.forward(f.params, f.rows);
    float[] scores = NativeNetworkChecks.scores(f.spec, network, f.rows);
    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    float[] reference = net.output(f.features(0, f.rows)).toFloatVector();
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

  @Test
  void aBatchWhoseTimeStepsWouldOverflowTheBuffers_isRefusedNamingTheBatch() {
    RecurrentNetwork network = network(new SequenceSpec(4096, 1024, 0, 0), 4096, List.of(4),
        DenseKernel.scalar());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> network.inputBuffer(512));
    assertTrue(e.getMessage().contains("a batch of 512 rows over a window of 4096 steps of 1"
        + " channels and 1024 " + network.layerName() + " units"), e.getMessage());
  }

  @Test
  void rowsThatAreNotWholeChannelsOverTheWindow_areRefusedNamingBoth() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> network(new SequenceSpec(8, 4, 0, 0), 12, List.of(4), DenseKernel.scalar()));
    assertTrue(e.getMessage().contains("12 features, which is not a whole number of channels over"
        + " a window of 8"), e.getMessage());
  }

  @Test
  void parametersOfAnotherShape_areRefusedNamingBothCounts() {
    ModelSpec spec = learnableSpec();
    RecurrentNetwork network = network(spec.sequence().orElseThrow(), 16, spec.hiddenLayers(),
        DenseKernel.scalar());
    int expected = ParameterLayout.of(spec, 16).parameterCount();
    assertEquals(expected, network.parameterCount());
    network.inputBuffer(2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> network.forward(new float[expected - 1], 2));
    assertEquals("expected " + expected + " parameters, got " + (expected - 1), e.getMessage());
  }

  /** Rows of 2 channels over 8 steps whose label is whether channel 0 ends above its start. */
  static EncodedData learnableRows(int rows, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int window = 8;
    float[] x = new float[rows * 2 * window];
    float[] y = new float[rows];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < 2 * window; i++) {
        x[r * 2 * window + i] = (float) random.nextGaussian();
      }
      y[r] = x[r * 2 * window + window - 1] > x[r * 2 * window] ? 1f : 0f;
    }
    return new EncodedData(rows, 2 * window, x, y);
  }

  ModelSpec learnableSpec() {
    return ModelSpec.sequence(type(), new SequenceSpec(8, 6, 0, 0), List.of(5),
        Objective.BINARY, 3L).withBatchSize(16).withL2(1e-3).withLearningRate(1e-2);
  }

  @Test
  void nativeTrainingEqualsDl4jTraining_overSeveralStepsWithL2AndAPartialLastBatch() {
    ModelSpec spec = learnableSpec();
    EncodedData rows = learnableRows(70, 5);
    float[] start = ModelFactory.initialParameters(spec, rows.features());

    TrainingResult nativeRun = FederatedGermanCreditTest.seededTrainer(spec, rows, 9,
        TrainingEngine.NATIVE).train(start, 2, TrainingOptions.standard());
    TrainingResult dl4jRun = FederatedGermanCreditTest.seededTrainer(spec, rows, 9,
        TrainingEngine.DL4J).train(start, 2, TrainingOptions.standard());

    // (not the mean losses: DL4J's score includes its L2 penalty)
    assertEquals(10, nativeRun.steps());
    Dl4jEngineTest.assertStepsClose(start, dl4jRun.parameters(), nativeRun.parameters());
  }

  @Test
  void dpSgdOnTheNativeEngine_matchesTheDl4jEngine_withTheSameSamplesAndNoNoise() {
    NativeNetworkChecks.dpSgdOnTheNativeEngineMatchesTheDl4jEngine(learnableSpec(), learnableRows(60, 6));
  }

  /**
   * A regression head (tanh layer, identity output on squared error): native training equals the DL4J
   * engine's step for step, plain and DP-SGD, and the native {@link Predictor} scores the trained
   * model as DL4J does; with dropout, native training still lowers the error and scoring ignores it.
   */
  @Test
  void aTanhRegressionHead_trainsAsOnDl4j_plainAndDpSgd_andScoresNatively() {
    NativeNetworkChecks.regressionHeadTrainsAsOnDl4j_andWithDropoutScoresAsDl4j(
        learnableSpec().withActivation(HiddenActivation.TANH, 0).withObjective(Objective.REGRESSION),
        regressionRows(learnableRows(70, 5)), regressionRows(learnableRows(512, 7)), 2);
  }

  /** The same rows with a real-valued label: channel 0's change over the window. */
  static EncodedData regressionRows(EncodedData rows) {
    int width = rows.features();
    float[] y = new float[rows.rows()];
    for (int r = 0; r < rows.rows(); r++) {
      y[r] = rows.x()[r * width + width / 2 - 1] - rows.x()[r * width];
    }
    return new EncodedData(rows.rows(), width, rows.x(), y);
  }

  @Test
  void nativeTrainingReducesTheLoss_andPredictorMatchesDl4jOnTheTrainedModel() {
    NativeNetworkChecks.nativeTrainingReducesTheLossAndPredictorMatchesDl4j(learnableSpec(),
        learnableRows(512, 7), 2);
  }
}
