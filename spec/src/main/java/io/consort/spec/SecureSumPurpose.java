package io.consort.spec;

/**
 * What a secure sum is for. Each purpose gets its own secure-aggregation round id, so that the
 * signatures, keys and messages of one sum can never be replayed into another sum of the same job
 * round (Bonawitz et al. bind every message to the round; here the round also says what is summed).
 */
public enum SecureSumPurpose {
  /** The banks' weighted, clipped, quantised model updates. */
  MODEL_UPDATE,
  /** The banks' feature statistics (row counts, per numeric column count, sum, sum of squares). */
  FEATURE_STATISTICS,
  /** The banks' evaluation histograms. */
  EVALUATION;

  /** The secure-aggregation round id of this purpose in job round {@code round}: distinct for every pair. */
  public long secaggRound(long round) {
    if (round < 0) {
      throw new IllegalArgumentException("round must be >= 0, got " + round);
    }
    return round * values().length + ordinal();
  }
}
