package io.consort.model.dl4j;

import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's {@link DenseLayer} (same configuration, parameters {@code W [nIn, nOut]} then {@code b},
 * same initialiser and flattened layout, same values) with a forward and backward pass that do less
 * native work (docs/BENCHMARKS.md, "Where a DL4J step's native time goes"):
 *
 * <ul>
 *   <li>{@code z = x W + b} is one {@code Nd4j.gemm} straight into a row-major ('c') workspace
 *       array. DL4J's {@code BaseLayer} calls {@code INDArray.mmuli}, which in ND4J 1.0.0-M2.1 writes
 *       a product into a temporary column-major array and then copies it, element by element, into
 *       the 'c' result.
 *   <li>With {@link StepReluActivation} (the engine's ReLU), backprop takes {@code step(a)} from the
 *       forward pass's activation {@code a = relu(z)} ({@code a > 0} exactly where {@code z > 0}, NaN
 *       included: both give 0) instead of recomputing {@code z} as DL4J does (a second product, bias
 *       add and copy per layer and step). That activation is the next layer's input, which DL4J
 *       keeps in its activations workspace through backprop; it is used only if it is the array this
 *       layer produced in a training forward pass on the same input and is still in scope, else
 *       {@code z} is recomputed. It is only read: the output layer's score is computed from it after
 *       backprop. If the next layer applies dropout in place to it, the gradient is unchanged, since
 *       the incoming gradient is 0 wherever dropout zeroed the activation.
 * </ul>
 *
 * Weight noise and layer normalisation are not supported (the engine configures neither).
 */
public final class RowMajorDenseLayer extends DenseLayer {
  /** For DL4J's JSON (de)serialisation. */
  public RowMajorDenseLayer() {
    setHasBias(true);
    setHasLayerNorm(false);
    setGainInit(1.0); // DenseLayer.Builder's default (a layer-norm parameter, unused here)
  }

  /**
   * A dense layer with {@code nIn} inputs, {@code nOut} outputs, {@code activation} and, if
   * {@code keepProbability < 1}, DL4J's dropout on its input; everything else from the network's
   * global configuration, as for a {@code DenseLayer.Builder} given the same.
   */
  public RowMajorDenseLayer(int nIn, int nOut, IActivation activation, double keepProbability) {
    this();
    if (nIn <= 0 || nOut <= 0) {
      throw new IllegalArgumentException("nIn and nOut must be positive, got " + nIn + " and " + nOut);
    }
    if (!(keepProbability > 0 && keepProbability <= 1)) {
      throw new IllegalArgumentException("keepProbability must be in (0, 1], got " + keepProbability);
    }
    setNIn(nIn);
    setNOut(nOut);
    setActivationFn(activation);
    if (keepProbability < 1) {
      setIDropout(new Dropout(keepProbability));
    }
  }

  @Override
  public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
      INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
    LayerValidation.assertNInNOutSet("RowMajorDenseLayer", getLayerName(), layerIndex, getNIn(), getNOut());
    if (getWeightNoise() != null || hasLayerNorm() || !hasBias()) {
      throw new IllegalArgumentException("RowMajorDenseLayer (layer " + layerIndex
          + ") supports neither weight noise nor layer normalisation and needs a bias");
    }
    Implementation layer = new Implementation(conf, networkDataType);
    layer.setListeners(listeners);
    layer.setIndex(layerIndex);
    layer.setParamsViewArray(layerParamsView);
    Map<String, INDArray> paramTable = initializer().init(conf, layerParamsView, initializeParams);
    layer.setParamTable(paramTable);
    layer.setConf(conf);
    return layer;
  }

  /** The layer itself. */
  static final class Implementation extends org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer {
    /** The input and activation of the last training forward pass, until its backprop uses them. */
    private INDArray forwardInput;
    private INDArray forwardActivation;

    Implementation(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
      forwardInput = null;
      forwardActivation = null;
      INDArray a = layerConf().getActivationFn().getActivation(preOutputRowMajor(training, workspaceMgr),
          training);
      if (maskArray != null) {
        applyMask(a);
      }
      if (training && maskArray == null && layerConf().getActivationFn() instanceof StepReluActivation) {
        forwardInput = input;
        forwardActivation = a;
      }
      return a;
    }

    @Override
    protected INDArray preOutput(boolean training, LayerWorkspaceMgr workspaceMgr) {
      return preOutputRowMajor(training, workspaceMgr);
    }

    @Override
    protected Pair<INDArray, INDArray> preOutputWithPreNorm(boolean training, boolean forBackprop,
        LayerWorkspaceMgr workspaceMgr) {
      INDArray z = preOutputRowMajor(training, workspaceMgr);
      return new Pair<>(z, z);
    }

    private INDArray preOutputRowMajor(boolean training, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(false);
      applyDropOutIfNecessary(training, workspaceMgr);
      INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, training, workspaceMgr);
      INDArray b = getParamWithNoise(DefaultParamInitializer.BIAS_KEY, training, workspaceMgr);
      if (input.rank() != 2 || input.columns() != w.rows()) {
        throw new DL4JInvalidInputException("RowMajorDenseLayer " + layerId() + " expects input [batch, "
            + w.rows() + "], got " + Arrays.toString(input.shape()));
      }
      INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, w.dataType(),
          new long[] {input.size(0), w.size(1)}, 'c');
      Nd4j.gemm(input.castTo(w.dataType()), w, z, false, false, 1.0, 0.0);
      z.addiRowVector(b);
      if (maskArray != null) {
        applyMask(z);
      }
      return z;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(true);
      INDArray delta;
      if (forwardActivation != null && forwardInput == input && forwardActivation.isInScope()) {
        // dL/dz = step(z) * epsilon = step(a) * epsilon, into a new array: a stays the next layer's input
        delta = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, epsilon.dataType(),
            forwardActivation.shape(), 'c');
        Nd4j.getExecutioner().exec(new Step(forwardActivation, delta, 0.0));
        delta.muli(epsilon);
      } else {
        delta = layerConf().getActivationFn().backprop(preOutputRowMajor(true, workspaceMgr), epsilon).getFirst();
      }
      forwardInput = null;
      forwardActivation = null;
      if (maskArray != null) {
        applyMask(delta);
      }
      // the rest as DL4J's BaseLayer.backpropGradient (1.0.0-M2.1), gradients into DL4J's views
      Gradient gradient = new DefaultGradient();
      INDArray biasGradient = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
      delta.sum(biasGradient, 0);
      gradient.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGradient);
      INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
      INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
          new long[] {w.size(0), delta.size(0)}, 'f');
      epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
      INDArray weightGradient = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
      Nd4j.gemm(input.castTo(weightGradient.dataType()), delta, weightGradient, true, false, 1.0, 0.0);
      gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGradient);
      weightNoiseParams.clear();
      return new Pair<>(gradient, backpropDropOutIfPresent(epsilonNext));
    }
  }
}
