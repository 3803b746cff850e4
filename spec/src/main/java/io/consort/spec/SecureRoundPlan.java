package io.consort.spec;

import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.accounting.NoiseCalibration;
import io.consort.privacy.ledger.BankNoiseShare;
import io.consort.privacy.ledger.RecordNoiseShare;
import io.consort.protocol.v1.SecAggPlan;
import io.consort.secagg.Quantizer;
import io.consort.secagg.RoundParameters;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * One secure-aggregation round: the protocol's parameters (threshold, ring, neighbour graph,
 * consistency check) and how every bank's input is quantised and noised. The coordinator and every
 * bank compute it with the one function {@link #derive}, from the job specification (for a bank, the
 * one it pinned when it accepted the job) and the round's roster. The coordinator sends its values
 * in each training task only so that a bank can refuse a task that disagrees ({@link #checkTask}): a
 * bank never takes a threshold, a degree, a quantiser or a noise level from a task.
 *
 * @param parameters the secure-aggregation round
 * @param clipNorm C, the L2 clip of each bank's weighted update (and the bank-level sensitivity)
 * @param quantizerBanks n of the quantiser's no-wrap bound: the roster, plus headroom for the noise
 * @param perBankSigma each bank's discrete Gaussian share, quantised units; 0 without bank-level DP
 * @param bankNoiseMultiplier the job's bank-level z (noise on the sum over one bank's clip); 0 without
 */
public record SecureRoundPlan(RoundParameters parameters, double clipNorm, int quantizerBanks, double perBankSigma,
                              double bankNoiseMultiplier, RecordNoiseShare recordNoise) {

  /**
   * Under distributed record-level noise, the L2 bound on each bank's gradient sum, in per-example clips:
   * the quantiser's range. Clipping a sum is a projection, so one record still moves it by at most C;
   * a bank whose Poisson sample is larger than this and whose gradients all align is cut (utility only).
   * At 32 bits, 5 banks and this bound, the quantised sensitivity C s + sqrt(d) is C s (1 + 0.1%).
   */
  public static final int GRADIENT_SUM_BOUND_EXAMPLES = 4096;

  public SecureRoundPlan {
    Objects.requireNonNull(parameters, "parameters");
  }

  /** A round without distributed record-level noise. */
  public SecureRoundPlan(RoundParameters parameters, double clipNorm, int quantizerBanks, double perBankSigma,
                         double bankNoiseMultiplier) {
    this(parameters, clipNorm, quantizerBanks, perBankSigma, bankNoiseMultiplier, null);
  }

  /**
   * The round's parameters.
   *
   * <ul>
   *   <li>Roster: at least the job's {@code min_banks}, and never one bank (a sum of one bank is that
   *       bank's update).
   *   <li>Threshold: the specification's, or the smallest strict majority of each neighbourhood
   *       ({@link RoundParameters#majorityThreshold}), raised to {@code min_banks} so that no sum of
   *       fewer banks than the job allows is unmasked.
   *   <li>Quantisation: the clip and ring of the specification; the quantiser's bank count is the
   *       roster plus, under bank-level DP, 8 standard deviations of the summed noise in units of
   *       one bank's range, so the noisy sum cannot wrap the ring either.
   *   <li>Bank-level noise: each bank's share sigma_i is planned so that with only the threshold t
   *       surviving, the t - 1 shares that any one survivor cannot remove carry the job's noise
   *       (z times the clip, quantised): sigma_i = z C s / sqrt(t - 1) (docs/PRIVACY.md).
   * </ul>
   *
   * @param spec the job; secure aggregation must be enabled
   * @param roster the round's members in order (the order fixes Shamir x-coordinates and mask signs)
   * @param dimension the model's parameter count
   * @throws IllegalArgumentException naming what does not allow a secure round
   */
  public static SecureRoundPlan derive(JobSpec spec, long round, List<String> roster, int dimension) {
    SecureAggregationSpec a = spec.secureAggregation();
    RoundParameters parameters = parameters(spec, SecureSumPurpose.MODEL_UPDATE.secaggRound(round), roster,
        a.modulusBits(), dimension);
    int n = roster.size();
    int threshold = parameters.threshold();
    double clip = a.clipNorm();
    if (spec.privacy().distributedRecordNoise().isPresent()) {
      return deriveDistributedRecordNoise(spec, parameters, n, dimension);
    }
    if (!spec.privacy().bankLevel()) {
      return new SecureRoundPlan(parameters, clip, n, 0, 0);
    }
    double z = bankNoiseMultiplier(spec);
    // the summed noise at the threshold, relative to one bank's range: z sqrt(n / (t - 1))
    int headroom = (int) Math.ceil(8 * z * Math.sqrt((double) n / (threshold - 1))) + 1;
    Quantizer quantizer = new Quantizer(clip, n + headroom, a.modulusBits());
    double perBank = DistributedDiscreteGaussian.planAgainstOneSurvivor(z * clip * quantizer.scale(), n, threshold)
        .perBankSigma();
    return new SecureRoundPlan(parameters, clip, n + headroom, perBank, z);
  }

  /**
   * A federated DP-SGD step with distributed record-level noise: each bank's input is its clipped
   * per-example gradient sum (bounded in norm by {@link #GRADIENT_SUM_BOUND_EXAMPLES} clips), and its
   * noise share sigma_i = z Delta2 / sqrt(t - k) (quantised units), where z is the job's step noise
   * multiplier, Delta2 = C s + sqrt(d) and k the job's colluding banks ({@link RecordNoiseShare}). The
   * quantiser's bank count carries 8 standard deviations of the summed noise as headroom.
   */
  private static SecureRoundPlan deriveDistributedRecordNoise(JobSpec spec, RoundParameters parameters, int n,
                                                              int dimension) {
    PrivacySpec.DistributedNoise d = spec.privacy().distributedRecordNoise().orElseThrow();
    double recordClip = spec.privacy().record().orElseThrow().clipNorm();
    double bound = recordClip * GRADIENT_SUM_BOUND_EXAMPLES;
    int threshold = parameters.threshold();
    if (d.colludingBanks() >= threshold) {
      throw new IllegalArgumentException("the round's threshold " + threshold + " does not exceed the job's "
          + d.colludingBanks() + " colluding banks");
    }
    double z = recordNoiseMultiplier(spec);
    int ringBits = spec.secureAggregation().modulusBits();
    int headroom = 1;
    RecordNoiseShare share = null;
    for (int attempt = 0; attempt < 4; attempt++) {
      Quantizer quantizer = new Quantizer(bound, n + headroom, ringBits);
      double l2 = recordClip * quantizer.scale() + Math.sqrt(dimension);
      double sigma = RecordNoiseShare.perBankSigma(z, l2, threshold, d.colludingBanks());
      share = new RecordNoiseShare(sigma, threshold, d.colludingBanks(), d.samplingRate(), recordClip, l2, dimension);
      // each bank's range is bound * scale; the summed noise of n shares must fit 8 standard deviations
      int needed = (int) Math.ceil(8 * Math.sqrt(n) * sigma / (bound * quantizer.scale())) + 1;
      if (needed <= headroom) {
        break;
      }
      headroom = needed;
    }
    return new SecureRoundPlan(parameters, bound, n + headroom, share.perBankSigma(), 0, share);
  }

  /**
   * The job's record-level step noise multiplier under distributed noise: the specification's, or the
   * smallest that keeps its rounds (one Poisson-subsampled Gaussian step each, at the job's rate) within
   * its target epsilon. Every bank and the coordinator compute the same value from the plan.
   */
  public static double recordNoiseMultiplier(JobSpec spec) {
    PrivacySpec p = spec.privacy();
    PrivacySpec.DistributedNoise d = p.distributedRecordNoise().orElseThrow(() -> new IllegalArgumentException(
        "job '" + spec.id() + "' has no distributed record-level noise"));
    OptionalDouble explicit = p.record().orElseThrow().noiseMultiplier();
    if (explicit.isPresent()) {
      return explicit.getAsDouble();
    }
    return CALIBRATED.computeIfAbsent(new Calibration(p.targetEpsilon().orElseThrow(), d.samplingRate(),
        spec.training().rounds(), p.delta()), c -> NoiseCalibration.defaults().noiseMultiplier(c.epsilon(),
        c.samplingRate(), c.steps(), c.delta()));
  }

  private record Calibration(double epsilon, double samplingRate, long steps, double delta) {}

  /** Calibration is a bisection over the accountant; every round of a job asks for the same value. */
  private static final java.util.Map<Calibration, Double> CALIBRATED = new java.util.concurrent.ConcurrentHashMap<>();

  /** Whether each bank adds a share of the round's record-level DP-SGD noise. */
  public boolean distributedRecordNoise() {
    return recordNoise != null;
  }

  /**
   * The parameters of a secure sum of integer vectors (feature statistics, evaluation histograms): the
   * roster, threshold, neighbour graph and consistency check of {@link #derive}, over the full 32-bit
   * ring the vectors' 16-bit limbs are summed in, under the purpose's own round id.
   *
   * @param purpose what is summed; not {@link SecureSumPurpose#MODEL_UPDATE}, which {@link #derive} plans
   * @throws IllegalArgumentException naming what does not allow a secure sum
   */
  public static RoundParameters sum(JobSpec spec, long round, SecureSumPurpose purpose, List<String> roster,
                                    int dimension) {
    if (purpose == SecureSumPurpose.MODEL_UPDATE) {
      throw new IllegalArgumentException("model updates are planned by derive, with their quantiser and noise");
    }
    return parameters(spec, purpose.secaggRound(round), roster, 32, dimension);
  }

  private static RoundParameters parameters(JobSpec spec, long secaggRound, List<String> roster, int ringBits,
                                            int dimension) {
    SecureAggregationSpec a = spec.secureAggregation();
    if (!a.enabled()) {
      throw new IllegalArgumentException("job '" + spec.id() + "' has secure aggregation off");
    }
    int n = roster.size();
    int required = Math.max(2, spec.training().minBanks());
    if (n < required) {
      throw new IllegalArgumentException("the round's roster has " + n + " bank" + (n == 1 ? "" : "s")
          + ", below the " + required + " the job requires (min_banks " + spec.training().minBanks()
          + "; a sum of one bank is that bank's update)");
    }
    int degree = a.neighbourDegreeOrComplete();
    int threshold = Math.max(a.threshold().orElse(RoundParameters.majorityThreshold(n, degree)), required);
    return new RoundParameters(spec.id(), secaggRound, roster, threshold, ringBits, dimension, degree,
        a.consistencyCheck(), a.unmaskingWithInput(), a.selfMask(), planDigest(spec));
  }

  /**
   * The digest every key advertisement of the job is signed with ({@link RoundParameters#planDigest}): SHA-256 of the
   * job's whole plan as {@link JobSpecWire#toProto} writes it, without its initial parameters (the model bound into
   * the masks covers those from round 1 on), lowercase hex. Not only the secure-aggregation section: a bank offered
   * the same section but another learning rate, proximal term, local epochs, privacy section, rounds or min_banks
   * than its peers would train or add noise differently from what its accounting of the sum assumes (peers with a
   * learning rate of 1e-9 leave the victim's update alone in the sum). A bank computes it from the plan it pinned and
   * the coordinator from its own; the plan is the same for every bank of a job (nothing in it is per bank), so honest
   * parties agree on it, and a bank offered another plan than its peers signs keys none of them accepts. Kept per
   * specification: the rounds ask for it several times each.
   */
  public static String planDigest(JobSpec spec) {
    return PLAN_DIGESTS.computeIfAbsent(spec, s -> {
      try {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
            .digest(JobSpecWire.toProto(s).toBuilder().clearInitialParameters().build().toByteArray()));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is required of every Java platform", e);
      }
    });
  }

  private static final java.util.Map<JobSpec, String> PLAN_DIGESTS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /**
   * The job's bank-level noise multiplier: the specification's, or the smallest that keeps its rounds
   * of the (unsubsampled, q = 1) Gaussian mechanism within its target epsilon.
   */
  public static double bankNoiseMultiplier(JobSpec spec) {
    PrivacySpec p = spec.privacy();
    OptionalDouble explicit = p.bank().orElseThrow(() -> new IllegalArgumentException("job '" + spec.id()
        + "' has no bank-level DP")).noiseMultiplier();
    if (explicit.isPresent()) {
      return explicit.getAsDouble();
    }
    return NoiseCalibration.defaults().noiseMultiplier(p.targetEpsilon().orElseThrow(), 1.0,
        spec.training().rounds(), p.delta());
  }

  public int threshold() {
    return parameters.threshold();
  }

  /** The job round this secure round belongs to (its secure-aggregation round id also says its purpose). */
  public long jobRound() {
    return parameters.round() / SecureSumPurpose.values().length;
  }

  /** Whether each bank adds a bank-level discrete Gaussian share. */
  public boolean bankLevel() {
    return perBankSigma > 0 && recordNoise == null;
  }

  public Quantizer quantizer() {
    return new Quantizer(clipNorm, quantizerBanks, parameters.ringBits());
  }

  /**
   * Delta2 of the quantised sum with respect to one bank: its weighted update (weight at most 1) is
   * clipped to C, so C s after scaling, plus at most 1 per coordinate from stochastic rounding.
   */
  public double l2Sensitivity() {
    return recordNoise != null ? recordNoise.l2Sensitivity()
        : clipNorm * quantizer().scale() + Math.sqrt(parameters.dimension());
  }

  /** What each bank's discrete Gaussian share amounts to in this round (the ledger's bank-level record). */
  public BankNoiseShare bankNoiseShare() {
    if (!bankLevel()) {
      throw new IllegalStateException("round " + parameters.round() + " of job '" + parameters.jobId()
          + "' has no bank-level noise");
    }
    return new BankNoiseShare(perBankSigma, threshold(), clipNorm, l2Sensitivity(), parameters.dimension());
  }

  /**
   * The secure sum the round runs when each bank's input carries {@code evaluationSlots} evaluation
   * slots after its update ({@link RoundEvaluation}): the round's parameters, one vector of the update's
   * dimension plus those slots, over the 32-bit ring the evaluation's 16-bit limbs are summed in. The
   * update's {@code modulus_bits}-bit values are sign-extended into it ({@link #combine}), so its part
   * of the sum is the integer sum of the banks' quantised updates, which the quantiser's no-wrap bound
   * keeps inside the update's own ring: reduced back ({@link #updatePart}) it is the value a sum over
   * that ring gives. Without evaluation slots these are {@link #parameters} unchanged.
   */
  public RoundParameters sumParameters(int evaluationSlots) {
    if (evaluationSlots < 0) {
      throw new IllegalArgumentException("evaluationSlots must be >= 0, got " + evaluationSlots);
    }
    if (evaluationSlots == 0) {
      return parameters;
    }
    RoundParameters p = parameters;
    return new RoundParameters(p.jobId(), p.round(), p.bankIds(), p.threshold(), 32,
        Math.addExact(p.dimension(), evaluationSlots), p.neighbourDegree(), p.consistencyCheck(),
        p.unmaskingWithInput(), p.selfMask(), p.planDigest());
  }

  /**
   * A bank's input to {@link #sumParameters}: its update in the round's ring ({@code update}, values in
   * [0, 2^modulus_bits)), sign-extended to 32 bits, then {@code evaluation} (32-bit slots).
   */
  public int[] combine(int[] update, int[] evaluation) {
    if (update.length != parameters.dimension()) {
      throw new IllegalArgumentException("update of " + update.length + " values for a round of dimension "
          + parameters.dimension());
    }
    if (evaluation.length == 0) {
      return update;
    }
    int shift = 32 - parameters.ringBits();
    int[] input = java.util.Arrays.copyOf(update, update.length + evaluation.length);
    for (int i = 0; i < update.length; i++) {
      input[i] = (update[i] << shift) >> shift;
    }
    System.arraycopy(evaluation, 0, input, update.length, evaluation.length);
    return input;
  }

  /** The update's part of a sum over {@link #sumParameters}, back in the round's ring. */
  public int[] updatePart(int[] sum) {
    if (sum.length < parameters.dimension()) {
      throw new IllegalArgumentException("a sum of " + sum.length + " slots has no update of dimension "
          + parameters.dimension());
    }
    int mask = parameters.ringMask();
    int[] update = java.util.Arrays.copyOf(sum, parameters.dimension());
    for (int i = 0; i < update.length; i++) {
      update[i] &= mask;
    }
    return update;
  }

  /** The evaluation's part of a sum over {@link #sumParameters}: the slots after the update. */
  public int[] evaluationPart(int[] sum) {
    return java.util.Arrays.copyOfRange(sum, parameters.dimension(), sum.length);
  }

  /** The secure-aggregation settings of the round's training task: the job's, with this round's values. */
  public SecAggPlan toTask(JobSpec spec) {
    return JobSpecWire.secureAggregation(spec).toBuilder().setThreshold(threshold())
        .setQuantizerBanks(quantizerBanks).setPerBankSigma(perBankSigma).build();
  }

  /**
   * Refuses a training task whose secure-aggregation settings are not exactly {@link #toTask}: what a
   * bank derived itself is what it uses, and a coordinator that says otherwise is lying or broken.
   *
   * @throws IllegalArgumentException naming the first field that differs, with both values
   */
  public void checkTask(JobSpec spec, SecAggPlan task) {
    SecAggPlan expected = toTask(spec);
    if (task.equals(expected)) {
      return;
    }
    String where = " with the round's " + parameters.bankIds().size() + " members";
    if (task.getThreshold() != expected.getThreshold()) {
      throw new IllegalArgumentException("the task's threshold " + task.getThreshold()
          + (task.getThreshold() < expected.getThreshold() ? " is below " : " differs from ") + "the "
          + expected.getThreshold() + " this bank derives from the accepted plan" + where);
    }
    if (task.hasNeighbourDegree() != expected.hasNeighbourDegree()
        || task.getNeighbourDegree() != expected.getNeighbourDegree()) {
      throw new IllegalArgumentException("the task's neighbour degree " + degree(task) + " differs from the accepted "
          + "plan's " + degree(expected));
    }
    if (task.getConsistencyCheck() != expected.getConsistencyCheck() || !task.hasConsistencyCheck()) {
      throw new IllegalArgumentException("the task's consistency check " + (task.hasConsistencyCheck()
          ? task.getConsistencyCheck() : "(absent)") + " differs from the accepted plan's "
          + expected.getConsistencyCheck());
    }
    if (task.getUnmaskingWithInput() != expected.getUnmaskingWithInput()) {
      throw new IllegalArgumentException("the task's unmasking " + unmasking(task) + " differs from the accepted "
          + "plan's " + unmasking(expected) + " (" + SecureAggregationSpec.UNMASKING_KEY + ")");
    }
    if (task.getKeyRounds() != expected.getKeyRounds()) {
      throw new IllegalArgumentException("the task's key_rounds " + task.getKeyRounds() + " differs from the accepted "
          + "plan's " + expected.getKeyRounds() + " (" + SecureAggregationSpec.KEY_ROUNDS_KEY + "; 0 stands for 1)");
    }
    if (task.hasSelfMask() != expected.hasSelfMask() || task.getSelfMask() != expected.getSelfMask()) {
      throw new IllegalArgumentException("the task's self_mask " + selfMask(task) + " differs from the accepted plan's "
          + selfMask(expected) + " (" + SecureAggregationSpec.SELF_MASK_KEY + ")");
    }
    if (task.getPerBankSigma() != expected.getPerBankSigma()) {
      throw new IllegalArgumentException("the task's per_bank_sigma " + task.getPerBankSigma() + " differs from the "
          + expected.getPerBankSigma() + " this bank derives from the accepted plan" + where);
    }
    if (task.getQuantizerBanks() != expected.getQuantizerBanks()) {
      throw new IllegalArgumentException("the task's quantizer_banks " + task.getQuantizerBanks() + " differs from "
          + "the " + expected.getQuantizerBanks() + " this bank derives from the accepted plan" + where);
    }
    throw new IllegalArgumentException("the task's secure-aggregation settings differ from the accepted plan's ("
        + task.toString().replace('\n', ' ') + " instead of " + expected.toString().replace('\n', ' ') + ")");
  }

  /**
   * The period of keys job round {@code jobRound}'s pipelined sum is masked with ({@link
   * io.consort.secagg.KeyPeriod}: periods of the plan's {@code key_rounds} rounds), or null when the plan has fresh
   * keys for every sum ({@code key_rounds} 1). Every bank and the coordinator derive it from the job round they
   * derive themselves, never from a task.
   */
  public static io.consort.secagg.KeyPeriod keyPeriod(JobSpec spec, long jobRound) {
    int rounds = spec.secureAggregation().keyRounds();
    return rounds > 1 ? io.consort.secagg.KeyPeriod.of(jobRound, rounds) : null;
  }

  private static String unmasking(SecAggPlan plan) {
    return plan.getUnmaskingWithInput() ? SecureAggregationSpec.WITH_INPUT : SecureAggregationSpec.AFTER_INPUTS;
  }

  private static String selfMask(SecAggPlan plan) {
    return plan.hasSelfMask() ? Boolean.toString(plan.getSelfMask()) : "(absent: true)";
  }

  private static String degree(SecAggPlan plan) {
    return plan.hasNeighbourDegree() ? Integer.toString(plan.getNeighbourDegree()) : "(complete graph)";
  }

}
