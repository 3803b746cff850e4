package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.model.data.DataSchema;
import io.consort.model.wire.ModelWire;
import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.protocol.Headers;
import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelUpdate;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spend journal's forced write runs beside training and masking (BankPrivacy#recordRunAhead), but a
 * training task's answer still leaves only once the run's entry is on disk, and every budget check waits for
 * an entry in flight.
 */
class SpendAheadTest {
  @TempDir
  Path dir;

  private ParticipantConfig config;
  private BankTaskHandler bank;
  private JobPlan plan;
  private ModelParameters initial;

  @BeforeEach
  void bankInAPlaintextRecordLevelJob() throws Exception {
    Path data = TestModels.regionLoans(dir);
    TlsMaterial t = DemoPki.create(dir.resolve("pki"), "coordinator", List.of("bank-1")).bank("bank-1");
    config = new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data,
        dir.resolve("local"), 3.0, 1e-5, 1 << 20, null, false, null, null,
        new BankPolicy(false, false, 2, OptionalInt.empty()), 0.25);
    bank = new BankTaskHandler(config);
    JobSpec spec = JobSpec.builder().id("ahead").privacy(PrivacyMode.RECORD).targetEpsilon(1.0)
        .secureAggregation(false).schema(new DataSchema(List.of("income"),
            List.of(DataSchema.CategoricalColumn.open("region")), "default", "yes")).build();
    plan = JobSpecWire.toProto(spec);
    assertTrue(bank.handle(Task.newBuilder().setHeader(Headers.of("ahead", 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build()).getDecision().getAccept());
    initial = TestModels.initialModel(spec, data);
  }

  private Task train(int round) {
    return Task.newBuilder().setHeader(Headers.of("ahead", round, Stage.TRAIN)).setTrain(TrainTask.newBuilder()
        .setPlan(plan).setGlobalModel(initial).addAllRoundMembers(List.of("bank-1", "bank-2"))).build();
  }

  private List<SpendJournal.Release> releasesOnDisk() throws IOException {
    return new SpendJournal(dir.resolve("local")).releases(); // what a restarted daemon would read
  }

  @Test
  void aTrainingAnswer_leavesOnlyWithItsSpendOnDisk() throws Exception {
    TaskResult.Builder first = bank.handle(train(1));
    assertTrue(first.hasUpdate() && first.getUpdate().hasDp());
    assertEquals(1, releasesOnDisk().size(), "the update was answered before its spend was on disk");
    bank.handle(train(2));
    assertEquals(List.of(1, 2), releasesOnDisk().stream().map(SpendJournal.Release::round).toList());
  }

  @Test
  void aTrainingAnswerThatIsReady_waitsForItsSpendsForcedWrite() throws Exception {
    java.util.concurrent.CountDownLatch trained = new java.util.concurrent.CountDownLatch(1);
    BankTaskHandler held = new BankTaskHandler(config, (phase, start, end) -> {
      if (phase == BankTaskHandler.TaskClock.Phase.TRAINING) {
        trained.countDown();
      }
    });
    held.handle(Task.newBuilder().setHeader(Headers.of("ahead", 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build());
    java.util.concurrent.BlockingQueue<Runnable> journalThread = new java.util.concurrent.LinkedBlockingQueue<>();
    held.privacy().journalThread(journalThread::add); // the forced write waits until the test runs it
    java.util.concurrent.CompletableFuture<TaskResult.Builder> answer = java.util.concurrent.CompletableFuture
        .supplyAsync(() -> {
          try {
            return held.handle(train(1));
          } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        });
    assertTrue(trained.await(60, java.util.concurrent.TimeUnit.SECONDS), "the bank never trained");
    // trained and (by now, or within milliseconds) encoded: only the journal's forced write is outstanding
    assertThrows(java.util.concurrent.TimeoutException.class,
        () -> answer.get(500, java.util.concurrent.TimeUnit.MILLISECONDS),
        "the update was answered while its spend was not yet on disk");
    assertTrue(releasesOnDisk().isEmpty());
    journalThread.take().run();
    assertTrue(answer.get(60, java.util.concurrent.TimeUnit.SECONDS).getUpdate().hasDp());
    assertEquals(1, releasesOnDisk().size());
  }

  @Test
  void aDpSgdUpdate_carriesNoTrainingLoss_anUnnoisedFunctionOfTheBanksRows() throws Exception {
    ModelUpdate update = bank.handle(train(1)).getUpdate();
    assertTrue(update.hasDp());
    assertEquals(0.0, update.getTrainLoss(), "the exact training loss left the bank beside its DP update");
  }

  @Test
  void aSpendThatCannotBeForcedToDisk_sendsNoUpdate_andTheNextRoundStillRuns() throws Exception {
    Path journal = dir.resolve("local").resolve(SpendJournal.FILE_NAME);
    Files.createDirectories(journal); // a directory where the journal file should be: every append fails
    IOException e = assertThrows(IOException.class, () -> bank.handle(train(1)));
    assertTrue(e.getMessage().contains("spend journal"), e.getMessage());
    Files.delete(journal);
    assertTrue(bank.handle(train(2)).hasUpdate());
    assertEquals(List.of(2), releasesOnDisk().stream().map(SpendJournal.Release::round).toList());
  }

  @Test
  void aBudgetCheck_waitsForTheEntryInFlight_andCountsIt() throws Exception {
    LocalTrainingPlan round = new LocalTrainingPlan(300, 32, 1, 1.0);
    DpReport report = DpReport.newBuilder().setNoiseMultiplier(1.0).setSamplingRate(round.samplingRate())
        .setSteps(round.steps()).setClipNorm(1.0).setRows(300).build();
    // never awaited: the next check must settle the entry itself
    int rounds = roundsUntilCap(round, new BankPrivacy(capped(dir.resolve("ahead"))),
        (privacy, n) -> privacy.recordRunAhead("job", n, report));
    // the same cap stops a bank that journalled every run before going on after exactly as many rounds
    int inlineRounds = roundsUntilCap(round, new BankPrivacy(capped(dir.resolve("inline"))),
        (privacy, n) -> privacy.recordRun("job", n, report));
    assertTrue(rounds >= 1);
    assertEquals(inlineRounds, rounds);
    assertEquals(rounds, new SpendJournal(dir.resolve("ahead")).releases().size());
  }

  @Test
  void readingTheLedgerCopy_doesNotWaitForASpendStillBeingWritten() throws Exception {
    BankPrivacy privacy = new BankPrivacy(capped(dir.resolve("held")));
    List<Runnable> journalThread = new java.util.ArrayList<>();
    privacy.journalThread(journalThread::add); // the forced write waits until the test runs it
    LocalTrainingPlan round = new LocalTrainingPlan(300, 32, 1, 1.0);
    DpReport report = DpReport.newBuilder().setNoiseMultiplier(1.0).setSamplingRate(round.samplingRate())
        .setSteps(round.steps()).setClipNorm(1.0).setRows(300).build();
    BankPrivacy.DurableRecord spend = privacy.recordRunAhead("job", 1, report);

    // a training task's carried evaluation asks the copy whether a model was released: no wait on its own spend
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
        () -> assertTrue(!privacy.countersignedModel("job", "1".repeat(64))));
    assertEquals(1, journalThread.size());
    assertEquals(0, new SpendJournal(dir.resolve("held")).releases().size(), "written before its turn");

    journalThread.forEach(Runnable::run);
    spend.await();
    assertEquals(1, new SpendJournal(dir.resolve("held")).releases().size());
  }

  private interface Release {
    void record(BankPrivacy privacy, int round) throws Exception;
  }

  /** How many rounds pass the bank's budget check, each released with {@code release}. */
  private static int roundsUntilCap(LocalTrainingPlan round, BankPrivacy privacy, Release release) throws Exception {
    int rounds = 0;
    while (true) {
      try {
        privacy.checkRound(round);
      } catch (PrivacyBudgetExceededException e) {
        return rounds;
      }
      release.record(privacy, ++rounds);
      assertTrue(rounds < 100, "the cap must stop the bank");
    }
  }

  /** A bank under epsilon 8 keeping its journals in {@code dataDir}. */
  private ParticipantConfig capped(Path dataDir) {
    return new ParticipantConfig("localhost", 7443, config.keyFile(), config.certFile(), config.caFile(),
        config.dataFile(), dataDir, 8.0, 1e-5, 1 << 20, null, false);
  }
}
