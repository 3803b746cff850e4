package io.consort.scoring.explain;

/**
 * A published model's network as the scorer runs it: the logits (the output unit's pre-activation)
 * of encoded rows. Implementations are immutable and serve any number of threads.
 */
public interface ScoringNetwork {
  /** Encoded features per row. */
  int inputs();

  /** The logits of {@code rows} rows of {@code x} (row-major, {@link #inputs()} wide) into {@code out}. */
  void logits(float[] x, int rows, float[] out);

  /** The logit of one row. */
  default float logit(float[] row) {
    float[] out = new float[1];
    logits(row, 1, out);
    return out[0];
  }
}
