package io.consort.spec;

import java.util.OptionalInt;

/**
 * Secure aggregation (Bonawitz et al. 2017, with the SecAgg+ neighbour graph of Bell et al. 2020 as
 * an option): whether the coordinator sees only the sum of the banks' updates, and with which
 * parameters.
 *
 * @param enabled whether updates are masked; off, the coordinator sees each bank's update
 * @param threshold t of t-of-n, at least 2; empty: the smallest strict majority of each neighbourhood,
 *     raised to the job's {@code min_banks}
 * @param neighbourDegree the SecAgg+ graph's degree, at least 2; empty: the complete graph
 * @param modulusBits k of the ring Z_{2^k} the masked sums live in, 8 to 32
 * @param clipNorm L2 norm each bank's weighted update is clipped to before quantisation (and the
 *     sensitivity of bank-level DP)
 * @param consistencyCheck whether every round runs the consistency check (Bonawitz et al. 2017, round
 *     3): each bank signs the survivor set and reveals shares only for a set enough banks signed.
 *     Without it secure aggregation holds against an honest-but-curious coordinator only; a
 *     coordinator that tells banks different stories about who dropped can unmask one bank's update
 */
public record SecureAggregationSpec(boolean enabled, OptionalInt threshold, OptionalInt neighbourDegree,
                                    int modulusBits, double clipNorm, boolean consistencyCheck) {
  public SecureAggregationSpec {
    if (threshold == null) {
      threshold = OptionalInt.empty();
    }
    if (neighbourDegree == null) {
      neighbourDegree = OptionalInt.empty();
    }
    if (threshold.isPresent() && threshold.getAsInt() < 2) {
      throw new InvalidJobSpecException("secure_aggregation.threshold", "must be at least 2 (a sum of one bank is "
          + "that bank's update; leave it out for the default majority), got " + threshold.getAsInt());
    }
    if (neighbourDegree.isPresent() && neighbourDegree.getAsInt() < 2) {
      throw new InvalidJobSpecException("secure_aggregation.neighbour_degree", "must be at least 2 (leave it out for the "
          + "complete graph), got " + neighbourDegree.getAsInt());
    }
    if (modulusBits < 8 || modulusBits > 32) {
      throw new InvalidJobSpecException("secure_aggregation.modulus_bits", "must be in [8, 32], got " + modulusBits);
    }
    if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
      throw new InvalidJobSpecException("secure_aggregation.clip_norm", "must be finite and > 0, got " + clipNorm);
    }
  }

  /** The degree to build round parameters with: 0 stands for the complete graph there. */
  public int neighbourDegreeOrComplete() {
    return neighbourDegree.orElse(0);
  }
}
