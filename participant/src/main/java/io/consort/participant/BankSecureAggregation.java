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
import io.consort.secagg.ModelDigest;
import io.consort.secagg.PeerKeyVerifier;
import io.consort.secagg.RoundParameters;
import io.consort.secagg.SecAggClient;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.wire.SecAggCodec;
import io.consort.spec.JobSpec;
import io.consort.spec.RoundEvaluation;
import io.consort.spec.SecureRoundPlan;
import io.consort.spec.SecureSumPurpose;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
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
   * Pipelined rounds (protocol version 3): per job, the next round's sum keyed ahead, during the current
   * round, before this bank trains for it; it becomes the open sum only at a training task whose round
   * this bank derives to exactly the same parameters (roster, threshold, ring, dimension).
   */
  private final Map<String, OpenRound> ahead = new HashMap<>();
  /**
   * Pipelined rounds: per job, the next round's key pairs and advertisement signature being made (or made) on the
   * key thread after the bank answered a training task ({@link #prepareKeys}), for the unmasking answer that
   * advertises them ({@link #keyAhead}). Touched only under the task handler's lock; the futures complete on the
   * key thread.
   */
  private final Map<String, java.util.concurrent.CompletableFuture<SecAggClient.PreparedKeys>> prepared =
      new HashMap<>();
  /**
   * Keys for a period of rounds ({@code secure_aggregation.key_rounds} N > 1, docs/SECURE_AGGREGATION.md): per job, the
   * key pairs of the current period that pipelined sums mask with, made on first use in the period and wiped when the
   * period ends, the job ends or its keys ahead are discarded. Touched only under the task handler's lock.
   */
  private final Map<String, io.consort.secagg.PeriodKeys> periodKeys = new HashMap<>();
  /** Per job, a coming period's keys being made (or made) on the key thread, or none. */
  private final Map<String, PreparingPeriod> preparedPeriod = new HashMap<>();

  private record PreparingPeriod(io.consort.secagg.KeyPeriod period,
                                 java.util.concurrent.CompletableFuture<io.consort.secagg.PeriodKeys> keys) {
    void wipeWhenDone() {
      keys.thenAccept(io.consort.secagg.PeriodKeys::destroy);
    }
  }
  /**
   * Per job, the last sum round this bank masked with period keys: a pipelined sum of a round not strictly after it
   * is refused before training (two inputs under one key pair and sum round would give the coordinator their
   * difference once it has both b's). Kept until the job finishes, across periods and key pairs.
   */
  private final Map<String, Long> lastPeriodMasked = new HashMap<>();
  /** Where keys are made ahead: a daemon thread of this bank's, never a Vert.x event loop; made on first use. */
  private java.util.concurrent.Executor keyThread;
  /**
   * Where a round keyed ahead expands its mask vector once its key roster is handled (one int per coordinate
   * while the round is open): a daemon thread of this bank's, never a Vert.x event loop; made on first use.
   */
  private java.util.concurrent.Executor maskThread;

  /**
   * The job's open secure sum (one at a time per job: stages run one after another): its job round,
   * its client and the peer certificates the coordinator relayed with the key roster.
   */
  private static final class OpenRound {
    final Map<String, X509Certificate> peerCertificates = new HashMap<>();
    int jobRound;
    RoundParameters parameters;
    SecAggClient client;
    boolean bankLevelNoise;
    /** Keyed ahead with the job's period keys ({@link #periodKeys}), not fresh ones. */
    boolean periodKeyed;
    /** Period keys: this is the last round of their period or of the job, after which they protect nothing new. */
    boolean endsPeriod;
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
   * @param model the model the input was computed from, bound into the sum's masks (an evaluation: the model this
   *     bank evaluated), or {@link ModelDigest#NONE} (statistics)
   * @return the bank's first message (its signed public keys), encoded
   */
  byte[] startSum(RoundParameters params, int round, int[] input, ModelDigest model) throws GeneralSecurityException {
    return open(params, round, input, false, model);
  }

  /**
   * Quantises {@code weighted}, the bank's clipped and weighted update, puts {@code evaluation} (its
   * evaluation vector of the model the round started from, empty when the round carries none,
   * {@link io.consort.spec.RoundEvaluation}) after it, adds {@code noise} (its discrete Gaussian share in
   * quantised units, or null) to the update's slots, and opens the round's one secure sum of both.
   *
   * @param model the digest of the model this bank trained on (its own, never the task's), bound into the sum's
   *     masks (protocol version 8): banks the coordinator sent different models cannot complete the sum
   * @return the bank's first message (its signed public keys), encoded
   */
  byte[] start(SecureRoundPlan plan, float[] weighted, long[] noise, int[] evaluation, ModelDigest model)
      throws GeneralSecurityException {
    RoundParameters params = plan.sumParameters(evaluation.length);
    int[] input = input(plan, params, weighted, noise, evaluation, rounding);
    discardAhead(params.jobId(), "round " + plan.jobRound() + " runs unpipelined");
    return open(params, (int) plan.jobRound(), input, noise != null, model);
  }

  /**
   * The bank's input to the round's sum: {@code weighted} quantised, {@code evaluation} after it, and
   * {@code noise} (or null) added to the update's slots, rounding with {@code rounding} (package-private for tests).
   */
  static int[] input(SecureRoundPlan plan, RoundParameters params, float[] weighted, long[] noise, int[] evaluation,
                     java.util.random.RandomGenerator rounding) {
    RoundParameters update = plan.parameters();
    if (weighted.length != update.dimension() || (noise != null && noise.length != update.dimension())) {
      throw new IllegalArgumentException("update of " + weighted.length + " values for a round of dimension "
          + update.dimension());
    }
    // with an evaluation the update is sign-extended into the 32-bit ring first, so the noise is added to
    // the bank's integer update and the sum's update part is the integer sum the noise analysis is of: the
    // quantiser rounds straight into the sum's array, plan.combine's result without its copy and pass
    int[] input;
    if (evaluation.length == 0) {
      input = plan.quantizer().encode(weighted, rounding);
    } else {
      input = plan.quantizer().encodeSignExtended(weighted, rounding, params.dimension());
      System.arraycopy(evaluation, 0, input, weighted.length, evaluation.length);
    }
    if (noise != null) {
      int mask = params.ringMask();
      for (int i = 0; i < noise.length; i++) {
        input[i] = (int) ((input[i] + noise[i]) & mask);
      }
    }
    return input;
  }

  /**
   * Pipelined rounds: keys job round {@code nextRound} ahead, while the current round unmasks, for the
   * roster the coordinator names. The round's parameters are what this bank derives from the plan it
   * pinned and that roster ({@link SecureRoundPlan#derive}); the keys are fresh, signed for that round's
   * sum only, and used only if the training task of {@code nextRound} names the same roster
   * ({@link #startAhead}). Keys made earlier for the job are discarded.
   *
   * @param dimension the model's parameter count, as this bank validated it
   * @return the bank's signed public keys for {@code nextRound}, encoded
   */
  byte[] keyAhead(JobSpec spec, int nextRound, List<String> roster, int dimension) throws GeneralSecurityException {
    var made = prepared.remove(spec.id()); // keys made ahead for this answer: used below or wiped
    try {
      return keyAhead(spec, nextRound, roster, dimension, made);
    } catch (GeneralSecurityException | RuntimeException e) {
      // no round of this job is keyed ahead now: period keys kept for a later one could outlive their period
      wipePeriodKeys(spec.id(), "keying round " + nextRound + " ahead failed");
      throw e;
    } finally {
      wipeWhenDone(made); // a no-op for keys a client took
    }
  }

  private byte[] keyAhead(JobSpec spec, int nextRound, List<String> roster, int dimension,
      java.util.concurrent.CompletableFuture<SecAggClient.PreparedKeys> made) throws GeneralSecurityException {
    discardRoundAhead(spec.id(), "keys for round " + nextRound + " replace them");
    if (nextRound < 2 || nextRound > spec.training().rounds()) {
      throw new ProtocolViolationException("job '" + spec.id() + "' has rounds 1 to " + spec.training().rounds()
          + "; bank '" + bankId + "' keys no round " + nextRound + " ahead");
    }
    requireInRoster(spec, nextRound, roster);
    RoundParameters params;
    try {
      params = SecureRoundPlan.derive(spec, nextRound, roster, dimension)
          .sumParameters(RoundEvaluation.carriedSlots(spec, nextRound));
    } catch (IllegalArgumentException e) {
      throw new ProtocolViolationException("round " + nextRound + " of job '" + spec.id() + "': " + e.getMessage()
          + "; bank '" + bankId + "' keys nothing ahead", e);
    }
    OpenRound open = new OpenRound();
    open.jobRound = nextRound;
    open.parameters = params;
    PeerKeyVerifier peers = (peer, message, signature) -> verifyPeer(open, peer, message, signature);
    io.consort.secagg.KeyPeriod period = SecureRoundPlan.keyPeriod(spec, nextRound);
    if (period != null) {
      open.client = SecAggClient.createAwaitingInput(params, bankId, signer, peers, random,
          periodKeys(spec, nextRound, period, params.round()));
      open.periodKeyed = true;
      open.endsPeriod = nextRound >= (period.index() + 1) * period.rounds() || nextRound >= spec.training().rounds();
      prepareNextPeriod(spec, nextRound + 1, period);
    } else {
      SecAggClient.PreparedKeys keys = ready(made, params);
      open.client = keys == null ? SecAggClient.createAwaitingInput(params, bankId, signer, peers, random)
          : SecAggClient.createAwaitingInput(params, bankId, signer, peers, random, keys);
    }
    ahead.put(spec.id(), open);
    return SecAggCodec.encode(open.client.advertiseKeys());
  }

  /**
   * The job's keys for {@code period}, for the pipelined sum of job round {@code jobRound} (sum round {@code
   * sumRound}): the keys in use if they are of this period, else those made ahead on the key thread if ready and of
   * this period, else made now; the previous period's keys are wiped. Refuses (the round then runs unpipelined, with
   * fresh keys) a sum round this bank already masked with period keys, or an earlier one.
   */
  private io.consort.secagg.PeriodKeys periodKeys(JobSpec spec, int jobRound, io.consort.secagg.KeyPeriod period,
                                                  long sumRound) throws GeneralSecurityException {
    String jobId = spec.id();
    String planDigest = SecureRoundPlan.planDigest(spec);
    long last = lastPeriodMasked.getOrDefault(jobId, -1L);
    if (sumRound <= last) {
      throw new ProtocolViolationException("bank '" + bankId + "' already masked sum round " + last + " of job '"
          + jobId + "' with its period keys; it keys no round " + jobRound + " (sum round " + sumRound
          + ") ahead: a pipelined sum must come after the last it masked");
    }
    io.consort.secagg.PeriodKeys current = periodKeys.get(jobId);
    if (current != null && current.isFor(jobId, planDigest, period, bankId) && current.mayMask(sumRound)) {
      return current;
    }
    PreparingPeriod made = preparedPeriod.remove(jobId);
    wipeCurrentPeriodKeys(jobId, "round " + jobRound + " needs fresh keys of period " + period.index());
    io.consort.secagg.PeriodKeys keys = null;
    if (made != null && made.period().equals(period) && made.keys().isDone()
        && !made.keys().isCompletedExceptionally() && made.keys().join().mayMask(sumRound)) {
      keys = made.keys().join(); // a task never waits for the key thread: not ready, made now
    } else if (made != null) {
      made.wipeWhenDone();
    }
    if (keys == null) {
      keys = io.consort.secagg.PeriodKeys.make(jobId, planDigest, period, bankId, signer, random);
    }
    periodKeys.put(jobId, keys);
    return keys;
  }

  /**
   * When job round {@code nextRound} begins a period after {@code current}, starts making that period's keys on the
   * key thread, so the sum that first needs them does not wait for two key pairs and a signature.
   */
  private void prepareNextPeriod(JobSpec spec, int nextRound, io.consort.secagg.KeyPeriod current) {
    if (nextRound <= spec.training().rounds()) {
      io.consort.secagg.KeyPeriod next = SecureRoundPlan.keyPeriod(spec, nextRound);
      if (!next.equals(current)) {
        preparePeriod(spec.id(), SecureRoundPlan.planDigest(spec), next);
      }
    }
  }

  /**
   * Starts making job {@code jobId}'s keys of {@code period} (under plan {@code planDigest}) on the key thread, unless
   * they are being made.
   */
  private void preparePeriod(String jobId, String planDigest, io.consort.secagg.KeyPeriod period) {
    PreparingPeriod making = preparedPeriod.get(jobId);
    if (making != null && making.period().equals(period)) {
      return;
    }
    if (making != null) {
      making.wipeWhenDone();
    }
    preparedPeriod.put(jobId, new PreparingPeriod(period, java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return io.consort.secagg.PeriodKeys.make(jobId, planDigest, period, bankId, signer, random);
      } catch (GeneralSecurityException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    }, keyThread())));
  }

  /** Wipes job {@code jobId}'s period keys, in use and being made, if any. */
  private void wipePeriodKeys(String jobId, String reason) {
    PreparingPeriod making = preparedPeriod.remove(jobId);
    if (making != null) {
      making.wipeWhenDone();
    }
    wipeCurrentPeriodKeys(jobId, reason);
  }

  /** Package-private for tests: job {@code jobId}'s period keys in use, or null. */
  io.consort.secagg.PeriodKeys periodKeys(String jobId) {
    return periodKeys.get(jobId);
  }

  /**
   * Pipelined rounds: the key roster of the round keyed ahead (with the peers' certificates), which the
   * coordinator relays with the ledger task; the answer is this bank's encrypted shares for its peers.
   * The roster is checked exactly as in an unpipelined round (own keys unaltered, every peer's key
   * signature against its certificate); a roster for another round, or any refusal, discards the keys.
   *
   * <p>The masks are expanded now, before the training task: they are bound to {@code model} (protocol version 8),
   * the model released in the ledger entry this bank countersigns in the same task, which round {@code nextRound}
   * trains on, with the round's row total beside it (version 9, {@link ModelDigest#withRoundRowTotal}); its training
   * task is refused, before training, if it carries another model or row total ({@link #requireKeyedAhead}).
   */
  SecAggStep shareAhead(String jobId, int nextRound, SecAggStep roster, ModelDigest model) {
    OpenRound open = ahead.get(jobId);
    if (open == null || open.jobRound != nextRound) {
      discardAhead(jobId, "a key roster arrived for round " + nextRound);
      throw new ProtocolViolationException("bank '" + bankId + "' keyed no round " + nextRound + " of job '" + jobId
          + "' ahead" + (open == null ? "" : " (it keyed round " + open.jobRound + ")"));
    }
    if (roster.getMessagesCount() != 1) {
      discardAhead(jobId, "the key roster step carried " + roster.getMessagesCount() + " messages");
      throw new ProtocolViolationException("a key roster step must carry one message, got "
          + roster.getMessagesCount());
    }
    for (PeerCertificate pc : roster.getCertificatesList()) {
      open.peerCertificates.put(pc.getBankId(), parse(pc));
    }
    try {
      open.client.bindModel(model);
    } catch (IllegalStateException e) { // a second key roster for the round, bound to another model
      discardAhead(jobId, e.getMessage());
      throw new ProtocolViolationException(e.getMessage(), e);
    }
    byte[] shares;
    try {
      shares = open.client.handleEncoded(roster.getMessages(0).toByteArray());
    } catch (io.consort.secagg.ProtocolViolationException e) {
      discardAhead(jobId, e.getMessage());
      throw new ProtocolViolationException(e.getMessage(), e);
    }
    try {
      // everything the masks depend on is known now: the whole mask vector is expanded on the mask thread, off the
      // training task's critical path, which then only adds it (SecAggClient#expandMasksAhead)
      open.client.expandMasksAhead(maskThread());
    } catch (GeneralSecurityException e) {
      log.warn("bank '{}' expands its masks for round {} of job '{}' at masking: {}", bankId, nextRound, jobId,
          e.getMessage());
    }
    return SecAggStep.newBuilder().addMessages(ByteString.copyFrom(shares)).build();
  }

  /** Package-private for tests: where mask vectors are expanded from now on (a test holds them back to race a task). */
  void maskThread(java.util.concurrent.Executor executor) {
    maskThread = executor;
  }

  private java.util.concurrent.Executor maskThread() {
    if (maskThread == null) {
      maskThread = BankThreads.single("consort-bank-masks-" + bankId);
    }
    return maskThread;
  }

  /**
   * Pipelined rounds: the training task of a round keyed ahead carries the peers' forwarded shares, and
   * the bank answers it with its masked input. Only if this bank keyed exactly this round (same job
   * round, and the parameters it derives from the task's roster equal those it keyed for) and shared its
   * keys; otherwise the keys are discarded and the task is refused: a bank never masks with shares for a
   * roster it did not key and share for.
   *
   * @return the bank's masked input, as the step answering the training task
   */
  SecAggStep startAhead(SecureRoundPlan plan, float[] weighted, long[] noise, int[] evaluation, SecAggStep forwarded,
                        ModelDigest model) {
    RoundParameters params = plan.sumParameters(evaluation.length);
    requireKeyedAhead(plan, evaluation.length, forwarded, model);
    OpenRound open = ahead.remove(params.jobId());
    if (open.periodKeyed) {
      lastPeriodMasked.put(params.jobId(), params.round()); // before the input is masked: never this round again
    }
    open.bankLevelNoise = noise != null;
    try {
      open.client.supplyInput(input(plan, params, weighted, noise, evaluation, rounding));
      replaceOpen(params.jobId(), open);
      return step(params.jobId(), (int) plan.jobRound(), forwarded);
    } finally {
      if (open.endsPeriod) {
        // the period's (or the job's) last sum is masked: its keys protect the inputs already sent and nothing new
        wipeCurrentPeriodKeys(params.jobId(), "round " + plan.jobRound() + " was the last of their period or job");
      }
    }
  }

  /** Wipes job {@code jobId}'s period keys in use, not those being made for a coming period. */
  private void wipeCurrentPeriodKeys(String jobId, String reason) {
    io.consort.secagg.PeriodKeys keys = periodKeys.remove(jobId);
    if (keys != null) {
      keys.destroy();
      log.info("bank '{}' wiped its keys of {}: {}", bankId, keys, reason);
    }
  }

  /**
   * Pipelined rounds: checks, before the bank trains or spends anything on the round, that it keyed exactly
   * this round ahead (same job round, and the parameters it derives from the task's roster, {@code
   * evaluationSlots} after the update, equal those it keyed for), that {@code model}, the digest of the model the
   * task carries, is the one its masks were bound to when it shared ({@link #shareAhead}), and that {@code
   * forwarded} is one message. Otherwise the keys made ahead are discarded and the task is refused: a bank never
   * masks with shares for a roster it did not key and share for, nor trains for a pipelined sum on a model other
   * than the one it bound (a coordinator that sent it another would learn nothing from the sum anyway), and a refused
   * round costs it no privacy budget.
   */
  void requireKeyedAhead(SecureRoundPlan plan, int evaluationSlots, SecAggStep forwarded, ModelDigest model) {
    RoundParameters params = plan.sumParameters(evaluationSlots);
    String jobId = params.jobId();
    OpenRound open = ahead.get(jobId);
    String problem = open == null ? "it keyed no round ahead"
        : open.jobRound != plan.jobRound() ? "it keyed round " + open.jobRound + " ahead"
        : !open.parameters.equals(params) ? "it keyed round " + open.jobRound + " for the roster "
            + open.parameters.bankIds() + ", not " + params.bankIds()
        : open.client.isAborted() ? "its keys for round " + open.jobRound + " were discarded"
        : open.client.boundModel().roundRowTotal() != model.roundRowTotal() ? "it bound round " + open.jobRound
            + "'s masks to the round row total " + open.client.boundModel().roundRowTotal() + " with the ledger task "
            + "it countersigned, but the task carries the row total " + model.roundRowTotal()
            + " (a coordinator that gives banks of one sum different row totals, so different weights)"
        : !open.client.boundModel().equals(model) ? "it bound round " + open.jobRound + "'s masks to model "
            + open.client.boundModel() + ", released in the ledger entry it countersigned, but the task's model is "
            + model + " (a coordinator that sends banks of one sum different models)"
        : open.periodKeyed && params.round() <= lastPeriodMasked.getOrDefault(jobId, -1L)
            ? "it already masked sum round " + lastPeriodMasked.get(jobId) + " with its period keys, not before "
                + params.round()
        : forwarded.getMessagesCount() != 1 ? "the step carries " + forwarded.getMessagesCount() + " messages"
        : null;
    if (problem == null) {
      // the shares themselves (decrypted, checked; the same again after a failed attempt) before any training or
      // spend: a tampered one is refused here
      try {
        if (SecAggCodec.decode(forwarded.getMessages(0).toByteArray()) instanceof ForwardedShares shares) {
          open.client.checkForwardedShares(shares);
        } else {
          problem = "the step carries no forwarded shares";
        }
      } catch (io.consort.secagg.wire.MalformedMessageException | io.consort.secagg.ProtocolViolationException
               | IllegalStateException e) {
        problem = e.getMessage();
      }
    }
    if (problem != null) {
      discardAhead(jobId, problem);
      throw new ProtocolViolationException("training task of round " + plan.jobRound() + " of job '" + jobId
          + "' carries forwarded shares, but bank '" + bankId + "' refuses them: " + problem);
    }
  }

  /**
   * Pipelined rounds: starts making the key pairs and advertisement signature of job round {@code nextRound} on
   * the bank's key thread, in the idle time after it answered the training task of the round before, so that
   * the unmasking answer which advertises them ({@link #keyAhead}) need not make them. They are made for the sum
   * this bank derives for that round (its round id does not depend on the roster, which the unmasking request
   * names), fresh for it, and used at most once: only if they are ready and signed for exactly the round keyed
   * ahead; otherwise, and when the job's keys ahead are discarded, they are wiped. Keys made earlier for the job
   * are discarded first. A round this bank cannot key ahead makes nothing.
   */
  void prepareKeys(JobSpec spec, int nextRound, List<String> roster, int dimension) {
    discardPrepared(spec.id());
    if (nextRound < 2 || nextRound > spec.training().rounds() || !roster.contains(bankId)) {
      return;
    }
    long sumRound;
    String planDigest;
    try {
      RoundParameters params = SecureRoundPlan.derive(spec, nextRound, roster, dimension)
          .sumParameters(RoundEvaluation.carriedSlots(spec, nextRound));
      sumRound = params.round();
      planDigest = params.planDigest();
    } catch (IllegalArgumentException e) {
      return; // keyAhead refuses such a round by name, if the coordinator ever asks for it
    }
    String jobId = spec.id();
    io.consort.secagg.KeyPeriod period = SecureRoundPlan.keyPeriod(spec, nextRound);
    if (period != null) { // period keys: made once a period, only if the keys in use are not of that period
      io.consort.secagg.PeriodKeys current = periodKeys.get(jobId);
      if (current == null || !current.isFor(jobId, planDigest, period, bankId) || !current.mayMask(sumRound)) {
        preparePeriod(jobId, planDigest, period);
      }
      return;
    }
    prepared.put(jobId, java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return SecAggClient.prepareKeys(jobId, planDigest, sumRound, bankId, signer, random);
      } catch (GeneralSecurityException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    }, keyThread()));
  }

  /**
   * The keys made ahead in {@code future} if they are ready and signed for exactly {@code params}' sum; null
   * otherwise, and the caller makes fresh ones ({@link #keyAhead} wipes what it does not use, now or as soon as it
   * is made): a task never waits for the key thread, and keys are never kept for a later round.
   */
  private SecAggClient.PreparedKeys ready(java.util.concurrent.CompletableFuture<SecAggClient.PreparedKeys> future,
                                          RoundParameters params) {
    if (future == null || !future.isDone() || future.isCompletedExceptionally()) {
      return null;
    }
    SecAggClient.PreparedKeys keys = future.join();
    return keys.isFor(params.jobId(), params.planDigest(), params.round(), bankId) ? keys : null;
  }

  /** Discards (wipes) the keys being made or made ahead for job {@code jobId}, if any. */
  void discardPrepared(String jobId) {
    wipeWhenDone(prepared.remove(jobId));
  }

  /** Wipes keys made ahead that no client took, now or as soon as they are made. */
  private static void wipeWhenDone(java.util.concurrent.CompletableFuture<SecAggClient.PreparedKeys> future) {
    if (future != null) {
      future.thenAccept(SecAggClient.PreparedKeys::destroy);
    }
  }

  /** Package-private for tests: the keys being made or made ahead for job {@code jobId}, or null. */
  java.util.concurrent.CompletableFuture<SecAggClient.PreparedKeys> preparedKeys(String jobId) {
    return prepared.get(jobId);
  }

  /** Package-private for tests: where keys are made ahead from now on (a test holds them back to race a task). */
  void keyThread(java.util.concurrent.Executor executor) {
    keyThread = executor;
  }

  private java.util.concurrent.Executor keyThread() {
    if (keyThread == null) {
      keyThread = BankThreads.single("consort-bank-keys-" + bankId);
    }
    return keyThread;
  }

  /** Whether job {@code jobId} has keys made ahead for {@code round} that were not discarded. */
  boolean keyedAhead(String jobId, int round) {
    OpenRound open = ahead.get(jobId);
    return open != null && open.jobRound == round && !open.client.isAborted();
  }

  /**
   * Discards (wipes) the keys made ahead for job {@code jobId}, if any: the round will not run with them. The job's
   * period keys go with them (a later pipelined round makes new ones).
   */
  void discardAhead(String jobId, String reason) {
    discardRoundAhead(jobId, reason);
    wipePeriodKeys(jobId, reason);
  }

  /**
   * The job finished: everything kept for it ahead is wiped, and its record of the last sum round masked with period
   * keys goes too (those keys are gone, so a job run again under the same id keys afresh, with new seeds).
   */
  void jobFinished(String jobId) {
    discardAhead(jobId, "the job finished");
    lastPeriodMasked.remove(jobId);
  }

  /** {@link #discardAhead} of the round keyed ahead only: the period keys stay for the round that replaces it. */
  private void discardRoundAhead(String jobId, String reason) {
    discardPrepared(jobId);
    OpenRound open = ahead.remove(jobId);
    if (open != null) {
      open.client.discard(reason);
      log.info("bank '{}' discarded the keys it made ahead for round {} of job '{}': {}", bankId, open.jobRound,
          jobId, reason);
    }
  }

  private byte[] open(RoundParameters params, int jobRound, int[] input, boolean bankLevelNoise, ModelDigest model)
      throws GeneralSecurityException {
    OpenRound open = new OpenRound();
    open.jobRound = jobRound;
    open.parameters = params;
    open.bankLevelNoise = bankLevelNoise;
    open.client = SecAggClient.create(params, bankId, input, signer,
        (peer, message, signature) -> verifyPeer(open, peer, message, signature), random);
    open.client.bindModel(model);
    replaceOpen(params.jobId(), open);
    return SecAggCodec.encode(open.client.advertiseKeys());
  }

  /**
   * One open sum per job: a new one replaces whatever the job had open (an aborted or abandoned sum, e.g. a
   * round the coordinator dropped this bank from), whose keys, shares and input are wiped.
   */
  private void replaceOpen(String jobId, OpenRound open) {
    OpenRound replaced = rounds.put(jobId, open);
    if (replaced != null && replaced != open) {
      replaced.client.discard("job round " + open.jobRound + " opened a new sum");
    }
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
        // one answer, or, unmasking with the input, the masked input and the b-shares
        List<byte[]> answers = open.client.handleEncodedAll(message.toByteArray());
        if (open.client.isFinished() && open.bankLevelNoise) {
          // what the bank can know of the survivors, kept before its shares leave: the ledger entry it
          // is later asked to countersign must account exactly this set
          survivorsListener.finished(jobId, round, open.client.survivors());
        }
        for (byte[] answer : answers) {
          // the codec's fresh array, never written again: wrapped, not copied (a masked input is 4 bytes a parameter)
          reply.addMessages(UnsafeByteOperations.unsafeWrap(answer));
        }
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
