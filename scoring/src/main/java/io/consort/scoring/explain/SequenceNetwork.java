package io.consort.scoring.explain;

import io.consort.model.features.EncodedData;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;

/**
 * A sequence model (LSTM, SimpleRnn, 1-D CNN, self-attention, each with a dense head) computed as the
 * banks' evaluation computed it, through {@link Predictor#logits}: by the native engine when it
 * computes the model ({@link ModelSpec#nativeKernel()}: every LSTM, SimpleRnn, 1-D CNN and attention
 * model, whatever its head and whichever engine trained it), by the DL4J engine otherwise, which {@link Predictor} finds (consort-model-dl4j) with
 * {@link java.util.ServiceLoader}. This module's own code touches no DL4J class: DL4J and its native
 * libraries load only in a process that scores a model the native engine does not compute, and only
 * if consort-model-dl4j is on its class path ({@code consort score} has it); otherwise {@link #of}
 * refuses the model naming the missing module.
 *
 * <p>The logit is the output unit's pre-activation (on DL4J, the same network with an identity
 * output), not recovered from the rounded probability, so a saturated score keeps its logit. Each
 * call builds its own network, so one instance serves any number of threads.
 */
public final class SequenceNetwork implements ExplainableNetwork {
  private final ModelSpec spec;
  private final int inputs;
  private final float[] parameters;
  private final SequenceGradient gradient;

  private SequenceNetwork(ModelSpec spec, int inputs, float[] parameters) {
    this.spec = spec;
    this.inputs = inputs;
    this.parameters = parameters.clone();
    this.gradient = new SequenceGradient(spec, inputs, parameters);
  }

  /**
   * The network of a sequence model, checked to be computable here (one row of zeros is scored).
   *
   * @throws IllegalArgumentException when {@code spec} is not a sequence model, the parameters do not
   *     fit it, or it needs the DL4J engine and that is not on the class path
   */
  public static SequenceNetwork of(ModelSpec spec, int inputs, float[] parameters) {
    if (!spec.type().isSequence()) {
      throw new IllegalArgumentException("a " + spec.type().wireName() + " model is not a sequence model");
    }
    SequenceNetwork network = new SequenceNetwork(spec, inputs, parameters);
    try {
      network.logit(new float[inputs]);
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException("a " + spec.type().wireName() + " model is computed with DL4J, which this "
          + "process does not have: " + e.getMessage() + " (consort score has it)", e);
    }
    return network;
  }

  /** The engine that computes this network: native where it computes the model, DL4J otherwise. */
  public TrainingEngine engine() {
    return spec.nativeKernel() ? TrainingEngine.NATIVE : TrainingEngine.DL4J;
  }

  @Override
  public int inputs() {
    return inputs;
  }

  /**
   * The integral of the logit's input gradient along the straight path from {@code from} to {@code
   * to}, in double precision ({@link SequenceGradient}), by checked Gauss-Legendre quadrature on the
   * pieces where the gradient is smooth ({@link PathQuadrature}).
   *
   * @throws UnfaithfulExplanationException when the contributions do not add up to the logit difference within
   *     {@link PathQuadrature#COMPLETENESS_TOLERANCE} within {@link PathQuadrature#MAX_EVALUATIONS}
   *     gradients
   */
  @Override
  public InferenceNetwork.PathIntegral pathIntegral(float[] from, float[] to) {
    return PathQuadrature.integrate(gradient, from, to, PathQuadrature.MAX_EVALUATIONS);
  }

  /** The logit of one row in double precision, the function {@link #pathIntegral} integrates the gradient of. */
  public double logitInDouble(float[] row) {
    double[] x = new double[row.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = row[i];
    }
    return gradient.logit(x);
  }

  /** The logit's input gradient at {@code row}, in double precision (every channel at every time step). */
  public double[] inputGradient(float[] row) {
    double[] x = new double[row.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = row[i];
    }
    double[] g = new double[x.length];
    gradient.gradient(x, g);
    return g;
  }

  @Override
  public void logits(float[] x, int rows, float[] out) {
    float[] features = x.length == rows * inputs ? x : java.util.Arrays.copyOf(x, rows * inputs);
    float[] logits = Predictor.logits(spec, parameters, new EncodedData(rows, inputs, features, new float[rows]));
    System.arraycopy(logits, 0, out, 0, rows);
  }
}
