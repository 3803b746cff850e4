package io.consort.spec;

import java.util.Objects;
import java.util.Optional;

/**
 * How banks report federated evaluation. Which rows a bank holds out is the bank's own decision (its
 * configured test fraction and a secret split key): a coordinator that could move the split between
 * two jobs could difference their statistics down to one customer.
 *
 * @param histogramBins bins of the per-class score histograms a bank returns, 2 to
 *     {@value #MAX_HISTOGRAM_BINS}: coarse on purpose, since the histograms are released (summed over
 *     the banks) and a fine one would all but list each held-out customer's score
 * @param costMatrix what the two wrong decisions cost, when the job says: it sets the published
 *     model's decision threshold and the report's expected cost; absent, the threshold is 0.5
 */
public record EvaluationSpec(int histogramBins, Optional<CostMatrix> costMatrix) {
  public static final int MAX_HISTOGRAM_BINS = 1_000;

  public EvaluationSpec {
    if (histogramBins < 2 || histogramBins > MAX_HISTOGRAM_BINS) {
      throw new InvalidJobSpecException("histogram_bins", "must be in [2, " + MAX_HISTOGRAM_BINS + "], got "
          + histogramBins);
    }
    Objects.requireNonNull(costMatrix, "costMatrix");
  }

  /** Without a cost matrix. */
  public EvaluationSpec(int histogramBins) {
    this(histogramBins, Optional.empty());
  }
}
