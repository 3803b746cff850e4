package io.consort.coordinator.job;

import com.google.protobuf.ByteString;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.Stage;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;

/**
 * The coordinator's wire helpers for a secure round. A round's parameters are not computed here but
 * by {@link io.consort.spec.SecureRoundPlan#derive}, the one derivation the banks use too.
 */
final class SecureAggregationPlan {
  private SecureAggregationPlan() {}

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
