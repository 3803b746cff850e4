package io.consort.model.train;

import io.consort.model.features.EncodedData;

/**
 * Scores encoded rows with a model: the probability of the positive class (for regression, the
 * predicted value). The native engine computes the models of {@link ModelSpec#nativeKernel()};
 * every other model is computed by the DL4J engine's provider, which must be on the class path.
 */
public final class Predictor {
  private static final int CHUNK_ROWS = 1024;

  private Predictor() {}

  public static float[] predict(ModelSpec spec, float[] parameters, EncodedData data) {
    if (!spec.nativeKernel()) {
      return LocalTrainer.provider(TrainingEngine.DL4J).predict(spec, parameters, data);
    }
    NativeNetwork network = NativeNetwork.of(spec, data.features());
    if (parameters.length != network.parameterCount()) {
      throw new IllegalArgumentException("the model has " + network.parameterCount()
          + " parameters, got " + parameters.length);
    }
    int features = data.features();
    float[] scores = new float[data.rows()];
    for (int start = 0; start < data.rows(); start += CHUNK_ROWS) {
      int k = Math.min(CHUNK_ROWS, data.rows() - start);
      System.arraycopy(data.x(), start * features, network.inputBuffer(k), 0, k * features);
      network.forward(parameters, k);
      float[] logits = network.logits();
      for (int r = 0; r < k; r++) {
        scores[start + r] = (float) (1.0 / (1.0 + Math.exp(-logits[r])));
      }
    }
    return scores;
  }
}
