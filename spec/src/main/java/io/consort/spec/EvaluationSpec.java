package io.consort.spec;

/**
 * How each bank holds out rows and reports federated evaluation.
 *
 * @param testFraction share of each bank's rows held out for evaluation, in (0, 1)
 * @param splitSeed seeds each bank's train/test split of its own rows
 * @param histogramBins bins of the per-class score histograms a bank returns, 2 to {@value #MAX_HISTOGRAM_BINS}
 */
public record EvaluationSpec(double testFraction, long splitSeed, int histogramBins) {
  public static final int MAX_HISTOGRAM_BINS = 100_000;

  public EvaluationSpec {
    if (!(testFraction > 0 && testFraction < 1)) {
      throw new InvalidJobSpecException("test_fraction", "must be in (0, 1), got " + testFraction);
    }
    if (histogramBins < 2 || histogramBins > MAX_HISTOGRAM_BINS) {
      throw new InvalidJobSpecException("histogram_bins", "must be in [2, " + MAX_HISTOGRAM_BINS + "], got "
          + histogramBins);
    }
  }
}
