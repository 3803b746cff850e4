package io.consort.participant;

import io.consort.certs.PemFiles;
import io.consort.identity.CertificateValidator;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggPlan;
import io.consort.protocol.v1.SecAggStep;
import io.consort.secagg.Quantizer;
import io.consort.secagg.RoundParameters;
import io.consort.secagg.SecAggClient;
import io.consort.secagg.wire.SecAggCodec;
import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bank's side of secure aggregation (Bonawitz et al. 2017): after local training it clips,
 * weights and quantises its update, then answers each stage through a {@link SecAggClient}. It
 * signs its round keys with its certificate's key, and checks every peer's key signature against
 * that peer's certificate, which must chain to the consortium CA, carry the participant role and
 * name the bank it claims to be: the coordinator relays keys but cannot substitute them.
 */
final class BankSecureAggregation {
  private static final Logger log = LoggerFactory.getLogger(BankSecureAggregation.class);

  private final String bankId;
  private final IdentitySigner signer;
  private final IdentityVerifier verifier;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, OpenRound> rounds = new HashMap<>();

  /** One round's client and the peer certificates the coordinator relayed with the key roster. */
  private static final class OpenRound {
    final Map<String, X509Certificate> peerCertificates = new HashMap<>();
    SecAggClient client;
  }

  BankSecureAggregation(ParticipantConfig config) {
    try {
      X509Certificate own = PemFiles.readCertificates(config.certFile()).get(0);
      this.bankId = PeerIdentity.fromCertificate(own).name();
      this.signer = new IdentitySigner(PemFiles.readPrivateKey(config.keyFile()));
      this.verifier = new IdentityVerifier(new CertificateValidator(PemFiles.readCertificate(config.caFile()), null));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("bank identity for secure aggregation: " + e.getMessage(), e);
    }
  }

  /** The round parameters both sides derive from the plan and the round's member list. */
  static RoundParameters roundParameters(String jobId, int round, List<String> members, SecAggPlan plan,
                                         int dimension) {
    return RoundParameters.forPlan(jobId, round, members, plan.getThreshold(), plan.getModulusBits(), dimension,
        plan.getNeighbourDegree());
  }

  /**
   * Quantises {@code noiseFree}, the bank's weighted update, adds {@code noise} (its discrete
   * Gaussian share in quantised units, or null), and opens the round.
   *
   * @return the bank's first message (its signed public keys), encoded
   */
  byte[] start(String jobId, int round, List<String> members, SecAggPlan plan, float[] update, Quantizer quantizer,
               long[] noise) throws GeneralSecurityException {
    RoundParameters params = roundParameters(jobId, round, members, plan, update.length);
    int[] input = quantizer.encode(update, random);
    if (noise != null) {
      int mask = params.ringMask();
      for (int i = 0; i < input.length; i++) {
        input[i] = (int) ((input[i] + noise[i]) & mask);
      }
    }
    OpenRound open = new OpenRound();
    open.client = SecAggClient.create(params, bankId, input, signer,
        (peer, message, signature) -> verifyPeer(open, peer, message, signature), random);
    rounds.keySet().removeIf(k -> k.startsWith(jobId + "/"));
    rounds.put(jobId + "/" + round, open);
    return SecAggCodec.encode(open.client.advertiseKeys());
  }

  /** Feeds one coordinator step to the round's client and returns its reply. */
  SecAggStep step(String jobId, int round, SecAggStep step) {
    OpenRound open = rounds.get(jobId + "/" + round);
    if (open == null) {
      throw new ProtocolViolationException("no secure-aggregation round is open at bank '" + bankId + "' for job '"
          + jobId + "' round " + round + " (the bank may have restarted)");
    }
    for (PeerCertificate pc : step.getCertificatesList()) {
      open.peerCertificates.put(pc.getBankId(), parse(pc));
    }
    SecAggStep.Builder reply = SecAggStep.newBuilder();
    try {
      for (ByteString message : step.getMessagesList()) {
        reply.addMessages(ByteString.copyFrom(open.client.handleEncoded(message.toByteArray())));
      }
    } catch (io.consort.secagg.ProtocolViolationException e) {
      if (open.client.isAborted()) {
        rounds.remove(jobId + "/" + round);
        log.error("secure aggregation aborted at bank '{}' in round {}: {}", bankId, round, open.client.abortReason());
      }
      throw new ProtocolViolationException(e.getMessage(), e);
    }
    if (open.client.isFinished()) {
      rounds.remove(jobId + "/" + round);
    }
    return reply.build();
  }

  private void verifyPeer(OpenRound open, String peer, byte[] message, byte[] signature)
      throws GeneralSecurityException {
    X509Certificate certificate = open.peerCertificates.get(peer);
    if (certificate == null) {
      throw new GeneralSecurityException("no certificate was relayed for bank '" + peer + "'");
    }
    PeerIdentity identity = verifier.verify(certificate, message, signature, Set.of(Role.PARTICIPANT));
    if (!identity.name().equals(peer)) {
      throw new GeneralSecurityException("the certificate relayed for bank '" + peer + "' belongs to '"
          + identity.name() + "'");
    }
  }

  private static X509Certificate parse(PeerCertificate pc) {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(pc.getDer().toByteArray()));
    } catch (CertificateException e) {
      throw new ProtocolViolationException("certificate relayed for bank '" + pc.getBankId() + "' is not a valid "
          + "X.509 certificate: " + e.getMessage(), e);
    }
  }
}
