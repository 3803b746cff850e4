package io.consort.privacy.accounting;

import io.consort.privacy.DpPreconditions;

/**
 * Bank-level noise under secure aggregation: the distributed discrete Gaussian of Kairouz, Liu and
 * Steinke 2021 (arXiv:2102.06387). Each bank adds its own share N_Z(0, sigma_i^2) to its quantised,
 * clipped update before masking; the coordinator only sees the sum, whose noise is the sum of the
 * surviving banks' shares.
 *
 * <p>Dropouts: a bank that drops before its masked input is counted contributes neither its update nor
 * its noise share, so with m survivors the released sum carries variance m sigma_i^2. To meet a target
 * total sigma even in the worst case the protocol tolerates (m = minSurvivors, the secure-aggregation
 * threshold), each bank adds sigma_i = target / sqrt(minSurvivors); with more survivors the sum carries
 * more noise than the target (the utility price of dropout tolerance), never less.
 *
 * <p>Accounting: {@link #account} uses KLS21 Proposition 14 (see {@link DistributedDiscreteGaussianEvent})
 * for n shares, which requires sigma_i >= 1/2.
 *
 * <p>Whose noise counts. Every bank knows its own share and can subtract it from the released sum, so
 * against any one participating bank (alone or together with the coordinator) only the other
 * survivors' shares protect a bank: {@link #planAgainstOneSurvivor} and {@link #accountAgainstOneSurvivor}
 * count m - 1 of m shares, which is what the ledger uses (accounting v2; docs/PRIVACY.md). Against the
 * coordinator alone all m shares count ({@link #plan}, {@link #account}, ledger accounting v1). A
 * coalition of c banks removes c shares; that case is not accounted.
 */
public final class DistributedDiscreteGaussian {

  /** KLS21 Proposition 14 is stated for per-party sigma >= 1/2. */
  static final double MIN_SHARE_SIGMA = 0.5;

  private DistributedDiscreteGaussian() {}

  /**
   * Each bank's share of the noise.
   *
   * @param targetTotalSigma the standard deviation (in quantised integer units) the released sum must
   *     carry at least
   * @param banks n, the banks in the round
   * @param minSurvivors the fewest surviving banks for which a sum is released (secure-aggregation
   *     threshold), 1 <= minSurvivors <= banks
   */
  public static Plan plan(double targetTotalSigma, int banks, int minSurvivors) {
    DpPreconditions.checkSigma(targetTotalSigma);
    DpPreconditions.checkPositiveCount("banks", banks);
    DpPreconditions.checkPositiveCount("min survivors", minSurvivors);
    if (minSurvivors > banks) {
      throw new IllegalArgumentException("min survivors must be <= banks (" + banks + "), got " + minSurvivors);
    }
    double share = targetTotalSigma / Math.sqrt(minSurvivors);
    if (share < MIN_SHARE_SIGMA) {
      throw new IllegalArgumentException("per-bank sigma must be >= 0.5 (KLS21 Proposition 14), got " + share
          + " for target " + targetTotalSigma + " and min survivors " + minSurvivors
          + "; scale the quantisation up");
    }
    return new Plan(targetTotalSigma, banks, minSurvivors, share);
  }

  /**
   * Each bank's share when the guarantee must hold against any one survivor, which knows its own share:
   * with {@code minSurvivors} survivors the other minSurvivors - 1 shares carry at least the target,
   * sigma_i = target / sqrt(minSurvivors - 1).
   *
   * @param minSurvivors the secure-aggregation threshold, 2 <= minSurvivors <= banks
   */
  public static Plan planAgainstOneSurvivor(double targetTotalSigma, int banks, int minSurvivors) {
    if (minSurvivors < 2) {
      throw new IllegalArgumentException("min survivors must be >= 2 when one survivor's own share does not count, "
          + "got " + minSurvivors);
    }
    Plan others = plan(targetTotalSigma, banks, minSurvivors - 1);
    return new Plan(targetTotalSigma, banks, minSurvivors, others.perBankSigma());
  }

  /**
   * The privacy of a release with {@code survivors} shares in the sum against any one of the
   * survivors, which can remove its own share: the accounting of {@code survivors - 1} shares.
   *
   * @param survivors m >= 2 (a released sum always has at least the threshold, which is at least 2)
   */
  public static SurvivorAccounting accountAgainstOneSurvivor(double perBankSigma, int survivors, double l2Sensitivity,
      double l1Sensitivity, long dimension) {
    if (survivors < 2) {
      throw new IllegalArgumentException("survivors must be >= 2 when one survivor's own share does not count, got "
          + survivors);
    }
    return account(perBankSigma, survivors - 1, l2Sensitivity, l1Sensitivity, dimension);
  }

  /**
   * The noise actually present and its privacy when {@code survivors} banks' shares are in the sum.
   *
   * @param l2Sensitivity Delta2, L2 norm bound of one bank's quantised update (integer units)
   * @param l1Sensitivity Delta1, L1 norm bound of the same; see {@link #l1Bound}
   * @param dimension d, the length of the update vector
   */
  public static SurvivorAccounting account(double perBankSigma, int survivors, double l2Sensitivity,
      double l1Sensitivity, long dimension) {
    DpPreconditions.checkSigma(perBankSigma);
    if (perBankSigma < MIN_SHARE_SIGMA) {
      throw new IllegalArgumentException("per-bank sigma must be >= 0.5 (KLS21 Proposition 14), got " + perBankSigma);
    }
    DpPreconditions.checkPositiveCount("survivors", survivors);
    DpPreconditions.checkFinitePositive("l2 sensitivity", l2Sensitivity);
    DpPreconditions.checkFinitePositive("l1 sensitivity", l1Sensitivity);
    DpPreconditions.checkPositiveCount("dimension", dimension);
    double totalSigma = perBankSigma * Math.sqrt(survivors);
    double tau = tau(perBankSigma, survivors);
    double scale = Math.sqrt(survivors) * perBankSigma;
    DistributedDiscreteGaussianEvent event =
        new DistributedDiscreteGaussianEvent(l2Sensitivity / scale, l1Sensitivity / scale, tau, dimension, 1);
    return new SurvivorAccounting(survivors, perBankSigma, totalSigma, totalSigma / l2Sensitivity, tau, event);
  }

  /** tau = 10 sum_{k=1}^{n-1} exp(-2 pi^2 sigma^2 k / (k+1)) (KLS21, Theorem 1 and Proposition 14). */
  public static double tau(double perBankSigma, int parties) {
    double sum = 0.0;
    for (int k = 1; k < parties; k++) {
      sum += Math.exp(-2.0 * Math.PI * Math.PI * perBankSigma * perBankSigma * k / (k + 1.0));
    }
    return 10.0 * sum;
  }

  /**
   * A valid L1 bound for an integer vector of L2 norm at most Delta2 in d dimensions:
   * min(Delta2^2, sqrt(d) Delta2) (non-zero integer coordinates have |x_i| <= x_i^2; Cauchy-Schwarz).
   */
  public static double l1Bound(double l2Sensitivity, long dimension) {
    DpPreconditions.checkFinitePositive("l2 sensitivity", l2Sensitivity);
    DpPreconditions.checkPositiveCount("dimension", dimension);
    return Math.min(l2Sensitivity * l2Sensitivity, Math.sqrt((double) dimension) * l2Sensitivity);
  }

  /**
   * @param targetTotalSigma the requested noise on the sum
   * @param banks n
   * @param minSurvivors the secure-aggregation threshold
   * @param perBankSigma each bank's share sigma_i
   */
  public record Plan(double targetTotalSigma, int banks, int minSurvivors, double perBankSigma) {

    /** Noise on the sum when all n banks survive: sigma_i sqrt(n) >= target. */
    public double totalSigmaIfAllSurvive() {
      return perBankSigma * Math.sqrt(banks);
    }
  }

  /**
   * @param survivors m, the banks whose shares are in the released sum
   * @param perBankSigma sigma_i
   * @param totalSigma sigma_i sqrt(m), the standard deviation actually present
   * @param effectiveNoiseMultiplier totalSigma / Delta2, comparable to a Gaussian noise multiplier
   * @param tau the KLS21 correction for a sum of m discrete Gaussians
   * @param event the accounting event for one release
   */
  public record SurvivorAccounting(int survivors, double perBankSigma, double totalSigma,
      double effectiveNoiseMultiplier, double tau, DistributedDiscreteGaussianEvent event) {}
}
