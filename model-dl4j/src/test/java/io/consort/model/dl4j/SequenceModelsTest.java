package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.ParameterLayout;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.spi.TrainingLoop;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Every model family built with DL4J: the plain-Java parameter layout (which the coordinator uses
 * without DL4J) against DL4J's own parameter table, and DP-SGD's per-example clipping against an
 * independent reference: central finite differences of each example's loss on the same network in
 * float64, clipped and summed.
 */
class SequenceModelsTest {
  private static final int WINDOW = 6;
  private static final int CHANNELS = 2;

  @BeforeAll
  static void oneThread() {
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
  }

  static Stream<ModelSpec> models() {
    return Stream.of(
        seq(ModelType.LSTM, new SequenceSpec(WINDOW, 3, 0, 0), Objective.BINARY),
        seq(ModelType.SIMPLE_RNN, new SequenceSpec(WINDOW, 3, 0, 0), Objective.REGRESSION),
        seq(ModelType.CNN1D, new SequenceSpec(WINDOW, 3, 3, 0), Objective.BINARY),
        seq(ModelType.ATTENTION, new SequenceSpec(WINDOW, 4, 0, 2), Objective.BINARY),
        new ModelSpec(ModelType.MLP, List.of(5, 3), 8, 1e-2, 0, 3, HiddenActivation.TANH, 0, Objective.BINARY,
            Optional.empty()),
        new ModelSpec(ModelType.MLP, List.of(4), 8, 1e-2, 0, 3, HiddenActivation.SIGMOID, 0,
            Objective.REGRESSION, Optional.empty()),
        ModelSpec.logisticRegression(3));
  }

  private static ModelSpec seq(ModelType type, SequenceSpec s, Objective objective) {
    return ModelSpec.sequence(type, s, List.of(3), objective, 11);
  }

  /** Random rows of {@code CHANNELS x WINDOW} features with labels in {0, 1}. */
  static EncodedData rows(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int width = CHANNELS * WINDOW;
    float[] x = new float[n * width];
    float[] y = new float[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian());
    }
    for (int r = 0; r < n; r++) {
      y[r] = random.nextBoolean() ? 1f : 0f;
    }
    return new EncodedData(n, width, x, y);
  }

  @ParameterizedTest
  @MethodSource("models")
  void plainJavaLayout_matchesDl4jParameterTable(ModelSpec spec) {
    int inputs = CHANNELS * WINDOW;
    MultiLayerNetwork network = new MultiLayerNetwork(Dl4jNetworks.configuration(spec, inputs));
    network.init();
    Map<String, Long> dl4j = new LinkedHashMap<>();
    network.paramTable().forEach((name, values) -> dl4j.put(name, values.length()));
    Map<String, Long> ours = new LinkedHashMap<>();
    for (ParameterLayout.Block b : ParameterLayout.of(spec, inputs).blocks()) {
      ours.merge(b.name(), (long) b.size(), Long::sum);
    }
    assertEquals(new ArrayList<>(dl4j.entrySet()), new ArrayList<>(ours.entrySet()));
    assertEquals(network.numParams(), ModelFactory.parameterCount(spec, inputs));
  }

  @ParameterizedTest
  @MethodSource("models")
  void initialParameters_loadIntoDl4j_andGiveFiniteOutputsOfTheObjectiveRange(ModelSpec spec) {
    EncodedData data = rows(5, 1);
    float[] initial = ModelFactory.initialParameters(spec, data.features());
    float[] out = new Dl4jTrainingLoopProvider().predict(spec, initial, data);
    assertEquals(5, out.length);
    for (float v : out) {
      assertTrue(Float.isFinite(v));
      if (spec.objective() == Objective.BINARY) {
        assertTrue(v > 0 && v < 1, "a probability, got " + v);
      }
    }
  }

  @Test
  void lstmForgetGateBiases_startAtOne_asDl4jInitialisesThem() {
    ModelSpec spec = seq(ModelType.LSTM, new SequenceSpec(WINDOW, 3, 0, 0), Objective.BINARY);
    MultiLayerNetwork dl4j = new MultiLayerNetwork(Dl4jNetworks.configuration(spec, CHANNELS * WINDOW));
    dl4j.init();
    float[] dl4jBias = dl4j.getParam("0_b").toFloatVector();
    MultiLayerNetwork ours = Dl4jNetworks.network(spec, CHANNELS * WINDOW,
        ModelFactory.initialParameters(spec, CHANNELS * WINDOW));
    assertEquals(java.util.Arrays.toString(dl4jBias), java.util.Arrays.toString(ours.getParam("0_b").toFloatVector()));
  }

  /**
   * The clipped sum from the training loop equals the reference (finite differences in float64,
   * each example's gradient clipped in float64, summed) within float32 rounding, with a clip that
   * bites on some examples and not on others; and each example's clipped gradient has norm at most
   * C (the loop's sum over a single example is that example's clipped gradient).
   */
  @ParameterizedTest
  @MethodSource("models")
  void perExampleClipping_isExact_againstFiniteDifferences(ModelSpec spec) {
    assertClippingExact(spec, rows(6, 2));
  }

  /** Regression models (MSE loss, identity output) with real-valued targets of either sign, not only 0/1. */
  static Stream<ModelSpec> regressionModels() {
    return Stream.of(
        seq(ModelType.LSTM, new SequenceSpec(WINDOW, 3, 0, 0), Objective.REGRESSION),
        seq(ModelType.CNN1D, new SequenceSpec(WINDOW, 3, 3, 0), Objective.REGRESSION),
        seq(ModelType.ATTENTION, new SequenceSpec(WINDOW, 4, 0, 2), Objective.REGRESSION),
        new ModelSpec(ModelType.MLP, List.of(5, 3), 8, 1e-2, 0, 3, HiddenActivation.RELU, 0, Objective.REGRESSION,
            Optional.empty()));
  }

  /**
   * DP-SGD's per-example clip on an MSE network is exact as on a cross-entropy one: the same
   * finite-difference reference, with targets drawn from N(0, 2^2) so the errors (and the gradients'
   * scale) differ from the 0/1 case.
   */
  @ParameterizedTest
  @MethodSource("regressionModels")
  void perExampleClipping_isExact_forMseOnRealValuedTargets(ModelSpec spec) {
    EncodedData binary = rows(6, 3);
    SplittableRandom random = new SplittableRandom(5);
    float[] y = new float[binary.rows()];
    for (int r = 0; r < y.length; r++) {
      y[r] = (float) (2 * random.nextGaussian());
    }
    assertClippingExact(spec, new EncodedData(binary.rows(), binary.features(), binary.x(), y));
  }

  private static void assertClippingExact(ModelSpec spec, EncodedData data) {
    float[] parameters = ModelFactory.initialParameters(spec, data.features());
    MultiLayerNetwork reference = new MultiLayerNetwork(Dl4jNetworks.configuration(spec, data.features(),
        DataType.DOUBLE));
    reference.init(Nd4j.createFromArray(toDouble(parameters)).reshape(1, parameters.length), false);
    double[][] gradients = new double[data.rows()][];
    double[] norms = new double[data.rows()];
    for (int r = 0; r < data.rows(); r++) {
      gradients[r] = finiteDifferenceGradient(spec, reference, data, r);
      norms[r] = norm(gradients[r]);
    }
    double[] sorted = norms.clone();
    java.util.Arrays.sort(sorted);
    double clip = (sorted[2] + sorted[3]) / 2; // half the examples are clipped
    double[] expected = new double[parameters.length];
    for (int r = 0; r < data.rows(); r++) {
      double scale = Math.min(1, clip / norms[r]);
      for (int i = 0; i < expected.length; i++) {
        expected[i] += gradients[r][i] * scale;
      }
    }

    TrainingLoop loop = new Dl4jTrainingLoopProvider().open(spec, data);
    loop.load(parameters);
    float[] sum = new float[parameters.length];
    int[] all = {0, 1, 2, 3, 4, 5};
    loop.clippedGradientSum(all, data.rows(), clip, sum);
    double scale = norm(expected);
    for (int i = 0; i < sum.length; i++) {
      assertEquals(expected[i], sum[i], 2e-4 * scale, "parameter " + i);
    }
    for (int r = 0; r < data.rows(); r++) {
      loop.clippedGradientSum(new int[] {r}, 1, clip, sum);
      double clipped = norm(toDouble(sum));
      assertTrue(clipped <= clip * (1 + 1e-6), "example " + r + " has clipped norm " + clipped + " > " + clip);
      assertEquals(Math.min(norms[r], clip), clipped, 2e-4 * clip, "example " + r);
    }
  }

  @Test
  void batchNormalization_isRefusedForDpSgd_namingTheLayer() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
        .layer(new DenseLayer.Builder().nIn(4).nOut(3).build())
        .layer(new BatchNormalization.Builder().nOut(3).name("bn").build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.XENT).nIn(3).nOut(1).activation(org.nd4j.linalg.activations.Activation.SIGMOID).build())
        .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Dl4jDpSupport.requireClippable(conf));
    assertTrue(e.getMessage().contains("layer 1 'bn' (BatchNormalization) cannot be clipped per example"),
        e.getMessage());
  }

  @Test
  void aWindowThatDoesNotDivideTheRow_isRefused() {
    ModelSpec spec = seq(ModelType.LSTM, new SequenceSpec(5, 3, 0, 0), Objective.BINARY);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ParameterLayout.of(spec, CHANNELS * WINDOW));
    assertTrue(e.getMessage().contains("12 features") && e.getMessage().contains("window of 5"), e.getMessage());
  }

  private static double[] finiteDifferenceGradient(ModelSpec spec, MultiLayerNetwork network, EncodedData data,
      int row) {
    int width = data.features();
    double[] x = new double[width];
    for (int i = 0; i < width; i++) {
      x[i] = data.x()[row * width + i];
    }
    INDArray input = Nd4j.createFromArray(x).reshape(Dl4jNetworks.inputShape(spec, width, 1));
    INDArray label = Nd4j.createFromArray(new double[] {data.y()[row]}).reshape(1, 1);
    DataSet example = new DataSet(input, label);
    INDArray params = network.params();
    double[] gradient = new double[(int) params.length()];
    double h = 1e-6;
    for (int i = 0; i < gradient.length; i++) {
      double original = params.getDouble(i);
      params.putScalar(i, original + h);
      double up = network.score(example, false);
      params.putScalar(i, original - h);
      double down = network.score(example, false);
      params.putScalar(i, original);
      gradient[i] = (up - down) / (2 * h);
    }
    return gradient;
  }

  private static double[] toDouble(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
