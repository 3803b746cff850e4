package io.consort.privacy.ledger;

import io.consort.privacy.DpPreconditions;
import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.SampledGaussianEvent;
import java.util.Objects;

/**
 * One mechanism applied in a release, with every parameter needed to re-account it offline.
 *
 * <p>Record-level DP-SGD is per bank ({@code bankId} names it; each bank has its own rows and so its own
 * sampling rate and step count). Bank-level noise applies to every participating bank
 * ({@code bankId} is {@link #ALL_PARTICIPANTS}). Fields a kind does not use are 0.
 *
 * @param unit record or bank
 * @param bankId the bank for record level, {@code "*"} for bank level
 * @param kind the mechanism
 * @param noiseMultiplier z; for the distributed discrete Gaussian, the effective z of the noise present
 *     in the sum (total sigma / L2 sensitivity)
 * @param samplingRate q (1 for bank level)
 * @param steps composed steps (1 per round for bank level)
 * @param clipNorm L2 clip C in model units
 * @param noiseStddev standard deviation of the noise actually present (z C for DP-SGD; sigma_i sqrt(m)
 *     in quantised units for the distributed discrete Gaussian, of which the accounting counts the
 *     shares of m - 1 banks, see {@link #toEvent})
 * @param perBankSigma sigma_i of each bank's discrete Gaussian share (quantised units)
 * @param survivors m, the banks whose shares are in the released sum
 * @param l2Sensitivity Delta2 in quantised units
 * @param l1Sensitivity Delta1 in quantised units
 * @param dimension d
 */
public record MechanismRecord(PrivacyUnit unit, String bankId, MechanismKind kind, double noiseMultiplier,
    double samplingRate, long steps, double clipNorm, double noiseStddev, double perBankSigma, int survivors,
    double l2Sensitivity, double l1Sensitivity, long dimension) {

  /** {@code bankId} of a mechanism that applies to every participating bank. */
  public static final String ALL_PARTICIPANTS = "*";

  public MechanismRecord {
    Objects.requireNonNull(unit, "unit");
    Objects.requireNonNull(bankId, "bankId");
    Objects.requireNonNull(kind, "kind");
    DpPreconditions.checkNoiseMultiplier(noiseMultiplier);
    DpPreconditions.checkSamplingRate(samplingRate);
    DpPreconditions.checkSteps(steps);
    DpPreconditions.checkClipNorm(clipNorm);
    DpPreconditions.checkFinitePositive("noise stddev", noiseStddev);
    if (unit == PrivacyUnit.BANK && !ALL_PARTICIPANTS.equals(bankId)) {
      throw new IllegalArgumentException("bank-level mechanism must apply to all participants (\"*\"), got " + bankId);
    }
    if (unit == PrivacyUnit.RECORD && (bankId.isEmpty() || ALL_PARTICIPANTS.equals(bankId))) {
      throw new IllegalArgumentException("record-level mechanism must name one bank, got \"" + bankId + "\"");
    }
    if (kind == MechanismKind.DISTRIBUTED_DISCRETE_GAUSSIAN) {
      DpPreconditions.checkSigma(perBankSigma);
      DpPreconditions.checkPositiveCount("survivors", survivors);
      DpPreconditions.checkFinitePositive("l2 sensitivity", l2Sensitivity);
      DpPreconditions.checkFinitePositive("l1 sensitivity", l1Sensitivity);
      DpPreconditions.checkPositiveCount("dimension", dimension);
    }
    if (kind == MechanismKind.DISTRIBUTED_SAMPLED_GAUSSIAN) {
      if (unit != PrivacyUnit.RECORD) {
        throw new IllegalArgumentException("distributed DP-SGD noise is record level, got unit " + unit);
      }
      DpPreconditions.checkSigma(perBankSigma);
      DpPreconditions.checkPositiveCount("survivors", survivors);
      DpPreconditions.checkFinitePositive("l2 sensitivity", l2Sensitivity);
      DpPreconditions.checkPositiveCount("dimension", dimension);
      // z must be sqrt(m - k) sigma_i / Delta2 for a whole k in [0, m - 1]: the colluders it allows for
      double counted = Math.pow(noiseMultiplier * l2Sensitivity / perBankSigma, 2);
      if (Math.abs(counted - Math.rint(counted)) > 1e-6 * Math.max(1, counted) || Math.rint(counted) < 1
          || Math.rint(counted) > survivors) {
        throw new IllegalArgumentException("distributed DP-SGD noise multiplier " + noiseMultiplier + " is not the"
            + " noise of a whole number (1 to " + survivors + ") of the survivors' shares of sigma " + perBankSigma
            + " over sensitivity " + l2Sensitivity);
      }
    }
  }

  /**
   * For {@link MechanismKind#DISTRIBUTED_SAMPLED_GAUSSIAN}: how many survivors' shares the accounting
   * counts, m - k.
   */
  public int countedShares() {
    if (kind != MechanismKind.DISTRIBUTED_SAMPLED_GAUSSIAN) {
      throw new IllegalStateException("only distributed DP-SGD noise counts shares, not " + kind.wireName());
    }
    return (int) Math.rint(Math.pow(noiseMultiplier * l2Sensitivity / perBankSigma, 2));
  }

  /** Record-level DP-SGD as a bank ran it this round. */
  public static MechanismRecord dpSgd(String bankId, LocalTrainingPlan plan, double clipNorm) {
    return new MechanismRecord(PrivacyUnit.RECORD, bankId, MechanismKind.SAMPLED_GAUSSIAN, plan.noiseMultiplier(),
        plan.samplingRate(), plan.steps(), clipNorm, plan.noiseMultiplier() * clipNorm, 0, 0, 0, 0, 0);
  }

  /** Bank-level Gaussian noise with multiplier z on the sum, every bank taking part. */
  public static MechanismRecord bankLevelGaussian(double noiseMultiplier, double clipNorm) {
    return new MechanismRecord(PrivacyUnit.BANK, ALL_PARTICIPANTS, MechanismKind.SAMPLED_GAUSSIAN, noiseMultiplier,
        1.0, 1, clipNorm, noiseMultiplier * clipNorm, 0, 0, 0, 0, 0);
  }

  /** Bank-level distributed discrete Gaussian with {@code survivors} shares in the released sum. */
  public static MechanismRecord distributedDiscreteGaussian(double clipNorm, double perBankSigma, int survivors,
      double l2Sensitivity, double l1Sensitivity, long dimension) {
    DistributedDiscreteGaussian.SurvivorAccounting acc =
        DistributedDiscreteGaussian.account(perBankSigma, survivors, l2Sensitivity, l1Sensitivity, dimension);
    return new MechanismRecord(PrivacyUnit.BANK, ALL_PARTICIPANTS, MechanismKind.DISTRIBUTED_DISCRETE_GAUSSIAN,
        acc.effectiveNoiseMultiplier(), 1.0, 1, clipNorm, acc.totalSigma(), perBankSigma, survivors, l2Sensitivity,
        l1Sensitivity, dimension);
  }

  /**
   * The accounting event this mechanism amounts to for each bank it applies to, under the entry's
   * accounting: {@link SpendCalculator#ACCOUNTING_V1} counts all {@code survivors} shares of a
   * distributed discrete Gaussian, {@link SpendCalculator#ACCOUNTING} (v2) the shares of
   * {@code survivors - 1} (any one survivor knows its own share).
   *
   * @throws IllegalArgumentException for an accounting this version does not know
   */
  public PrivacyEvent toEvent(String accounting) {
    SpendCalculator.requireKnown(accounting);
    return switch (kind) {
      case SAMPLED_GAUSSIAN, DISTRIBUTED_SAMPLED_GAUSSIAN ->
          new SampledGaussianEvent(noiseMultiplier, samplingRate, steps);
      case DISTRIBUTED_DISCRETE_GAUSSIAN -> (SpendCalculator.ACCOUNTING_V1.equals(accounting)
          ? DistributedDiscreteGaussian.account(perBankSigma, survivors, l2Sensitivity, l1Sensitivity, dimension)
          : DistributedDiscreteGaussian.accountAgainstOneSurvivor(perBankSigma, survivors, l2Sensitivity,
              l1Sensitivity, dimension)).event();
    };
  }

  /** Whether this mechanism's privacy loss falls on {@code bank}. */
  public boolean appliesTo(String bank) {
    return ALL_PARTICIPANTS.equals(bankId) || bankId.equals(bank);
  }
}
