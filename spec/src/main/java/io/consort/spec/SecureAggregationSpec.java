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
 * @param unmaskingWithInput {@code secure_aggregation.unmasking: with_input}: each bank sends its b-shares with
 *     its masked input and answers nothing more for that sum (two stages a round instead of three; no dropout
 *     recovery after share-keys: a sum with a missing input is abandoned and the round runs again); false,
 *     {@code after_inputs}, the default. Complete graph with the consistency check only
 *     (docs/SECURE_AGGREGATION.md, "Unmasking with the masked input")
 * @param keyRounds {@code secure_aggregation.key_rounds}: N >= 1, the job rounds a bank's key pairs serve in pipelined
 *     rounds (periods of N rounds: one signature, one verification per peer and one agreement per peer a period
 *     instead of a round); 1, the default, fresh keys for every sum. Above 1 only with {@code unmasking: with_input},
 *     where no honest bank reveals an s^SK-share; forward secrecy is then N rounds instead of 1
 *     (docs/SECURE_AGGREGATION.md, "Keys for a period of rounds")
 * @param selfMask {@code secure_aggregation.self_mask}: whether each bank adds a self mask PRG(b) and Shamir-shares b
 *     (and s^SK); by default false with {@code unmasking: with_input} (protocol version 7: no b and no share at all,
 *     each bank masks with every member of its key roster; docs/SECURE_AGGREGATION.md, "No self mask under
 *     with_input") and true otherwise; false only with {@code with_input}
 */
public record SecureAggregationSpec(boolean enabled, OptionalInt threshold, OptionalInt neighbourDegree,
                                    int modulusBits, double clipNorm, boolean consistencyCheck,
                                    boolean unmaskingWithInput, int keyRounds, boolean selfMask) {
  /** The key of {@link #unmaskingWithInput} in a job file, and its two values. */
  public static final String UNMASKING_KEY = "secure_aggregation.unmasking";
  public static final String AFTER_INPUTS = "after_inputs";
  public static final String WITH_INPUT = "with_input";
  /** The key of {@link #keyRounds} in a job file. */
  public static final String KEY_ROUNDS_KEY = "secure_aggregation.key_rounds";
  /** The key of {@link #selfMask} in a job file. */
  public static final String SELF_MASK_KEY = "secure_aggregation.self_mask";

  /** Unmasking after the inputs ({@code unmasking: after_inputs}). */
  public SecureAggregationSpec(boolean enabled, OptionalInt threshold, OptionalInt neighbourDegree, int modulusBits,
                               double clipNorm, boolean consistencyCheck) {
    this(enabled, threshold, neighbourDegree, modulusBits, clipNorm, consistencyCheck, false);
  }

  /** Fresh keys for every sum ({@code key_rounds: 1}). */
  public SecureAggregationSpec(boolean enabled, OptionalInt threshold, OptionalInt neighbourDegree, int modulusBits,
                               double clipNorm, boolean consistencyCheck, boolean unmaskingWithInput) {
    this(enabled, threshold, neighbourDegree, modulusBits, clipNorm, consistencyCheck, unmaskingWithInput, 1);
  }

  /** With the default self mask: none with {@code with_input}, one otherwise ({@link #defaultSelfMask}). */
  public SecureAggregationSpec(boolean enabled, OptionalInt threshold, OptionalInt neighbourDegree, int modulusBits,
                               double clipNorm, boolean consistencyCheck, boolean unmaskingWithInput, int keyRounds) {
    this(enabled, threshold, neighbourDegree, modulusBits, clipNorm, consistencyCheck, unmaskingWithInput, keyRounds,
        defaultSelfMask(unmaskingWithInput));
  }

  /** {@code self_mask}'s default: false with {@code unmasking: with_input}, true otherwise. */
  public static boolean defaultSelfMask(boolean unmaskingWithInput) {
    return !unmaskingWithInput;
  }

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
    if (unmaskingWithInput && !enabled) {
      throw new InvalidJobSpecException(UNMASKING_KEY, WITH_INPUT + " says how a secure sum is unmasked, but the job "
          + "sets secure_aggregation.enabled: false (no sum is masked; leave unmasking out, or enable secure "
          + "aggregation)");
    }
    if (unmaskingWithInput && neighbourDegree.isPresent()) {
      throw new InvalidJobSpecException(UNMASKING_KEY, WITH_INPUT + " needs the complete graph, but the job sets "
          + "neighbour_degree " + neighbourDegree.getAsInt() + " (SecAgg+ always runs the consistency check with a "
          + "majority of the roster; leave unmasking out or set it to " + AFTER_INPUTS + ")");
    }
    if (unmaskingWithInput && !consistencyCheck) {
      throw new InvalidJobSpecException(UNMASKING_KEY, WITH_INPUT + " cannot go with consistency_check: false: "
          + "that option only changes how a sum recovers from a dropout, and " + WITH_INPUT + " recovers from none "
          + "(leave consistency_check on, or set unmasking to " + AFTER_INPUTS + ")");
    }
    if (keyRounds < 1) {
      throw new InvalidJobSpecException(KEY_ROUNDS_KEY, "must be at least 1 (1: fresh keys for every round), got "
          + keyRounds);
    }
    if (keyRounds > 1 && !unmaskingWithInput) {
      throw new InvalidJobSpecException(KEY_ROUNDS_KEY, keyRounds + " needs unmasking: " + WITH_INPUT + " (a bank's "
          + "keys may serve several rounds only where no bank ever reveals an s^SK-share; set unmasking to "
          + WITH_INPUT + " or leave key_rounds out)");
    }
    if (!selfMask && !enabled) {
      throw new InvalidJobSpecException(SELF_MASK_KEY, "false says how a secure sum is masked, but the job sets "
          + "secure_aggregation.enabled: false (no sum is masked; leave self_mask out, or enable secure aggregation)");
    }
    if (!selfMask && !unmaskingWithInput) {
      throw new InvalidJobSpecException(SELF_MASK_KEY, "false needs unmasking: " + WITH_INPUT + " (unmasking "
          + AFTER_INPUTS + " recovers a dropped bank's masks from shares of its secrets, which a sum without self masks "
          + "never makes; set unmasking to " + WITH_INPUT + " or leave self_mask out)");
    }
  }

  /** {@code after_inputs} or {@code with_input}, as a job file says it. */
  public String unmaskingName() {
    return unmaskingWithInput ? WITH_INPUT : AFTER_INPUTS;
  }

  /** Parses a job file's {@code unmasking} value. */
  public static boolean parseUnmasking(String value) {
    return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
      case AFTER_INPUTS -> false;
      case WITH_INPUT -> true;
      default -> throw new InvalidJobSpecException(UNMASKING_KEY, "must be " + AFTER_INPUTS + " or " + WITH_INPUT
          + ", got '" + value + "'");
    };
  }

  /** The degree to build round parameters with: 0 stands for the complete graph there. */
  public int neighbourDegreeOrComplete() {
    return neighbourDegree.orElse(0);
  }
}
