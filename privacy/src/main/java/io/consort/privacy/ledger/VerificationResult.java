package io.consort.privacy.ledger;

import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;

/**
 * Outcome of {@link LedgerVerifier#verify}: either valid with per-bank totals, or the first failure.
 *
 * @param valid whether every check passed
 * @param entryCount entries in the file (0 if it could not be read)
 * @param totals per bank, empty when not valid
 * @param headSigned whether the head carried a valid coordinator signature (if not, removal of
 *     trailing entries cannot be detected from the file alone)
 * @param failedSequence sequence number named by the failure, if the failure is about one entry
 * @param failure what failed, naming the entry; empty when valid
 */
public record VerificationResult(boolean valid, int entryCount, SortedMap<String, BankTotals> totals,
    boolean headSigned, Long failedSequence, Optional<String> failure) {

  static VerificationResult ok(int entryCount, SortedMap<String, BankTotals> totals, boolean headSigned) {
    return new VerificationResult(true, entryCount, totals, headSigned, null, Optional.empty());
  }

  static VerificationResult failed(int entryCount, Long sequence, String failure) {
    return new VerificationResult(false, entryCount, new java.util.TreeMap<>(), false, sequence,
        Optional.of(failure));
  }

  public Map<String, BankTotals> totalsByBank() {
    return totals;
  }
}
