package io.consort.coordinator.job;

import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelUpdate;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
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
 * A round without secure aggregation: each bank sends its update in the clear with its example
 * count, and the aggregate is the example-weighted sum of the updates that pass every check. The
 * coordinator sees each bank's update; jobs that must not use secure aggregation instead.
 */
public final class PlaintextRound implements RoundProtocol {
  private static final Logger log = LoggerFactory.getLogger(PlaintextRound.class);

  private final JobContext job;

  public PlaintextRound(JobContext job) {
    this.job = job;
  }

  /** An update checked against the round's model: why it is refused, or its delta. */
  private record Checked(String problem, float[] delta, long examples) {}

  @Override
  public Future<RoundOutcome> run(RoundInput in) {
    ModelParameters base = in.base();
    return job.stages().collect(in.round(), Stage.TRAIN, in.members(), m -> Task.newBuilder().setTrain(
            TrainTask.newBuilder().setGlobalModel(base).setLocalEpochs(job.plan().getLocalEpochs())
                .setPrivacy(job.plan().getPrivacy()).setSecureAggregation(job.plan().getSecureAggregation())
                .addAllRoundMembers(in.members()).setPlan(job.plan())))
        // checking and summing updates is O(banks x model size): a worker does it
        .compose(answers -> job.workers().run(() -> aggregate(in, answers)));
  }

  private RoundOutcome aggregate(RoundInput in, StageAnswers answers) {
    List<String> participants = new ArrayList<>();
    List<Dropout> dropouts = new ArrayList<>();
    List<String> declined = new ArrayList<>();
    Map<String, DpReport> dpReports = new LinkedHashMap<>();
    double[] sum = new double[in.base().getValuesCount()];
    double total = 0;
    for (String m : in.members()) {
      TaskResult r = answers.answer(m).orElse(null);
      if (r != null && r.hasDeclined()) {
        declined.add(m);
        log.info("round {}: bank '{}' declined: {}", in.round(), m, r.getDeclined().getReason());
        continue;
      }
      String problem = r != null && r.hasUpdate() ? check(r.getUpdate(), in.base()) : answers.problemOf(m);
      if (problem == null && job.spec().privacy().recordLevel()
          && !RoundProtocol.acceptableDpReport(job.spec(), r.getUpdate().hasDp() ? r.getUpdate().getDp() : null)) {
        problem = "the job requires record-level DP-SGD but the update carries no valid DP report";
      }
      if (problem != null) {
        dropouts.add(new Dropout(m, "train", problem));
        log.warn("round {}: bank '{}' dropped at train: {}", in.round(), m, problem);
        continue;
      }
      ModelUpdate update = r.getUpdate();
      participants.add(m);
      if (update.hasDp()) {
        dpReports.put(m, update.getDp());
      }
      long n = update.getExampleCount();
      for (int i = 0; i < sum.length; i++) {
        sum[i] += (double) n * update.getDelta(i);
      }
      total += n;
    }
    int minBanks = job.spec().training().minBanks();
    Optional<AggregatedUpdate> aggregate = participants.size() >= minBanks
        ? Optional.of(new AggregatedUpdate(sum, total, participants.size())) : Optional.empty();
    Optional<String> abort = aggregate.isPresent() ? Optional.empty()
        : Optional.of(participants.size() + " updates arrived but the round needs " + minBanks
            + "; the global model is unchanged");
    return new RoundOutcome(aggregate, abort, participants, dropouts, declined, dpReports, Optional.empty(),
        OptionalDouble.empty());
  }

  /** Why an update cannot be used with the round's model, or null when it can. */
  static String check(ModelUpdate update, ModelParameters base) {
    if (update.getBaseVersion() != base.getVersion()) {
      return "update is based on model version " + update.getBaseVersion() + " but the round sent version "
          + base.getVersion();
    }
    if (update.getDeltaCount() != base.getValuesCount()) {
      return "update has " + update.getDeltaCount() + " values but the model has " + base.getValuesCount();
    }
    if (update.getExampleCount() <= 0) {
      return "update claims " + update.getExampleCount() + " examples";
    }
    for (int i = 0; i < update.getDeltaCount(); i++) {
      if (!Float.isFinite(update.getDelta(i))) {
        return "update value " + i + " is " + update.getDelta(i);
      }
    }
    return null;
  }
}
