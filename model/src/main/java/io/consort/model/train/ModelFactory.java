package io.consort.model.train;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Builds DL4J networks for a {@link ModelSpec}: the model's definition, its deterministic initial
 * parameters, and a network loaded with any parameter vector (to export or inspect a global model
 * with DL4J tools).
 */
public final class ModelFactory {
  private ModelFactory() {}

  /** The DL4J configuration: Xavier-initialised dense ReLU layers, sigmoid output, XENT loss. */
  public static MultiLayerConfiguration configuration(ModelSpec spec, int inputs) {
    int[] sizes = spec.layerSizes(inputs);
    NeuralNetConfiguration.ListBuilder layers = new NeuralNetConfiguration.Builder()
        .seed(spec.seed())
        .dataType(DataType.FLOAT)
        .weightInit(WeightInit.XAVIER)
        .updater(new Adam(spec.learningRate()))
        .l2(spec.l2())
        .list();
    for (int l = 1; l < sizes.length - 1; l++) {
      layers.layer(new DenseLayer.Builder().nIn(sizes[l - 1]).nOut(sizes[l])
          .activation(Activation.RELU).build());
    }
    layers.layer(new OutputLayer.Builder(LossFunctions.LossFunction.XENT)
        .nIn(sizes[sizes.length - 2]).nOut(1).activation(Activation.SIGMOID).build());
    return layers.build();
  }

  /**
   * The initial global model: DL4J's Xavier initialisation from {@code spec.seed()}, so every call
   * with the same spec and input count returns the same vector.
   */
  public static float[] initialParameters(ModelSpec spec, int inputs) {
    MultiLayerNetwork network = new MultiLayerNetwork(configuration(spec, inputs));
    network.init();
    return network.params().toFloatVector();
  }

  public static int parameterCount(ModelSpec spec, int inputs) {
    int[] sizes = spec.layerSizes(inputs);
    long count = 0;
    for (int l = 1; l < sizes.length; l++) {
      count += (long) sizes[l - 1] * sizes[l] + sizes[l];
    }
    return Math.toIntExact(count);
  }

  /** A DL4J network holding a copy of {@code parameters}. */
  public static MultiLayerNetwork network(ModelSpec spec, int inputs, float[] parameters) {
    int expected = parameterCount(spec, inputs);
    if (parameters.length != expected) {
      throw new IllegalArgumentException("the model has " + expected + " parameters, got "
          + parameters.length);
    }
    MultiLayerNetwork network = new MultiLayerNetwork(configuration(spec, inputs));
    network.init(Nd4j.createFromArray(parameters.clone()).reshape(1, parameters.length), false);
    return network;
  }
}
