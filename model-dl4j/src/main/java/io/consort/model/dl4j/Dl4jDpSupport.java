package io.consort.model.dl4j;

import java.util.Set;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SelfAttentionLayer;
import org.deeplearning4j.nn.conf.layers.Subsampling1DLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;

/**
 * Which DL4J layers DP-SGD can clip per example. Clipping by microbatches of one
 * ({@link Dl4jPerExampleClipper}) is exact when one example's gradient depends on that example
 * alone and every parameter changes only through the (clipped, noised) gradient. Layers that break
 * this are refused before any bank trains: {@code BatchNormalization} normalises with the batch's
 * statistics and updates its running mean and variance from the data outside the gradient (so
 * outside the noise), and any layer not listed here is refused because it has not been checked.
 */
public final class Dl4jDpSupport {
  private static final Set<Class<? extends Layer>> CLIPPABLE = Set.of(DenseLayer.class, RowMajorDenseLayer.class,
      OutputLayer.class,
      LSTM.class, SimpleRnn.class, Convolution1DLayer.class, GlobalPoolingLayer.class, SelfAttentionLayer.class,
      DropoutLayer.class, ActivationLayer.class, Subsampling1DLayer.class);

  private Dl4jDpSupport() {}

  /**
   * @throws IllegalArgumentException naming the first layer (index and DL4J type) that DP-SGD cannot
   *     clip per example
   */
  public static void requireClippable(MultiLayerConfiguration configuration) {
    for (int i = 0; i < configuration.getConfs().size(); i++) {
      Layer layer = configuration.getConf(i).getLayer();
      Layer inner = layer;
      while (inner instanceof BaseWrapperLayer wrapper) {
        inner = wrapper.getUnderlying();
      }
      if (!CLIPPABLE.contains(inner.getClass())) {
        throw new IllegalArgumentException("layer " + i + (layer.getLayerName() == null ? "" : " '"
            + layer.getLayerName() + "'") + " (" + inner.getClass().getSimpleName() + ") cannot be clipped per "
            + "example under DP-SGD" + (inner.getClass().getSimpleName().equals("BatchNormalization")
            ? ": it normalises with the batch's statistics and updates its running mean and variance from "
            + "the data outside the gradient" : ": it is not one of the layers checked for per-example clipping "
            + "(Dense, Output, LSTM, SimpleRnn, Convolution1D, Subsampling1D, GlobalPooling, SelfAttention, "
            + "Dropout, Activation)"));
      }
    }
  }
}
