package io.consort.model.dl4j;

import io.consort.model.features.EncodedData;
import io.consort.model.train.ModelSpec;
import java.nio.FloatBuffer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DP-SGD's clipped gradient sum on a DL4J network, by microbatches of one (Abadi et al. 2016, the
 * exact method): each sampled example gets its own forward and backward pass, its full gradient
 * (every layer's, as DL4J's flattened gradient view in parameter order) is scaled to L2 norm at
 * most C and added to the sum (an example whose gradient norm is not finite, which only a hostile global
 * model produces, is dropped). Exact for every layer whose output for one example depends on that
 * example alone, which {@link Dl4jDpSupport} checks before any bank trains; the price is one
 * batch-of-one pass per example, measured in docs/BENCHMARKS.md.
 *
 * <p>DL4J 1.0.0-M2.1 returns twice the true gradient for the parameters of a
 * {@code SelfAttentionLayer} (a SameDiff layer; the other layers' gradients are exact): checked
 * against central finite differences in float64, the ratio is exactly 2 for every attention
 * parameter at batch sizes 1 and 3 ({@code SequenceModelsTest} fails if a DL4J upgrade changes
 * it). The clipper halves those gradients before taking the norm, so the clipped vector is the
 * example's true gradient. (DL4J's own {@code fit} trains with the doubled gradient, which Adam's
 * per-coordinate normalisation almost cancels.)
 *
 * <p>The gradient DL4J computes here is the data loss's only: DL4J applies L2 in its updater, which
 * this path does not use (the trainer adds L2, data-independent, after the noise). Not thread-safe.
 */
final class Dl4jPerExampleClipper {
  private final MultiLayerNetwork network;
  private final EncodedData data;
  private final INDArray features;
  private final INDArray labels;
  private final FloatBuffer featureMemory;
  private final FloatBuffer labelMemory;
  private final int parameterCount;
  /** Per parameter, the factor that turns DL4J's gradient into the true one (see above); null if all 1. */
  private final float[] correction;

  Dl4jPerExampleClipper(ModelSpec spec, MultiLayerNetwork network, EncodedData data) {
    Dl4jDpSupport.requireClippable(network.getLayerWiseConfigurations());
    this.network = network;
    this.data = data;
    features = Nd4j.create(DataType.FLOAT, Dl4jNetworks.inputShape(spec, data.features(), 1));
    labels = Nd4j.create(DataType.FLOAT, 1, 1);
    featureMemory = features.data().asNioFloat();
    labelMemory = labels.data().asNioFloat();
    parameterCount = (int) network.numParams();
    correction = gradientCorrection(network);
  }

  private static float[] gradientCorrection(MultiLayerNetwork network) {
    float[] factor = new float[(int) network.numParams()];
    java.util.Arrays.fill(factor, 1f);
    boolean any = false;
    int offset = 0;
    for (org.deeplearning4j.nn.api.Layer layer : network.getLayers()) {
      int count = (int) layer.numParams();
      if (layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.SelfAttentionLayer) {
        java.util.Arrays.fill(factor, offset, offset + count, 0.5f);
        any = true;
      }
      offset += count;
    }
    return any ? factor : null;
  }

  /** Copies {@code parameters} into the network's parameter view (no ND4J op). */
  void load(float[] parameters) {
    if (parameters.length != parameterCount) {
      throw new IllegalArgumentException("the model has " + parameterCount + " parameters, got "
          + parameters.length);
    }
    INDArray view = network.params();
    if (view.offset() != 0 || view.length() != parameterCount || view.dataType() != DataType.FLOAT) {
      network.setParams(Nd4j.createFromArray(parameters).reshape(1, parameters.length));
      return;
    }
    view.data().asNioFloat().put(0, parameters, 0, parameters.length);
  }

  double clippedGradientSum(int[] rows, int k, double clipNorm, float[] sum) {
    if (sum.length != parameterCount) {
      throw new IllegalArgumentException("sum has " + sum.length + " values for " + parameterCount
          + " parameters");
    }
    java.util.Arrays.fill(sum, 0f);
    int width = data.features();
    float[] x = data.x();
    float[] y = data.y();
    double lossSum = 0;
    float[] g = new float[parameterCount];
    for (int r = 0; r < k; r++) {
      int row = rows[r];
      featureMemory.put(0, x, row * width, width);
      labelMemory.put(0, y[row]);
      network.setInput(features);
      network.setLabels(labels);
      network.computeGradientAndScore();
      lossSum += network.score() - network.calcRegularizationScore(true);
      INDArray gradient = network.gradient().gradient();
      copy(gradient, g);
      if (correction != null) {
        for (int i = 0; i < parameterCount; i++) {
          g[i] *= correction[i];
        }
      }
      double squared = 0;
      for (float v : g) {
        squared += (double) v * v;
      }
      double norm = Math.sqrt(squared);
      if (!Double.isFinite(norm)) {
        // the coordinator's model made this example's gradient infinite or NaN: it is dropped, since a NaN
        // norm fails norm > C and would be added unclipped, its finite coordinates past the bound
        continue;
      }
      float scale = norm > clipNorm ? (float) (clipNorm / norm) : 1f;
      for (int i = 0; i < parameterCount; i++) {
        sum[i] += g[i] * scale;
      }
    }
    return lossSum;
  }

  private void copy(INDArray gradient, float[] into) {
    if (gradient.offset() == 0 && gradient.length() == into.length && gradient.dataType() == DataType.FLOAT
        && !gradient.isView()) {
      gradient.data().asNioFloat().get(0, into, 0, into.length);
    } else {
      float[] values = gradient.toFloatVector();
      System.arraycopy(values, 0, into, 0, into.length);
    }
  }
}
