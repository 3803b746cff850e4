package io.consort.coordinator.job;

import com.google.protobuf.ByteString;
import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.accounting.NoiseCalibration;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.Stage;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacySpec;
import io.consort.spec.SecureAggregationSpec;
import io.consort.secagg.Quantizer;
import io.consort.secagg.RoundParameters;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.OptionalDouble;

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
   * The round's parameters. The threshold is the specification's (or the default majority), raised to
   * the job's {@code min_banks} so that no sum of fewer banks than the job allows is ever unmasked.
   */
  static RoundParameters roundParameters(JobSpec spec, int round, List<String> members, int dimension) {
    SecureAggregationSpec a = spec.secureAggregation();
    int degree = a.neighbourDegreeOrComplete();
    RoundParameters defaults = RoundParameters.forPlan(spec.id(), round, members, a.threshold().orElse(0),
        a.modulusBits(), dimension, degree);
    int threshold = Math.max(defaults.threshold(),
        Math.min(Math.max(2, spec.training().minBanks()), members.size()));
    return RoundParameters.forPlan(spec.id(), round, members, threshold, a.modulusBits(), dimension, degree);
  }

  /**
   * The bank-level noise multiplier: the specification's, or the smallest that keeps R rounds of the
   * (unsubsampled) Gaussian mechanism within its target epsilon.
   */
  static double bankNoiseMultiplier(JobSpec spec) {
    PrivacySpec p = spec.privacy();
    OptionalDouble explicit = p.bank().orElseThrow().noiseMultiplier();
    if (explicit.isPresent()) {
      return explicit.getAsDouble();
    }
    return NoiseCalibration.defaults().noiseMultiplier(p.targetEpsilon().orElseThrow(), 1.0,
        spec.training().rounds(), p.delta());
  }

  /** @param z the job's bank-level noise multiplier ({@link #bankNoiseMultiplier}); unused without bank-level DP */
  static Round forRound(JobSpec spec, int members, int dimension, int threshold, double z) {
    SecureAggregationSpec a = spec.secureAggregation();
    double clip = a.clipNorm();
    int bits = a.modulusBits();
    int minSurvivors = threshold;
    if (!spec.privacy().bankLevel()) {
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
