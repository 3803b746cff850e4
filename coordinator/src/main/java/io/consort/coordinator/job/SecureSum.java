package io.consort.coordinator.job;

import com.google.protobuf.ByteString;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.Role;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.secagg.AggregationResult;
import io.consort.secagg.ProtocolViolationException;
import io.consort.secagg.RoundParameters;
import io.consort.secagg.SecAggServer;
import io.consort.secagg.ServerTransition;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.wire.SecAggCodec;
import io.vertx.core.Future;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One secure sum (Bonawitz et al. 2017) among a roster of banks, from their key advertisements on:
 * the coordinator relays keys (with the banks' certificates, so each bank checks every peer's
 * signature against the consortium CA), encrypted shares, collects masked inputs, consistency
 * signatures and unmasking shares, and learns only the sum of the surviving banks' vectors. Each
 * stage has the job's stage deadline; a bank that misses it or sends what the protocol refuses is
 * dropped at that stage, and the sum goes on while the threshold allows; below it the sum aborts and
 * nothing is unmasked. Model updates, feature statistics and evaluation histograms all go through
 * it, each with its own round id ({@link io.consort.spec.SecureSumPurpose}).
 *
 * <p>The roster's certificates are read once, on the event loop, when the sum is opened: signature
 * checks on workers see that snapshot, never the live registry. Not thread-safe: one stage at a time.
 */
final class SecureSum {
  private static final Logger log = LoggerFactory.getLogger(SecureSum.class);

  /** What a sum produced: the survivors' sum and who is in it, or why it aborted; and who dropped where. */
  record Outcome(Optional<AggregationResult> result, Optional<String> abortReason, List<Dropout> dropouts) {
    Outcome {
      dropouts = List.copyOf(dropouts);
    }
  }

  private final JobContext job;
  private final int round;
  private final String what;
  private final Map<String, X509Certificate> certificates;
  private final SecAggServer server;
  /**
   * The last request of the sum, which the next round's roster rides on: the unmasking request, or, when the banks
   * unmask with the input, the masked-input request (the forwarded shares).
   */
  private final io.consort.secagg.Stage lastRequest;
  private final List<Dropout> dropouts = new ArrayList<>();
  /** Pipelined rounds: the next round's roster, named in the sum's {@link #lastRequest} while nobody dropped. */
  private List<String> nextRoundMembers = List.of();
  /** Pipelined rounds: the banks' signed keys for the next round, from their answers to {@link #lastRequest}. */
  private final Map<String, SecAggStep> nextRoundKeys = new LinkedHashMap<>();
  /** The banks the last stage's messages went to: who must answer the next {@link #step}. */
  private List<String> asked = List.of();

  private SecureSum(JobContext job, int round, String what, RoundParameters parameters,
                    Map<String, X509Certificate> certificates, IdentityVerifier verifier, KeyedFor keyedFor) {
    this.job = job;
    this.round = round;
    this.what = what;
    this.certificates = certificates;
    this.lastRequest = parameters.unmaskingWithInput() ? io.consort.secagg.Stage.MASKED_INPUT
        : io.consort.secagg.Stage.UNMASKING;
    // fast unmasking: a sum nobody dropped from skips the consistency check (docs/SECURE_AGGREGATION.md)
    io.consort.secagg.PeerKeyVerifier identities = (bank, message, signature) -> {
      X509Certificate cert = certificates.get(bank);
      if (cert == null) {
        throw new GeneralSecurityException("bank '" + bank + "' has no certificate on record");
      }
      if (!verifier.verify(cert, message, signature, Set.of(Role.PARTICIPANT)).name().equals(bank)) {
        throw new GeneralSecurityException("key signature of '" + bank + "' made with another identity");
      }
    };
    this.server = keyedFor == null ? SecAggServer.create(parameters, identities, true)
        : SecAggServer.create(parameters, keyedFor.advertisements().through(identities), true, keyedFor.period());
  }

  /**
   * A pipelined sum whose banks mask with their keys for {@code period} (docs/SECURE_AGGREGATION.md, "Keys for a
   * period of rounds"), each unchanged period advertisement verified once through the job's {@code advertisements}.
   */
  record KeyedFor(io.consort.secagg.KeyPeriod period, io.consort.secagg.PeriodAdvertisements advertisements) {}

  /**
   * Opens a sum over {@code parameters.bankIds()} in job round {@code round}; call on the event loop.
   *
   * @param what what is summed, for log lines ("updates", "feature statistics", ...)
   */
  static SecureSum open(JobContext job, IdentityVerifier verifier, int round, String what,
                        RoundParameters parameters) {
    return open(job, verifier, round, what, parameters, certificates(job, parameters.bankIds()));
  }

  /** The certificates on record for {@code banks} (those that have one); call on the event loop. */
  static Map<String, X509Certificate> certificates(JobContext job, List<String> banks) {
    Map<String, X509Certificate> certificates = new LinkedHashMap<>();
    for (String m : banks) {
      job.members().certificate(m).ifPresent(c -> certificates.put(m, c));
    }
    return certificates;
  }

  /**
   * Opens a sum with certificates read on the event loop before (see {@link #certificates}); any thread.
   * Only the certificates of {@code parameters.bankIds()} are used.
   */
  static SecureSum open(JobContext job, IdentityVerifier verifier, int round, String what,
                        RoundParameters parameters, Map<String, X509Certificate> certificates) {
    return open(job, verifier, round, what, parameters, certificates, null);
  }

  /** As above, for a pipelined sum keyed with period keys ({@code keyedFor}), or with fresh keys (null). */
  static SecureSum open(JobContext job, IdentityVerifier verifier, int round, String what,
                        RoundParameters parameters, Map<String, X509Certificate> certificates, KeyedFor keyedFor) {
    Map<String, X509Certificate> roster = new LinkedHashMap<>();
    for (String m : parameters.bankIds()) {
      if (certificates.containsKey(m)) {
        roster.put(m, certificates.get(m));
      }
    }
    return new SecureSum(job, round, what, parameters, roster, verifier, keyedFor);
  }

  /**
   * The model the coordinator sent for this sum (trained on, or evaluated), whose digest every bank bound into its
   * pairwise masks (protocol version 8, docs/SECURE_AGGREGATION.md, "The model is bound into the masks"): the masks of
   * a bank that dropped after sharing are recomputed with it. Call before the unmasking; a sum of statistics binds
   * none.
   */
  void bindModel(io.consort.protocol.v1.ModelParameters model) {
    bind(io.consort.secagg.ModelDigest.ofHex(io.consort.protocol.ModelChecksum.boundModelSha256Hex(model)));
  }

  /**
   * A training sum's binding: {@code model}'s digest with the round's row total beside it (protocol version 9,
   * {@link io.consort.secagg.ModelDigest#withRoundRowTotal}), or the model alone for {@code rowTotal} 0 (a job with
   * distributed record-level noise, whose gradient sums carry no weight).
   */
  void bindTraining(io.consort.protocol.v1.ModelParameters model, long rowTotal) {
    io.consort.secagg.ModelDigest digest = io.consort.secagg.ModelDigest.ofHex(
        io.consort.protocol.ModelChecksum.boundModelSha256Hex(model));
    bind(rowTotal == 0 ? digest : digest.withRoundRowTotal(rowTotal));
  }

  /** The digest every bank bound into its pairwise masks (a model's, or a second-stage statistics encoding's). */
  void bind(io.consort.secagg.ModelDigest digest) {
    server.bindModel(digest);
  }

  /** Records that {@code bank} is out of the sum, at {@code stage}, for {@code reason}. */
  void drop(String bank, String stage, String reason) {
    dropouts.add(new Dropout(bank, stage, reason));
    log.warn("round {} ({}): bank '{}' dropped at {}: {}", round, what, bank, stage, reason);
  }

  boolean dropped(String bank) {
    return dropouts.stream().anyMatch(d -> d.bank().equals(bank));
  }

  /**
   * Runs the sum from the banks' key advertisements (each bank's answer to the task that opened it;
   * banks without one must have been {@link #drop dropped}) to its end.
   *
   * @param openingStage the opening task's stage, in its command-line form, for dropouts
   */
  Future<Outcome> run(Map<String, SecAggStep> advertisements, String openingStage) {
    // signature checks, Shamir reconstruction and mask expansion are CPU work: a worker does them
    return job.workers().run(WorkerPurpose.SECURE_AGGREGATION, () -> {
          advertisements.forEach((bank, step) -> {
            if (step.getMessagesCount() != 1) {
              drop(bank, openingStage, "expected one key advertisement, got " + step.getMessagesCount() + " messages");
            } else if (!dropped(bank)) {
              feed(bank, step, openingStage);
            }
          });
          return server.closeStage();
        })
        .compose(this::drive)
        .map(this::outcome);
  }

  private Outcome outcome(ServerTransition transition) {
    if (transition.isAborted()) {
      String reason = transition.abortReason().get();
      return new Outcome(Optional.empty(), Optional.of(reason.contains("nothing was unmasked") ? reason
          : reason + "; nothing was unmasked"), dropouts);
    }
    return new Outcome(transition.result(), Optional.empty(), dropouts);
  }

  private Future<ServerTransition> drive(ServerTransition transition) {
    if (transition.isAborted() || transition.isCompleted()) {
      return Future.succeededFuture(transition);
    }
    Map<String, SecAggStep> byRecipient = steps(transition);
    io.consort.secagg.Stage next = transition.outgoing().get(0).header().stage();
    // pipelined rounds: the next round's roster rides on the sum's last request while nobody dropped
    List<String> nextRoster = next == lastRequest && dropouts.isEmpty() ? nextRoundMembers : List.of();
    return job.stages().collect(round, SecureAggregationPlan.wireStage(next), byRecipient.keySet(),
            m -> Task.newBuilder().setSecureAggregation(byRecipient.get(m).toBuilder()
                .addAllNextRoundMembers(nextRoster)))
        .compose(answers -> job.workers().run(WorkerPurpose.SECURE_AGGREGATION, () -> {
          for (String m : byRecipient.keySet()) {
            TaskResult r = answers.answer(m).orElse(null);
            if (r == null || !r.hasSecureAggregation()) {
              drop(m, next.wireName(), answers.problemOf(m));
            } else {
              feed(m, r.getSecureAggregation(), next.wireName());
              if (!nextRoster.isEmpty() && r.getSecureAggregation().hasNextRound()) {
                nextRoundKeys.put(m, r.getSecureAggregation().getNextRound());
              }
            }
          }
          return server.closeStage();
        }))
        .compose(this::drive);
  }

  /** Each recipient's message of a transition as a step, with the roster's certificates at share-keys. */
  private Map<String, SecAggStep> steps(ServerTransition transition) {
    Map<String, SecAggMessage> byRecipient = new LinkedHashMap<>();
    for (SecAggMessage m : transition.outgoing()) {
      byRecipient.put(m.header().recipientId(), m);
    }
    List<PeerCertificate> relayed = new ArrayList<>();
    if (transition.outgoing().get(0).header().stage() == io.consort.secagg.Stage.SHARE_KEYS) {
      for (String bank : byRecipient.keySet()) {
        X509Certificate c = certificates.get(bank);
        if (c != null) {
          relayed.add(SecureAggregationPlan.peerCertificate(bank, c));
        }
      }
    }
    Map<String, SecAggStep> steps = new LinkedHashMap<>();
    byRecipient.forEach((bank, m) -> steps.put(bank, SecAggStep.newBuilder()
        .addMessages(ByteString.copyFrom(SecAggCodec.encode(m))).addAllCertificates(relayed).build()));
    asked = List.copyOf(steps.keySet());
    return steps;
  }

  /**
   * Pipelined rounds: names the next round's roster in this sum's last request ({@link #lastRequest}: the unmasking
   * request, or the forwarded shares when the banks unmask with the input), so each bank answers
   * with its keys for that round ({@link #nextRoundKeys}); not done once any bank dropped.
   */
  void pipelineNextRound(List<String> members) {
    nextRoundMembers = List.copyOf(members);
  }

  /**
   * Pipelined rounds unmasking with the input: {@code bank}'s keys for the next round, which came with its masked
   * input in answer to the training task that named the next round's roster.
   */
  void nextRoundKeys(String bank, SecAggStep keys) {
    nextRoundKeys.put(bank, keys);
  }

  /** The banks' keys for the next round, from the answers to the sum's last request (empty when not pipelined). */
  Map<String, SecAggStep> nextRoundKeys() {
    return Map.copyOf(nextRoundKeys);
  }

  /**
   * Pipelined rounds: feeds one stage's answers that arrived with another task (the key advertisements
   * with the unmasking answers, the shares with the countersignatures), each bank that was asked and has
   * none dropped, and closes the stage. Worker thread.
   *
   * @param opening true for the key advertisements (nobody was asked by this sum yet)
   * @return each remaining bank's next message, as a step (with certificates at share-keys)
   * @throws IllegalStateException if the sum aborted (below the threshold) or ended
   */
  Map<String, SecAggStep> step(Map<String, SecAggStep> answers, String stage, boolean opening) {
    for (String bank : opening ? answers.keySet() : asked) {
      SecAggStep answer = answers.get(bank);
      if (answer == null) {
        drop(bank, stage, "no answer for the pipelined stage");
      } else if (!dropped(bank)) {
        feed(bank, answer, stage);
      }
    }
    ServerTransition transition = server.closeStage();
    if (transition.isAborted() || transition.isCompleted()) {
      throw new IllegalStateException("the pipelined " + what + " of round " + round + " "
          + transition.abortReason().orElse("ended early"));
    }
    return steps(transition);
  }

  /** Pipelined rounds: feeds the masked inputs that answered the training task and runs the sum to its end. */
  Future<Outcome> finish(Map<String, SecAggStep> maskedInputs, String stage) {
    return job.workers().run(WorkerPurpose.SECURE_AGGREGATION, () -> {
          for (String bank : asked) {
            SecAggStep answer = maskedInputs.get(bank);
            if (answer != null && !dropped(bank)) {
              feed(bank, answer, stage);
            } else if (!dropped(bank)) {
              drop(bank, stage, "no masked input");
            }
          }
          return server.closeStage();
        })
        .compose(this::drive)
        .map(this::outcome);
  }

  /** The banks the last stage's messages went to. */
  List<String> asked() {
    return asked;
  }

  private void feed(String bank, SecAggStep step, String stage) {
    for (ByteString message : step.getMessagesList()) {
      try {
        // a view, not a copy: a masked input (4 MB at 10^6 parameters) is summed where it lies
        server.acceptEncoded(bank, message.asReadOnlyByteBuffer());
      } catch (ProtocolViolationException e) {
        drop(bank, stage, e.getMessage());
        return;
      }
    }
  }
}
