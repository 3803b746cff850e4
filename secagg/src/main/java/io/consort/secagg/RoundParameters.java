package io.consort.secagg;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Public parameters of one secure-aggregation round, known to the coordinator and to every bank before
 * the round starts. The order of {@code bankIds} is significant: a bank's 1-based position is its
 * Shamir x-coordinate and decides the sign of its pairwise masks (Bonawitz et al. 2017, section 3:
 * "+ for u < v, - for u > v").
 *
 * @param jobId training job identifier, bound into every message, signature and ciphertext
 * @param round round number within the job (>= 0)
 * @param bankIds the roster: distinct bank ids, 2 to {@value #MAX_BANKS}
 * @param threshold t: shares needed to reconstruct a secret; more than half of each neighbourhood
 *     (bank plus its neighbours), so that honest banks never reveal both secrets of one bank to a
 *     server that follows the protocol, and at most the neighbourhood size
 * @param ringBits k: masked inputs and the sum live in Z_{2^k}, 1 <= k <= 32
 * @param dimension length of each bank's input vector, 1 to {@value #MAX_DIMENSION}
 * @param neighbourDegree 0 for the complete graph (every bank masks with every other, the default),
 *     otherwise the degree of the SecAgg+ neighbour graph (Bell et al. 2020); a degree >= n - 1 is
 *     the complete graph
 * @param consistencyCheck whether to run the consistency-check stage (Bonawitz et al. 2017, round 3),
 *     which protects against a coordinator that shows different banks different survivor sets; on by
 *     default, and required against a coordinator that may deviate from the protocol
 * @param unmaskingWithInput each bank attaches its b-shares of every member it holds to its masked input and
 *     then has finished the round (docs/SECURE_AGGREGATION.md, "Unmasking with the masked input"): no
 *     consistency check or unmasking stage, no s^SK-share ever revealed, and no dropout recovery after
 *     share-keys; only where {@link #allowsFastUnmasking} holds
 * @param selfMask whether each bank adds a self mask PRG(b_u) and Shamir-shares b_u and s_u^SK (true, every
 *     protocol version before 7); false only with {@code unmaskingWithInput} (docs/SECURE_AGGREGATION.md, "No self
 *     mask under with_input"): no b, no share of anything, each bank masks with every member of the key roster it
 *     accepted, and the sum is unmasked only if every member of that roster sent its masked input
 * @param planDigest the digest of the job's plan (64 lowercase hex digits, SHA-256 of the pinned {@code JobPlan}
 *     without its initial parameters; io.consort.spec.SecureRoundPlan computes it, a bank from the plan it pinned and the
 *     coordinator from its own, never from a task), or empty where no plan exists (simulations, benchmarks): bound
 *     into every key advertisement (per round and per period), so a bank accepts a peer's keys only if the peer signed
 *     them for the same plan, and a coordinator that offers banks of one job different plans (another unmasking mode,
 *     self mask, key_rounds, threshold...) cannot mix them in one sum (docs/SECURE_AGGREGATION.md, "The plan in the
 *     key advertisement")
 */
public record RoundParameters(String jobId, long round, List<String> bankIds, int threshold, int ringBits,
               int dimension, int neighbourDegree, boolean consistencyCheck, boolean unmaskingWithInput,
               boolean selfMask, String planDigest) {
  public static final int MAX_BANKS = 10_000;
  public static final int MAX_DIMENSION = 1 << 28;
  public static final int MAX_ID_BYTES = 128;
  /** The sender/recipient id that stands for the coordinator in message headers. */
  public static final String COORDINATOR_ID = "coordinator";

  public RoundParameters {
    requireId("jobId", jobId);
    if (round < 0) {
      throw new IllegalArgumentException("round must be >= 0, got " + round);
    }
    if (bankIds == null || bankIds.size() < 2 || bankIds.size() > MAX_BANKS) {
      throw new IllegalArgumentException("bankIds must list 2 to " + MAX_BANKS + " banks, got "
          + (bankIds == null ? "null" : bankIds.size()));
    }
    bankIds = List.copyOf(bankIds);
    Set<String> seen = new HashSet<>();
    for (String id : bankIds) {
      requireId("bankIds[]", id);
      if (id.equals(COORDINATOR_ID)) {
        throw new IllegalArgumentException("bankIds must not contain the reserved id '" + COORDINATOR_ID + "'");
      }
      if (!seen.add(id)) {
        throw new IllegalArgumentException("bankIds contains '" + id + "' twice");
      }
    }
    if (ringBits < 1 || ringBits > 32) {
      throw new IllegalArgumentException("ringBits must be in [1, 32], got " + ringBits);
    }
    if (dimension < 1 || dimension > MAX_DIMENSION) {
      throw new IllegalArgumentException("dimension must be in [1, " + MAX_DIMENSION + "], got " + dimension);
    }
    int n = bankIds.size();
    if (neighbourDegree < 0) {
      throw new IllegalArgumentException("neighbourDegree must be 0 (complete graph) or positive, got "
          + neighbourDegree);
    }
    boolean complete = neighbourDegree == 0 || neighbourDegree >= n - 1;
    if (!complete && (long) n * neighbourDegree % 2 != 0) {
      throw new IllegalArgumentException("neighbourDegree " + neighbourDegree + " with " + n
          + " banks: a regular graph needs banks * degree to be even");
    }
    int neighbourhood = complete ? n : neighbourDegree + 1;
    if (threshold <= neighbourhood / 2 || threshold > neighbourhood) {
      throw new IllegalArgumentException("threshold must be in [" + (neighbourhood / 2 + 1) + ", "
          + neighbourhood + "] for neighbourhoods of " + neighbourhood + " banks, got " + threshold);
    }
    // allowsFastUnmasking(), on the parameters (the fields are not assigned yet)
    if (unmaskingWithInput && !(consistencyCheck && complete && threshold >= n / 2 + 1)) {
      throw new IllegalArgumentException("unmaskingWithInput needs a complete graph whose consistency quorum is t, "
          + "with the consistency check on; got neighbourDegree " + neighbourDegree + ", threshold " + threshold
          + " of " + n + " banks, consistencyCheck " + consistencyCheck);
    }
    if (!selfMask && !unmaskingWithInput) {
      throw new IllegalArgumentException("a sum without self masks needs unmaskingWithInput: unmasking after the "
          + "inputs recovers a dropped bank's masks from its s^SK-shares, which such a sum never makes");
    }
    if (planDigest == null || !(planDigest.isEmpty() || planDigest.matches("[0-9a-f]{64}"))) {
      throw new IllegalArgumentException("planDigest must be empty or 64 lowercase hex digits (SHA-256), got "
          + (planDigest == null ? "null" : "'" + planDigest + "'"));
    }
  }

  /** Bound to no plan (an empty {@link #planDigest}): simulations, benchmarks and tests of the protocol alone. */
  public RoundParameters(String jobId, long round, List<String> bankIds, int threshold, int ringBits,
                         int dimension, int neighbourDegree, boolean consistencyCheck, boolean unmaskingWithInput,
                         boolean selfMask) {
    this(jobId, round, bankIds, threshold, ringBits, dimension, neighbourDegree, consistencyCheck, unmaskingWithInput,
        selfMask, "");
  }

  /** With a self mask and shares ({@code selfMask} true): every protocol version before 7. */
  public RoundParameters(String jobId, long round, List<String> bankIds, int threshold, int ringBits,
                         int dimension, int neighbourDegree, boolean consistencyCheck, boolean unmaskingWithInput) {
    this(jobId, round, bankIds, threshold, ringBits, dimension, neighbourDegree, consistencyCheck, unmaskingWithInput,
        true);
  }

  /** Unmasking after the inputs (the protocol's stages 3 and 4): {@code unmaskingWithInput} false. */
  public RoundParameters(String jobId, long round, List<String> bankIds, int threshold, int ringBits,
                         int dimension, int neighbourDegree, boolean consistencyCheck) {
    this(jobId, round, bankIds, threshold, ringBits, dimension, neighbourDegree, consistencyCheck, false, true);
  }

  /**
   * The default threshold: the smallest strict majority of each neighbourhood (all {@code banks} for
   * the complete graph, a bank and its {@code neighbourDegree} neighbours for SecAgg+). It tolerates
   * the most dropouts while a coordinator that deviates from the protocol, but runs the consistency
   * check, still cannot get a t-th share of both secrets of one bank (Bonawitz et al. 2017, 6.3: each
   * honest bank signs one survivor set, and two sets with t signatures each would need 2t > n
   * signers). Job-level rules (the job's {@code min_banks}) may raise it; see docs/SECURE_AGGREGATION.md.
   */
  public static int majorityThreshold(int banks, int neighbourDegree) {
    boolean complete = neighbourDegree == 0 || neighbourDegree >= banks - 1;
    int neighbourhood = complete ? banks : neighbourDegree + 1;
    return neighbourhood / 2 + 1;
  }

  /** Complete graph, 32-bit ring, with the consistency check: the default for a consortium of ~10 banks. */
  public static RoundParameters completeGraph(String jobId, long round, List<String> bankIds, int threshold,
                        int dimension) {
    return new RoundParameters(jobId, round, bankIds, threshold, 32, dimension, 0, true);
  }

  public RoundParameters withRingBits(int bits) {
    return new RoundParameters(jobId, round, bankIds, threshold, bits, dimension, neighbourDegree, consistencyCheck,
        unmaskingWithInput, selfMask, planDigest);
  }

  public RoundParameters withNeighbourDegree(int degree) {
    return new RoundParameters(jobId, round, bankIds, threshold, ringBits, dimension, degree, consistencyCheck,
        unmaskingWithInput, selfMask, planDigest);
  }

  public RoundParameters withConsistencyCheck(boolean enabled) {
    return new RoundParameters(jobId, round, bankIds, threshold, ringBits, dimension, neighbourDegree, enabled,
        unmaskingWithInput, selfMask, planDigest);
  }

  /** These parameters with each bank's b-shares travelling with its masked input (or not). */
  public RoundParameters withUnmaskingWithInput(boolean enabled) {
    return new RoundParameters(jobId, round, bankIds, threshold, ringBits, dimension, neighbourDegree,
        consistencyCheck, enabled, selfMask, planDigest);
  }

  /**
   * These parameters with or without self masks (false only with {@link #unmaskingWithInput}; docs/SECURE_AGGREGATION.md,
   * "No self mask under with_input").
   */
  public RoundParameters withSelfMask(boolean enabled) {
    return new RoundParameters(jobId, round, bankIds, threshold, ringBits, dimension, neighbourDegree,
        consistencyCheck, unmaskingWithInput, enabled, planDigest);
  }

  /** These parameters bound to the plan of digest {@code digest} ({@link #planDigest}). */
  public RoundParameters withPlanDigest(String digest) {
    return new RoundParameters(jobId, round, bankIds, threshold, ringBits, dimension, neighbourDegree,
        consistencyCheck, unmaskingWithInput, selfMask, digest);
  }

  /** Whether every bank masks with every other bank (no SecAgg+ sparsification). */
  public boolean isCompleteGraph() {
    return neighbourDegree == 0 || neighbourDegree >= bankIds.size() - 1;
  }

  /**
   * How many valid consistency signatures over one survivor set a bank needs before it reveals any
   * share (Bonawitz et al. 2017, round 4: "at least t signatures"). Honest banks sign only one set
   * each, so a quorum above half the roster makes that set unique among them. In the complete graph
   * the threshold already is such a majority; with SecAgg+ the threshold is a majority of a
   * neighbourhood only, so the quorum is raised to a majority of the roster: a coordinator that
   * showed two halves of the roster two survivor sets would otherwise collect b-shares of a bank in
   * one half and s^SK-shares of its neighbours in the other.
   */
  public int consistencyQuorum() {
    return Math.max(threshold, bankIds.size() / 2 + 1);
  }

  /**
   * Whether a sum nobody dropped from may skip the consistency check (docs/SECURE_AGGREGATION.md, "No
   * consistency check when nobody dropped"): only in a complete graph whose quorum is t, where releasing
   * b-shares without signatures keeps the bound 2t > n + c. A SecAgg+ round's quorum is a majority of the
   * whole roster, which the fast path would drop. The coordinator offers the path and every bank checks it
   * with this one rule.
   */
  public boolean allowsFastUnmasking() {
    return consistencyCheck && isCompleteGraph() && consistencyQuorum() == threshold;
  }

  /** The 1-based position of {@code bankId} in the roster, its Shamir x-coordinate. */
  public int shareIndexOf(String bankId) {
    int index = bankIds.indexOf(bankId);
    if (index < 0) {
      throw new IllegalArgumentException("bank '" + bankId + "' is not in the roster of job '" + jobId
          + "' round " + round);
    }
    return index + 1;
  }

  /** 2^k - 1 as an int bit mask (all ones for k = 32). */
  public int ringMask() {
    return ringBits == 32 ? -1 : (1 << ringBits) - 1;
  }

  private static void requireId(String field, String id) {
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException(field + " must be non-empty, got " + (id == null ? "null" : "''"));
    }
    if (id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
      throw new IllegalArgumentException(field + " must be at most " + MAX_ID_BYTES + " UTF-8 bytes, got '"
          + id + "'");
    }
  }
}
