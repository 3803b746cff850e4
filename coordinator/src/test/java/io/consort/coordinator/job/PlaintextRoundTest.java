package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.v1.Declined;
import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelUpdate;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacyMode;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class PlaintextRoundTest {
  private final FakeTimers timers = new FakeTimers();
  private final ModelParameters base = JobFixtures.model(3, 1f, 1f);

  private static Function<Task, Optional<TaskResult.Builder>> update(long examples, float... delta) {
    return task -> {
      ModelUpdate.Builder u = ModelUpdate.newBuilder().setBaseVersion(task.getTrain().getGlobalModel().getVersion())
          .setExampleCount(examples);
      for (float d : delta) {
        u.addDelta(d);
      }
      return Optional.of(TaskResult.newBuilder().setUpdate(u));
    };
  }

  private RoundOutcome run(JobSpec spec, FakeBanks banks) {
    JobContext job = JobFixtures.context(spec, banks, timers);
    List<String> members = List.copyOf(banks.members());
    Future<RoundOutcome> outcome = new PlaintextRound(job).run(new RoundProtocol.RoundInput(1, members, base,
        Map.of()));
    banks.pump(job.stages());
    timers.advance(JobFixtures.DEADLINE.toMillis());
    assertTrue(outcome.succeeded(), String.valueOf(outcome.cause()));
    return outcome.result();
  }

  @Test
  void aggregate_isTheExampleWeightedSumOfTheUpdates() {
    FakeBanks banks = new FakeBanks().bank("a", update(100, 1f, 0f)).bank("b", update(300, 0f, 2f));
    RoundOutcome outcome = run(JobFixtures.spec().build(), banks);
    AggregatedUpdate aggregate = outcome.aggregate().orElseThrow();
    assertEquals(400, aggregate.totalWeight());
    assertArrayEquals(new double[] {100, 600}, aggregate.weightedSum());
    assertArrayEquals(new float[] {1.25f, 2.5f}, new FedAvg().apply(new float[] {1f, 1f}, aggregate));
    assertEquals(List.of("a", "b"), outcome.participants());
  }

  @Test
  void unusableUpdates_areDroppedWithTheReason_andTheRoundGoesOnWithTheRest() {
    FakeBanks banks = new FakeBanks().bank("a", update(100, 1f, 0f)).bank("b", update(100, 1f, 0f))
        .bank("nan", update(100, Float.NaN, 0f)).bank("short", update(100, 1f))
        .bank("zero", update(0, 1f, 1f)).bank("stale", task -> update(10, 1f, 1f).apply(task)
            .map(r -> r.setUpdate(r.getUpdate().toBuilder().setBaseVersion(2))))
        .bank("silent", task -> Optional.empty());
    RoundOutcome outcome = run(JobFixtures.spec().build(), banks);
    assertEquals(List.of("a", "b"), outcome.participants());
    Map<String, String> reasons = new java.util.HashMap<>();
    outcome.dropouts().forEach(d -> reasons.put(d.bank(), d.reason()));
    assertEquals("update value 0 is NaN", reasons.get("nan"));
    assertEquals("update has 1 values but the model has 2", reasons.get("short"));
    assertEquals("update claims 0 examples", reasons.get("zero"));
    assertEquals("update is based on model version 2 but the round sent version 3", reasons.get("stale"));
    assertEquals("no answer before the deadline", reasons.get("silent"));
    assertTrue(outcome.dropouts().stream().allMatch(d -> d.stage().equals("train")));
  }

  @Test
  void declinedBanks_areNotDropouts() {
    FakeBanks banks = new FakeBanks().bank("a", update(100, 1f, 0f)).bank("b", update(100, 1f, 0f))
        .bank("capped", task -> Optional.of(TaskResult.newBuilder().setDeclined(Declined.newBuilder()
            .setReason("cap reached"))));
    RoundOutcome outcome = run(JobFixtures.spec().build(), banks);
    assertEquals(List.of("capped"), outcome.declined());
    assertTrue(outcome.dropouts().isEmpty());
  }

  @Test
  void underRecordLevelDp_anUpdateWithoutAValidDpReport_isDropped() {
    DpReport valid = DpReport.newBuilder().setNoiseMultiplier(1.1).setSamplingRate(0.1).setSteps(10).setClipNorm(1)
        .build();
    FakeBanks banks = new FakeBanks()
        .bank("a", task -> update(100, 1f, 0f).apply(task).map(r -> r.setUpdate(r.getUpdate().toBuilder().setDp(valid))))
        .bank("b", task -> update(100, 1f, 0f).apply(task).map(r -> r.setUpdate(r.getUpdate().toBuilder().setDp(valid))))
        .bank("none", update(100, 1f, 0f))
        .bank("weak", task -> update(100, 1f, 0f).apply(task).map(r -> r.setUpdate(r.getUpdate().toBuilder()
            .setDp(valid.toBuilder().setNoiseMultiplier(0.5)))));
    JobSpec spec = JobFixtures.spec().privacy(PrivacyMode.RECORD).recordNoiseMultiplier(1.0).build();
    RoundOutcome outcome = run(spec, banks);
    assertEquals(List.of("a", "b"), outcome.participants());
    assertEquals(Map.of("a", valid, "b", valid), outcome.dpReports());
    assertEquals(List.of("none", "weak"), outcome.dropouts().stream().map(Dropout::bank).toList());
  }

  @Test
  void fewerUpdatesThanMinBanks_abortsTheRound_withoutAnAggregate() {
    FakeBanks banks = new FakeBanks().bank("a", update(100, 1f, 0f)).bank("b", task -> Optional.empty());
    RoundOutcome outcome = run(JobFixtures.spec().build(), banks);
    assertTrue(outcome.aggregate().isEmpty());
    assertEquals("1 updates arrived but the round needs 2; the global model is unchanged",
        outcome.abortReason().orElseThrow());
  }
}
