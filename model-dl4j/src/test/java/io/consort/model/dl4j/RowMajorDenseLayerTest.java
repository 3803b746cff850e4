package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link RowMajorDenseLayer} against DL4J's own {@link DenseLayer} in the engine's networks built
 * from the same parameter vector: the same scores, flattened gradients and parameters over five
 * Adam steps (ReLU, where backprop reuses the forward activation; tanh, where it recomputes z;
 * dropout; one-row batches as DP-SGD's per-example clipping trains).
 */
class RowMajorDenseLayerTest {
  private static final int INPUTS = 23;
  /**
   * Bounds on {@code |expected - actual| / max(1, |expected|)}. The products are the same, but
   * OpenBLAS sums them in another order for a row-major output, so in float32 the forward pass
   * differs in the last bits, and a batch's summed weight gradient (128 rows, with cancellation) by
   * up to 1.2e-6 absolute on values of 0.17 to 1.5; scores, parameters after each Adam step and
   * outputs stay within 1e-6. In float64 everything holds to 1e-12, which is the test of equality.
   */
  private static final double FLOAT_TOLERANCE = 1e-6;
  private static final double FLOAT_GRADIENT_TOLERANCE = 1e-5;
  private static final double DOUBLE_TOLERANCE = 1e-12;

  @Test
  void engineBuildsHiddenLayersAsRowMajorDenseLayers_andDl4jsOnRequest() {
    ModelSpec spec = ModelSpec.defaultMlp(1);
    MultiLayerConfiguration ours = Dl4jNetworks.configuration(spec, INPUTS);
    MultiLayerConfiguration dl4j = withDl4jDenseLayer(() -> Dl4jNetworks.configuration(spec, INPUTS));
    assertEquals(ours.getConfs().size(), dl4j.getConfs().size());
    for (int i = 0; i < spec.hiddenLayers().size(); i++) {
      Layer layer = ours.getConf(i).getLayer();
      assertInstanceOf(RowMajorDenseLayer.class, layer);
      assertEquals(DenseLayer.class, dl4j.getConf(i).getLayer().getClass());
      // the same configuration apart from the class: weight init, updater, l2, activation, sizes
      assertEquals(dl4j.getConf(i).toJson().replace("org.deeplearning4j.nn.conf.layers.DenseLayer", "X"),
          ours.getConf(i).toJson().replace("io.consort.model.dl4j.RowMajorDenseLayer", "X"));
    }
    assertEquals(ours, MultiLayerConfiguration.fromJson(ours.toJson()));
  }

  @ParameterizedTest(name = "{0}, dropout {1}, batch {2}")
  @CsvSource({"RELU, 0, 128, FLOAT", "RELU, 0, 128, DOUBLE", "RELU, 0, 1, FLOAT", "TANH, 0, 128, FLOAT",
      "TANH, 0, 128, DOUBLE", "RELU, 0.25, 128, FLOAT", "RELU, 0.25, 128, DOUBLE", "SIGMOID, 0.25, 64, DOUBLE"})
  void trainsAsDl4jsDenseLayer_sameScoresGradientsAndParameters(HiddenActivation activation, double dropout,
      int batch, DataType dataType) {
    double tolerance = dataType == DataType.DOUBLE ? DOUBLE_TOLERANCE : FLOAT_TOLERANCE;
    double gradientTolerance = dataType == DataType.DOUBLE ? DOUBLE_TOLERANCE : FLOAT_GRADIENT_TOLERANCE;
    ModelSpec spec = ModelSpec.defaultMlp(1).withActivation(activation, dropout).withBatchSize(batch);
    float[] initial = ModelFactory.initialParameters(spec, INPUTS);
    MultiLayerNetwork ours = network(Dl4jNetworks.configuration(spec, INPUTS, dataType), initial);
    MultiLayerNetwork dl4j = network(withDl4jDenseLayer(
        () -> Dl4jNetworks.configuration(spec, INPUTS, dataType)), initial);
    assertInstanceOf(RowMajorDenseLayer.Implementation.class, ours.getLayer(0));
    assertEquals(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class, dl4j.getLayer(0).getClass());
    SplittableRandom random = new SplittableRandom(11);
    for (int step = 0; step < 5; step++) {
      RandomBinaryBatch data = RandomBinaryBatch.next(random, batch, INPUTS, dataType);
      INDArray features = data.features();
      INDArray labels = data.labels();
      for (MultiLayerNetwork n : new MultiLayerNetwork[] {ours, dl4j}) {
        Nd4j.getRandom().setSeed(1000 + step); // the same dropout masks in both
        n.setInput(features);
        n.setLabels(labels);
        n.computeGradientAndScore();
      }
      assertTrue(Double.isFinite(ours.score()));
      assertClose(new double[] {dl4j.score()}, new double[] {ours.score()}, tolerance, "score, step " + step);
      assertClose(dl4j.gradient().gradient().toDoubleVector(), ours.gradient().gradient().toDoubleVector(),
          gradientTolerance, "gradient, step " + step);
      for (MultiLayerNetwork n : new MultiLayerNetwork[] {ours, dl4j}) {
        Nd4j.getRandom().setSeed(2000 + step);
        n.fit(features, labels);
      }
      assertClose(dl4j.params().toDoubleVector(), ours.params().toDoubleVector(), tolerance,
          "parameters after step " + step);
      assertClose(dl4j.output(features, false).toDoubleVector(), ours.output(features, false).toDoubleVector(),
          tolerance, "outputs after step " + step);
    }
  }

  private static void assertClose(double[] expected, double[] actual, double tolerance, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      double bound = tolerance * Math.max(1, Math.abs(expected[i]));
      assertTrue(Math.abs(expected[i] - actual[i]) <= bound, what + ", index " + i + ": expected "
          + expected[i] + ", got " + actual[i]);
    }
  }

  private static MultiLayerNetwork network(MultiLayerConfiguration conf, float[] initial) {
    Nd4jSettings.apply();
    MultiLayerNetwork network = new MultiLayerNetwork(conf);
    network.init(Nd4j.createFromArray(initial.clone()).reshape(1, initial.length).castTo(conf.getDataType()),
        false);
    return network;
  }

  private static <T> T withDl4jDenseLayer(java.util.function.Supplier<T> build) {
    return WithProperty.get(Dl4jNetworks.DL4J_DENSE_LAYER, "true", build);
  }
}
