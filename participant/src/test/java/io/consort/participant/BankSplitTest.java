package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.model.data.DataSchema;
import io.consort.protocol.Headers;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.FeatureStatsTask;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The differencing attack: a coordinator that could choose each job's held-out rows would run two
 * jobs whose training parts differ by one customer and subtract their statistics. The bank's split is
 * its own, so the two releases are identical and their difference is zero.
 */
class BankSplitTest {
  @TempDir
  static Path pkiDir;
  static DemoPki pki;

  @TempDir
  Path dir;

  @BeforeAll
  static void pki() throws Exception {
    pki = DemoPki.create(pkiDir, "coordinator", List.of("bank-1"));
  }

  private ParticipantConfig config(Path data, Path records) {
    TlsMaterial t = pki.bank("bank-1");
    return new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data, records, 3.0, 1e-5,
        1 << 20, null, false, null, null, new BankPolicy(false, false, 2, java.util.OptionalInt.empty()), 0.2);
  }

  private static Path data(Path file, int rows) throws Exception {
    StringBuilder csv = new StringBuilder("income,default\n");
    for (int i = 0; i < rows; i++) {
      csv.append(1000 + 37 * i).append(',').append(i % 3 == 0 ? "yes" : "no").append('\n');
    }
    return Files.writeString(file, csv);
  }

  private static JobPlan job(String id, int rounds) {
    // without secure aggregation the statistics are released in the clear, as the attack needs them;
    // under it they go into a secure sum of the same (identical) vector
    return JobSpecWire.toProto(JobSpec.builder().id(id).rounds(rounds).privacy(PrivacyMode.RECORD).targetEpsilon(1.0)
        .secureAggregation(false)
        .schema(new DataSchema(List.of("income"), List.of(), "default", "yes")).build());
  }

  private static FeatureStats statistics(BankTaskHandler bank, JobPlan plan) throws Exception {
    bank.handle(Task.newBuilder().setHeader(Headers.of(plan.getJobId(), 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build());
    return bank.handle(Task.newBuilder().setHeader(Headers.of(plan.getJobId(), 0, Stage.FEATURE_STATS))
        .setFeatureStats(FeatureStatsTask.newBuilder().setPlan(plan)).build()).getFeatureStats();
  }

  @Test
  void twoJobsOnTheSameData_releaseIdenticalStatistics_soTheirDifferenceIsZero() throws Exception {
    ParticipantConfig config = config(data(dir.resolve("data.csv"), 101), dir.resolve("records"));
    BankTaskHandler bank = new BankTaskHandler(config);
    FeatureStats first = statistics(bank, job("first", 5));
    FeatureStats second = statistics(bank, job("second", 6));
    assertEquals(first, second);
    // and a restarted bank keeps the same split
    assertEquals(first, statistics(new BankTaskHandler(config), job("third", 7)));
  }

  @Test
  void theSplitDependsOnTheBanksSecretKeyAndTheDataVersion_notOnTheJob() throws Exception {
    Path data = data(dir.resolve("data.csv"), 101);
    long seed = BankSplit.seed(dir.resolve("bank-a"), data);
    assertEquals(seed, BankSplit.seed(dir.resolve("bank-a"), data), "stable for the same key and data");
    assertEquals(32, Files.size(dir.resolve("bank-a").resolve(BankSplit.KEY_FILE)));
    assertNotEquals(seed, BankSplit.seed(dir.resolve("bank-b"), data), "another bank's key, another split");
    Path grown = data(dir.resolve("grown.csv"), 102);
    assertNotEquals(seed, BankSplit.seed(dir.resolve("bank-a"), grown), "new data version, new split");
  }

  @Test
  void theHeldOutShareIsTheBanksConfiguredFraction() throws Exception {
    Path data = data(dir.resolve("data.csv"), 100);
    FeatureStats stats = statistics(new BankTaskHandler(config(data, dir.resolve("r1")).withTestFraction(0.3)),
        job("fraction", 2));
    assertEquals(70, stats.getTrainRows());
    assertEquals(30, stats.getTestRows());
    assertTrue(stats.getRows() == 70, "statistics are of the training rows only");
  }
}
