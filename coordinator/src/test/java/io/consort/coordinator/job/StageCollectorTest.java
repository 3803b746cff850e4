package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.Declined;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StageCollectorTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  private final FakeTimers timers = new FakeTimers();

  private static Optional<TaskResult.Builder> declines(Task task) {
    return Optional.of(TaskResult.newBuilder().setDeclined(Declined.newBuilder().setReason("no")));
  }

  private static Optional<TaskResult.Builder> silent(Task task) {
    return Optional.empty();
  }

  private StageCollector collector(FakeBanks banks) {
    return new StageCollector("job", banks, timers, DEADLINE);
  }

  private static Future<StageAnswers> ask(StageCollector stages, List<String> banks) {
    return stages.collect(1, Stage.TRAIN, banks, m -> Task.newBuilder());
  }

  @Test
  void stageCloses_whenEveryBankAnswered_withoutWaitingForTheDeadline() {
    FakeBanks banks = new FakeBanks().bank("a", StageCollectorTest::declines).bank("b", StageCollectorTest::declines);
    StageCollector stages = collector(banks);
    Future<StageAnswers> done = ask(stages, List.of("a", "b"));
    assertFalse(done.isComplete());
    assertEquals(2, banks.pump(stages));
    assertTrue(done.succeeded());
    assertEquals(List.of("a", "b"), List.copyOf(done.result().answers().keySet()));
    assertEquals(0, timers.pending(), "the deadline timer is cancelled");
    assertTrue(stages.open().isEmpty());
  }

  @Test
  void deadline_closesTheStageWithWhatArrived_andWithdrawsUndeliveredTasks() {
    FakeBanks banks = new FakeBanks().bank("a", StageCollectorTest::declines).bank("b", StageCollectorTest::silent);
    StageCollector stages = collector(banks);
    Future<StageAnswers> done = ask(stages, List.of("a", "b"));
    banks.pump(stages);
    assertEquals(List.of("b"), stages.open().orElseThrow().awaiting());
    timers.advance(DEADLINE.toMillis() - 1);
    assertFalse(done.isComplete());
    timers.advance(1);
    assertTrue(done.succeeded());
    assertEquals(List.of("a"), List.copyOf(done.result().answers().keySet()));
    assertEquals("no answer before the deadline", done.result().problemOf("b"));
    assertEquals(2, banks.withdrawn.size());
  }

  @Test
  void disconnectedBank_endsTheStageEarly_andIsReportedAsDisconnected() {
    FakeBanks banks = new FakeBanks().bank("a", StageCollectorTest::declines).bank("b", StageCollectorTest::silent);
    StageCollector stages = collector(banks);
    Future<StageAnswers> done = ask(stages, List.of("a", "b"));
    banks.pump(stages);
    stages.disconnected("b");
    assertTrue(done.succeeded());
    assertEquals("disconnected before answering", done.result().problemOf("b"));
    assertEquals(0, timers.pending());
  }

  @Test
  void bankNotConnectedWhenTheStageOpens_isNotAskedAndNotWaitedFor() {
    FakeBanks banks = new FakeBanks().bank("a", StageCollectorTest::silent).bank("b", StageCollectorTest::silent);
    banks.disconnect("a");
    banks.disconnect("b");
    StageCollector stages = collector(banks);
    Future<StageAnswers> done = ask(stages, List.of("a", "b"));
    assertTrue(done.succeeded(), "nobody to wait for");
    assertTrue(banks.posted.isEmpty());
    assertEquals(0, timers.pending());
  }

  @Test
  void resultsThatDoNotAnswerTheOpenStage_areRefusedByName_andChangeNothing() {
    FakeBanks banks = new FakeBanks().bank("a", StageCollectorTest::silent).bank("b", StageCollectorTest::silent)
        .bank("c", StageCollectorTest::silent);
    StageCollector stages = collector(banks);
    Future<StageAnswers> done = ask(stages, List.of("a", "b"));
    TaskResult good = TaskResult.newBuilder().setHeader(Headers.of("job", 1, Stage.TRAIN))
        .setDeclined(Declined.newBuilder().setReason("no")).build();
    assertRefused(stages, "a", good.toBuilder().setHeader(Headers.of("other", 1, Stage.TRAIN)).build(), "unknown job");
    assertRefused(stages, "a", good.toBuilder().setHeader(Headers.of("job", 2, Stage.TRAIN)).build(), "round");
    assertRefused(stages, "a", good.toBuilder().setHeader(Headers.of("job", 1, Stage.EVALUATE)).build(), "stage");
    assertRefused(stages, "c", good, "was not asked");
    stages.accept("a", good);
    assertRefused(stages, "a", good, "already answered");
    assertFalse(done.isComplete());
    assertEquals(List.of("b"), stages.open().orElseThrow().awaiting());
  }

  @Test
  void resultWhileNoStageIsOpen_isRefused() {
    StageCollector stages = collector(new FakeBanks().bank("a", StageCollectorTest::silent));
    assertRefused(stages, "a", TaskResult.newBuilder().setHeader(Headers.of("job", 1, Stage.TRAIN)).build(),
        "no stage is open");
  }

  @Test
  void openingASecondStageBeforeTheFirstCloses_isAProgrammingError() {
    FakeBanks banks = new FakeBanks().bank("a", StageCollectorTest::silent);
    StageCollector stages = collector(banks);
    ask(stages, List.of("a"));
    assertThrows(IllegalStateException.class, () -> ask(stages, List.of("a")));
  }

  private static void assertRefused(StageCollector stages, String bank, TaskResult result, String because) {
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class, () -> stages.accept(bank, result));
    assertTrue(e.getMessage().contains(because), e.getMessage());
  }
}
