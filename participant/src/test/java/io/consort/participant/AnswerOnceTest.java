package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.model.data.DataSchema;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.EvaluateTask;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.FeatureStatsTask;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile coordinator that asks a job's statistics, or its final evaluation, twice under secure aggregation,
 * once with the roster R and once with R without bank-3: the difference of the two exact sums would be bank-3's
 * own figures. bank-1 and bank-2 each answer the first task they get and refuse the other, also after a restart.
 * Each refused task is one the other bank answers (its first), so the refusal is the answer-once rule, not the
 * roster.
 */
class AnswerOnceTest {
  private static final List<String> ROSTER = List.of("bank-1", "bank-2", "bank-3");
  private static final List<String> WITHOUT_BANK_3 = List.of("bank-1", "bank-2");
  private static final DataSchema PLAIN = new DataSchema(List.of("income"),
      List.of(new DataSchema.CategoricalColumn("region", List.of("north", "south"))), "default", "yes");

  @TempDir
  Path dir;

  private DemoPki pki;

  @BeforeEach
  void pki() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", ROSTER);
  }

  private ParticipantConfig config(String bank, Path data) throws Exception {
    var t = pki.bank(bank);
    // jobs without record-level privacy, with or without secure aggregation: the policy must allow them
    return new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data, dir.resolve(bank),
        3.0, 1e-5, 1 << 22, null, false, t.crlFile(), null)
        .withPolicy(new BankPolicy(true, false, 2, OptionalInt.empty()));
  }

  private BankTaskHandler accepted(ParticipantConfig config, JobPlan plan) throws Exception {
    BankTaskHandler bank = new BankTaskHandler(config);
    assertTrue(bank.handle(Task.newBuilder().setHeader(Headers.of(plan.getJobId(), 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build()).getDecision().getAccept());
    return bank;
  }

  private static Task stats(JobPlan plan, List<String> roster, io.consort.protocol.v1.FeatureEncoding preliminary) {
    FeatureStatsTask.Builder t = FeatureStatsTask.newBuilder().setPlan(plan).addAllRoundMembers(roster);
    if (preliminary != null) {
      t.setPreliminary(preliminary);
    }
    return Task.newBuilder().setHeader(Headers.of(plan.getJobId(), 0, Stage.FEATURE_STATS)).setFeatureStats(t).build();
  }

  private static Task evaluate(JobSpec spec, JobPlan plan, ModelParameters model, List<String> roster) {
    return Task.newBuilder().setHeader(Headers.of(spec.id(), spec.training().rounds(), Stage.EVALUATE))
        .setEvaluate(EvaluateTask.newBuilder().setGlobalModel(model).setPlan(plan)
            .setHistogramBins(spec.evaluation().histogramBins()).addAllRoundMembers(roster)).build();
  }

  private static void assertRefused(String message, Executable task) {
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class, task);
    assertEquals(message, e.getMessage());
  }

  private static String refusal(String job, String kind) {
    return "job '" + job + "': this bank already answered its " + kind + " task; it answers one per job (two secure "
        + "sums over different rosters would give one bank's own figures as their difference)";
  }

  @Test
  void firstStageStatistics_aSecondTaskWithoutOneBank_isRefused_evenAfterARestart() throws Exception {
    JobPlan plan = JobSpecWire.toProto(JobSpec.builder().id("stats").schema(BankDataTest.SCHEMA).build());
    Path data = Files.writeString(dir.resolve("data.csv"), BankDataTest.rows(60));
    ParticipantConfig bank1 = config("bank-1", data);
    BankTaskHandler bank = accepted(bank1, plan);
    assertTrue(bank.handle(stats(plan, ROSTER, null)).getFeatureStats().hasSecureSum());

    String refused = refusal("stats", "first-stage feature statistics");
    assertRefused(refused, () -> bank.handle(stats(plan, WITHOUT_BANK_3, null)));
    assertRefused(refused, () -> bank.handle(stats(plan, ROSTER, null)));
    BankTaskHandler restarted = new BankTaskHandler(bank1);
    assertRefused(refused, () -> restarted.handle(stats(plan, WITHOUT_BANK_3, null)));

    BankTaskHandler bank2 = accepted(config("bank-2", data), plan);
    assertTrue(bank2.handle(stats(plan, WITHOUT_BANK_3, null)).getFeatureStats().hasSecureSum(),
        "the roster without bank-3 is one a bank answers as its first");
    assertRefused(refused, () -> bank2.handle(stats(plan, ROSTER, null)));
  }

  @Test
  void secondStageStatistics_aSecondTaskWithTheSameEncodingWithoutOneBank_isRefused_evenAfterARestart()
      throws Exception {
    JobPlan plan = JobSpecWire.toProto(JobSpec.builder().id("second").schema(BankDataTest.SCHEMA).build());
    Path data = Files.writeString(dir.resolve("data.csv"), BankDataTest.rows(60));
    ParticipantConfig bank1 = config("bank-1", data);
    BankTaskHandler bank = accepted(bank1, plan);
    bank.handle(stats(plan, ROSTER, null));
    io.consort.protocol.v1.FeatureEncoding preliminary = ModelWire.encoding(FeatureEncoding.fromStatistics(
        BankData.open(bank1, BankDataTest.SCHEMA).firstStatistics().namesOnly(5)));
    FeatureStats second = bank.handle(stats(plan, ROSTER, preliminary)).getFeatureStats();
    assertTrue(second.getSecondStage() && second.hasSecureSum());

    String refused = refusal("second", "second-stage feature statistics");
    assertRefused(refused, () -> bank.handle(stats(plan, WITHOUT_BANK_3, preliminary)));
    assertRefused(refused, () -> new BankTaskHandler(bank1).handle(stats(plan, WITHOUT_BANK_3, preliminary)));

    BankTaskHandler bank2 = accepted(config("bank-2", data), plan);
    bank2.handle(stats(plan, WITHOUT_BANK_3, null));
    assertTrue(bank2.handle(stats(plan, WITHOUT_BANK_3, preliminary)).getFeatureStats().hasSecureSum());
  }

  @Test
  void finalEvaluation_aSecondTaskWithoutOneBank_isRefused_evenAfterARestart() throws Exception {
    JobSpec spec = JobSpec.builder().id("final").schema(PLAIN).hiddenLayers(List.of(4)).rounds(2).build();
    JobPlan plan = JobSpecWire.toProto(spec);
    Path data = TestModels.regionLoans(dir);
    ModelParameters initial = TestModels.initialModel(spec, data);
    ParticipantConfig bank1 = config("bank-1", data);
    BankTaskHandler bank = accepted(bank1, plan);
    assertTrue(bank.handle(evaluate(spec, plan, initial, ROSTER)).getEvaluation().hasSecureSum());

    String refused = refusal("final", "final evaluation");
    assertRefused(refused, () -> bank.handle(evaluate(spec, plan, initial, WITHOUT_BANK_3)));
    BankTaskHandler restarted = new BankTaskHandler(bank1);
    assertRefused(refused, () -> restarted.handle(evaluate(spec, plan, initial, WITHOUT_BANK_3)));

    BankTaskHandler bank2 = accepted(config("bank-2", data), plan);
    assertTrue(bank2.handle(evaluate(spec, plan, initial, WITHOUT_BANK_3)).getEvaluation().hasSecureSum(),
        "the roster without bank-3 is one a bank answers as its first");
    assertRefused(refused, () -> bank2.handle(evaluate(spec, plan, initial, ROSTER)));
  }

  @Test
  void inTheClear_aRepeatedTask_isAnsweredAgain_withTheSameFigures() throws Exception {
    // without secure aggregation each answer is the bank's own figures already: a repeat tells nothing new
    JobSpec spec = JobSpec.builder().id("clear").schema(PLAIN).hiddenLayers(List.of(4)).secureAggregation(false)
        .build();
    JobPlan plan = JobSpecWire.toProto(spec);
    Path data = TestModels.regionLoans(dir);
    BankTaskHandler bank = accepted(config("bank-1", data), plan);
    assertEquals(bank.handle(stats(plan, List.of(), null)).build(), bank.handle(stats(plan, List.of(), null)).build());
    ModelParameters initial = TestModels.initialModel(spec, data);
    // the histograms; the final round's permutation importance shuffles afresh each time
    var first = bank.handle(evaluate(spec, plan, initial, List.of())).getEvaluation().toBuilder().clearImportance().build();
    assertEquals(first, bank.handle(evaluate(spec, plan, initial, List.of())).getEvaluation().toBuilder().clearImportance()
        .build());
  }

  @Test
  void inTheClear_theSecondStagesEncoding_staysPinnedAcrossARestart() throws Exception {
    // clear sums at bound after bound would tell where one customer's value lies; one encoding per job
    JobPlan plan = JobSpecWire.toProto(JobSpec.builder().id("clear-second").schema(BankDataTest.SCHEMA)
        .secureAggregation(false).build());
    Path data = Files.writeString(dir.resolve("data.csv"), BankDataTest.rows(60));
    ParticipantConfig bank1 = config("bank-1", data);
    BankTaskHandler bank = accepted(bank1, plan);
    io.consort.protocol.v1.FeatureEncoding good = ModelWire.encoding(FeatureEncoding.fromStatistics(
        BankData.open(bank1, BankDataTest.SCHEMA).firstStatistics().namesOnly(5)));
    FeatureStats answered = bank.handle(stats(plan, List.of(), good)).getFeatureStats();
    var income = good.getNumeric(0);
    io.consort.protocol.v1.FeatureEncoding another = good.toBuilder().setNumeric(0, income.toBuilder()
        .setClipUpper(io.consort.model.data.QuantileGrid.upperEdge(io.consort.model.data.QuantileGrid.bin(
            income.getClipUpper()) + 1))).build();

    BankTaskHandler restarted = new BankTaskHandler(bank1);
    assertRefused("job 'clear-second': this bank answered the second statistics stage for another preliminary "
        + "encoding; it answers for one only", () -> restarted.handle(stats(plan, List.of(), another)));
    assertEquals(answered, restarted.handle(stats(plan, List.of(), good)).getFeatureStats(),
        "the encoding it answered, answered again: nothing the coordinator did not have");
  }
}
