package io.consort.coordinator.job;

import com.google.protobuf.ByteString;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.Role;
import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggPlan;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
import io.consort.secagg.AggregationResult;
import io.consort.secagg.ProtocolViolationException;
import io.consort.secagg.Quantizer;
import io.consort.secagg.SecAggServer;
import io.consort.secagg.ServerTransition;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.wire.SecAggCodec;
import io.consort.spec.JobSpec;
import io.consort.spec.SecureRoundPlan;
import io.vertx.core.Future;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A round under secure aggregation (Bonawitz et al. 2017): the training task's answer is each
 * bank's signed round keys; the coordinator then relays keys (with the banks' certificates, so each
 * bank checks every peer's signature against the consortium CA), encrypted shares, collects masked
 * inputs and unmasking shares, and learns only the sum of the surviving banks' weighted, clipped,
 * quantised updates. Each stage has the job's stage deadline; a bank that misses it or sends
 * something the protocol refuses is dropped at that stage, and the round goes on while the
 * threshold allows. Below it the round aborts and nothing is unmasked.
 *
 * <p>The members' certificates are read once, on the event loop, when the round starts: the
 * signature checks that run on workers see that snapshot, never the live registry.
 */
public final class SecureRound implements RoundProtocol {
  private static final Logger log = LoggerFactory.getLogger(SecureRound.class);

  private final JobContext job;
  private final IdentityVerifier identityVerifier;

  public SecureRound(JobContext job, IdentityVerifier identityVerifier) {
    this.job = job;
    this.identityVerifier = identityVerifier;
  }

  /** One round's mutable state: touched by one stage at a time, on the loop or on the one ordered worker. */
  private static final class State {
    final RoundInput in;
    final Map<String, X509Certificate> certificates;
    final List<Dropout> dropouts = new ArrayList<>();
    final List<String> declined = new ArrayList<>();
    final Map<String, DpReport> dpReports = new LinkedHashMap<>();
    SecureRoundPlan plan;
    SecAggServer server;
    final Map<String, Double> weights = new LinkedHashMap<>();

    State(RoundInput in, Map<String, X509Certificate> certificates) {
      this.in = in;
      this.certificates = certificates;
    }

    void drop(String bank, String stage, String reason) {
      dropouts.add(new Dropout(bank, stage, reason));
      log.warn("round {}: bank '{}' dropped at {}: {}", in.round(), bank, stage, reason);
    }

    boolean dropped(String bank) {
      return dropouts.stream().anyMatch(d -> d.bank().equals(bank)) || declined.contains(bank);
    }

    RoundOutcome aborted(String reason) {
      log.warn("round {} aborted: {}", in.round(), reason);
      return new RoundOutcome(Optional.empty(), Optional.of(reason), List.of(), dropouts, declined, Map.of(),
          Optional.empty(), OptionalDouble.empty());
    }
  }

  @Override
  public Future<RoundOutcome> run(RoundInput in) {
    Map<String, X509Certificate> certificates = new LinkedHashMap<>();
    for (String m : in.members()) {
      job.members().certificate(m).ifPresent(c -> certificates.put(m, c));
    }
    State s = new State(in, certificates);
    JobSpec spec = job.spec();
    int dimension = in.base().getValuesCount();
    double totalRows = 0;
    for (String m : in.members()) {
      totalRows += in.trainRows().getOrDefault(m, 1L);
    }
    for (String m : in.members()) {
      s.weights.put(m, in.trainRows().getOrDefault(m, 1L) / totalRows);
    }
    // the same derivation every bank makes from the plan it pinned; calibration is CPU work for a worker
    return job.workers().run(() -> SecureRoundPlan.derive(spec, in.round(), in.members(), dimension))
        .transform(derived -> {
          if (derived.failed()) {
            return Future.succeededFuture(s.aborted("secure aggregation cannot run with these banks: "
                + derived.cause().getMessage()));
          }
          s.plan = derived.result();
          s.server = SecAggServer.create(s.plan.parameters(),
              (bank, message, signature) -> verify(s, bank, message, signature));
          return train(s);
        });
  }

  private void verify(State s, String bank, byte[] message, byte[] signature) throws GeneralSecurityException {
    X509Certificate cert = s.certificates.get(bank);
    if (cert == null) {
      throw new GeneralSecurityException("bank '" + bank + "' has no certificate on record");
    }
    if (!identityVerifier.verify(cert, message, signature, Set.of(Role.PARTICIPANT)).name().equals(bank)) {
      throw new GeneralSecurityException("key signature of '" + bank + "' made with another identity");
    }
  }

  private Future<RoundOutcome> train(State s) {
    RoundInput in = s.in;
    // each bank derives these values itself and refuses a task that carries others
    SecAggPlan roundPlan = s.plan.toTask(job.spec());
    return job.stages().collect(in.round(), Stage.TRAIN, in.members(), m -> Task.newBuilder().setTrain(
            TrainTask.newBuilder().setGlobalModel(in.base()).setLocalEpochs(job.plan().getLocalEpochs())
                .setPrivacy(job.plan().getPrivacy()).setSecureAggregation(roundPlan).addAllRoundMembers(in.members())
                .setPlan(job.plan()).setAggregationWeight(s.weights.get(m))))
        .compose(answers -> {
          for (String m : in.members()) {
            TaskResult r = answers.answer(m).orElse(null);
            if (r != null && r.hasDeclined()) {
              s.declined.add(m);
              log.info("round {}: bank '{}' declined: {}", in.round(), m, r.getDeclined().getReason());
            } else if (r == null || !r.hasSecureAggregation() || r.getSecureAggregation().getMessagesCount() != 1) {
              s.drop(m, "train", r != null && r.hasSecureAggregation() ? "expected one key advertisement"
                  : answers.problemOf(m));
            } else if (job.spec().privacy().recordLevel() && !RoundProtocol.acceptableDpReport(job.spec(),
                r.getSecureAggregation().hasDp() ? r.getSecureAggregation().getDp() : null)) {
              s.drop(m, "train", "the job requires record-level DP-SGD but the bank sent no valid DP report");
            } else if (r.getSecureAggregation().hasDp()) {
              s.dpReports.put(m, r.getSecureAggregation().getDp());
            }
          }
          // signature checks, Shamir reconstruction and mask expansion are CPU work: a worker does them
          return job.workers().run(() -> {
            for (String m : in.members()) {
              if (!s.dropped(m)) {
                feed(s, m, answers.answer(m).orElseThrow().getSecureAggregation(), "advertise-keys");
              }
            }
            return s.server.closeStage();
          });
        })
        .compose(transition -> drive(s, transition))
        .compose(transition -> job.workers().run(() -> finish(s, transition)));
  }

  /** Runs the remaining secure-aggregation stages until the round completes or aborts. */
  private Future<ServerTransition> drive(State s, ServerTransition transition) {
    if (transition.isAborted() || transition.isCompleted()) {
      return Future.succeededFuture(transition);
    }
    Map<String, SecAggMessage> byRecipient = new LinkedHashMap<>();
    for (SecAggMessage m : transition.outgoing()) {
      byRecipient.put(m.header().recipientId(), m);
    }
    io.consort.secagg.Stage next = transition.outgoing().get(0).header().stage();
    List<PeerCertificate> certificates = new ArrayList<>();
    if (next == io.consort.secagg.Stage.SHARE_KEYS) {
      for (String bank : byRecipient.keySet()) {
        X509Certificate c = s.certificates.get(bank);
        if (c != null) {
          certificates.add(SecureAggregationPlan.peerCertificate(bank, c));
        }
      }
    }
    return job.stages().collect(s.in.round(), SecureAggregationPlan.wireStage(next), byRecipient.keySet(),
            m -> Task.newBuilder().setSecureAggregation(SecAggStep.newBuilder()
                .addMessages(ByteString.copyFrom(SecAggCodec.encode(byRecipient.get(m))))
                .addAllCertificates(certificates)))
        .compose(answers -> job.workers().run(() -> {
          for (String m : byRecipient.keySet()) {
            TaskResult r = answers.answer(m).orElse(null);
            if (r == null || !r.hasSecureAggregation()) {
              s.drop(m, next.wireName(), answers.problemOf(m));
            } else {
              feed(s, m, r.getSecureAggregation(), next.wireName());
            }
          }
          return s.server.closeStage();
        }))
        .compose(following -> drive(s, following));
  }

  private static void feed(State s, String bank, SecAggStep step, String stage) {
    for (ByteString message : step.getMessagesList()) {
      try {
        s.server.acceptEncoded(bank, message.toByteArray());
      } catch (ProtocolViolationException e) {
        s.drop(bank, stage, e.getMessage());
        return;
      }
    }
  }

  /** Decodes the unmasked sum (or reports the abort) and states the noise actually in it. */
  private RoundOutcome finish(State s, ServerTransition transition) {
    if (transition.isAborted()) {
      String reason = transition.abortReason().get();
      return s.aborted(reason.contains("nothing was unmasked") ? reason : reason + "; nothing was unmasked");
    }
    AggregationResult result = transition.result().get();
    int dimension = s.in.base().getValuesCount();
    Quantizer quantizer = s.plan.quantizer();
    double[] sum = quantizer.decodeSum(result.sum());
    double includedWeight = 0;
    for (String bank : result.includedBanks()) {
      includedWeight += s.weights.get(bank);
    }
    Map<String, DpReport> reports = new LinkedHashMap<>(s.dpReports);
    reports.keySet().retainAll(result.includedBanks());
    Optional<BankNoise> noise = Optional.empty();
    if (s.plan.bankLevel()) {
      // the noise actually present is the survivors' shares only: account for exactly that
      noise = Optional.of(new BankNoise(s.plan.perBankSigma(), result.includedBanks().size(), s.plan.clipNorm(),
          s.plan.l2Sensitivity(), dimension, s.plan.bankNoiseMultiplier()));
    }
    double errorBound = quantizer.l2ErrorBound(result.includedBanks().size(), dimension) / includedWeight;
    return new RoundOutcome(Optional.of(new AggregatedUpdate(sum, includedWeight, result.includedBanks().size())),
        Optional.empty(), List.copyOf(result.includedBanks()), s.dropouts, s.declined, reports, noise,
        OptionalDouble.of(errorBound));
  }
}
