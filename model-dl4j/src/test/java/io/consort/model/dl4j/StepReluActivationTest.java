package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link StepReluActivation} against ND4J's own ReLU ({@link ActivationReLU}): the same gradient
 * element by element, and the same scores, gradients and parameters when the engine's default
 * MLP (23-64-32-1, Adam, binary cross-entropy) trains with one or the other.
 */
class StepReluActivationTest {
  private static final int INPUTS = 23;
  private static final int BATCH = 128;
  /** float32 ops in a different order can differ in the last bits; nothing else may differ. */
  private static final double TOLERANCE = 1e-6;

  @Test
  void gradientIsEpsilonWherePreActivationIsPositiveAndZeroElsewhere_asNd4jReluBp() {
    INDArray z = Nd4j.createFromArray(new float[] {-2f, -0f, 0f, 1e-30f, 3f, Float.NaN}).reshape(2, 3);
    INDArray epsilon = Nd4j.createFromArray(new float[] {5f, -6f, 7f, -8f, 9f, 10f}).reshape(2, 3);
    INDArray ours = new StepReluActivation().backprop(z.dup(), epsilon.dup()).getFirst();
    INDArray nd4j = new ActivationReLU().backprop(z.dup(), epsilon.dup()).getFirst();
    assertArrayEquals(nd4j.ravel().toFloatVector(), ours.ravel().toFloatVector(), 0f);
    assertArrayEquals(new float[] {0f, 0f, 0f, -8f, 9f, 0f}, ours.ravel().toFloatVector(), 0f);
  }

  @Test
  void engineBuildsReluHiddenLayersWithStepRelu_andNd4jsOnRequest() {
    ModelSpec spec = ModelSpec.defaultMlp(1);
    assertInstanceOf(StepReluActivation.class, hiddenActivation(Dl4jNetworks.configuration(spec, INPUTS)));
    IActivation nd4j = WithProperty.get(Dl4jNetworks.ND4J_RELU_GRADIENT, "true",
        () -> hiddenActivation(Dl4jNetworks.configuration(spec, INPUTS)));
    assertEquals(ActivationReLU.class, nd4j.getClass());
    assertEquals(HiddenActivation.RELU, spec.activation());
  }

  @Test
  void defaultMlpTrainsAsWithNd4jsRelu_sameScoresGradientsAndParameters() {
    ModelSpec spec = ModelSpec.defaultMlp(1).withBatchSize(BATCH);
    float[] initial = ModelFactory.initialParameters(spec, INPUTS);
    MultiLayerNetwork ours = network(spec, initial, new StepReluActivation());
    MultiLayerNetwork nd4j = network(spec, initial, new ActivationReLU());
    SplittableRandom random = new SplittableRandom(11);
    for (int step = 0; step < 5; step++) {
      RandomBinaryBatch data = RandomBinaryBatch.next(random, BATCH, INPUTS, DataType.FLOAT);
      INDArray features = data.features();
      INDArray labels = data.labels();
      for (MultiLayerNetwork n : new MultiLayerNetwork[] {ours, nd4j}) {
        n.setInput(features);
        n.setLabels(labels);
        n.computeGradientAndScore();
      }
      assertEquals(nd4j.score(), ours.score(), TOLERANCE, "score, step " + step);
      assertArrayEquals(nd4j.gradient().gradient().toFloatVector(),
          ours.gradient().gradient().toFloatVector(), (float) TOLERANCE, "gradient, step " + step);
      ours.fit(features, labels);
      nd4j.fit(features, labels);
      assertArrayEquals(nd4j.params().toFloatVector(), ours.params().toFloatVector(),
          (float) TOLERANCE, "parameters after step " + step);
    }
  }

  private static MultiLayerNetwork network(ModelSpec spec, float[] initial, IActivation relu) {
    MultiLayerConfiguration conf = Dl4jNetworks.configuration(spec, INPUTS, DataType.FLOAT);
    conf.getConfs().forEach(c -> {
      if (c.getLayer() instanceof DenseLayer dense) {
        dense.setActivationFn(relu);
      }
    });
    Nd4jSettings.apply();
    MultiLayerNetwork network = new MultiLayerNetwork(conf);
    network.init(Nd4j.createFromArray(initial.clone()).reshape(1, initial.length), false);
    return network;
  }

  private static IActivation hiddenActivation(MultiLayerConfiguration conf) {
    return ((DenseLayer) conf.getConf(0).getLayer()).getActivationFn();
  }
}
