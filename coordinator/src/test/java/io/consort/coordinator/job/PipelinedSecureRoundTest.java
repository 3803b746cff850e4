package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.PemFiles;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.spec.JobSpec;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pipelined rounds at the coordinator (protocol version 3), against banks running the real
 * secure-aggregation client: after a round nobody dropped out of, the next round's keys and shares travel
 * with that round's unmasking and ledger stages and the next round takes train and unmasking only (protocol
 * version 4: no consistency check while every member sent its masked input); after a dropout or a bank that
 * does not key ahead, the next round runs in full. Either
 * way the coordinator learns the weighted mean of exactly the banks in the sum. A job pinned
 * {@code unmasking: with_input} (protocol version 5) takes train and ledger only, and abandons a sum whose
 * masked input is missing.
 */
class PipelinedSecureRoundTest {
  /** The banks, updates and rows of {@link SecureRoundTest}. */
  private static final List<String> FOUR_BANKS = SecureRoundTest.BANKS;
  /** A fifth bank, for the 5-bank rounds of unmasking with the input. */
  private static final List<String> FIVE_BANKS = List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5");
  private static final float[][] UPDATES = {SecureRoundTest.UPDATES[0], SecureRoundTest.UPDATES[1],
      SecureRoundTest.UPDATES[2], SecureRoundTest.UPDATES[3], {-1f, 0.5f, 0.25f}};
  private static final Map<String, Long> ROWS = Map.of("bank-1", 100L, "bank-2", 300L, "bank-3", 200L, "bank-4",
      400L, "bank-5", 250L);

  @TempDir
  static Path dir;
  static DemoPki pki;

  @BeforeAll
  static void pki() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", FIVE_BANKS);
  }

  private final FakeTimers timers = new FakeTimers();
  private final ModelParameters base = JobFixtures.model(0, 0f, 0f, 0f);
  private final Map<String, SecureBank> secureBanks = new LinkedHashMap<>();
  private List<String> roster = FOUR_BANKS;
  private FakeBanks banks;
  private JobContext job;
  private PipelinedRounds pipeline;
  private SecureRound protocol;

  private void banks(Map<String, Stage> silentFrom) throws Exception {
    banks(silentFrom, FOUR_BANKS, false);
  }

  /**
   * The with_input jobs' {@code secure_aggregation.self_mask}: null, the default (none with with_input, protocol
   * version 7); true keeps the self mask and b-shares of versions 5 and 6.
   */
  private Boolean selfMask;

  /** @param withInput the job pins {@code secure_aggregation.unmasking: with_input} */
  private void banks(Map<String, Stage> silentFrom, List<String> roster, boolean withInput) throws Exception {
    banks(silentFrom, roster, JobFixtures.spec().secureAggregation(true).unmaskingWithInput(withInput)
        .selfMask(withInput ? selfMask : null).rounds(3).build());
  }

  private void banks(Map<String, Stage> silentFrom, List<String> roster, JobSpec spec) throws Exception {
    this.roster = roster;
    banks = new FakeBanks();
    for (int b = 0; b < roster.size(); b++) {
      String id = roster.get(b);
      SecureBank bank = new SecureBank(id, new IdentitySigner(PemFiles.readPrivateKey(pki.bank(id).keyFile())),
          pki.validator(), UPDATES[b], silentFrom.get(id), null).withTrainRows(ROWS.get(id));
      secureBanks.put(id, bank);
      banks.bank(id, bank);
      banks.certificate(id, PemFiles.readCertificates(pki.bank(id).chainFile()).get(0));
    }
    job = JobFixtures.context(spec, banks, timers);
    IdentityVerifier verifier = new IdentityVerifier(pki.validator());
    pipeline = new PipelinedRounds(job, verifier);
    protocol = new SecureRound(job, verifier, pipeline);
  }

  private <T> T complete(Supplier<Future<T>> start) {
    Future<T> result = start.get();
    for (int stage = 0; stage < 12 && !result.isComplete(); stage++) {
      banks.pump(job.stages());
      if (!result.isComplete() && job.stages().open().isPresent()) {
        timers.advance(JobFixtures.DEADLINE.toMillis()); // the silent banks' stage ends at its deadline
      }
    }
    assertTrue(result.succeeded(), String.valueOf(result.cause()));
    return result.result();
  }

  private RoundOutcome round(int round) {
    return complete(() -> protocol.run(new RoundProtocol.RoundInput(round, roster, base, ROWS)));
  }

  /** The ledger stage of {@code round} as {@link ReleaseRecorder} runs it, its ledger entry left out. */
  private void ledger(int round, List<String> participants) {
    StageAnswers answers = complete(() -> job.stages().collect(round, Stage.LEDGER_COUNTERSIGN, participants, m -> {
      CountersignRequest.Builder request = CountersignRequest.newBuilder();
      pipeline.rosterFor(round, m).ifPresent(next -> request.setNextRound(next.roster())
          .setNextRoundRowTotal(next.rowTotal()));
      return Task.newBuilder().setCountersign(request);
    }));
    Map<String, SecAggStep> shares = new LinkedHashMap<>();
    for (String bank : participants) {
      answers.answer(bank).filter(r -> r.getCountersignature().hasNextRound())
          .ifPresent(r -> shares.put(bank, r.getCountersignature().getNextRound()));
    }
    complete(() -> pipeline.sharesReceived(round, shares));
  }

  /** The stages whose tasks went out in {@code round}, in order. */
  private Set<Stage> stagesOf(int round) {
    Set<Stage> stages = new LinkedHashSet<>();
    banks.posted.stream().filter(e -> e.getValue().getHeader().getRound() == round)
        .forEach(e -> stages.add(e.getValue().getHeader().getStage()));
    return stages;
  }

  private static void assertMean(List<String> included, RoundOutcome outcome) {
    double[] expected = new double[3];
    double total = 0;
    for (String bank : included) {
      for (int i = 0; i < 3; i++) {
        expected[i] += ROWS.get(bank) * UPDATES[FIVE_BANKS.indexOf(bank)][i];
      }
      total += ROWS.get(bank);
    }
    AggregatedUpdate a = outcome.aggregate().orElseThrow();
    double bound = outcome.quantisationErrorBound().orElseThrow();
    for (int i = 0; i < 3; i++) {
      double got = a.weightedSum()[i] / a.totalWeight();
      assertTrue(Math.abs(got - expected[i] / total) <= bound + 1e-6, "coordinate " + i + ": " + got);
    }
    assertEquals(included, outcome.participants());
  }

  @Test
  void roundAfterACleanRound_takesTrainAndUnmaskingOnly_skippingTheConsistencyCheck_andGivesTheWeightedMean()
      throws Exception {
    banks(Map.of());
    assertMean(roster, round(1));
    ledger(1, roster);

    RoundOutcome second = round(2);

    // nobody dropped: no consistency check (protocol version 4), so with the ledger stage 3 stages a round
    assertEquals(List.of(Stage.TRAIN, Stage.UNMASKING), List.copyOf(stagesOf(2)));
    assertEquals(List.of(Stage.TRAIN, Stage.SHARE_KEYS, Stage.MASKED_INPUT, Stage.UNMASKING,
        Stage.LEDGER_COUNTERSIGN), List.copyOf(stagesOf(1)));
    assertMean(roster, second);
    assertTrue(second.carriedEvaluation().isPresent());
  }

  @Test
  void roundAfterADropout_runsInFull_withTheConsistencyCheck_andGivesTheExactMeanOfTheRest() throws Exception {
    banks(Map.of("bank-4", Stage.MASKED_INPUT));
    List<String> rest = roster.subList(0, 3);
    assertMean(rest, round(1));
    ledger(1, rest);

    RoundOutcome second = round(2);

    assertTrue(stagesOf(1).contains(Stage.CONSISTENCY_CHECK), "a dropout falls back to the full path");
    assertTrue(stagesOf(2).contains(Stage.SHARE_KEYS), String.valueOf(stagesOf(2)));
    assertTrue(banks.posted.stream().noneMatch(e -> e.getValue().hasTrain()
        && e.getValue().getTrain().hasForwardedShares()));
    assertMean(rest, second);
  }

  @Test
  void roundAfterABankKeyedNothingAhead_runsInFull_withEveryBank() throws Exception {
    banks(Map.of());
    secureBanks.get("bank-3").pipelines = false;
    assertMean(roster, round(1));
    ledger(1, roster);

    RoundOutcome second = round(2);

    assertTrue(stagesOf(2).contains(Stage.SHARE_KEYS), String.valueOf(stagesOf(2)));
    assertMean(roster, second);
  }

  @Test
  void withInput_roundAfterACleanRound_takesTrainAndLedgerOnly_andGivesTheWeightedMeanOfFiveBanks() throws Exception {
    banks(Map.of(), FIVE_BANKS, true);
    assertMean(FIVE_BANKS, round(1));
    ledger(1, FIVE_BANKS);

    RoundOutcome second = round(2);
    ledger(2, FIVE_BANKS);
    RoundOutcome third = round(3);

    // the default with_input has no self mask: the masked inputs alone are the sum (no shares, no b-shares), so no
    // consistency check and no unmasking stage
    assertEquals(List.of(Stage.TRAIN, Stage.SHARE_KEYS, Stage.MASKED_INPUT, Stage.LEDGER_COUNTERSIGN),
        List.copyOf(stagesOf(1)));
    assertEquals(List.of(Stage.TRAIN, Stage.LEDGER_COUNTERSIGN), List.copyOf(stagesOf(2)));
    assertEquals(List.of(Stage.TRAIN), List.copyOf(stagesOf(3)));
    assertMean(FIVE_BANKS, second);
    assertMean(FIVE_BANKS, third);
  }

  @Test
  void withInput_aBankMissingItsMaskedInput_abandonsTheSum_andTheNextRoundRunsInFullWithFreshKeys() throws Exception {
    banks(Map.of(), FIVE_BANKS, true);
    secureBanks.get("bank-5").silentRounds.add(2);
    round(1);
    ledger(1, FIVE_BANKS);

    RoundOutcome abandoned = round(2);
    RoundOutcome rerun = round(3);

    assertFalse(abandoned.completed());
    String reason = abandoned.abortReason().orElseThrow();
    assertTrue(reason.contains("no masked input from [bank-5]") && reason.contains("abandoned"), reason);
    assertEquals(List.of(Stage.TRAIN), List.copyOf(stagesOf(2)), "nothing more was asked of the others");
    assertTrue(stagesOf(3).contains(Stage.SHARE_KEYS), "fresh keys: " + stagesOf(3));
    assertMean(FIVE_BANKS, rerun);
  }

  /**
   * A bank that advertises keys and then never answers share-keys (no self mask: its answer is part of the sum) would
   * abort every round of the job. The job's rounds take their members from {@link AbandonedSumBench}, as {@code
   * JobRunner} does: after round 1 is abandoned bank-5 is left out of round 2, which completes with four banks; it
   * comes back in round 3, aborts it again and is left out of rounds 4 and 5 (twice as long), which complete; all
   * five rounds of the job run.
   */
  @Test
  void withInput_aBankSilentAtShareKeysEveryRound_isLeftOutOfTheNextRounds_andLaterRoundsCompleteWithFourBanks()
      throws Exception {
    banks(Map.of("bank-5", Stage.SHARE_KEYS), FIVE_BANKS, JobFixtures.spec().secureAggregation(true)
        .unmaskingWithInput(true).rounds(5).build());
    AbandonedSumBench bench = new AbandonedSumBench(job.spec());
    List<String> four = FIVE_BANKS.subList(0, 4);
    List<Boolean> completed = new java.util.ArrayList<>();
    for (int round = 1; round <= 5; round++) {
      roster = bench.members(round, FIVE_BANKS);
      RoundOutcome outcome = round(round);
      bench.recorded(RoundRecord.of(round, true, outcome, java.util.Optional.empty(), java.util.Optional.empty(), 0,
          "model-" + round));
      completed.add(outcome.completed());
      if (outcome.completed()) {
        assertMean(four, outcome);
        ledger(round, four);
      } else {
        assertEquals(FIVE_BANKS, roster, "round " + round + " had bank-5 back");
        assertTrue(outcome.abortReason().orElseThrow().contains("no share-keys answer from [bank-5]"),
            outcome.abortReason().orElseThrow());
      }
    }
    assertEquals(List.of(false, true, false, true, true), completed);
  }

  // with_input above runs without self masks (protocol version 7, the default); the same with self_mask: true (5, 6)

  @Test
  void withInputAndSelfMask_roundAfterACleanRound_takesTrainAndLedgerOnly_andGivesTheWeightedMeanOfFiveBanks()
      throws Exception {
    selfMask = true;
    withInput_roundAfterACleanRound_takesTrainAndLedgerOnly_andGivesTheWeightedMeanOfFiveBanks();
  }

  @Test
  void withInputAndSelfMask_aBankMissingItsMaskedInput_abandonsTheSum_andTheNextRoundRunsInFull() throws Exception {
    selfMask = true;
    withInput_aBankMissingItsMaskedInput_abandonsTheSum_andTheNextRoundRunsInFullWithFreshKeys();
  }

  @Test
  void withInputKeyRoundsAndSelfMask_nineRoundsPipelinedWithOneKeyPairAPeriod_giveTheWeightedMeanOfFiveBanks()
      throws Exception {
    selfMask = true;
    withInputAndKeyRounds_nineRoundsPipelinedWithOneKeyPairAPeriod_giveTheWeightedMeanOfFiveBanks();
  }

  @Test
  void lastRound_namesNoNextRoster() throws Exception {
    banks(Map.of());
    round(3);

    assertFalse(banks.posted.stream().anyMatch(e -> e.getValue().hasSecureAggregation()
        && e.getValue().getSecureAggregation().getNextRoundMembersCount() > 0));
  }

  /**
   * Keys for a period of rounds (protocol version 6): a 5-bank job with {@code key_rounds: 4} over 9 rounds. Rounds
   * 2 to 9 are pipelined, each bank advertising one key pair per period (rounds 2-4, 5-8, 9), and every round gives
   * the exact weighted mean of all five banks.
   */
  @Test
  void withInputAndKeyRounds_nineRoundsPipelinedWithOneKeyPairAPeriod_giveTheWeightedMeanOfFiveBanks()
      throws Exception {
    banks(Map.of(), FIVE_BANKS, JobFixtures.spec().secureAggregation(true).unmaskingWithInput(true).keyRounds(4)
        .selfMask(selfMask).rounds(9).build());
    for (int round = 1; round <= 9; round++) {
      assertMean(FIVE_BANKS, round(round));
      if (round < 9) {
        ledger(round, FIVE_BANKS);
      }
      if (round >= 2) {
        assertEquals(round < 9 ? List.of(Stage.TRAIN, Stage.LEDGER_COUNTERSIGN) : List.of(Stage.TRAIN),
            List.copyOf(stagesOf(round)), "round " + round + " is pipelined");
      }
    }
    for (SecureBank bank : secureBanks.values()) {
      Map<Integer, byte[]> keys = bank.advertisedMaskingKeys;
      assertEquals(Set.of(2, 3, 4, 5, 6, 7, 8, 9), keys.keySet());
      for (int round : new int[] {3, 4}) {
        assertTrue(java.util.Arrays.equals(keys.get(2), keys.get(round)), "one key pair for rounds 2-4");
      }
      for (int round : new int[] {6, 7, 8}) {
        assertTrue(java.util.Arrays.equals(keys.get(5), keys.get(round)), "one key pair for rounds 5-8");
      }
      assertFalse(java.util.Arrays.equals(keys.get(4), keys.get(5)), "a new period, a new key pair");
      assertFalse(java.util.Arrays.equals(keys.get(8), keys.get(9)), "a new period, a new key pair");
    }
  }
}
