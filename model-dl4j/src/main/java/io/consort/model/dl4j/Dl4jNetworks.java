package io.consort.model.dl4j;

import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
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
 * DL4J networks for a {@link ModelSpec}: the model's DL4J definition and a network loaded with any
 * parameter vector in Consort's layout (to train with the DL4J engine, or to export or inspect a
 * global model with DL4J tools). The initial global model itself is
 * {@link ModelFactory#initialParameters}, in plain Java, with this configuration's layout and
 * Xavier distribution.
 */
public final class Dl4jNetworks {
  static {
    JavaCppSettings.apply();
  }

  private Dl4jNetworks() {}

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

  /** A DL4J network holding a copy of {@code parameters}. */
  public static MultiLayerNetwork network(ModelSpec spec, int inputs, float[] parameters) {
    int expected = ModelFactory.parameterCount(spec, inputs);
    if (parameters.length != expected) {
      throw new IllegalArgumentException("the model has " + expected + " parameters, got "
          + parameters.length);
    }
    MultiLayerNetwork network = new MultiLayerNetwork(configuration(spec, inputs));
    network.init(Nd4j.createFromArray(parameters.clone()).reshape(1, parameters.length), false);
    return network;
  }
}
