package io.consort.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.consort.cli.bench.RoundTimeline.Attribution;
import io.consort.cli.bench.RoundTimeline.BankTask;
import io.consort.cli.bench.RoundTimeline.Interval;
import io.consort.cli.bench.RoundTimeline.Part;
import io.consort.protocol.v1.Stage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoundTimelineTest {

  private static BankTask task(String bank, Stage stage, long start, long end) {
    return new BankTask(bank, 1, stage, start, end, List.of(), List.of(), List.of(), 100);
  }

  private static BankTask training(String bank, long start, long end, Interval accounting, Interval trained,
                                   Interval masked) {
    return new BankTask(bank, 1, Stage.TRAIN, start, end, List.of(trained), List.of(accounting), List.of(masked), 100);
  }

  private static RoundTimeline.Split split(long start, long end, List<BankTask> tasks, List<Interval> busy,
                                           double dpFraction) {
    return RoundTimeline.split(start, end, tasks, busy, List.of(), dpFraction, Attribution.BY_PURPOSE);
  }

  @Test
  void secureRound_isDividedIntoItsStagesWindowsAndGaps_thatAddUpToTheRound() {
    List<BankTask> tasks = List.of(
        // train window 10..60: bank a accounts 10..12, trains 12..40, masks 40..45; b trains 15..55, masks 55..60
        training("a", 10, 45, new Interval(10, 12), new Interval(12, 40), new Interval(40, 45)),
        training("b", 15, 60, new Interval(15, 15), new Interval(15, 55), new Interval(55, 60)),
        // gap 60..70 (coordinator busy 62..66), share keys 70..80, gap 80..100 (busy 85..95)
        task("a", Stage.SHARE_KEYS, 70, 78), task("b", Stage.SHARE_KEYS, 71, 80),
        // ledger 100..110, gap to the round's end at 130 (busy 120..125)
        task("a", Stage.LEDGER_COUNTERSIGN, 100, 110), task("b", Stage.LEDGER_COUNTERSIGN, 100, 104));
    List<Interval> busy = List.of(new Interval(62, 66), new Interval(85, 95), new Interval(120, 125),
        new Interval(200, 300));
    // the coordinator's jobs after share keys were secure aggregation's (a relay), the others its own
    Map<Part, Long> parts = RoundTimeline.split(0, 130, tasks, busy, List.of(new Interval(85, 95)), 0.25,
        Attribution.BY_PURPOSE).parts();

    // training covered 12..55 = 43, a quarter of it DP-SGD's; accounting 10..12 is DP too
    assertEquals(43 - 11, parts.get(Part.TRAINING));
    assertEquals(11 + 2, parts.get(Part.DP));
    // masking where no bank trains (55..60; a's 40..45 is inside b's training); share keys' window (10) and the
    // busy part of its gap (10)
    assertEquals(5 + 10 + 10, parts.get(Part.SECURE_AGGREGATION));
    assertEquals(10, parts.get(Part.PRIVACY_ROUND_TRIPS));
    assertEquals(10, parts.get(Part.LEDGER));
    // before the first task: 0..10 waiting; after train: 4 busy, 6 waiting; after the ledger: 5 busy, 15 waiting
    assertEquals(4 + 5, parts.get(Part.COORDINATOR));
    assertEquals(10 + 6 + 15, parts.get(Part.NETWORK));
    assertEquals(130, parts.values().stream().mapToLong(Long::longValue).sum());
  }

  @Test
  void coordinatorWorkAfterUnmasking_isChargedByPurpose_notByTheStageItFollows() {
    // unmasking window 0..10; in the gap 10..50 the workers unmask 12..20 (secure aggregation) and update the
    // model, write the round's record and prepare the ledger entry 20..40 (coordinator); ledger 50..60
    List<BankTask> tasks = List.of(task("a", Stage.UNMASKING, 0, 10), task("a", Stage.LEDGER_COUNTERSIGN, 50, 60));
    List<Interval> busy = List.of(new Interval(12, 20), new Interval(20, 40));
    List<Interval> secureAggregation = List.of(new Interval(12, 20));

    Map<Part, Long> byPurpose = RoundTimeline.split(0, 60, tasks, busy, secureAggregation, 0,
        Attribution.BY_PURPOSE).parts();
    assertEquals(10 + 8, byPurpose.get(Part.SECURE_AGGREGATION));
    assertEquals(20, byPurpose.get(Part.COORDINATOR));
    assertEquals(12, byPurpose.get(Part.PRIVACY_ROUND_TRIPS));
    assertEquals(60, byPurpose.values().stream().mapToLong(Long::longValue).sum());

    Map<Part, Long> byStage = RoundTimeline.split(0, 60, tasks, busy, secureAggregation, 0,
        Attribution.BY_STAGE).parts();
    assertEquals(10 + 28, byStage.get(Part.SECURE_AGGREGATION));
    assertEquals(0, byStage.get(Part.COORDINATOR));
    assertEquals(60, byStage.values().stream().mapToLong(Long::longValue).sum());
  }

  @Test
  void acceptingMaskedInputsAfterAPipelinedTrainingStage_isSecureAggregation() {
    // pipelined: the training answers carry masked inputs, which the coordinator accepts 52..58 (sums them)
    List<BankTask> tasks = List.of(training("a", 0, 50, new Interval(0, 0), new Interval(0, 50), new Interval(50, 50)),
        task("a", Stage.UNMASKING, 60, 70));
    List<Interval> busy = List.of(new Interval(52, 58));

    RoundTimeline.Split split = RoundTimeline.split(0, 80, tasks, busy, busy, 0, Attribution.BY_PURPOSE);
    assertEquals(6 + 10, split.parts().get(Part.SECURE_AGGREGATION));
    assertEquals(0, split.parts().get(Part.COORDINATOR));
    assertEquals(4, split.parts().get(Part.NETWORK));
    assertEquals(10, split.parts().get(Part.PRIVACY_ROUND_TRIPS));
    assertEquals(6, split.windows().get(0).coordinatorSecureAggregationNanos());
    assertEquals(6, RoundTimeline.split(0, 80, tasks, busy, busy, 0, Attribution.BY_STAGE).parts()
        .get(Part.COORDINATOR));
  }

  @Test
  void theNextRoundsSharesALedgerTaskComputes_areSecureAggregation_whereSomeBankComputesThem() {
    // a countersigns 0..2 and computes shares 2..8; b's shares 5..12 inside its task 0..14
    List<BankTask> tasks = List.of(
        new BankTask("a", 1, Stage.LEDGER_COUNTERSIGN, 0, 10, List.of(), List.of(), List.of(new Interval(2, 8)), 100),
        new BankTask("b", 1, Stage.LEDGER_COUNTERSIGN, 0, 14, List.of(), List.of(), List.of(new Interval(5, 12)), 100));

    Map<Part, Long> parts = split(0, 14, tasks, List.of(), 0).parts();
    assertEquals(10, parts.get(Part.SECURE_AGGREGATION));
    assertEquals(4, parts.get(Part.LEDGER));
    assertEquals(14, RoundTimeline.split(0, 14, tasks, List.of(), List.of(), 0, Attribution.BY_STAGE).parts()
        .get(Part.LEDGER));
  }

  @Test
  void aTrainingTasksTimeOutsideItsPhases_countsAsTraining() {
    // decoding the model and encoding the update are part of the local update in any round
    List<BankTask> tasks = List.of(training("a", 0, 50, new Interval(0, 0), new Interval(0, 40), new Interval(50, 50)),
        task("a", Stage.EVALUATE, 60, 70));
    Map<Part, Long> parts = split(0, 80, tasks, List.of(), 0).parts();
    assertEquals(50, parts.get(Part.TRAINING));
    assertEquals(0, parts.get(Part.SECURE_AGGREGATION));
    assertEquals(10, parts.get(Part.EVALUATION));
    assertEquals(20, parts.get(Part.NETWORK));
  }

  @Test
  void theEvaluationATrainingTaskCarries_countsAsEvaluation_whereNoBankTrainsOrMasks() {
    // a scores its held-out rows 40..50 after training 0..40; b trains 0..45: only 45..50 is evaluation alone
    List<BankTask> tasks = List.of(
        new BankTask("a", 1, Stage.TRAIN, 0, 50, List.of(new Interval(0, 40)), List.of(), List.of(),
            List.of(new Interval(40, 50)), 100),
        new BankTask("b", 1, Stage.TRAIN, 0, 50, List.of(new Interval(0, 45)), List.of(), List.of(),
            List.of(new Interval(45, 48)), 100));
    Map<Part, Long> parts = split(0, 50, tasks, List.of(), 0).parts();
    assertEquals(45, parts.get(Part.TRAINING));
    assertEquals(5, parts.get(Part.EVALUATION));
    assertEquals(50, parts.values().stream().mapToLong(Long::longValue).sum());
  }

  @Test
  void aStragglerStillRunning_whenTheNextStageOpens_endsItsWindowThere() {
    List<BankTask> tasks = List.of(task("a", Stage.MASKED_INPUT, 0, 10), task("b", Stage.MASKED_INPUT, 1, 40),
        task("a", Stage.UNMASKING, 20, 25));
    RoundTimeline.Split split = split(0, 30, tasks, List.of(), 0);
    assertEquals(2, split.windows().size());
    assertEquals(20, split.windows().get(0).nanos());
    assertEquals(39, split.windows().get(0).slowest());
    assertEquals(30, split.parts().values().stream().mapToLong(Long::longValue).sum());
  }

  @Test
  void tasksOutsideTheRound_areLeftOut() {
    List<BankTask> tasks = List.of(task("a", Stage.EVALUATE, -20, -10), task("a", Stage.EVALUATE, 5, 8),
        task("a", Stage.TRAIN, 100, 110));
    Map<Part, Long> parts = split(0, 10, tasks, List.of(), 0).parts();
    assertEquals(3, parts.get(Part.EVALUATION));
    assertEquals(7, parts.get(Part.NETWORK));
  }

  @Test
  void coveredTime_countsOverlappingIntervalsOnce() {
    assertEquals(17, RoundTimeline.covered(List.of(new Interval(0, 10), new Interval(5, 15), new Interval(20, 25)),
        0, 22));
    assertEquals(0, RoundTimeline.covered(List.of(), 0, 10));
  }

  @Test
  void badArguments_areRefusedByName() {
    assertEquals("dpFraction must be in [0, 1], got 1.5", assertThrows(IllegalArgumentException.class,
        () -> split(0, 1, List.of(), List.of(), 1.5)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> split(5, 1, List.of(), List.of(), 0));
  }
}
