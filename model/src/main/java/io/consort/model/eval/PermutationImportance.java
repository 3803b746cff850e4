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

  /** Rows scored at a time: the held-out rows are never copied whole (a bank may hold out a million). */
  static final int CHUNK_ROWS = 1 << 16;

  /**
   * Per original column of {@code encoding}'s schema (numeric columns first, then categorical, in
   * schema order): the summed log-loss over {@code heldOut}'s rows with that column shuffled, minus the
   * summed log-loss without. A column's features move together: a categorical column's one-hot
   * features, and a column's missing indicator with it. Zero for every column when there are fewer than
   * two rows. {@code heldOut} is only read; the shuffled rows are built {@value #CHUNK_ROWS} at a time.
   *
   * @param random the shuffles; a {@link java.security.SecureRandom} in production
   */
  public static double[] lossIncrease(ModelSpec spec, float[] parameters, EncodedData heldOut,
                                      FeatureEncoding encoding, RandomGenerator random) {
    return lossIncrease(spec, parameters, heldOut, encoding, random, CHUNK_ROWS);
  }

  static double[] lossIncrease(ModelSpec spec, float[] parameters, EncodedData heldOut, FeatureEncoding encoding,
                               RandomGenerator random, int chunkRows) {
    int numeric = encoding.schema().numericColumns().size();
    int columns = numeric + encoding.categories().size();
    double[] increase = new double[columns];
    int rows = heldOut.rows();
    if (rows < 2) {
      return increase;
    }
    double base = logLossSum(Predictor.predict(spec, parameters, heldOut), heldOut.y());
    int width = heldOut.features();
    int[] order = new int[rows];
    int chunk = Math.min(rows, chunkRows);
    float[] x = new float[chunk * width];
    int offset = numeric;
    for (int c = 0; c < columns; c++) {
      int from;
      int to;
      int indicator;
      if (c < numeric) {
        from = c;
        to = c + 1;
        indicator = encoding.numericIndicatorFeature(c);
      } else {
        from = offset;
        to = offset + encoding.categories().get(c - numeric).size();
        offset = to;
        indicator = encoding.categoricalIndicatorFeature(c - numeric);
      }
      shuffle(order, random);
      double loss = 0;
      for (int start = 0; start < rows; start += chunk) {
        int k = Math.min(chunk, rows - start);
        System.arraycopy(heldOut.x(), start * width, x, 0, k * width);
        for (int r = 0; r < k; r++) {
          int source = order[start + r] * width;
          System.arraycopy(heldOut.x(), source + from, x, r * width + from, to - from);
          if (indicator >= 0) {
            x[r * width + indicator] = heldOut.x()[source + indicator];
          }
        }
        float[] labels = java.util.Arrays.copyOfRange(heldOut.y(), start, start + k);
        EncodedData shuffled = new EncodedData(k, width, k == chunk ? x : java.util.Arrays.copyOf(x, k * width),
            labels);
        loss += logLossSum(Predictor.predict(spec, parameters, shuffled), labels);
      }
      increase[c] = loss - base;
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
