package io.consort.privacy.ledger;

/**
 * A bank's privacy spend as of one ledger entry. A null value means the unit was not protected by
 * differential privacy in this entry (round value) or ever so far (total): the ledger never shows 0
 * for "no DP", which would read as "no loss".
 *
 * @param recordEpsilonRound record-level epsilon of this release alone
 * @param recordEpsilonTotal record-level epsilon of all releases so far, composed by RDP
 * @param bankEpsilonRound bank-level epsilon of this release alone
 * @param bankEpsilonTotal bank-level epsilon of all releases so far
 */
public record BankSpend(Double recordEpsilonRound, Double recordEpsilonTotal, Double bankEpsilonRound,
    Double bankEpsilonTotal) {

  public BankSpend {
    check("record epsilon (round)", recordEpsilonRound);
    check("record epsilon (total)", recordEpsilonTotal);
    check("bank epsilon (round)", bankEpsilonRound);
    check("bank epsilon (total)", bankEpsilonTotal);
  }

  private static void check(String name, Double value) {
    if (value != null) {
      io.consort.privacy.DpPreconditions.checkFiniteNonNegative(name, value);
    }
  }

  /** The epsilon for {@code unit}, total or round. */
  public Double epsilon(PrivacyUnit unit, boolean total) {
    if (unit == PrivacyUnit.RECORD) {
      return total ? recordEpsilonTotal : recordEpsilonRound;
    }
    return total ? bankEpsilonTotal : bankEpsilonRound;
  }
}
