package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.consort.spec.JobSpec;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** Which banks a job's next rounds leave out after with_input sums they made impossible to unmask. */
class AbandonedSumBenchTest {
  private static final List<String> FIVE = List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5");
  private static final List<String> FOUR = FIVE.subList(0, 4);

  private static JobSpec withInput(int minBanks) {
    return JobFixtures.spec().secureAggregation(true).unmaskingWithInput(true).minBanks(minBanks).rounds(20).build();
  }

  private static RoundRecord abandoned(int round, String... missing) {
    List<Dropout> dropouts = java.util.Arrays.stream(missing).map(b -> new Dropout(b, "masked-input", "no masked "
        + "input")).toList();
    return new RoundRecord(round, true, false, Optional.of("no masked input"), List.of(), dropouts, List.of(),
        OptionalDouble.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 0, "m");
  }

  private static RoundRecord completed(int round, List<String> participants) {
    return new RoundRecord(round, true, true, Optional.empty(), participants, List.of(), List.of(),
        OptionalDouble.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 0, "m");
  }

  @Test
  void aBankMissingFromAbandonedSumsInARow_isLeftOutOneThenTwoThenFourRounds_andComesBackAfterwards() {
    AbandonedSumBench bench = new AbandonedSumBench(withInput(2));
    bench.recorded(abandoned(1, "bank-5"));
    assertEquals(FOUR, bench.members(2, FIVE));
    assertEquals(FIVE, bench.members(3, FIVE));
    bench.recorded(abandoned(3, "bank-5"));
    assertEquals(FOUR, bench.members(4, FIVE));
    assertEquals(FOUR, bench.members(5, FIVE));
    assertEquals(FIVE, bench.members(6, FIVE));
    bench.recorded(abandoned(6, "bank-5"));
    for (int round = 7; round <= 10; round++) {
      assertEquals(FOUR, bench.members(round, FIVE), "round " + round);
    }
    assertEquals(FIVE, bench.members(11, FIVE));
  }

  @Test
  void aCompletedRoundTheBankIsIn_clearsItsCount_soTheNextAbandonedSumLeavesItOutOneRoundAgain() {
    AbandonedSumBench bench = new AbandonedSumBench(withInput(2));
    bench.recorded(abandoned(1, "bank-5"));
    bench.recorded(completed(2, FOUR));
    bench.recorded(abandoned(3, "bank-5")); // two in a row: round 2 completed without it, which clears nothing
    assertEquals(FOUR, bench.members(5, FIVE));
    bench.recorded(completed(6, FIVE));
    bench.recorded(abandoned(7, "bank-5"));
    assertEquals(FOUR, bench.members(8, FIVE));
    assertEquals(FIVE, bench.members(9, FIVE));
  }

  @Test
  void noBankIsLeftOut_belowMinBanks_orInAJobThatUnmasksAfterTheInputs() {
    AbandonedSumBench atMinimum = new AbandonedSumBench(withInput(5));
    atMinimum.recorded(abandoned(1, "bank-5"));
    assertEquals(FIVE, atMinimum.members(2, FIVE));

    AbandonedSumBench afterInputs = new AbandonedSumBench(JobFixtures.spec().secureAggregation(true).rounds(20)
        .build());
    afterInputs.recorded(abandoned(1, "bank-5"));
    assertEquals(FIVE, afterInputs.members(2, FIVE));
  }
}
