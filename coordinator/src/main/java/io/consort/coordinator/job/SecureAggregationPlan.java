package io.consort.coordinator.job;

import com.google.protobuf.ByteString;
import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.accounting.NoiseCalibration;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.PrivacyPlan;
import io.consort.protocol.v1.PrivacyUnit;
import io.consort.protocol.v1.SecAggPlan;
import io.consort.protocol.v1.Stage;
import io.consort.secagg.Quantizer;
import io.consort.secagg.RoundParameters;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;

/** How a job's secure-aggregation and bank-level DP settings become one round's parameters. */
final class SecureAggregationPlan {
  private SecureAggregationPlan() {}

  /**
   * One round's quantisation: the quantiser's bank count includes headroom for the banks' noise
   * shares (8 standard deviations of the summed noise, in units of one bank's range) so that the
   * noisy sum cannot wrap the ring either.
   *
   * @param perBankSigma each bank's discrete Gaussian share in quantised units (0: no bank-level DP)
   * @param bankNoiseMultiplier z of the summed noise relative to one bank's clip, if every bank survives
   */
  record Round(Quantizer quantizer, int quantizerBanks, double perBankSigma, double bankNoiseMultiplier,
               int minSurvivors) {}

  /**
   * The round's parameters. The threshold is the plan's (or the default majority), raised to the
   * job's {@code min_banks} so that no sum of fewer banks than the job allows is ever unmasked.
   */
  static RoundParameters roundParameters(String jobId, int round, List<String> members, SecAggPlan plan,
                                         int dimension, int minBanks) {
    RoundParameters defaults = RoundParameters.forPlan(jobId, round, members, plan.getThreshold(),
        plan.getModulusBits(), dimension, plan.getNeighbourDegree());
    int threshold = Math.max(defaults.threshold(), Math.min(Math.max(2, minBanks), members.size()));
    return RoundParameters.forPlan(jobId, round, members, threshold, plan.getModulusBits(), dimension,
        plan.getNeighbourDegree());
  }

  static boolean bankLevel(PrivacyPlan p) {
    return p.getUnit() == PrivacyUnit.BANK || p.getUnit() == PrivacyUnit.RECORD_AND_BANK;
  }

  /**
   * The bank-level noise multiplier: the plan's, or the smallest that keeps R rounds of the
   * (unsubsampled) Gaussian mechanism within the plan's target epsilon.
   */
  static double bankNoiseMultiplier(JobPlan plan) {
    PrivacyPlan p = plan.getPrivacy();
    if (p.getBankNoiseMultiplier() > 0) {
      return p.getBankNoiseMultiplier();
    }
    double delta = p.getDelta() > 0 ? p.getDelta() : 1e-5;
    return NoiseCalibration.defaults().noiseMultiplier(p.getTargetEpsilon(), 1.0, Math.max(1, plan.getRounds()), delta);
  }

  /** @param z the job's bank-level noise multiplier ({@link #bankNoiseMultiplier}); unused without bank-level DP */
  static Round forRound(JobPlan plan, int members, int dimension, int threshold, double z) {
    SecAggPlan a = plan.getSecureAggregation();
    double clip = a.getClipNorm() > 0 ? a.getClipNorm() : 1.0;
    int bits = a.getModulusBits() > 0 ? a.getModulusBits() : 32;
    int minSurvivors = threshold;
    if (!bankLevel(plan.getPrivacy())) {
      return new Round(new Quantizer(clip, members, bits), members, 0, 0, minSurvivors);
    }
    // the summed noise, relative to one bank's range, if only the threshold survive: z * sqrt(n / t)
    int headroom = (int) Math.ceil(8 * z * Math.sqrt((double) members / minSurvivors)) + 1;
    Quantizer quantizer = new Quantizer(clip, members + headroom, bits);
    double targetTotalSigma = z * clip * quantizer.scale();
    double perBank = DistributedDiscreteGaussian.plan(targetTotalSigma, members, minSurvivors).perBankSigma();
    return new Round(quantizer, members + headroom, perBank, z, minSurvivors);
  }

  static Stage wireStage(io.consort.secagg.Stage stage) {
    return switch (stage) {
      case ADVERTISE_KEYS -> Stage.ADVERTISE_KEYS;
      case SHARE_KEYS -> Stage.SHARE_KEYS;
      case MASKED_INPUT -> Stage.MASKED_INPUT;
      case CONSISTENCY_CHECK -> Stage.CONSISTENCY_CHECK;
      case UNMASKING -> Stage.UNMASKING;
    };
  }

  static PeerCertificate peerCertificate(String bank, X509Certificate certificate) {
    try {
      return PeerCertificate.newBuilder().setBankId(bank).setDer(ByteString.copyFrom(certificate.getEncoded())).build();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("certificate of bank '" + bank + "' cannot be encoded", e);
    }
  }
}
