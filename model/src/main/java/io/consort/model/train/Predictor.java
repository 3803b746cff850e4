package io.consort.model.train;

import io.consort.model.features.EncodedData;

/**
 * Scores encoded rows with a model: the probability of the positive class (for regression, the
 * predicted value), or a binary model's logit, never with dropout. The native engine computes the
 * models of {@link ModelSpec#nativeKernel()} (every model type, any head, whichever engine trained
 * it); a model outside it would be computed by the DL4J engine's provider, which must then be on the
 * class path.
 */
public final class Predictor {
  private static final int CHUNK_ROWS = 1024;

  private Predictor() {}

  public static float[] predict(ModelSpec spec, float[] parameters, EncodedData data) {
    if (!spec.nativeKernel()) {
      return LocalTrainer.provider(TrainingEngine.DL4J).predict(spec, parameters, data);
    }
    float[] scores = nativeLogits(spec, parameters, data);
    if (spec.objective() == Objective.REGRESSION) {
      return scores;
    }
    for (int r = 0; r < scores.length; r++) {
      scores[r] = (float) (1.0 / (1.0 + Math.exp(-scores[r])));
    }
    return scores;
  }

  /**
   * A binary model's logits (its output unit's pre-activation) for {@code data}'s rows: the native
   * engine's forward pass for the models of {@link ModelSpec#nativeKernel()}, the same network with
   * an identity output on the DL4J engine otherwise (its regression head over the same parameter
   * layout), so a saturated probability keeps its logit.
   *
   * @throws IllegalArgumentException for a regression model, which has no logit
   * @throws IllegalStateException when the model needs the DL4J engine and it is not on the class path
   */
  public static float[] logits(ModelSpec spec, float[] parameters, EncodedData data) {
    if (spec.objective() != Objective.BINARY) {
      throw new IllegalArgumentException("a " + spec.objective().wireName() + " model has no logit");
    }
    if (!spec.nativeKernel()) {
      return LocalTrainer.provider(TrainingEngine.DL4J).predict(spec.withObjective(Objective.REGRESSION),
          parameters, data);
    }
    return nativeLogits(spec, parameters, data);
  }

  private static float[] nativeLogits(ModelSpec spec, float[] parameters, EncodedData data) {
    NativeNetwork network = NativeNetwork.of(spec, data.features());
    if (parameters.length != network.parameterCount()) {
      throw new IllegalArgumentException("the model has " + network.parameterCount()
          + " parameters, got " + parameters.length);
    }
    int features = data.features();
    float[] logits = new float[data.rows()];
    for (int start = 0; start < data.rows(); start += CHUNK_ROWS) {
      int k = Math.min(CHUNK_ROWS, data.rows() - start);
      System.arraycopy(data.x(), start * features, network.inputBuffer(k), 0, k * features);
      network.forward(parameters, k);
      System.arraycopy(network.logits(), 0, logits, start, k);
    }
    return logits;
  }
}
