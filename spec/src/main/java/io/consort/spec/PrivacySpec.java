package io.consort.spec;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The differential privacy a job gives. Each unit that is on says how its noise is chosen: an
 * explicit noise multiplier, or none, in which case the noise is calibrated to {@code
 * targetEpsilon} (record level: by each bank for its own rows, since sampling rates differ; bank
 * level: by the coordinator for the job's rounds).
 *
 * @param mode which units are on
 * @param delta the delta of every (epsilon, delta) guarantee the job states, in (0, 1)
 * @param targetEpsilon the epsilon a unit without an explicit noise multiplier is calibrated to
 * @param record record-level DP-SGD settings; present exactly when {@code mode.recordLevel()}
 * @param bank bank-level noise settings; present exactly when {@code mode.bankLevel()}
 */
public record PrivacySpec(PrivacyMode mode, double delta, OptionalDouble targetEpsilon, Optional<RecordDp> record,
                          Optional<BankDp> bank) {

  /**
   * Record-level DP-SGD (Abadi et al. 2016) inside each bank.
   *
   * @param clipNorm per-example L2 clip C
   * @param noiseMultiplier z, noise standard deviation over C; empty: calibrated to the target epsilon
   */
  public record RecordDp(double clipNorm, OptionalDouble noiseMultiplier, Optional<DistributedNoise> distributed) {
    public RecordDp {
      if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
        throw new InvalidJobSpecException("privacy.record_clip_norm", "must be finite and > 0, got " + clipNorm);
      }
      noiseMultiplier = checkMultiplier("privacy.record_noise_multiplier", noiseMultiplier);
      distributed = distributed == null ? Optional.empty() : distributed;
    }

    /** DP-SGD with each bank adding its full noise locally (several local steps per round). */
    public RecordDp(double clipNorm, OptionalDouble noiseMultiplier) {
      this(clipNorm, noiseMultiplier, Optional.empty());
    }
  }

  /**
   * Distributed record-level noise: every round is one DP-SGD step of federated SGD on the consortium's
   * pooled rows; each bank adds only its share of the step's Gaussian noise under secure aggregation,
   * sized so that the shares the {@code colludingBanks} cannot remove carry the whole step's noise
   * (docs/PRIVACY.md, "Distributed record-level noise").
   *
   * @param colludingBanks k: banks (besides the coordinator) assumed to pool their own shares against a
   *     bank's customers; at least 1, since every other bank holds the model and knows its own share
   * @param samplingRate q: every bank Poisson-samples its rows at this rate, so the pooled sample is a
   *     Poisson sample of the union, as one centralised DP-SGD step's
   */
  public record DistributedNoise(int colludingBanks, double samplingRate) {
    public DistributedNoise {
      if (colludingBanks < 1) {
        throw new InvalidJobSpecException("privacy.colluding_banks", "must be at least 1 (every other bank knows its"
            + " own share), got " + colludingBanks);
      }
      if (!(samplingRate > 0 && samplingRate <= 1)) {
        throw new InvalidJobSpecException("privacy.record_sampling_rate", "must be in (0, 1], got " + samplingRate);
      }
    }
  }

  /**
   * Bank-level DP: each bank adds a share of distributed discrete Gaussian noise under secure
   * aggregation (Kairouz, Liu, Steinke 2021); the clip is the secure-aggregation clip.
   *
   * @param noiseMultiplier z of the summed noise relative to one bank's clip; empty: calibrated to the
   *     target epsilon over the job's rounds
   */
  public record BankDp(OptionalDouble noiseMultiplier) {
    public BankDp {
      noiseMultiplier = checkMultiplier("privacy.bank_noise_multiplier", noiseMultiplier);
    }
  }

  public PrivacySpec {
    Objects.requireNonNull(mode, "mode");
    targetEpsilon = targetEpsilon == null ? OptionalDouble.empty() : targetEpsilon;
    record = record == null ? Optional.empty() : record;
    bank = bank == null ? Optional.empty() : bank;
    if (!(delta > 0 && delta < 1)) {
      throw new InvalidJobSpecException("privacy.delta", "must be in (0, 1), got " + delta);
    }
    if (targetEpsilon.isPresent()
        && (!(targetEpsilon.getAsDouble() > 0) || Double.isInfinite(targetEpsilon.getAsDouble()))) {
      throw new InvalidJobSpecException("privacy.target_epsilon", "must be finite and > 0, got "
          + targetEpsilon.getAsDouble());
    }
    if (record.isPresent() != mode.recordLevel()) {
      throw new InvalidJobSpecException("privacy.unit", mode.wireName() + (mode.recordLevel()
          ? " needs record-level DP-SGD settings" : " takes no record-level settings (record_clip_norm, "
          + "record_noise_multiplier)"));
    }
    if (bank.isPresent() != mode.bankLevel()) {
      throw new InvalidJobSpecException("privacy.unit", mode.wireName() + (mode.bankLevel()
          ? " needs bank-level noise settings" : " takes no bank-level settings (bank_noise_multiplier)"));
    }
    boolean needsTarget = record.map(r -> r.noiseMultiplier().isEmpty()).orElse(false)
        || bank.map(b -> b.noiseMultiplier().isEmpty()).orElse(false);
    if (needsTarget && targetEpsilon.isEmpty()) {
      throw new InvalidJobSpecException("privacy.target_epsilon", "is required with privacy unit " + mode.wireName()
          + " unless every unit's noise multiplier is given");
    }
  }

  /** No differential privacy. */
  public static PrivacySpec off(double delta) {
    return new PrivacySpec(PrivacyMode.OFF, delta, OptionalDouble.empty(), Optional.empty(), Optional.empty());
  }

  public boolean recordLevel() {
    return mode.recordLevel();
  }

  public boolean bankLevel() {
    return mode.bankLevel();
  }

  /** The distributed record-level noise settings, if the job shares its DP-SGD noise among the banks. */
  public Optional<DistributedNoise> distributedRecordNoise() {
    return record.flatMap(RecordDp::distributed);
  }

  private static OptionalDouble checkMultiplier(String field, OptionalDouble z) {
    if (z == null) {
      return OptionalDouble.empty();
    }
    if (z.isPresent() && (!(z.getAsDouble() > 0) || Double.isInfinite(z.getAsDouble()))) {
      throw new InvalidJobSpecException(field, "must be finite and > 0, got " + z.getAsDouble());
    }
    return z;
  }
}
