package io.consort.model.train.spi;

/**
 * One engine's standard (non-DP) training over one bank's rows, as {@link
 * io.consort.model.train.LocalTrainer} drives it: the trainer owns the row order, shuffles it and
 * counts steps; the loop owns the network and its optimiser state. Built once per trainer by a
 * {@link TrainingLoopProvider}; not thread-safe.
 */
public interface TrainingLoop {

  /**
   * Loads the round's starting parameters (flat, in the layout of {@code
   * io.consort.model.train.ModelFactory}). With {@code resetOptimizer}, Adam restarts: both moment
   * estimates zeroed and the step count used for bias correction back to 0.
   */
  void start(float[] globalParameters, boolean resetOptimizer);

  /** Optimiser steps per pass over the rows: the batch count, the last batch possibly partial. */
  int stepsPerEpoch();

  /**
   * One pass over the rows in {@code order}, one Adam step per batch of the spec's batch size;
   * returns the sum over steps of each batch's mean loss before its step (plus the L2 penalty when
   * the spec has one).
   */
  double fitEpoch(int[] order);

  /** The current parameters, in the same layout as {@link #start}'s. */
  float[] parameters();

  /** Loads {@code parameters} (same layout as {@link #start}'s) without touching the optimiser. */
  void load(float[] parameters);

  /**
   * DP-SGD's clipped gradient sum: for each of the rows {@code rows[0..k-1]}, that example's own
   * gradient of the data loss at the loaded parameters (no L2 term), scaled to L2 norm at most
   * {@code clipNorm}, summed into {@code sum} (overwritten). Returns the sum of the examples' losses.
   */
  double clippedGradientSum(int[] rows, int k, double clipNorm, float[] sum);
}
