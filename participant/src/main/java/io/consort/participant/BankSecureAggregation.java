package io.consort.participant;

import io.consort.certs.CrlFileValidator;
import io.consort.certs.PemFiles;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import io.consort.model.random.BulkSecureRandom;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.TrainTask;
import io.consort.secagg.RoundParameters;
import io.consort.secagg.SecAggClient;
import io.consort.secagg.wire.SecAggCodec;
import io.consort.spec.JobSpec;
import io.consort.spec.SecureRoundPlan;
import io.consort.spec.SecureSumPurpose;
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
 * that peer's certificate, which must chain to the consortium CA, not be on the consortium CRL (the
 * bank's {@code tls.crl}, reloaded when the file changes), carry the participant role and name the
 * bank it claims to be: the coordinator relays keys but cannot substitute them, nor relay a revoked
 * bank.
 *
 * <p>Every parameter of the round (threshold, ring, neighbour graph, consistency check,
 * quantisation, noise) is what the bank derives from the job it pinned and the round's roster
 * ({@link SecureRoundPlan#derive}); a task that says otherwise is refused before the bank trains.
 */
final class BankSecureAggregation {
  private static final Logger log = LoggerFactory.getLogger(BankSecureAggregation.class);

  /** Told the survivor set of each round the bank finished, before its unmasking response leaves. */
  @FunctionalInterface
  interface SurvivorsListener {
    void finished(String jobId, int round, List<String> survivors) throws IOException;
  }

  private final String bankId;
  private final IdentitySigner signer;
  private final IdentityVerifier verifier;
  private final SurvivorsListener survivorsListener;
  /**
   * Keys and shares. The JDK's NIST SP 800-90A DRBG (Hash_DRBG, SHA-256, seeded from the system's
   * entropy source) rather than the default NativePRNG, which mixes every read of /dev/urandom under
   * one lock per JVM: {@code consort bench round --model large} measured the masking of a training
   * task at about 1.5 s a round with it.
   */
  private final SecureRandom random = drbg();
  /** The quantiser's randomized rounding, about a byte per coordinate: AES-CTR keyed from a DRBG. */
  private final SecureRandom rounding = BulkSecureRandom.create();
  private final Map<String, OpenRound> rounds = new HashMap<>();

  /**
   * The job's open secure sum (one at a time per job: stages run one after another): its job round,
   * its client and the peer certificates the coordinator relayed with the key roster.
   */
  private static final class OpenRound {
    final Map<String, X509Certificate> peerCertificates = new HashMap<>();
    int jobRound;
    SecAggClient client;
    boolean bankLevelNoise;
  }

  BankSecureAggregation(ParticipantConfig config, SurvivorsListener survivorsListener) {
    this.survivorsListener = survivorsListener;
    try {
      X509Certificate own = PemFiles.readCertificates(config.certFile()).get(0);
      this.bankId = PeerIdentity.fromCertificate(own).name();
      this.signer = new IdentitySigner(PemFiles.readPrivateKey(config.keyFile()));
      this.verifier = new IdentityVerifier(CrlFileValidator.open(config.caFile(), config.crlFile()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("bank identity for secure aggregation: " + e.getMessage(), e);
    }
  }

  /**
   * The round as this bank derives it from the job it pinned and the task's roster, after checking
   * that the task agrees with it: a roster below the job's {@code min_banks} or without this bank, a
   * lowered threshold, another neighbour degree or consistency check, another quantiser or noise
   * level are refused.
   *
   * @param dimension the model's parameter count, as this bank validated it
   */
  SecureRoundPlan roundPlan(JobSpec spec, int round, TrainTask task, int dimension) {
    List<String> members = task.getRoundMembersList();
    requireInRoster(spec, round, members);
    try {
      SecureRoundPlan plan = SecureRoundPlan.derive(spec, round, members, dimension);
      plan.checkTask(spec, task.getSecureAggregation());
      return plan;
    } catch (IllegalArgumentException e) {
      throw new ProtocolViolationException("round " + round + " of job '" + spec.id() + "': " + e.getMessage()
          + "; bank '" + bankId + "' refuses the task", e);
    }
  }

  /**
   * The parameters of a secure sum of statistics or histograms in job round {@code round}, as this bank
   * derives them from the job it pinned and the task's roster ({@link SecureRoundPlan#sum}).
   */
  RoundParameters sumPlan(JobSpec spec, int round, SecureSumPurpose purpose, List<String> roster, int dimension) {
    requireInRoster(spec, round, roster);
    try {
      return SecureRoundPlan.sum(spec, round, purpose, roster, dimension);
    } catch (IllegalArgumentException e) {
      throw new ProtocolViolationException("round " + round + " of job '" + spec.id() + "': " + e.getMessage()
          + "; bank '" + bankId + "' refuses the task", e);
    }
  }

  private void requireInRoster(JobSpec spec, int round, List<String> roster) {
    if (!roster.contains(bankId)) {
      throw new ProtocolViolationException("round " + round + " of job '" + spec.id() + "': the roster " + roster
          + " does not list bank '" + bankId + "'");
    }
    if (new java.util.HashSet<>(roster).size() != roster.size()) {
      throw new ProtocolViolationException("round " + round + " of job '" + spec.id() + "': the roster " + roster
          + " names a bank twice");
    }
  }

  /**
   * Opens a secure sum of {@code input} (values in the ring of {@code params}) for job round {@code
   * round}: the input never leaves the bank except masked.
   *
   * @return the bank's first message (its signed public keys), encoded
   */
  byte[] startSum(RoundParameters params, int round, int[] input) throws GeneralSecurityException {
    return open(params, round, input, false);
  }

  /**
   * Quantises {@code weighted}, the bank's clipped and weighted update, puts {@code evaluation} (its
   * evaluation vector of the model the round started from, empty when the round carries none,
   * {@link io.consort.spec.RoundEvaluation}) after it, adds {@code noise} (its discrete Gaussian share in
   * quantised units, or null) to the update's slots, and opens the round's one secure sum of both.
   *
   * @return the bank's first message (its signed public keys), encoded
   */
  byte[] start(SecureRoundPlan plan, float[] weighted, long[] noise, int[] evaluation)
      throws GeneralSecurityException {
    RoundParameters update = plan.parameters();
    if (weighted.length != update.dimension() || (noise != null && noise.length != update.dimension())) {
      throw new IllegalArgumentException("update of " + weighted.length + " values for a round of dimension "
          + update.dimension());
    }
    RoundParameters params = plan.sumParameters(evaluation.length);
    // with an evaluation the update is sign-extended into the 32-bit ring first, so the noise is added to
    // the bank's integer update and the sum's update part is the integer sum the noise analysis is of
    int[] input = plan.combine(plan.quantizer().encode(weighted, rounding), evaluation);
    if (noise != null) {
      int mask = params.ringMask();
      for (int i = 0; i < noise.length; i++) {
        input[i] = (int) ((input[i] + noise[i]) & mask);
      }
    }
    return open(params, (int) plan.jobRound(), input, noise != null);
  }

  private byte[] open(RoundParameters params, int jobRound, int[] input, boolean bankLevelNoise)
      throws GeneralSecurityException {
    OpenRound open = new OpenRound();
    open.jobRound = jobRound;
    open.bankLevelNoise = bankLevelNoise;
    open.client = SecAggClient.create(params, bankId, input, signer,
        (peer, message, signature) -> verifyPeer(open, peer, message, signature), random);
    // one open sum per job: a new one replaces whatever the job had open (an aborted or abandoned sum)
    rounds.put(params.jobId(), open);
    return SecAggCodec.encode(open.client.advertiseKeys());
  }

  /** Feeds one coordinator step to the round's client and returns its reply. */
  SecAggStep step(String jobId, int round, SecAggStep step) {
    OpenRound open = rounds.get(jobId);
    if (open != null && open.jobRound != round) {
      throw new ProtocolViolationException("the secure sum open at bank '" + bankId + "' for job '" + jobId
          + "' is of round " + open.jobRound + ", not " + round);
    }
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
        byte[] answer = open.client.handleEncoded(message.toByteArray());
        if (open.client.isFinished() && open.bankLevelNoise) {
          // what the bank can know of the survivors, kept before its shares leave: the ledger entry it
          // is later asked to countersign must account exactly this set
          survivorsListener.finished(jobId, round, open.client.survivors());
        }
        reply.addMessages(ByteString.copyFrom(answer));
      }
    } catch (IOException e) {
      rounds.remove(jobId);
      throw new IllegalStateException("bank '" + bankId + "' could not record the survivors of round " + round
          + ": " + e.getMessage(), e);
    } catch (io.consort.secagg.ProtocolViolationException e) {
      if (open.client.isAborted()) {
        rounds.remove(jobId);
        log.error("secure aggregation aborted at bank '{}' in round {}: {}", bankId, round, open.client.abortReason());
      }
      throw new ProtocolViolationException(e.getMessage(), e);
    }
    if (open.client.isFinished()) {
      rounds.remove(jobId);
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

  private static SecureRandom drbg() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (java.security.NoSuchAlgorithmException e) {
      return new SecureRandom(); // a provider without SP 800-90A: the platform default
    }
  }
}
