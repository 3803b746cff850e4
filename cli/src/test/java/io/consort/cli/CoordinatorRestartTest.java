package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.coordinator.job.ModelOps;
import io.consort.coordinator.model.FederatedModelOps;
import io.consort.coordinator.store.CoordinatorStore;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.FeatureEncoding;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import io.consort.spec.StrategySpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The operator restarts the coordinator mid-job: nothing is lost, the job resumes from its checkpoint. */
@Tag("e2e")
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CoordinatorRestartTest {
  @TempDir
  Path dir;

  @Test
  void restartedCoordinator_resumesJobAfterLastCheckpointedRound_withItsServerOptimiserState() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      // FedAdam remembers moments between rounds: they must survive the restart too
      JobSpec plan = consortium.basePlan("durable", 6).strategy(StrategySpec.defaults(StrategySpec.Name.FEDADAM))
          .build();
      EvaluationWatch roundThree = new EvaluationWatch(new FederatedModelOps(), 3);
      consortium.startCoordinator(plan, Duration.ofSeconds(30), roundThree);
      consortium.startBanks(bank -> LocalConsortium.BankSettings.defaults());
      // rounds run one after another, each recorded and checkpointed before the next begins, so
      // when round 3 is being evaluated rounds 1 and 2 are stored
      Await.within(LocalConsortium.JOB_TIMEOUT, "round 3 to reach its evaluation", roundThree.reached);
      consortium.stopCoordinator();
      Path data = consortium.coordinatorConfig.dataDir();
      int before;
      try (CoordinatorStore store = CoordinatorStore.open(data)) {
        before = store.rounds("durable").size();
        // stopped, not failed: the job is halted where it is and the store closed after its work in flight
        assertEquals("RUNNING", store.job("durable").orElseThrow().status());
      }

      // the banks reconnect by themselves (backoff) to the coordinator restarted on the same port
      JsonObject result = Await.within(LocalConsortium.JOB_TIMEOUT, "the resumed job to finish",
          consortium.restartCoordinator(plan, Duration.ofSeconds(30)).jobOutcome());
      assertEquals("completed", result.getString("status"));
      JsonArray rounds = result.getJsonArray("rounds");
      assertEquals(6, rounds.size(), rounds.encodePrettily());
      for (int r = 0; r < 6; r++) {
        assertEquals(r + 1, rounds.getJsonObject(r).getInteger("round"));
      }
      assertEquals(6, result.getJsonObject("model").getLong("version"));
      JsonArray aborted = result.getJsonArray("aborted_attempts");
      assertEquals(1, aborted.size(), aborted.encode());
      assertEquals(before + 1, aborted.getJsonObject(0).getInteger("round"), "the round the stop cut short");
      assertTrue(before >= 2 && before < 6, "the restart happened mid-job: " + before + " rounds before it");
      consortium.stopCoordinator();
      try (CoordinatorStore store = CoordinatorStore.open(data)) {
        // counted on from the stored state, not restarted at 0 by the resumed coordinator
        long completed = rounds.stream().filter(r -> "completed".equals(((JsonObject) r).getString("status"))).count();
        assertEquals(completed, store.latestCheckpoint("durable").orElseThrow().serverState().orElseThrow().getSteps());
      }
    }
  }

  /** The coordinator's model arithmetic, telling the test when the evaluation of a given round starts. */
  private static final class EvaluationWatch implements ModelOps {
    final CompletableFuture<Void> reached = new CompletableFuture<>();
    private final ModelOps delegate;
    private final int round;
    private final AtomicInteger evaluations = new AtomicInteger();

    EvaluationWatch(ModelOps delegate, int round) {
      this.delegate = delegate;
      this.round = round;
    }

    @Override
    public FeatureEncoding mergeFeatureStats(JobSpec spec, List<FeatureStats> stats) {
      return delegate.mergeFeatureStats(spec, stats);
    }

    @Override
    public ModelParameters initialModel(JobSpec spec, FeatureEncoding encoding) {
      return delegate.initialModel(spec, encoding);
    }

    @Override
    public Metrics mergeEvaluations(List<EvaluationResult> results, List<String> columns) {
      count();
      return delegate.mergeEvaluations(results, columns);
    }

    @Override
    public MergedStatistics mergeFirstStage(JobSpec spec, int[] sum, int banks, List<FeatureStats> names) {
      return delegate.mergeFirstStage(spec, sum, banks, names);
    }

    @Override
    public MergedStatistics mergeSecondStage(JobSpec spec, FeatureEncoding preliminary, int[] sum, int banks) {
      return delegate.mergeSecondStage(spec, preliminary, sum, banks);
    }

    @Override
    public Metrics metricsFromSum(int bins, List<String> columns, int[] sum, int banks) {
      count();
      return delegate.metricsFromSum(bins, columns, sum, banks);
    }

    private void count() {
      if (evaluations.incrementAndGet() == round) {
        reached.complete(null);
      }
    }
  }
}
