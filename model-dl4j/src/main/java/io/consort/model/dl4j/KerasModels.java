package io.consort.model.dl4j;

import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.modelimport.keras.exceptions.InvalidKerasConfigurationException;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/**
 * A model brought from Keras: a Sequential model saved in Keras HDF5 format, imported with DL4J's
 * {@code KerasModelImport}, becomes a {@link ModelSpec} and its weights in Consort's layout, so it
 * trains through every path a job's model takes (DP-SGD, secure aggregation's parameter vector,
 * checkpoints, evaluation). Supported: {@code Dense} layers with relu, tanh or sigmoid activations
 * (one activation for all hidden layers) and one output unit, sigmoid (binary) or linear
 * (regression). Any other layer is refused naming it (Keras name and type), before any bank trains;
 * a {@code BatchNormalization} layer in particular, which DP-SGD cannot clip per example.
 */
public final class KerasModels {
  private KerasModels() {}

  /**
   * The imported model.
   *
   * @param spec the architecture, with the file's Adam learning rate when it has one
   * @param parameters its weights in {@link ModelFactory}'s layout for {@code spec}
   * @param inputs the input width
   */
  public record Imported(ModelSpec spec, int inputs, float[] parameters) {}

  /**
   * @param seed the spec's seed (Consort's initialisation seed; the imported weights replace it)
   * @throws IllegalArgumentException naming the layer that Consort cannot train, or the file's problem
   */
  public static Imported importSequential(Path file, long seed) throws IOException {
    MultiLayerNetwork network;
    try {
      network = KerasModelImport.importKerasSequentialModelAndWeights(file.toString(), false);
    } catch (UnsupportedKerasConfigurationException | InvalidKerasConfigurationException e) {
      throw new IllegalArgumentException("Keras model " + file.getFileName() + ": " + e.getMessage(), e);
    }
    List<Integer> hidden = new ArrayList<>();
    HiddenActivation activation = null;
    Objective objective = null;
    int inputs = -1;
    double learningRate = ModelSpec.DEFAULT_LEARNING_RATE;
    int count = network.getLayerWiseConfigurations().getConfs().size();
    for (int i = 0; i < count; i++) {
      Layer layer = network.getLayerWiseConfigurations().getConf(i).getLayer();
      String name = "layer " + i + " '" + layer.getLayerName() + "' (" + layer.getClass().getSimpleName() + ")";
      if (layer instanceof LossLayer && i == count - 1 && objective != null) {
        continue; // the loss the importer appends after the output unit carries no parameters
      }
      boolean last = i == count - 1 || (i == count - 2
          && network.getLayerWiseConfigurations().getConf(count - 1).getLayer() instanceof LossLayer);
      if (!(layer instanceof DenseLayer || layer instanceof OutputLayer)) {
        throw new IllegalArgumentException("Keras model " + file.getFileName() + ": " + name + " is not supported: "
            + "Consort trains Sequential models of Dense layers" + (layer.getClass().getSimpleName()
            .equals("BatchNormalization") ? "; BatchNormalization cannot be clipped per example under DP-SGD (it "
            + "normalises with the batch's statistics)" : ""));
      }
      FeedForwardLayer dense = (FeedForwardLayer) layer;
      if (!((BaseLayer) layer).getRegularization().isEmpty() || !((BaseLayer) layer).getRegularizationBias().isEmpty()) {
        throw new IllegalArgumentException("Keras model " + file.getFileName() + ": " + name + " has a regulariser; "
            + "set the job's l2 instead");
      }
      if (inputs < 0) {
        inputs = (int) dense.getNIn();
      }
      IActivation a = dense.getActivationFn();
      if (last) {
        if (dense.getNOut() != 1) {
          throw new IllegalArgumentException("Keras model " + file.getFileName() + ": " + name + " has "
              + dense.getNOut() + " outputs; Consort trains one output unit");
        }
        if (a instanceof ActivationSigmoid) {
          objective = Objective.BINARY;
        } else if (a instanceof ActivationIdentity) {
          objective = Objective.REGRESSION;
        } else {
          throw new IllegalArgumentException("Keras model " + file.getFileName() + ": " + name + " has activation "
              + a + "; the output must be sigmoid (binary) or linear (regression)");
        }
      } else {
        HiddenActivation h = a instanceof ActivationReLU ? HiddenActivation.RELU
            : a instanceof ActivationTanH ? HiddenActivation.TANH
            : a instanceof ActivationSigmoid ? HiddenActivation.SIGMOID : null;
        if (h == null || (activation != null && h != activation)) {
          throw new IllegalArgumentException("Keras model " + file.getFileName() + ": " + name + " has activation "
              + a + "; hidden layers must all be relu, all tanh or all sigmoid");
        }
        activation = h;
        hidden.add((int) dense.getNOut());
      }
      if (((BaseLayer) layer).getIUpdater() instanceof org.nd4j.linalg.learning.config.Adam adam && adam.getLearningRate() > 0) {
        learningRate = adam.getLearningRate();
      }
    }
    if (objective == null) {
      throw new IllegalArgumentException("Keras model " + file.getFileName() + " has no output layer");
    }
    ModelSpec spec = new ModelSpec(hidden.isEmpty() ? ModelType.LOGISTIC_REGRESSION : ModelType.MLP, hidden,
        ModelSpec.DEFAULT_BATCH_SIZE, learningRate, 0, seed,
        activation == null ? HiddenActivation.RELU : activation, 0, objective, Optional.empty());
    float[] parameters = network.params().toFloatVector();
    int expected = ModelFactory.parameterCount(spec, inputs);
    if (parameters.length != expected) {
      throw new IllegalArgumentException("Keras model " + file.getFileName() + " has " + parameters.length
          + " parameters where its Dense stack has " + expected);
    }
    return new Imported(spec, inputs, parameters);
  }
}
