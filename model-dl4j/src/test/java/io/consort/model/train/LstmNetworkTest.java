package io.consort.model.train;

import static io.consort.model.train.NativeNetworkChecks.assertRelativelyClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
    NativeNetworkChecks.batchGradientEqualsDl4jGradient(f::loaded, f::dl4jGradient, f.params,
        f.rows);
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
    float[] scores = NativeNetworkChecks.scores(network, f.rows);
    MultiLayerNetwork net = Dl4jNetworks.network(f.spec, f.inputs, f.params);
    float[] reference = net.output(f.features(0, f.rows)).toFloatVector();
    assertRelativelyClose(reference, scores, 1e-6);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void perExampleNormsAndClippedSumEqualBruteForce_whenSomeExamplesExceedTheClipNorm(Fixture f) {
    NativeNetworkChecks.perExampleNormsAndClippedSumEqualBruteForce(f::loaded, f::dl4jGradient,
        f.params, f.rows);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void everyClippedContributionHasNormAtMostC_whenTheClipBindsOnEveryRow(Fixture f) {
    NativeNetworkChecks.everyClippedContributionHasNormAtMostC(f::loaded, f.params, f.rows);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void buffersSizedForALargeBatch_giveTheSameGradient_forASmallerOne(Fixture f) {
    NativeNetworkChecks.buffersSizedForALargeBatchGiveTheSameGradientForASmallerOne(f::loaded,
        f.params, f.rows);
  }

  @Test
  void aBatchWhoseTimeStepsWouldOverflowTheBuffers_isRefusedNamingTheBatch() {
    LstmNetwork network = new LstmNetwork(new SequenceSpec(4096, 1024, 0, 0), 4096,
        List.of(4), DenseKernel.scalar());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> network.inputBuffer(512));
    assertTrue(e.getMessage().contains("a batch of 512 rows over a window of 4096 steps"),
        e.getMessage());
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

  static ModelSpec learnableSpec() {
    return ModelSpec.sequence(ModelType.LSTM, new SequenceSpec(8, 6, 0, 0), List.of(5),
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
    ModelSpec spec = learnableSpec();
    EncodedData rows = learnableRows(60, 6);
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

  @Test
  void nativeTrainingReducesTheLoss_andPredictorMatchesDl4jOnTheTrainedModel() {
    ModelSpec spec = learnableSpec();
    EncodedData rows = learnableRows(512, 7);
    LocalTrainer trainer = FederatedGermanCreditTest.seededTrainer(spec, rows, 11,
        TrainingEngine.NATIVE);
    float[] start = ModelFactory.initialParameters(spec, rows.features());
    TrainingResult first = trainer.train(start, 1, TrainingOptions.standard());
    TrainingResult later = trainer.train(first.parameters(), 15, TrainingOptions.standard());
    assertTrue(later.meanLoss() < 0.8 * first.meanLoss(),
        "first epoch " + first.meanLoss() + ", next 15 " + later.meanLoss());

    float[] predicted = Predictor.predict(spec, later.parameters(), rows);
    float[] reference = Dl4jNetworks.network(spec, rows.features(), later.parameters())
        .output(Nd4j.createFromArray(rows.x()).reshape(rows.rows(), 2, 8)).toFloatVector();
    assertRelativelyClose(reference, predicted, 1e-5);
  }
}
