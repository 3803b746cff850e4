package io.consort.coordinator.job;

import io.consort.protocol.v1.DpReport;
import java.util.List;
import java.util.Map;
import io.consort.privacy.ledger.RecordNoiseShare;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a {@link RoundProtocol} produced: the aggregate (when enough banks made it through every
 * stage) or why the round aborted, and who took part, dropped out or declined.
 *
 * @param aggregate present exactly when the round completed
 * @param abortReason present exactly when it did not
 * @param participants banks whose updates are in the aggregate
 * @param dropouts banks dropped, with the stage and reason
 * @param declined banks that declined the round (their right, e.g. at their privacy cap)
 * @param dpReports the record-level DP-SGD each participant reported running
 * @param bankNoise bank-level noise in the aggregate, if any
 * @param quantisationErrorBound L2 bound on the secure sum's quantisation error, relative to the mean
 * @param recordNoise the distributed record-level noise in the aggregate, if any
 * @param carriedEvaluation the sum of the participants' evaluation vectors of the round's base model, when
 *     the round's secure sum carried them ({@link io.consort.spec.RoundEvaluation})
 */
public record RoundOutcome(Optional<AggregatedUpdate> aggregate, Optional<String> abortReason, List<String> participants,
                           List<Dropout> dropouts, List<String> declined, Map<String, DpReport> dpReports,
                           Optional<BankNoise> bankNoise, OptionalDouble quantisationErrorBound,
                           Optional<RecordNoiseShare> recordNoise, Optional<EvaluationSum> carriedEvaluation) {
  /** The secure sum of {@code banks} banks' evaluation vectors. */
  public record EvaluationSum(int[] sum, int banks) {
    public EvaluationSum {
      sum = sum.clone();
    }
  }

  /** A round whose sum carried no evaluation. */
  public RoundOutcome(Optional<AggregatedUpdate> aggregate, Optional<String> abortReason, List<String> participants,
                      List<Dropout> dropouts, List<String> declined, Map<String, DpReport> dpReports,
                      Optional<BankNoise> bankNoise, OptionalDouble quantisationErrorBound,
                      Optional<RecordNoiseShare> recordNoise) {
    this(aggregate, abortReason, participants, dropouts, declined, dpReports, bankNoise, quantisationErrorBound,
        recordNoise, Optional.empty());
  }

  /** A round without distributed record-level noise. */
  public RoundOutcome(Optional<AggregatedUpdate> aggregate, Optional<String> abortReason, List<String> participants,
                      List<Dropout> dropouts, List<String> declined, Map<String, DpReport> dpReports,
                      Optional<BankNoise> bankNoise, OptionalDouble quantisationErrorBound) {
    this(aggregate, abortReason, participants, dropouts, declined, dpReports, bankNoise, quantisationErrorBound,
        Optional.empty());
  }

  public RoundOutcome {
    if (aggregate.isPresent() == abortReason.isPresent()) {
      throw new IllegalArgumentException("a round either has an aggregate or an abort reason");
    }
    participants = List.copyOf(participants);
    dropouts = List.copyOf(dropouts);
    declined = List.copyOf(declined);
    dpReports = Map.copyOf(dpReports);
    Objects.requireNonNull(bankNoise, "bankNoise");
    Objects.requireNonNull(quantisationErrorBound, "quantisationErrorBound");
    Objects.requireNonNull(recordNoise, "recordNoise");
    Objects.requireNonNull(carriedEvaluation, "carriedEvaluation");
  }

  /** This outcome with {@code evaluation} as its carried evaluation. */
  RoundOutcome withCarriedEvaluation(Optional<EvaluationSum> evaluation) {
    return new RoundOutcome(aggregate, abortReason, participants, dropouts, declined, dpReports, bankNoise,
        quantisationErrorBound, recordNoise, evaluation);
  }

  public boolean completed() {
    return aggregate.isPresent();
  }
}
