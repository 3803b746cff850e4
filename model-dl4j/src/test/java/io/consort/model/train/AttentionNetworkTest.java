package io.consort.model.train;

import static io.consort.model.train.NativeNetworkChecks.assertRelativelyClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
 * The native {@link AttentionNetwork} against DL4J's {@code SelfAttentionLayer} with global average
 * pooling and the same head, built from the same spec and loaded with the same parameters: outputs,
 * loss, batch gradients, and for DP-SGD the per-example norms and clipped sum brute-forced one
 * example at a time through DL4J; then whole training runs, plain and DP-SGD, on both engines. On
 * both kernels and on shapes with one head and several, head sizes 1 to 8, and with every head
 * (tanh and sigmoid layers, regression, dropout under {@link FixedDropout}'s mask).
 *
 * <p>DL4J 1.0.0-M2.1 returns twice the true gradient for the attention layer's parameters (checked
 * against finite differences in consort-model-dl4j's {@code SequenceModelsTest}); the reference
 * gradient here is DL4J's with those halved, as the DL4J engine's DP-SGD clipper takes it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AttentionNetworkTest {

  @BeforeAll
  void oneThread() {
    Dl4jEngineTest.oneNd4jThread();
  }

  /** One kernel on one shape, with its rows, labels and (perturbed) initial parameters. */
  static final class Fixture {
    final String name;
    final DenseKernel kernel;
    final ModelSpec spec;
    final int inputs;
    final int rows;
    final float[] x;
    final float[] y;
    final float[] params;

    Fixture(String name, DenseKernel kernel, int channels, int window, int units, int heads,
        int head, int rows) {
      this(name, kernel, channels, window, units, heads, head, rows, HiddenActivation.RELU,
          Objective.BINARY, 0);
    }

    Fixture(String name, DenseKernel kernel, int channels, int window, int units, int heads,
        int head, int rows, HiddenActivation activation, Objective objective, double dropout) {
      this.name = name
          + (activation == HiddenActivation.RELU ? "" : ", " + activation.wireName())
          + (objective == Objective.BINARY ? "" : ", " + objective.wireName())
          + (dropout == 0 ? "" : ", dropout " + dropout);
      this.kernel = kernel;
      this.spec = ModelSpec.sequence(ModelType.ATTENTION, new SequenceSpec(window, units, 0, heads),
          List.of(head), objective, 7L).withActivation(activation, dropout);
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
      // non-zero head biases so that every bias gradient path matters; small enough that no
      // output saturates past DL4J's cross-entropy clip (1e-5), where its gradient is zero
      for (int i = 0; i < params.length; i++) {
        params[i] += (float) (0.2 * random.nextGaussian());
      }
    }

    @Override
    public String toString() {
      return name;
    }

    AttentionNetwork loaded(int count, int firstRow) {
      AttentionNetwork network = new AttentionNetwork(spec, inputs, kernel);
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
      int window = spec.sequence().orElseThrow().window();
      return Nd4j.createFromArray(Arrays.copyOfRange(x, firstRow * inputs,
          (firstRow + count) * inputs)).reshape(count, inputs / window, window);
    }

    /**
     * DL4J's gradient summed over {@code count} rows, its attention part halved to the true one;
     * with dropout, under {@link FixedDropout}'s mask.
     */
    float[] dl4jGradient(int firstRow, int count) {
      float[] m = FixedDropout.multipliers(spec, inputs);
      MultiLayerNetwork net = Dl4jNetworks.network(spec.withActivation(spec.activation(), 0), inputs,
          FixedDropout.times(params, m));
      net.setInput(features(firstRow, count));
      net.setLabels(Nd4j.createFromArray(Arrays.copyOfRange(y, firstRow, firstRow + count))
          .reshape(count, 1));
      net.computeGradientAndScore();
      float[] gradient = FixedDropout.times(net.gradient().gradient().toFloatVector(), m);
      for (int i = 0; i < net.getLayer(0).numParams(); i++) {
        gradient[i] *= 0.5f;
      }
      return gradient;
    }
  }

  Stream<Fixture> fixtures() {
    DenseKernel vector = DenseKernel.vectorOrNull();
    assertNotNull(vector, "the Vector API kernel must be available: the build runs this module's"
        + " tests with --add-modules jdk.incubator.vector");
    return Stream.of(DenseKernel.scalar(), vector).flatMap(kernel -> {
      String name = kernel == vector ? "vector" : "scalar";
      return Stream.of(
          new Fixture(name + " 3 channels x 5 steps, 4 units, 1 head, head 6, 9 rows", kernel, 3, 5,
              4, 1, 6, 9),
          new Fixture(name + " 1 channel x 12 steps, 4 units, 4 heads of 1, head 3, 7 rows", kernel,
              1, 12, 4, 4, 3, 7),
          new Fixture(name + " 5 channels x 7 steps, 12 units, 3 heads of 4, head 5, 11 rows",
              kernel, 5, 7, 12, 3, 5, 11),
          // the benchmark's and market experiment's shape
          new Fixture(name + " 2 channels x 10 steps, 16 units, 2 heads of 8, head 16, 37 rows",
              kernel, 2, 10, 16, 2, 16, 37),
          // the other heads: tanh, sigmoid, regression, dropout (on the pooled output and the head)
          new Fixture(name + " 2 channels x 10 steps, 16 units, 2 heads of 8, head 16, 37 rows",
              kernel, 2, 10, 16, 2, 16, 37, HiddenActivation.TANH, Objective.REGRESSION, 0.2),
          new Fixture(name + " 3 channels x 5 steps, 4 units, 2 heads of 2, head 6, 9 rows", kernel,
              3, 5, 4, 2, 6, 9, HiddenActivation.SIGMOID, Objective.BINARY, 0.5),
          new Fixture(name + " 5 channels x 7 steps, 12 units, 3 heads of 4, head 4, 11 rows",
              kernel, 5, 7, 12, 3, 4, 11, HiddenActivation.RELU, Objective.REGRESSION, 0.3));
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void predictionsEqualDl4jOutput(Fixture f) {
    AttentionNetwork network = f.loaded(f.rows, 0);
    network.forward(f.params, f.rows);
    float[] scores = NativeNetworkChecks.scores(f.spec, network, f.rows);
    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    float[] reference = net.output(f.features(0, f.rows)).toFloatVector();
    assertRelativelyClose(reference, scores, 1e-6);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void lossEqualsDl4jScore_whenSummedOverTheBatch(Fixture f) {
    AttentionNetwork network = f.loaded(f.rows, 0);
    network.forward(f.params, f.rows);
    double loss = network.backward(f.params, f.rows, 0, new float[network.parameterCount()]);

    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    double score = net.score(new DataSet(f.features(0, f.rows),
        Nd4j.createFromArray(f.y).reshape(f.rows, 1)));
    assertEquals(score, loss / f.rows, 1e-5);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void batchGradientEqualsDl4jsTrueGradient_whenNotClipping(Fixture f) {
    NativeNetworkChecks.batchGradientEqualsDl4jGradient(f::training, f::dl4jGradient, f.params,
        f.rows);
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
  void dl4jsAttentionBlocksAreWqWkWvWo_withTheLayoutsSizes_andTheNetworkReadsThatManyParameters() {
    ModelSpec spec = learnableSpec();
    int inputs = 16;
    MultiLayerNetwork net = Dl4jNetworks.network(spec, inputs,
        ModelFactory.initialParameters(spec, inputs));
    var table = net.getLayer(0).paramTable();
    assertEquals(List.of("Wq", "Wk", "Wv", "Wo"), List.copyOf(table.keySet()));
    for (String projection : List.of("Wq", "Wk", "Wv")) {
      assertArrayEquals(new long[] {2, 3, 2}, table.get(projection).shape(), projection);
    }
    assertArrayEquals(new long[] {6, 6}, table.get("Wo").shape());
    NativeNetwork network = NativeNetwork.of(spec, inputs);
    assertEquals(net.numParams(), network.parameterCount());
    assertEquals(ParameterLayout.of(spec, inputs).parameterCount(), network.parameterCount());
  }

  @Test
  void aBatchWhoseAttentionWeightsWouldOverflowTheBuffers_isRefusedNamingTheBatch() {
    AttentionNetwork network = new AttentionNetwork(new SequenceSpec(4096, 8, 0, 8), 4096,
        List.of(4), DenseKernel.scalar());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> network.inputBuffer(512));
    assertTrue(e.getMessage().contains("a batch of 512 rows over a window of 4096 steps of 1"
        + " channels, 8 attention units and 8 heads"), e.getMessage());
  }

  @Test
  void parametersOfAnotherShape_areRefusedNamingBothCounts() {
    ModelSpec spec = learnableSpec();
    NativeNetwork network = NativeNetwork.of(spec, 16);
    int expected = network.parameterCount();
    network.inputBuffer(2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> network.forward(new float[expected - 1], 2));
    assertEquals("expected " + expected + " parameters, got " + (expected - 1), e.getMessage());
  }

  /**
   * Rows of 2 channels over 8 steps whose label is whether channel 0's sum exceeds channel 1's:
   * without positional encoding, attention then average pooling cannot tell the steps' order, so
   * the recurrent tests' rows (does channel 0 end above its start) are not learnable here.
   */
  static EncodedData learnableRows(int rows, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int window = 8;
    float[] x = new float[rows * 2 * window];
    float[] y = new float[rows];
    for (int r = 0; r < rows; r++) {
      double difference = 0;
      for (int i = 0; i < 2 * window; i++) {
        float v = (float) random.nextGaussian();
        x[r * 2 * window + i] = v;
        difference += i < window ? v : -v;
      }
      y[r] = difference > 0 ? 1f : 0f;
    }
    return new EncodedData(rows, 2 * window, x, y);
  }

  ModelSpec learnableSpec() {
    return ModelSpec.sequence(ModelType.ATTENTION, new SequenceSpec(8, 6, 0, 2), List.of(5),
        Objective.BINARY, 3L).withBatchSize(16).withLearningRate(1e-2);
  }

  /**
   * Without L2: DL4J's {@code fit} steps on twice the attention layer's true gradient, which Adam's
   * per-coordinate normalisation cancels (up to its epsilon) but an L2 term added to it would not.
   */
  @Test
  void nativeTrainingEqualsDl4jTraining_overSeveralStepsWithAPartialLastBatch() {
    ModelSpec spec = learnableSpec();
    EncodedData rows = learnableRows(70, 5);
    float[] start = ModelFactory.initialParameters(spec, rows.features());

    TrainingResult nativeRun = FederatedGermanCreditTest.seededTrainer(spec, rows, 9,
        TrainingEngine.NATIVE).train(start, 2, TrainingOptions.standard());
    TrainingResult dl4jRun = FederatedGermanCreditTest.seededTrainer(spec, rows, 9,
        TrainingEngine.DL4J).train(start, 2, TrainingOptions.standard());

    assertEquals(10, nativeRun.steps());
    assertEquals(dl4jRun.meanLoss(), nativeRun.meanLoss(), 1e-4);
    Dl4jEngineTest.assertStepsClose(start, dl4jRun.parameters(), nativeRun.parameters());
  }

  /** With L2, on DP-SGD's path, where both engines add it to the true gradient. */
  @Test
  void dpSgdOnTheNativeEngine_matchesTheDl4jEngine_withTheSameSamplesAndNoNoise() {
    NativeNetworkChecks.dpSgdOnTheNativeEngineMatchesTheDl4jEngine(learnableSpec().withL2(1e-3),
        learnableRows(60, 6));
  }

  /**
   * A regression head (tanh layer, identity output on squared error): native training equals the DL4J
   * engine's step for step, plain and DP-SGD, and with dropout native training lowers the error and
   * the native {@link Predictor} scores the trained model as DL4J does (scoring ignores dropout).
   */
  @Test
  void aTanhRegressionHead_trainsAsOnDl4j_plainAndDpSgd_andWithDropoutScoresAsDl4j() {
    NativeNetworkChecks.regressionHeadTrainsAsOnDl4j_andWithDropoutScoresAsDl4j(
        learnableSpec().withActivation(HiddenActivation.TANH, 0).withObjective(Objective.REGRESSION),
        regressionRows(learnableRows(70, 5)), regressionRows(learnableRows(512, 7)), 2);
  }

  /** The same rows with a real-valued label: channel 0's mean minus channel 1's (order-free, as attention needs). */
  static EncodedData regressionRows(EncodedData rows) {
    int width = rows.features();
    float[] y = new float[rows.rows()];
    for (int r = 0; r < rows.rows(); r++) {
      double difference = 0;
      for (int i = 0; i < width; i++) {
        difference += i < width / 2 ? rows.x()[r * width + i] : -rows.x()[r * width + i];
      }
      y[r] = (float) (difference / (width / 2));
    }
    return new EncodedData(rows.rows(), width, rows.x(), y);
  }

  @Test
  void nativeTrainingReducesTheLoss_andPredictorMatchesDl4jOnTheTrainedModel() {
    NativeNetworkChecks.nativeTrainingReducesTheLossAndPredictorMatchesDl4j(learnableSpec(),
        learnableRows(512, 7), 2);
  }
}
