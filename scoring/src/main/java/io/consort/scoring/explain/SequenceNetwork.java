package io.consort.scoring.explain;

import io.consort.model.features.EncodedData;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Objective;
import io.consort.model.train.Predictor;

/**
 * A sequence model (LSTM, SimpleRnn, 1-D CNN, self-attention, each with a dense head) computed by
 * the DL4J engine, as the banks' evaluation computed it: through {@link Predictor}, which finds the
 * {@code dl4j} engine (consort-model-dl4j) with {@link java.util.ServiceLoader}. This module's own
 * code touches no DL4J class: DL4J and its native libraries load only in a process that scores a
 * sequence model, and only if consort-model-dl4j is on its class path ({@code consort score} has it);
 * otherwise {@link #of} refuses the model naming the missing module.
 *
 * <p>The logit is computed by the same network with an identity output (DL4J's regression head over
 * the same parameter layout), not recovered from the rounded probability, so a saturated score keeps
 * its logit. Each call builds its own DL4J network, so one instance serves any number of threads.
 */
public final class SequenceNetwork implements ScoringNetwork {
  private final ModelSpec logitSpec;
  private final int inputs;
  private final float[] parameters;

  private SequenceNetwork(ModelSpec spec, int inputs, float[] parameters) {
    this.logitSpec = spec.withObjective(Objective.REGRESSION);
    this.inputs = inputs;
    this.parameters = parameters.clone();
  }

  /**
   * The network of a sequence model, checked to be computable here (one row of zeros is scored).
   *
   * @throws IllegalArgumentException when {@code spec} is not a sequence model, or the DL4J engine is
   *     not on the class path
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

  @Override
  public int inputs() {
    return inputs;
  }

  @Override
  public void logits(float[] x, int rows, float[] out) {
    float[] features = x.length == rows * inputs ? x : java.util.Arrays.copyOf(x, rows * inputs);
    float[] logits = Predictor.predict(logitSpec, parameters, new EncodedData(rows, inputs, features,
        new float[rows]));
    System.arraycopy(logits, 0, out, 0, rows);
  }
}
