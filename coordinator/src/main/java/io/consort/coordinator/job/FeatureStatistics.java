package io.consort.coordinator.job;

import io.consort.identity.IdentityVerifier;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.protocol.v1.FeatureEncoding;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.FeatureStatsTask;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.secagg.RoundParameters;
import io.consort.spec.SecureRoundPlan;
import io.consort.spec.SecureSumPurpose;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Federated feature statistics: every bank's sums and counts over its training rows, merged into one
 * encoding (means, standard deviations, categories) so that every bank encodes rows identically. Under
 * secure aggregation the numeric statistics travel only inside a {@link SecureSum}: the coordinator
 * learns the consortium's totals, never one bank's; in the clear each bank sends only its row counts
 * and the names of the open columns' categories it has enough rows of (docs/PRIVACY.md).
 */
final class FeatureStatistics {
  private static final Logger log = LoggerFactory.getLogger(FeatureStatistics.class);

  /**
   * The merged encoding, what each bank in it said in the clear (row counts, category names), in
   * roster order.
   */
  record Result(FeatureEncoding encoding, Map<String, FeatureStats> banks) {}

  private final JobContext job;
  private final ModelOps modelOps;
  private final IdentityVerifier identityVerifier;

  FeatureStatistics(JobContext job, ModelOps modelOps, IdentityVerifier identityVerifier) {
    this.job = job;
    this.modelOps = modelOps;
    this.identityVerifier = identityVerifier;
  }

  /** Asks {@code banks} for their statistics; fails when fewer than the job's {@code min_banks} make it in. */
  Future<Result> gather(List<String> banks) {
    boolean secure = job.spec().secureAggregation().enabled();
    return job.stages().collect(0, Stage.FEATURE_STATS, banks, m -> {
          FeatureStatsTask.Builder task = FeatureStatsTask.newBuilder().setPlan(job.plan());
          if (secure) {
            task.addAllRoundMembers(banks);
          }
          return Task.newBuilder().setFeatureStats(task);
        })
        .compose(answers -> {
          Map<String, FeatureStats> clear = new LinkedHashMap<>();
          for (String m : banks) {
            TaskResult r = answers.answer(m).orElse(null);
            if (r != null && r.hasFeatureStats() && (!secure || r.getFeatureStats().hasSecureSum())) {
              clear.put(m, r.getFeatureStats());
            } else {
              log.warn("bank '{}' sent no feature statistics ({}); it leaves job '{}'", m,
                  r != null && r.hasFeatureStats() ? "no key advertisement for the secure sum" : answers.problemOf(m),
                  job.spec().id());
            }
          }
          return secure ? secureSum(banks, clear) : inTheClear(clear);
        });
  }

  private Future<Result> inTheClear(Map<String, FeatureStats> clear) {
    requireEnough(clear.size(), "sent feature statistics");
    List<FeatureStats> stats = List.copyOf(clear.values());
    return job.workers().run(() -> new Result(modelOps.mergeFeatureStats(job.spec(), stats), clear));
  }

  private Future<Result> secureSum(List<String> roster, Map<String, FeatureStats> clear) {
    RoundParameters params;
    try {
      params = SecureRoundPlan.sum(job.spec(), 0, SecureSumPurpose.FEATURE_STATISTICS, roster,
          FeatureStatsVector.length(job.spec().schema()));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new JobFailedException("the feature statistics cannot be summed securely: "
          + e.getMessage()));
    }
    SecureSum sum = SecureSum.open(job, identityVerifier, 0, "feature statistics", params);
    Map<String, SecAggStep> advertisements = new LinkedHashMap<>();
    for (String m : roster) {
      if (clear.containsKey(m)) {
        advertisements.put(m, clear.get(m).getSecureSum());
      } else {
        sum.drop(m, "feature-stats", "no feature statistics");
      }
    }
    return sum.run(advertisements, "feature-stats").compose(outcome -> {
      if (outcome.result().isEmpty()) {
        return Future.failedFuture(new JobFailedException("the secure sum of the feature statistics aborted: "
            + outcome.abortReason().orElseThrow()));
      }
      List<String> included = outcome.result().get().includedBanks();
      requireEnough(included.size(), "made it into the secure sum of the feature statistics");
      Map<String, FeatureStats> in = new LinkedHashMap<>();
      for (String m : roster) {
        if (included.contains(m)) {
          in.put(m, clear.get(m));
        }
      }
      int[] total = outcome.result().get().sum();
      List<FeatureStats> names = new ArrayList<>(in.values());
      return job.workers().run(() -> new Result(modelOps.mergeSummedStatistics(job.spec(), total, included.size(),
          names), in));
    });
  }

  private void requireEnough(int banks, String what) {
    if (banks < job.spec().training().minBanks()) {
      throw new JobFailedException("only " + banks + " banks " + what + "; the job needs at least "
          + job.spec().training().minBanks());
    }
  }
}
