package io.consort.spec;

/**
 * How banks report federated evaluation. Which rows a bank holds out is the bank's own decision (its
 * configured test fraction and a secret split key): a coordinator that could move the split between
 * two jobs could difference their statistics down to one customer.
 *
 * @param histogramBins bins of the per-class score histograms a bank returns, 2 to
 *     {@value #MAX_HISTOGRAM_BINS}: coarse on purpose, since the histograms are released (summed over
 *     the banks) and a fine one would all but list each held-out customer's score
 */
public record EvaluationSpec(int histogramBins) {
  public static final int MAX_HISTOGRAM_BINS = 1_000;

  public EvaluationSpec {
    if (histogramBins < 2 || histogramBins > MAX_HISTOGRAM_BINS) {
      throw new InvalidJobSpecException("histogram_bins", "must be in [2, " + MAX_HISTOGRAM_BINS + "], got "
          + histogramBins);
    }
  }
}
