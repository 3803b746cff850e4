package io.consort.coordinator.job;

import io.consort.identity.IdentityVerifier;
import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.SecAggPlan;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
import io.consort.secagg.AggregationResult;
import io.consort.secagg.Quantizer;
import io.consort.spec.JobSpec;
import io.consort.spec.RoundEvaluation;
import io.consort.spec.SecureRoundPlan;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A round under secure aggregation (Bonawitz et al. 2017): the training task's answer is each
 * bank's signed round keys, and the rest is a {@link SecureSum} of the banks' weighted, clipped,
 * quantised updates (with bank-level noise shares when the job has them): the coordinator learns only
 * the surviving banks' sum, or, below the threshold, nothing.
 */
public final class SecureRound implements RoundProtocol {
  private static final Logger log = LoggerFactory.getLogger(SecureRound.class);

  private final JobContext job;
  private final IdentityVerifier identityVerifier;
  private final PipelinedRounds pipeline;

  public SecureRound(JobContext job, IdentityVerifier identityVerifier) {
    this(job, identityVerifier, new PipelinedRounds(job, identityVerifier));
  }

  /** @param pipeline the job's pipelined-round state, shared with its {@link ReleaseRecorder} */
  SecureRound(JobContext job, IdentityVerifier identityVerifier, PipelinedRounds pipeline) {
    this.job = job;
    this.identityVerifier = identityVerifier;
    this.pipeline = pipeline;
  }

  /** One round's mutable state: touched by one stage at a time, on the loop or on the one ordered worker. */
  private static final class State {
    final RoundInput in;
    final List<String> declined = new ArrayList<>();
    final Map<String, DpReport> dpReports = new LinkedHashMap<>();
    final Map<String, Double> weights = new LinkedHashMap<>();
    /** R, the round members' training rows summed: each bank weights its update by its rows / R (version 9). */
    long rowTotal;
    SecureRoundPlan plan;
    /** The slots of the evaluation each bank's input carries after its update (0: none). */
    int evaluationSlots;
    SecureSum sum;

    State(RoundInput in) {
      this.in = in;
    }

    RoundOutcome aborted(String reason, List<Dropout> dropouts) {
      log.warn("round {} aborted: {}", in.round(), reason);
      return new RoundOutcome(Optional.empty(), Optional.of(reason), List.of(), dropouts, declined, Map.of(),
          Optional.empty(), OptionalDouble.empty());
    }
  }

  @Override
  public Future<RoundOutcome> run(RoundInput in) {
    State s = new State(in);
    JobSpec spec = job.spec();
    int dimension = in.base().getValuesCount();
    for (String m : in.members()) {
      s.rowTotal += in.trainRows().getOrDefault(m, 1L);
    }
    for (String m : in.members()) {
      // what each bank derives from its own rows and R: the weights are only the coordinator's decoding now
      s.weights.put(m, in.trainRows().getOrDefault(m, 1L) / (double) s.rowTotal);
    }
    // a job with distributed record-level noise sums unweighted gradient sums: it sends and binds no row total
    long boundRowTotal = spec.privacy().distributedRecordNoise().isPresent() ? 0 : s.rowTotal;
    // the same derivation every bank makes from the plan it pinned; calibration is CPU work for a worker
    return job.workers().run(WorkerPurpose.SECURE_AGGREGATION,
            () -> SecureRoundPlan.derive(spec, in.round(), in.members(), dimension))
        .transform(derived -> {
          if (derived.failed()) {
            return Future.succeededFuture(s.aborted("secure aggregation cannot run with these banks: "
                + derived.cause().getMessage(), List.of()));
          }
          s.plan = derived.result();
          s.evaluationSlots = RoundEvaluation.carriedSlots(spec, in.round());
          Optional<PipelinedRounds.Pending> keyed = pipeline.take(in.round(), in.members(), boundRowTotal);
          if (keyed.isPresent()) {
            s.sum = keyed.get().sum();
            // keyed during the last round, before this round's model was known
            s.sum.bindTraining(in.base(), boundRowTotal);
            return train(s, keyed.get().outgoing(), boundRowTotal);
          }
          s.sum = SecureSum.open(job, identityVerifier, in.round(), s.evaluationSlots > 0
              ? "updates and evaluations" : "updates", s.plan.sumParameters(s.evaluationSlots));
          s.sum.bindTraining(in.base(), boundRowTotal);
          return train(s, Map.of(), boundRowTotal);
        })
        .compose(outcome -> outcome.aggregate().isEmpty() ? Future.succeededFuture(outcome)
            : pipeline.keysAdvertised(in.round(), in.members(), dimension, boundRowTotal, s.sum.nextRoundKeys())
                .map(outcome));
  }

  /**
   * The training task and the sum. {@code forwarded} (pipelined rounds) holds each bank's forwarded shares
   * of a sum keyed during the previous round: the task carries them and the answers are masked inputs;
   * empty, the answers are key advertisements that open the sum. {@code rowTotal} is the row total the task carries
   * and the sum binds (0: none, distributed record-level noise).
   */
  private Future<RoundOutcome> train(State s, Map<String, SecAggStep> forwarded, long rowTotal) {
    RoundInput in = s.in;
    // each bank derives these values itself and refuses a task that carries others
    SecAggPlan roundPlan = s.plan.toTask(job.spec());
    // pipelined and unmasking with the input: the sum ends with the masked inputs that answer this task, so the
    // next round's roster rides on it (the banks' keys come back with their masked inputs)
    List<String> next = pipeline.nextRoster(in.round(), in.members());
    List<String> nextRoster = !forwarded.isEmpty() && job.spec().secureAggregation().unmaskingWithInput()
        ? next : List.of();
    // what every bank's task shares, built once for the stage (the row total too: one R for all, or the masks do not
    // cancel); each bank's adds its shares
    TrainTask common = TrainTask.newBuilder().setGlobalModel(in.base())
        .setLocalEpochs(job.plan().getLocalEpochs()).setPrivacy(job.plan().getPrivacy())
        .setSecureAggregation(roundPlan).addAllRoundMembers(in.members()).setPlan(job.plan())
        .setRoundRowTotal(rowTotal).build();
    return job.stages().collect(in.round(), Stage.TRAIN, in.members(), m -> {
          TrainTask.Builder train = common.toBuilder();
          if (forwarded.containsKey(m)) {
            train.setForwardedShares(forwarded.get(m).toBuilder().addAllNextRoundMembers(nextRoster));
          }
          return Task.newBuilder().setTrain(train);
        })
        .compose(answers -> {
          Map<String, SecAggStep> advertisements = new LinkedHashMap<>();
          for (String m : in.members()) {
            TaskResult r = answers.answer(m).orElse(null);
            if (r != null && r.hasDeclined()) {
              s.declined.add(m);
              log.info("round {}: bank '{}' declined: {}", in.round(), m, r.getDeclined().getReason());
            } else if (r == null || !r.hasSecureAggregation()) {
              s.sum.drop(m, "train", answers.problemOf(m));
            } else if (job.spec().privacy().recordLevel() && !RoundProtocol.acceptableDpReport(job.spec(),
                r.getSecureAggregation().hasDp() ? r.getSecureAggregation().getDp() : null)) {
              s.sum.drop(m, "train", "the job requires record-level DP-SGD but the bank sent no valid DP report");
            } else {
              if (r.getSecureAggregation().hasDp()) {
                s.dpReports.put(m, r.getSecureAggregation().getDp());
              }
              advertisements.put(m, r.getSecureAggregation());
            }
          }
          if (s.declined.isEmpty() && advertisements.size() == in.members().size()) {
            s.sum.pipelineNextRound(next);
            if (!nextRoster.isEmpty()) {
              advertisements.forEach((m, step) -> {
                if (step.hasNextRound()) {
                  s.sum.nextRoundKeys(m, step.getNextRound());
                }
              });
            }
          }
          return forwarded.isEmpty() ? s.sum.run(advertisements, "advertise-keys") : s.sum.finish(advertisements, "train");
        })
        .compose(outcome -> job.workers().run(WorkerPurpose.SECURE_AGGREGATION, () -> finish(s, outcome)));
  }

  /**
   * A federated DP-SGD step: the sum is the survivors' clipped gradient sums plus their noise shares. As
   * centralised DP-SGD does, the coordinator divides by the expected batch (q times the survivors' rows)
   * and takes one step of the model's learning rate; the resulting update goes to the server rule like
   * any mean update (plain SGD under FedAvg, DP-Adam on the server under FedAdam). The survivors' rows
   * come from the banks and only scale the step: the noise each bank adds does not depend on them.
   */
  private RoundOutcome distributedStep(State s, SecureSum.Outcome outcome, AggregationResult result, double[] sum) {
    var share = s.plan.recordNoise();
    double rows = 0;
    for (String bank : result.includedBanks()) {
      rows += s.in.trainRows().getOrDefault(bank, 1L);
    }
    double expectedBatch = Math.max(1.0, share.samplingRate() * rows);
    double step = -job.spec().model().learningRate();
    for (int i = 0; i < sum.length; i++) {
      sum[i] *= step;
    }
    Map<String, DpReport> reports = new LinkedHashMap<>(s.dpReports);
    reports.keySet().retainAll(result.includedBanks());
    double errorBound = s.plan.quantizer().l2ErrorBound(result.includedBanks().size(), sum.length)
        * Math.abs(step) / expectedBatch;
    return new RoundOutcome(Optional.of(new AggregatedUpdate(sum, expectedBatch, result.includedBanks().size())),
        Optional.empty(), List.copyOf(result.includedBanks()), outcome.dropouts(), s.declined, reports,
        Optional.empty(), OptionalDouble.of(errorBound), Optional.of(share));
  }

  /**
   * Decodes the unmasked sum (or reports the abort) and states the noise actually in it; the evaluation
   * part, when the sum carried one, goes with the outcome undecoded.
   */
  private RoundOutcome finish(State s, SecureSum.Outcome outcome) {
    if (outcome.result().isEmpty()) {
      return s.aborted(outcome.abortReason().orElseThrow(), outcome.dropouts());
    }
    AggregationResult result = outcome.result().get();
    Optional<RoundOutcome.EvaluationSum> evaluation = s.evaluationSlots == 0 ? Optional.empty()
        : Optional.of(new RoundOutcome.EvaluationSum(s.plan.evaluationPart(result.sum()),
            result.includedBanks().size()));
    return decode(s, outcome, result).withCarriedEvaluation(evaluation);
  }

  private RoundOutcome decode(State s, SecureSum.Outcome outcome, AggregationResult result) {
    int dimension = s.in.base().getValuesCount();
    Quantizer quantizer = s.plan.quantizer();
    double[] sum = quantizer.decodeSum(s.plan.updatePart(result.sum()));
    if (s.plan.distributedRecordNoise()) {
      return distributedStep(s, outcome, result, sum);
    }
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
        Optional.empty(), List.copyOf(result.includedBanks()), outcome.dropouts(), s.declined, reports, noise,
        OptionalDouble.of(errorBound));
  }
}
