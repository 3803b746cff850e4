package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.v1.Stage;
import io.consort.spec.JobSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a coordinator restart costs now that a bank answers a job's statistics and its final evaluation once
 * under secure aggregation (docs/OPERATIONS.md, "Restarts"): the coordinator is stopped once every bank has
 * answered one of them (bank-1 holds the sum's next stage until the stop), and the resumed job asks again.
 */
@Tag("e2e")
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AnswerOnceResumeTest {
  @TempDir
  Path dir;

  /**
   * Stops the coordinator when bank-1 gets the first task after one {@code answered} matches: the sum's next
   * stage, which the coordinator sends only once it holds every bank's answer.
   */
  private static void stopAfter(LocalConsortium consortium, Predicate<Stage> answered) throws Exception {
    CompletableFuture<Void> reached = new CompletableFuture<>();
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    AtomicBoolean seen = new AtomicBoolean();
    consortium.beforeTask("bank-1", task -> {
      if (seen.get() && !reached.isDone()) {
        reached.complete(null);
        stopped.get(30, TimeUnit.SECONDS);
      }
      if (answered.test(task.getHeader().getStage())) {
        seen.set(true);
      }
    });
    consortium.startBanks(bank -> LocalConsortium.BankSettings.defaults());
    Await.within(LocalConsortium.JOB_TIMEOUT, "every bank to answer", reached);
    consortium.stopCoordinator();
    stopped.complete(null);
  }

  @Test
  void aJobStoppedAfterItsStatisticsWereAnswered_failsWhenResumed_theBanksRefusingToAnswerThemAgain()
      throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec plan = consortium.basePlan("stats-once", 2).secureAggregation(true).secureAggregationClipNorm(10)
          .build();
      consortium.startCoordinator(plan, Duration.ofSeconds(20), new io.consort.coordinator.model.FederatedModelOps());
      stopAfter(consortium, stage -> stage == Stage.FEATURE_STATS);

      Exception e = assertThrows(Exception.class, () -> Await.within(LocalConsortium.JOB_TIMEOUT,
          "the resumed job to end", consortium.restartCoordinator(plan, Duration.ofSeconds(20)).jobOutcome()));
      assertTrue(e.getMessage().contains("feature statistics"), e.getMessage());
    }
  }

  @Test
  void aJobStoppedDuringItsFinalEvaluation_completesWhenResumed_withoutTheFinalRoundsMetrics() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      JobSpec plan = consortium.basePlan("evaluation-once", 2).secureAggregation(true).secureAggregationClipNorm(10)
          .build();
      consortium.startCoordinator(plan, Duration.ofSeconds(20), new io.consort.coordinator.model.FederatedModelOps());
      stopAfter(consortium, stage -> stage == Stage.EVALUATE);

      JsonObject result = Await.within(LocalConsortium.JOB_TIMEOUT, "the resumed job to finish",
          consortium.restartCoordinator(plan, Duration.ofSeconds(20)).jobOutcome());
      assertEquals("completed", result.getString("status"));
      JsonArray rounds = result.getJsonArray("rounds");
      assertEquals(2, rounds.size(), rounds.encodePrettily());
      assertTrue(rounds.getJsonObject(0).getValue("auc") != null, "round 1's model, in round 2's sum: "
          + rounds.getJsonObject(0).encode());
      assertNull(rounds.getJsonObject(1).getValue("auc"), "the final evaluation was answered once, before the stop: "
          + rounds.getJsonObject(1).encode());
      assertEquals(2, result.getJsonArray("aborted_attempts").getJsonObject(0).getInteger("round"),
          "the round the stop cut short runs again");
    }
  }
}
