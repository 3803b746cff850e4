package io.consort.model.eval;

import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Predictor;
import java.util.random.RandomGenerator;

/**
 * Permutation importance (Breiman 2001; Fisher, Rudin, Dominici 2019) per original column: how much
 * the summed log-loss on held-out rows grows when that column's values are shuffled among the rows,
 * all of a categorical column's one-hot features moving together. Sums, so banks' values add up
 * (inside a secure sum) to the consortium's, and the mean per row is the sum over the row count.
 */
public final class PermutationImportance {
  private PermutationImportance() {}

  /**
   * Per original column of {@code encoding}'s schema (numeric columns first, then categorical, in
   * schema order): the summed log-loss over {@code heldOut}'s rows with that column shuffled, minus the
   * summed log-loss without. Zero for every column when there are fewer than two rows.
   *
   * @param random the shuffles; a {@link java.security.SecureRandom} in production
   */
  public static double[] lossIncrease(ModelSpec spec, float[] parameters, EncodedData heldOut,
                                      FeatureEncoding encoding, RandomGenerator random) {
    int numeric = encoding.schema().numericColumns().size();
    int columns = numeric + encoding.categories().size();
    double[] increase = new double[columns];
    int rows = heldOut.rows();
    if (rows < 2) {
      return increase;
    }
    double base = logLossSum(Predictor.predict(spec, parameters, heldOut), heldOut.y());
    float[] x = heldOut.x().clone();
    int width = heldOut.features();
    int[] order = new int[rows];
    int offset = numeric;
    for (int c = 0; c < columns; c++) {
      int from;
      int to;
      if (c < numeric) {
        from = c;
        to = c + 1;
      } else {
        from = offset;
        to = offset + encoding.categories().get(c - numeric).size();
        offset = to;
      }
      shuffle(order, random);
      for (int r = 0; r < rows; r++) {
        System.arraycopy(heldOut.x(), order[r] * width + from, x, r * width + from, to - from);
      }
      EncodedData permuted = new EncodedData(rows, width, x, heldOut.y());
      increase[c] = logLossSum(Predictor.predict(spec, parameters, permuted), heldOut.y()) - base;
      for (int r = 0; r < rows; r++) {
        System.arraycopy(heldOut.x(), r * width + from, x, r * width + from, to - from);
      }
    }
    return increase;
  }

  /** The schema's original columns, in the order {@link #lossIncrease} reports them. */
  public static java.util.List<String> columns(FeatureEncoding encoding) {
    java.util.List<String> names = new java.util.ArrayList<>(encoding.schema().numericColumns());
    encoding.schema().categoricalColumns().forEach(c -> names.add(c.name()));
    return names;
  }

  private static void shuffle(int[] order, RandomGenerator random) {
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }

  private static double logLossSum(float[] scores, float[] labels) {
    double sum = 0;
    for (int r = 0; r < scores.length; r++) {
      double p = Math.min(Math.max(scores[r], ScoreHistogram.PROBABILITY_FLOOR), 1 - ScoreHistogram.PROBABILITY_FLOOR);
      sum -= labels[r] > 0.5f ? Math.log(p) : Math.log1p(-p);
    }
    return sum;
  }
}
