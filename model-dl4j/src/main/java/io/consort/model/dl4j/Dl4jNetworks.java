package io.consort.model.dl4j;

import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * DL4J networks for a {@link ModelSpec}: the model's DL4J definition and a network loaded with any
 * parameter vector in Consort's layout (to train with the DL4J engine, or to export or inspect a
 * global model with DL4J tools). The initial global model itself is
 * {@link ModelFactory#initialParameters}, in plain Java, with this configuration's layout
 * ({@link io.consort.model.train.ParameterLayout}) and Xavier distribution.
 *
 * <p>Sequence models read a row of {@code channels x window} features as DL4J's recurrent input
 * {@code [batch, channels, window]} (NCW): an LSTM or SimpleRnn wrapped in {@code LastTimeStep}, a
 * {@code Convolution1DLayer} (same padding) then global max pooling, or a
 * {@code SelfAttentionLayer} then global average pooling; then the dense head and the output.
 */
public final class Dl4jNetworks {
  /** System property: {@code true} trains ReLU hidden layers with ND4J's own {@code relu_bp}. */
  static final String ND4J_RELU_GRADIENT = "consort.dl4j.nd4jReluGradient";
  /**
   * System property: {@code true} builds hidden layers as DL4J's own {@code DenseLayer} instead of
   * {@link RowMajorDenseLayer} (to compare the two, as docs/BENCHMARKS.md does).
   */
  static final String DL4J_DENSE_LAYER = "consort.dl4j.dl4jDenseLayer";

  static {
    JavaCppSettings.apply();
  }

  private Dl4jNetworks() {}

  /** The DL4J configuration, in float32. */
  public static MultiLayerConfiguration configuration(ModelSpec spec, int inputs) {
    return configuration(spec, inputs, DataType.FLOAT);
  }

  /** The DL4J configuration in {@code dataType} (double for gradient checks in tests). */
  static MultiLayerConfiguration configuration(ModelSpec spec, int inputs, DataType dataType) {
    if (inputs <= 0) {
      throw new IllegalArgumentException("inputs must be positive, got " + inputs);
    }
    NeuralNetConfiguration.ListBuilder layers = new NeuralNetConfiguration.Builder()
        .seed(spec.seed())
        .dataType(dataType)
        .weightInit(WeightInit.XAVIER)
        .updater(new Adam(spec.learningRate()))
        .l2(spec.l2())
        .list();
    int width = inputs;
    boolean afterHidden = false;
    if (spec.sequence().isPresent()) {
      SequenceSpec s = spec.sequence().get();
      int channels = s.channels(inputs);
      switch (spec.type()) {
        case LSTM -> layers.layer(new LastTimeStep(new LSTM.Builder().nIn(channels).nOut(s.units())
            .activation(Activation.TANH).build()));
        case SIMPLE_RNN -> layers.layer(new LastTimeStep(new SimpleRnn.Builder().nIn(channels)
            .nOut(s.units()).activation(Activation.TANH).build()));
        case CNN1D -> {
          layers.layer(new Convolution1DLayer.Builder().kernelSize(s.kernelSize()).nIn(channels)
              .nOut(s.units()).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build());
          layers.layer(new GlobalPoolingLayer.Builder(PoolingType.MAX).build());
        }
        case ATTENTION -> {
          layers.layer(new SelfAttentionLayer.Builder().nIn(channels).nOut(s.units()).nHeads(s.heads())
              .headSize(s.units() / s.heads()).projectInput(true).build());
          layers.layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build());
        }
        default -> throw new IllegalStateException("not a sequence model: " + spec.type());
      }
      layers.setInputType(InputType.recurrent(channels, s.window()));
      width = s.units();
      afterHidden = true;
    }
    for (int hidden : spec.hiddenLayers()) {
      // DL4J's argument is the probability of keeping
      double keep = afterHidden && spec.dropout() > 0 ? 1 - spec.dropout() : 1;
      if (Boolean.getBoolean(DL4J_DENSE_LAYER)) {
        DenseLayer.Builder dense = new DenseLayer.Builder().nIn(width).nOut(hidden)
            .activation(activation(spec.activation()));
        if (keep < 1) {
          dense.dropOut(keep);
        }
        layers.layer(dense.build());
      } else {
        layers.layer(new RowMajorDenseLayer(width, hidden, activation(spec.activation()), keep));
      }
      width = hidden;
      afterHidden = true;
    }
    boolean binary = spec.objective() == Objective.BINARY;
    OutputLayer.Builder output = new OutputLayer.Builder(binary ? LossFunctions.LossFunction.XENT
        : LossFunctions.LossFunction.MSE).nIn(width).nOut(1)
        .activation(binary ? Activation.SIGMOID : Activation.IDENTITY);
    if (afterHidden && spec.dropout() > 0) {
      output.dropOut(1 - spec.dropout());
    }
    layers.layer(output.build());
    return layers.build();
  }

  /**
   * A hidden layer's activation. ReLU is {@link StepReluActivation} (same values, a cheaper
   * gradient), or ND4J's own with the system property {@value #ND4J_RELU_GRADIENT} set to
   * {@code true} (to compare the two, as docs/BENCHMARKS.md does).
   */
  static IActivation activation(HiddenActivation a) {
    return switch (a) {
      case RELU -> Boolean.getBoolean(ND4J_RELU_GRADIENT) ? new ActivationReLU() : new StepReluActivation();
      case TANH -> Activation.TANH.getActivationFunction();
      case SIGMOID -> Activation.SIGMOID.getActivationFunction();
    };
  }

  /** The shape of a batch of {@code rows} inputs: {@code [rows, features]} or {@code [rows, channels, window]}. */
  static long[] inputShape(ModelSpec spec, int features, int rows) {
    if (spec.sequence().isPresent()) {
      SequenceSpec s = spec.sequence().get();
      return new long[] {rows, s.channels(features), s.window()};
    }
    return new long[] {rows, features};
  }

  /** A DL4J network holding a copy of {@code parameters}. */
  public static MultiLayerNetwork network(ModelSpec spec, int inputs, float[] parameters) {
    int expected = ModelFactory.parameterCount(spec, inputs);
    if (parameters.length != expected) {
      throw new IllegalArgumentException("the model has " + expected + " parameters, got "
          + parameters.length);
    }
    Nd4jSettings.apply();
    MultiLayerNetwork network = new MultiLayerNetwork(configuration(spec, inputs));
    network.init(Nd4j.createFromArray(parameters.clone()).reshape(1, parameters.length), false);
    return network;
  }

  /** Outputs of {@code network} for {@code rows} rows of {@code x} (row-major, {@code features} wide). */
  static float[] predict(ModelSpec spec, MultiLayerNetwork network, float[] x, int rows, int features) {
    float[] out = new float[rows];
    int chunk = 1024;
    for (int start = 0; start < rows; start += chunk) {
      int k = Math.min(chunk, rows - start);
      float[] part = java.util.Arrays.copyOfRange(x, start * features, (start + k) * features);
      INDArray input = Nd4j.createFromArray(part).reshape(inputShape(spec, features, k));
      float[] scores = network.output(input, false).toFloatVector();
      System.arraycopy(scores, 0, out, start, k);
    }
    return out;
  }
}
