package io.consort.protocol;

/** The wire protocol version. A participant whose version differs is refused at enrolment. */
public final class ProtocolVersion {
  /**
   * Bumped whenever a message changes incompatibly. 2: under secure aggregation a training task's secure sum
   * carries the bank's evaluation of the model the round starts from after its update. 3: pipelined rounds
   * (the next round's keys with the unmasking answer, its roster and shares with the ledger stage, the
   * forwarded shares with the training task, answered by the masked input). 4: a secure sum that every
   * member of its roster sent its masked input to skips the consistency check (an unmasking request without
   * signatures, for the whole roster's b-shares; docs/SECURE_AGGREGATION.md), which a version-3 bank refuses.
   * 5: a plan may pin {@code secure_aggregation.unmasking: with_input} (a bank answers its forwarded shares with
   * its masked input and its b-shares, and the next round's roster may ride on the training task or the
   * masked-input request), a plan field a version-4 bank would not see. 6: a plan may pin
   * {@code secure_aggregation.key_rounds} N > 1 (with {@code with_input}): a bank's pipelined sums of a period of N
   * rounds are masked with one key pair each, advertised under a signature over the period's context, and share b
   * only; a version-5 bank would not see the field. 7: a plan may pin {@code secure_aggregation.self_mask: false}
   * (the default with {@code with_input}): no self mask and no share of anything, each bank masking with every member
   * of its key roster (share-keys answers and forwarded shares are empty, no b-shares follow the masked input); a
   * version-6 bank refuses a plan carrying the field; and every key advertisement (per sum and per period) is signed
   * over the digest of the job's plan (without its initial parameters) under new labels, so banks offered different
   * plans of one job never accept each other's keys.
   * 8: every pairwise mask seed of a sum is bound to the digest of the
   * base model the bank computed its input from (docs/SECURE_AGGREGATION.md, "The model is bound into the masks"), so
   * banks sent different models cannot complete a sum together; a bank of an earlier version derives other seeds.
   * 9: a training task no longer carries the bank's FedAvg weight ({@code aggregation_weight}, field 7, reserved) but
   * the round's row total R ({@code round_row_total}, and {@code next_round_row_total} with a pipelined ledger task);
   * the bank weights its update by its own rows / R and binds R beside the model into every pairwise mask seed of a
   * training sum (docs/SECURE_AGGREGATION.md, "The FedAvg weight is the bank's own"); a version-8 bank derives other
   * seeds.
   */
  public static final int CURRENT = 9;

  private ProtocolVersion() {}

  /** @throws ProtocolViolationException naming both versions when they differ */
  public static void require(int offered) {
    if (offered != CURRENT) {
      throw new ProtocolViolationException(
          "protocol version " + offered + " is not supported; this node speaks version " + CURRENT);
    }
  }
}
