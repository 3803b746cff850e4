package io.consort.coordinator.job;

import io.consort.identity.IdentityVerifier;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.model.sums.Limbs;
import io.consort.model.wire.ModelWire;
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
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Federated feature statistics: every bank's sums and counts over its training rows, merged into one
 * encoding (means, standard deviations, categories, and the preprocessing's fills, clip bounds and
 * "other" levels) so that every bank encodes rows identically. Under secure aggregation every numeric
 * statistic (missing counts and quantile histograms included) travels only inside a {@link SecureSum}:
 * the coordinator learns the consortium's totals, never one bank's; in the clear each bank sends only
 * its row counts and the names of the open columns' categories it has enough rows of (docs/PRIVACY.md).
 *
 * <p>A job whose preprocessing clips a column or counts a column's categories has a second stage:
 * the banks get the encoding of the first (its clip bounds and category lists) and sum their clipped
 * moments and per-level counts in a second secure sum, under its own round id
 * ({@link SecureSumPurpose#FEATURE_STATISTICS_SECOND_STAGE}). A bank that does not make it into the
 * second sum leaves the job.
 */
final class FeatureStatistics {
  private static final Logger log = LoggerFactory.getLogger(FeatureStatistics.class);

  /**
   * The merged encoding, what each bank in it said in the clear (row counts, category names), in
   * roster order, and what the coordinator learnt of the preprocessing (fills, clip bounds, the
   * consortium's missing and "other" counts) for the job's result.
   */
  record Result(io.consort.protocol.v1.FeatureEncoding encoding, Map<String, FeatureStats> banks,
                JsonObject preprocessing) {}

  /** One stage's outcome: the merged statistics and the banks in them. */
  private record Stage1(ModelOps.MergedStatistics merged, Map<String, FeatureStats> banks) {}

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
    Future<Stage1> first = stage(banks, null).compose(clear -> {
      int length = FeatureStatsVector.length(job.spec().schema());
      return sum(banks, clear, SecureSumPurpose.FEATURE_STATISTICS, "feature statistics", length, null)
          .compose(summed -> {
            String problem = rowsDisagree(summed);
            if (problem != null) {
              return Future.failedFuture(new JobFailedException(problem));
            }
            return job.workers().run(() -> new Stage1(modelOps.mergeFirstStage(job.spec(), summed.total(),
                summed.banks().size(), new ArrayList<>(summed.banks().values())), summed.banks()));
          });
    });
    if (!FeatureEncoding.needsSecondStage(job.spec().schema())) {
      return first.map(s -> new Result(s.merged().encoding(), s.banks(), s.merged().preprocessing()));
    }
    return first.compose(s -> {
      io.consort.protocol.v1.FeatureEncoding preliminary = s.merged().encoding();
      List<String> roster = List.copyOf(s.banks().keySet());
      int length = FeatureStatsVector.refinedLength(ModelWire.encoding(job.spec().schema(), preliminary));
      return stage(roster, preliminary)
          .compose(clear -> sum(roster, clear, SecureSumPurpose.FEATURE_STATISTICS_SECOND_STAGE,
              "second-stage feature statistics", length, preliminary))
          .compose(summed -> job.workers().run(() -> modelOps.mergeSecondStage(job.spec(), preliminary,
                  summed.total(), summed.banks().size()))
              .map(merged -> {
                Map<String, FeatureStats> in = new LinkedHashMap<>();
                s.banks().forEach((m, stats) -> {
                  if (summed.banks().containsKey(m)) {
                    in.put(m, stats);
                  }
                });
                JsonObject preprocessing = s.merged().preprocessing().copy();
                merge(preprocessing, merged.preprocessing());
                return new Result(merged.encoding(), in, preprocessing);
              }));
    });
  }

  /** Later figures win, column by column. */
  private static void merge(JsonObject into, JsonObject from) {
    from.forEach(e -> {
      if (e.getValue() instanceof JsonObject nested && into.getValue(e.getKey()) instanceof JsonObject existing) {
        merge(existing, nested);
      } else {
        into.put(e.getKey(), e.getValue());
      }
    });
  }

  /**
   * Asks {@code banks} for one stage's statistics (the second when {@code preliminary} is set) and keeps
   * the answers that answer it: under secure aggregation with a key advertisement, in the clear with the
   * statistics vector.
   */
  private Future<Map<String, FeatureStats>> stage(List<String> banks,
                                                  io.consort.protocol.v1.FeatureEncoding preliminary) {
    boolean secure = job.spec().secureAggregation().enabled();
    boolean second = preliminary != null;
    return job.stages().collect(0, Stage.FEATURE_STATS, banks, m -> {
          FeatureStatsTask.Builder task = FeatureStatsTask.newBuilder().setPlan(job.plan());
          if (secure) {
            task.addAllRoundMembers(banks);
          }
          if (second) {
            task.setPreliminary(preliminary);
          }
          return Task.newBuilder().setFeatureStats(task);
        })
        .map(answers -> {
          Map<String, FeatureStats> clear = new LinkedHashMap<>();
          for (String m : banks) {
            TaskResult r = answers.answer(m).orElse(null);
            String problem = r == null || !r.hasFeatureStats() ? answers.problemOf(m)
                : r.getFeatureStats().getSecondStage() != second ? "an answer to the other statistics stage"
                : secure && !r.getFeatureStats().hasSecureSum() ? "no key advertisement for the secure sum"
                : !secure && r.getFeatureStats().getStatisticsCount() == 0 ? "no statistics"
                : rowsProblem(r.getFeatureStats());
            if (problem == null) {
              clear.put(m, r.getFeatureStats());
            } else {
              log.warn("bank '{}' sent no {}feature statistics ({}); it leaves job '{}'", m, second ? "second-stage "
                  : "", problem, job.spec().id());
            }
          }
          return clear;
        });
  }

  /**
   * Row counts no bank can hold (a bank refuses data of {@link Integer#MAX_VALUE} rows or more; uint64 counts past
   * 2^63 read as negative): the training rows of the banks of a round are summed into the row total each bank
   * divides its own rows by, so one such count would wrap that total and every honest bank would refuse every round.
   */
  private static String rowsProblem(FeatureStats stats) {
    for (long rows : new long[] {stats.getTrainRows(), stats.getTestRows()}) {
      if (rows < 0 || rows >= Integer.MAX_VALUE) {
        return "row counts " + Long.toUnsignedString(stats.getTrainRows()) + " (training) and "
            + Long.toUnsignedString(stats.getTestRows()) + " (held out), beyond the " + (Integer.MAX_VALUE - 1)
            + " rows a bank can hold";
      }
    }
    return null;
  }

  /**
   * The banks' training rows in the clear must add up to the rows their statistics vectors count: the clear counts
   * make the row total R each bank divides its own rows by (its FedAvg weight), so one bank claiming two billion rows
   * there while its vector counts its real ones would take nearly all the weight of every round, and the honest
   * banks' updates (and the privacy they spend) would count for about nothing. Under secure aggregation the
   * coordinator sees only the sum, so it cannot tell which bank misreports and the job fails before any training;
   * in the clear such a bank has already left ({@link #inTheClear}). A bank that misreports the same count in both
   * places is not caught: it also skews the statistics, as a bank's own input to any sum can (THREAT_MODEL.md).
   */
  private static String rowsDisagree(Summed summed) {
    long clear = 0;
    for (FeatureStats s : summed.banks().values()) {
      clear += s.getTrainRows();
    }
    long counted = FeatureStatsVector.rows(summed.total(), summed.banks().size());
    return clear == counted ? null : "the " + summed.banks().size() + " banks of the statistics report " + clear
        + " training rows in the clear, but their statistics count " + counted + ": a bank misreports its rows, "
        + "and the banks' FedAvg weights (own rows over the round's total) cannot be trusted";
  }

  /** A stage's summed vector and the banks in it, in roster order. */
  private record Summed(int[] total, Map<String, FeatureStats> banks) {}

  private Future<Summed> sum(List<String> roster, Map<String, FeatureStats> clear, SecureSumPurpose purpose,
                             String what, int length, io.consort.protocol.v1.FeatureEncoding preliminary) {
    if (!job.spec().secureAggregation().enabled()) {
      return inTheClear(clear, what, length);
    }
    RoundParameters params;
    try {
      params = SecureRoundPlan.sum(job.spec(), 0, purpose, roster, length);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new JobFailedException("the " + what + " cannot be summed securely: "
          + e.getMessage()));
    }
    SecureSum sum = SecureSum.open(job, identityVerifier, 0, what, params);
    if (preliminary != null) { // the banks bound their masks to the encoding they answered
      sum.bind(io.consort.secagg.ModelDigest.ofHex(
          io.consort.protocol.ModelChecksum.secondStageStatisticsSha256Hex(preliminary)));
    }
    Map<String, SecAggStep> advertisements = new LinkedHashMap<>();
    for (String m : roster) {
      if (clear.containsKey(m)) {
        advertisements.put(m, clear.get(m).getSecureSum());
      } else {
        sum.drop(m, "feature-stats", "no " + what);
      }
    }
    return sum.run(advertisements, "feature-stats").compose(outcome -> {
      if (outcome.result().isEmpty()) {
        return Future.failedFuture(new JobFailedException("the secure sum of the " + what + " aborted: "
            + outcome.abortReason().orElseThrow()));
      }
      List<String> included = outcome.result().get().includedBanks();
      requireEnough(included.size(), "made it into the secure sum of the " + what);
      Map<String, FeatureStats> in = new LinkedHashMap<>();
      for (String m : roster) {
        if (included.contains(m)) {
          in.put(m, clear.get(m));
        }
      }
      return Future.succeededFuture(new Summed(outcome.result().get().sum(), in));
    });
  }

  /** Without secure aggregation: each bank's vector arrived in the clear; the coordinator adds them. */
  private Future<Summed> inTheClear(Map<String, FeatureStats> clear, String what, int length) {
    Map<String, FeatureStats> in = new LinkedHashMap<>();
    List<int[]> vectors = new ArrayList<>();
    clear.forEach((m, s) -> {
      if (s.getStatisticsCount() != length) {
        log.warn("bank '{}' sent {} of {} values of the {}; it leaves job '{}'", m, s.getStatisticsCount(), length,
            what, job.spec().id());
        return;
      }
      int[] v = new int[length];
      for (int i = 0; i < length; i++) {
        v[i] = s.getStatistics(i);
        if (Integer.toUnsignedLong(v[i]) >= 1L << Limbs.LIMB_BITS) {
          log.warn("bank '{}' sent a {} value above a 16-bit limb; it leaves job '{}'", m, what, job.spec().id());
          return;
        }
      }
      if (FeatureStatsVector.rows(v, 1) != s.getTrainRows()) {
        log.warn("bank '{}' reports {} training rows but its {} count {}; it leaves job '{}'", m, s.getTrainRows(),
            what, FeatureStatsVector.rows(v, 1), job.spec().id());
        return;
      }
      in.put(m, s);
      vectors.add(v);
    });
    try {
      requireEnough(in.size(), "sent " + what);
    } catch (JobFailedException e) {
      return Future.failedFuture(e);
    }
    return Future.succeededFuture(new Summed(Limbs.sum(vectors), in));
  }

  private void requireEnough(int banks, String what) {
    if (banks < job.spec().training().minBanks()) {
      throw new JobFailedException("only " + banks + " banks " + what + "; the job needs at least "
          + job.spec().training().minBanks());
    }
  }
}
