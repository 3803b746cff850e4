package io.consort.privacy.budget;

import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.RdpAccountant;
import java.util.List;
import java.util.Objects;

/**
 * A bank's local veto: given the bank's own history of accounted events and a proposed round, computes
 * what the bank would have spent after the round and declines if that passes the cap. Decisions are
 * made on the composed RDP curve of the whole history plus the round (not on a sum of per-round
 * epsilons, which would be needlessly loose).
 */
public final class BudgetGuard {

  private final PrivacyBudget budget;
  private final RdpAccountant accountant;

  public BudgetGuard(PrivacyBudget budget, RdpAccountant accountant) {
    this.budget = Objects.requireNonNull(budget, "budget");
    this.accountant = Objects.requireNonNull(accountant, "accountant");
  }

  /** Guard using the default accountant (improved conversion, default orders). */
  public BudgetGuard(PrivacyBudget budget) {
    this(budget, RdpAccountant.defaults());
  }

  public PrivacyBudget budget() {
    return budget;
  }

  /** Evaluates the proposed round; never throws for a decline. */
  public BudgetDecision evaluate(List<? extends PrivacyEvent> history, PrivacyEvent proposed) {
    Objects.requireNonNull(history, "history");
    return evaluate(accountant.rdp(history), proposed);
  }

  /**
   * As {@link #evaluate(List, PrivacyEvent)} for a history already composed into one RDP curve (an
   * {@link io.consort.privacy.accounting.RdpHistory}'s): bit for bit the same decision, at the cost of
   * one curve evaluation however long the history.
   */
  public BudgetDecision evaluate(double[] historyRdp, PrivacyEvent proposed) {
    Objects.requireNonNull(historyRdp, "historyRdp");
    Objects.requireNonNull(proposed, "proposed");
    double spent = accountant.fromRdp(historyRdp, budget.delta()).epsilon();
    // the same additions, in the same order, as composing the history followed by the proposal
    double[] after = historyRdp.clone();
    double[] round = accountant.rdp(proposed);
    for (int i = 0; i < after.length; i++) {
      after[i] += round[i];
    }
    double projected = accountant.fromRdp(after, budget.delta()).epsilon();
    return new BudgetDecision(projected <= budget.epsilonCap(), spent, projected, budget.epsilonCap(),
        budget.delta());
  }

  /** As {@link #evaluate(List, PrivacyEvent)} for a record-level DP-SGD round described by its plan. */
  public BudgetDecision evaluate(List<? extends PrivacyEvent> history, LocalTrainingPlan round) {
    return evaluate(history, round.event());
  }

  /**
   * Accepts or throws.
   *
   * @return the accepting decision
   * @throws PrivacyBudgetExceededException naming spent, projected and cap when the round would pass the cap
   */
  public BudgetDecision require(List<? extends PrivacyEvent> history, PrivacyEvent proposed)
      throws PrivacyBudgetExceededException {
    BudgetDecision decision = evaluate(history, proposed);
    if (!decision.accepted()) {
      throw new PrivacyBudgetExceededException(decision.reason(), decision.spentEpsilon(),
          decision.projectedEpsilon(), decision.capEpsilon());
    }
    return decision;
  }

  /** {@link #require(List, PrivacyEvent)} for a record-level DP-SGD round. */
  public BudgetDecision require(List<? extends PrivacyEvent> history, LocalTrainingPlan round)
      throws PrivacyBudgetExceededException {
    return require(history, round.event());
  }
}
