package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.model.data.DataSchema;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.protocol.v1.EvaluateTask;
import io.consort.protocol.v1.FeatureStatsTask;
import io.consort.protocol.v1.JobDecision;
import io.consort.protocol.v1.JobFinished;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TrainTask;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator that breaks the rules cannot make a bank work outside its own policy: the attacks
 * below are what a coordinator could send, and each is declined or refused.
 */
class BankPolicyTest {
  @TempDir
  static Path pkiDir;
  static DemoPki pki;

  @TempDir
  Path dir;

  @BeforeAll
  static void pki() throws Exception {
    pki = DemoPki.create(pkiDir, "coordinator", List.of("bank-1"));
  }

  private ParticipantConfig config(BankPolicy policy) throws Exception {
    StringBuilder csv = new StringBuilder("income,region,default\n");
    for (int i = 0; i < 60; i++) {
      csv.append(i).append(',').append(i % 2 == 0 ? "north" : "south").append(',').append(i % 3 == 0 ? "yes" : "no")
          .append('\n');
    }
    Path data = Files.writeString(dir.resolve("data.csv"), csv);
    TlsMaterial t = pki.bank("bank-1");
    return new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data, dir.resolve("local"),
        3.0, 1e-5, 1 << 20, null, false, null, null, policy, 0.25);
  }

  private static JobSpecBuilder privateJob(String id) {
    return JobSpec.builder().id(id).privacy(PrivacyMode.RECORD).targetEpsilon(1.0)
        .schema(new DataSchema(List.of("income"), List.of(DataSchema.CategoricalColumn.open("region")), "default",
            "yes"));
  }

  private static JobDecision offer(BankTaskHandler bank, JobPlan plan) throws Exception {
    return bank.handle(Task.newBuilder().setHeader(Headers.of(plan.getJobId(), 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build()).getDecision();
  }

  private static Task statsTask(String headerJob, JobPlan plan) {
    // a secure job's statistics go into a secure sum of the banks the task names
    return Task.newBuilder().setHeader(Headers.of(headerJob, 0, Stage.FEATURE_STATS))
        .setFeatureStats(FeatureStatsTask.newBuilder().setPlan(plan)
            .addAllRoundMembers(List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5"))).build();
  }

  private static void assertRefused(BankTaskHandler bank, Task task, String because) {
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class, () -> bank.handle(task));
    assertTrue(e.getMessage().contains(because), e.getMessage());
  }

  @Test
  void jobWithoutRecordLevelDp_isDeclined_unlessThePolicyAllowsIt() throws Exception {
    JobPlan open = JobSpecWire.toProto(privateJob("open").privacy(PrivacyMode.OFF).targetEpsilon(null).build());
    JobDecision d = offer(new BankTaskHandler(config(BankPolicy.strict())), open);
    assertFalse(d.getAccept());
    assertTrue(d.getReason().contains("policy.allow_non_private_jobs"), d.getReason());
    JobPlan bankLevelOnly = JobSpecWire.toProto(privateJob("banklevel").privacy(PrivacyMode.BANK).build());
    assertFalse(offer(new BankTaskHandler(config(BankPolicy.strict())), bankLevelOnly).getAccept());
    BankPolicy allowing = new BankPolicy(true, true, 2, OptionalInt.empty());
    assertTrue(offer(new BankTaskHandler(config(allowing)), open).getAccept());
  }

  @Test
  void jobWithoutSecureAggregation_isDeclined_whenThePolicyRequiresIt() throws Exception {
    JobPlan plain = JobSpecWire.toProto(privateJob("plain").secureAggregation(false).build());
    JobDecision d = offer(new BankTaskHandler(config(BankPolicy.strict())), plain);
    assertFalse(d.getAccept());
    assertTrue(d.getReason().contains("policy.require_secure_aggregation"), d.getReason());
  }

  @Test
  void jobBelowThePolicysMinimumBanksOrThreshold_isDeclined() throws Exception {
    BankPolicy policy = new BankPolicy(false, true, 4, OptionalInt.of(5));
    JobDecision few = offer(new BankTaskHandler(config(policy)), JobSpecWire.toProto(privateJob("few").minBanks(3)
        .build()));
    assertFalse(few.getAccept());
    assertTrue(few.getReason().contains("policy.min_banks is 4"), few.getReason());
    JobDecision low = offer(new BankTaskHandler(config(policy)), JobSpecWire.toProto(privateJob("low").minBanks(4)
        .threshold(4).build()));
    assertFalse(low.getAccept());
    assertTrue(low.getReason().contains("policy.min_threshold is 5"), low.getReason());
  }

  @Test
  void tasksForAJobNeverOffered_orDeclined_areRefused_whateverTheyCarry() throws Exception {
    BankTaskHandler bank = new BankTaskHandler(config(BankPolicy.strict()));
    JobPlan never = JobSpecWire.toProto(privateJob("never").build());
    assertRefused(bank, statsTask("never", never), "was not accepted by this bank");
    JobPlan declined = JobSpecWire.toProto(privateJob("declined").secureAggregation(false).build());
    assertFalse(offer(bank, declined).getAccept());
    assertRefused(bank, statsTask("declined", declined), "was not accepted by this bank");
    assertRefused(bank, Task.newBuilder().setHeader(Headers.of("declined", 1, Stage.TRAIN))
        .setTrain(TrainTask.newBuilder().setPlan(declined)).build(), "was not accepted");
    assertRefused(bank, Task.newBuilder().setHeader(Headers.of("never", 1, Stage.EVALUATE))
        .setEvaluate(EvaluateTask.newBuilder().setPlan(never)).build(), "was not accepted");
    assertRefused(bank, Task.newBuilder().setHeader(Headers.of("never", 1, Stage.SHARE_KEYS))
        .setSecureAggregation(SecAggStep.getDefaultInstance()).build(), "was not accepted");
    assertRefused(bank, Task.newBuilder().setHeader(Headers.of("never", 1, Stage.LEDGER_COUNTERSIGN))
        .setCountersign(CountersignRequest.getDefaultInstance()).build(), "was not accepted");
    // a job id that would name a file outside the bank's directory is just another unknown job
    assertRefused(bank, Task.newBuilder().setHeader(Headers.of("../../escape", 0, Stage.FINISHED))
        .setFinished(JobFinished.getDefaultInstance()).build(), "was not accepted");
    assertFalse(Files.exists(dir.resolve("escape-final-model.pb")));
  }

  @Test
  void aTaskWhosePlanNamesAnotherJob_isRefused() throws Exception {
    BankTaskHandler bank = new BankTaskHandler(config(BankPolicy.strict()));
    JobPlan a = JobSpecWire.toProto(privateJob("job-a").build());
    JobPlan b = JobSpecWire.toProto(privateJob("job-b").build());
    assertTrue(offer(bank, a).getAccept());
    assertRefused(bank, statsTask("job-a", b), "carries the plan of job 'job-b'");
    JobDecision mismatched = bank.handle(Task.newBuilder().setHeader(Headers.of("job-b", 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(a)).build()).getDecision();
    assertFalse(mismatched.getAccept());
    assertTrue(mismatched.getReason().contains("carries the plan of job 'job-a'"), mismatched.getReason());
  }

  @Test
  void acceptanceAndThePinnedPlan_surviveARestart() throws Exception {
    ParticipantConfig config = config(BankPolicy.strict());
    JobPlan plan = JobSpecWire.toProto(privateJob("durable").build());
    assertTrue(offer(new BankTaskHandler(config), plan).getAccept());
    BankTaskHandler restarted = new BankTaskHandler(config);
    assertTrue(restarted.handle(statsTask("durable", plan)).getFeatureStats().hasSecureSum(),
        "the accepted job goes on");
    JobPlan changed = plan.toBuilder().setLocalEpochs(50).build();
    assertRefused(new BankTaskHandler(config), statsTask("durable", changed), "different plan");
    JobDecision reoffered = offer(new BankTaskHandler(config), changed);
    assertFalse(reoffered.getAccept(), "a re-offer cannot change the pinned plan");
    assertTrue(reoffered.getReason().contains("accepted with another plan"), reoffered.getReason());
  }

  @Test
  void aPolicyTightenedAfterAcceptance_stopsTheJobAtItsNextTask() throws Exception {
    JobPlan plan = JobSpecWire.toProto(privateJob("tightened").minBanks(2).build());
    assertTrue(offer(new BankTaskHandler(config(BankPolicy.strict())), plan).getAccept());
    BankTaskHandler stricter = new BankTaskHandler(config(new BankPolicy(false, true, 5, OptionalInt.empty())));
    assertRefused(stricter, statsTask("tightened", plan), "policy.min_banks is 5");
  }

  @Test
  void aSecureRoundWithATooSmallRoster_isRefusedBeforeTraining() throws Exception {
    BankTaskHandler bank = new BankTaskHandler(config(new BankPolicy(false, true, 4, OptionalInt.empty())));
    JobPlan plan = JobSpecWire.toProto(privateJob("roster").minBanks(4).build());
    assertTrue(offer(bank, plan).getAccept());
    var model = TestModels.initialModel(JobSpecWire.fromProto(plan), dir.resolve("data.csv"));
    // a roster of four meets the job's min_banks; the bank's own policy asks for four as well, so three fail
    Task threeBanks = Task.newBuilder().setHeader(Headers.of("roster", 1, Stage.TRAIN)).setTrain(TrainTask.newBuilder()
        .setPlan(plan).setGlobalModel(model).addAllRoundMembers(List.of("bank-1", "bank-2", "bank-3"))
        .setRoundRowTotal(1_000_000).setSecureAggregation(plan.getSecureAggregation().toBuilder().setThreshold(3))).build();
    assertRefused(bank, threeBanks, "min_banks");
    Task duplicated = Task.newBuilder().setHeader(Headers.of("roster", 1, Stage.TRAIN)).setTrain(TrainTask.newBuilder()
        .setPlan(plan).setGlobalModel(model).addAllRoundMembers(List.of("bank-1", "bank-2", "bank-3", "bank-3"))
        .setRoundRowTotal(1_000_000).setSecureAggregation(plan.getSecureAggregation().toBuilder().setThreshold(4))).build();
    assertRefused(bank, duplicated, "twice");
  }

  @Test
  void aRoundBelowThePolicysMinimumThreshold_isRefused() throws Exception {
    // a job the bank accepted under a policy without a threshold minimum; then its operator sets one
    JobPlan plan = JobSpecWire.toProto(privateJob("threshold").minBanks(2).build());
    BankTaskHandler before = new BankTaskHandler(config(BankPolicy.strict()));
    assertTrue(offer(before, plan).getAccept());
    var model = TestModels.initialModel(JobSpecWire.fromProto(plan), dir.resolve("data.csv"));
    BankTaskHandler after = new BankTaskHandler(config(new BankPolicy(false, true, 2, OptionalInt.of(4))));
    List<String> roster = List.of("bank-1", "bank-2", "bank-3", "bank-4");
    JobSpec spec = JobSpecWire.fromProto(plan);
    Task fourBanks = Task.newBuilder().setHeader(Headers.of("threshold", 1, Stage.TRAIN)).setTrain(TrainTask.newBuilder()
        .setPlan(plan).setGlobalModel(model).addAllRoundMembers(roster).setRoundRowTotal(1_000_000)
        .setSecureAggregation(io.consort.spec.SecureRoundPlan.derive(spec, 1, roster, model.getValuesCount())
            .toTask(spec))).build();
    // the bank derives threshold 3 (majority of four) itself, and its policy wants at least 4
    assertRefused(after, fourBanks, "policy.min_threshold is 4");
  }

  @Test
  void policyValues_areChecked() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new BankPolicy(false, true, 1, OptionalInt.empty()));
    assertEquals("policy.min_banks must be >= 2 (a sum of one bank is that bank's update), got 1", e.getMessage());
  }
}
