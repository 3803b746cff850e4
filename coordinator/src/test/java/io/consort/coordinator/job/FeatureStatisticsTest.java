package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.certs.DemoPki;
import io.consort.coordinator.model.FederatedModelOps;
import io.consort.identity.CertificateValidator;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.certs.PemFiles;
import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.QuantileClip;
import io.consort.model.data.Table;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.features.RefinedFeatureStats;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.TaskResult;
import io.consort.spec.JobSpec;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.function.BiFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under secure aggregation the coordinator learns the consortium's feature statistics and not one
 * bank's: what reaches it in the clear has no numeric statistics, and the encoding it builds from the
 * secure sum is the one the banks' statistics merged directly would give.
 */
class FeatureStatisticsTest {
  private static final List<String> BANKS = List.of("bank-1", "bank-2", "bank-3");
  private static final DataSchema SCHEMA = new DataSchema(List.of("income"),
      List.of(DataSchema.CategoricalColumn.open("purpose")), "default", "yes");

  @TempDir
  static Path dir;
  static DemoPki pki;
  static CertificateValidator validator;

  @BeforeAll
  static void pki() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", BANKS);
    validator = pki.validator();
  }

  private static LocalFeatureStats bank(long rows, double sum, double sumOfSquares, String... purposes) {
    TreeMap<String, Long> counts = new TreeMap<>();
    for (String p : purposes) {
      counts.put(p, 10L);
    }
    return new LocalFeatureStats(SCHEMA, rows, rows / 3,
        List.of(new LocalFeatureStats.NumericStats("income", rows, sum, sumOfSquares)), List.of(counts));
  }

  @Test
  void theCoordinatorGetsTheConsortiumsStatistics_andNoBanksOwn() throws Exception {
    List<LocalFeatureStats> truth = List.of(bank(300, 1.2e7, 6.1e11, "car"), bank(500, 2.9e7, 2.2e12, "car", "tv"),
        bank(120, 6.0e6, 3.9e11, "education"));
    FakeBanks banks = new FakeBanks();
    List<FeatureStats> clearAnswers = new ArrayList<>();
    for (int b = 0; b < BANKS.size(); b++) {
      String id = BANKS.get(b);
      // what a bank says in the clear: row counts and category names, no numeric statistics
      FeatureStats clear = ModelWire.stats(truth.get(b), truth.get(b).rows(), truth.get(b).rows() / 4)
          .toBuilder().clearNumeric().setRows(0).setPositives(0).build();
      clearAnswers.add(clear);
      banks.bank(id, new SecureBank(id, new IdentitySigner(PemFiles.readPrivateKey(pki.bank(id).keyFile())),
          validator, new float[1], null, null).withStatistics(clear, truth.get(b)));
      banks.certificate(id, PemFiles.readCertificates(pki.bank(id).chainFile()).get(0));
    }
    FakeTimers timers = new FakeTimers();
    JobSpec spec = JobSpec.builder().id("stats").schema(SCHEMA).minBanks(2).build();
    JobContext job = JobFixtures.context(spec, banks, timers);
    Future<FeatureStatistics.Result> result = new FeatureStatistics(job, new FederatedModelOps(),
        new IdentityVerifier(validator)).gather(BANKS);
    for (int stage = 0; stage < 10 && !result.isComplete(); stage++) {
      banks.pump(job.stages());
    }
    assertTrue(result.succeeded(), String.valueOf(result.cause()));
    for (Map.Entry<String, io.consort.protocol.v1.Task> posted : banks.posted) {
      assertTrue(!posted.getValue().hasFeatureStats() || posted.getValue().getFeatureStats().getRoundMembersCount() == 3,
          "the statistics task names the secure sum's roster");
    }
    assertEquals(clearAnswers, result.result().banks().values().stream()
        .map(s -> s.toBuilder().clearSecureSum().build()).toList(), "what the coordinator keeps of each bank");
    FeatureEncoding direct = FeatureEncoding.merge(truth);
    FeatureEncoding viaSum = ModelWire.encoding(SCHEMA, result.result().encoding());
    assertArrayEquals(direct.means(), viaSum.means(), 1e-9);
    assertArrayEquals(direct.stds(), viaSum.stds(), 1e-6);
    assertEquals(List.of("car", "education", "tv"), viaSum.categories().get(0));
  }

  private static final List<LocalFeatureStats> TRUTH = List.of(bank(300, 1.2e7, 6.1e11, "car"),
      bank(500, 2.9e7, 2.2e12, "car", "tv"), bank(120, 6.0e6, 3.9e11, "education"));

  /**
   * The three banks of {@link #TRUTH} under secure aggregation, each summing its true statistics and saying in the
   * clear what {@code clear} makes of its true row counts and category names.
   */
  private Future<FeatureStatistics.Result> gatherSecurely(BiFunction<Integer, FeatureStats, FeatureStats> clear)
      throws Exception {
    FakeBanks banks = new FakeBanks();
    for (int b = 0; b < BANKS.size(); b++) {
      String id = BANKS.get(b);
      FeatureStats said = clear.apply(b, ModelWire.stats(TRUTH.get(b), TRUTH.get(b).rows(), TRUTH.get(b).rows() / 4)
          .toBuilder().clearNumeric().setRows(0).setPositives(0).build());
      banks.bank(id, new SecureBank(id, new IdentitySigner(PemFiles.readPrivateKey(pki.bank(id).keyFile())),
          validator, new float[1], null, null).withStatistics(said, TRUTH.get(b)));
      banks.certificate(id, PemFiles.readCertificates(pki.bank(id).chainFile()).get(0));
    }
    JobContext job = JobFixtures.context(JobSpec.builder().id("stats").schema(SCHEMA).minBanks(2).build(), banks,
        new FakeTimers());
    Future<FeatureStatistics.Result> result = new FeatureStatistics(job, new FederatedModelOps(),
        new IdentityVerifier(validator)).gather(BANKS);
    for (int stage = 0; stage < 10 && !result.isComplete(); stage++) {
      banks.pump(job.stages());
    }
    return result;
  }

  @Test
  void aBankReportingRowCountsNoBankCanHold_leavesTheJob_andTheOthersStatisticsAreSummed() throws Exception {
    // a hostile bank reporting 2^64 - 1 training rows would wrap every round's row total, and every honest bank would
    // then refuse every training task
    Future<FeatureStatistics.Result> result = gatherSecurely((b, said) -> b == 2
        ? said.toBuilder().setTrainRows(-1L).build() : said);

    assertTrue(result.succeeded(), String.valueOf(result.cause()));
    assertEquals(List.of("bank-1", "bank-2"), List.copyOf(result.result().banks().keySet()));
    FeatureEncoding direct = FeatureEncoding.merge(TRUTH.subList(0, 2));
    assertArrayEquals(direct.means(), ModelWire.encoding(SCHEMA, result.result().encoding()).means(), 1e-9);
  }

  @Test
  void aBankClaimingTwoBillionTrainingRowsInTheClear_butCountingItsOwnInTheSecureSum_failsTheJobBeforeTraining()
      throws Exception {
    // the attack (review): bank-3 sums its 120 true rows but says 2^31 - 2 in the clear; the row total R would be
    // about 2^31 and every honest bank's FedAvg weight about 1e-7, so the decoded mean would be bank-3's update alone
    // and the honest banks would spend their privacy for nothing, round after round
    Future<FeatureStatistics.Result> result = gatherSecurely((b, said) -> b == 2
        ? said.toBuilder().setTrainRows(Integer.MAX_VALUE - 1L).build() : said);

    assertTrue(result.failed(), "the job goes on with a row total one bank chose");
    assertInstanceOf(JobFailedException.class, result.cause());
    assertEquals("the 3 banks of the statistics report " + (300L + 500 + Integer.MAX_VALUE - 1) + " training rows in "
        + "the clear, but their statistics count 920: a bank misreports its rows, and the banks' FedAvg weights (own "
        + "rows over the round's total) cannot be trusted", result.cause().getMessage());
  }

  @Test
  void withoutSecureAggregation_aBankWhoseStatisticsCountOtherRowsThanItReports_leavesTheJob() throws Exception {
    FakeBanks banks = new FakeBanks();
    for (int b = 0; b < BANKS.size(); b++) {
      LocalFeatureStats truth = TRUTH.get(b);
      long said = b == 2 ? Integer.MAX_VALUE - 1L : truth.rows();
      int[] vector = FeatureStatsVector.encode(truth);
      banks.bank(BANKS.get(b), task -> Optional.of(TaskResult.newBuilder().setFeatureStats(
          ModelWire.stats(truth, said, truth.rows() / 4).toBuilder()
              .addAllStatistics(java.util.Arrays.stream(vector).boxed().toList()))));
    }
    JobContext job = JobFixtures.context(JobSpec.builder().id("clear").schema(SCHEMA).minBanks(2)
        .secureAggregation(false).build(), banks, new FakeTimers());
    Future<FeatureStatistics.Result> result = new FeatureStatistics(job, new FederatedModelOps(),
        new IdentityVerifier(validator)).gather(BANKS);
    for (int stage = 0; stage < 10 && !result.isComplete(); stage++) {
      banks.pump(job.stages());
    }

    assertTrue(result.succeeded(), String.valueOf(result.cause()));
    assertEquals(List.of("bank-1", "bank-2"), List.copyOf(result.result().banks().keySet()));
    assertArrayEquals(FeatureEncoding.merge(TRUTH.subList(0, 2)).means(),
        ModelWire.encoding(SCHEMA, result.result().encoding()).means(), 1e-9);
  }

  private static final DataSchema MESSY = new DataSchema(List.of("income", "debt"),
      List.of(DataSchema.CategoricalColumn.open("region")), "default", "yes", new Preprocessing(
          Map.of("income", new NumericRules(Imputation.MEDIAN,
              OptionalDouble.empty(), true, List.of(-1.0), List.of(),
              Optional.of(new QuantileClip(0.05, 0.95)))),
          Map.of("region", new CategoricalRules(Imputation.MOST_FREQUENT,
              Optional.empty(), false, List.of(), true))));

  /** A bank's training rows: missing and sentinel incomes, a heavy tail, and {@code rare} rows of 'islands'. */
  private static Table messyRows(int rows, int offset, int rare) {
    Table.Builder t = new Table.Builder(MESSY, "bank rows");
    for (int i = 0; i < rows; i++) {
      double income = i % 10 == 3 ? Double.NaN : i % 17 == 5 ? Double.NaN : 20000 + 700 * i + offset
          + (i % 29 == 0 ? 4e6 : 0);
      String region = i < rare ? "islands" : i % 11 == 4 ? null : (i + offset) % 3 == 0 ? "north" : "south";
      t.add(new double[] {income, i % 7}, new String[] {region}, i % 4 == 0);
    }
    return t.build();
  }

  @Test
  void secondStage_theCoordinatorGetsTheConsortiumsPreprocessing_andNoBanksOwnVector() throws Exception {
    List<Table> rows = List.of(messyRows(300, 0, 2), messyRows(200, 50, 0),
        messyRows(120, 1000, 0));
    FakeBanks banks = new FakeBanks();
    List<SecureBank> secure = new ArrayList<>();
    for (int b = 0; b < BANKS.size(); b++) {
      String id = BANKS.get(b);
      LocalFeatureStats stats = LocalFeatureStats.compute(rows.get(b));
      FeatureStats clear = ModelWire.stats(stats.namesOnly(LocalFeatureStats.MIN_NAMED_CATEGORY_ROWS), stats.rows(), 0)
          .toBuilder().clearNumeric().setRows(0).setPositives(0).build();
      SecureBank bank = new SecureBank(id, new IdentitySigner(PemFiles.readPrivateKey(pki.bank(id).keyFile())),
          validator, new float[1], null, null).withRows(clear, rows.get(b));
      secure.add(bank);
      banks.bank(id, bank);
      banks.certificate(id, PemFiles.readCertificates(pki.bank(id).chainFile()).get(0));
    }
    JobSpec spec = JobSpec.builder().id("messy").schema(MESSY).minBanks(2).build();
    JobContext job = JobFixtures.context(spec, banks, new FakeTimers());
    Future<FeatureStatistics.Result> result = new FeatureStatistics(job, new FederatedModelOps(),
        new IdentityVerifier(validator)).gather(BANKS);
    for (int stage = 0; stage < 20 && !result.isComplete(); stage++) {
      banks.pump(job.stages());
    }
    assertTrue(result.succeeded(), String.valueOf(result.cause()));
    for (SecureBank bank : secure) {
      assertEquals(2, bank.summedVectors.size(), "each bank summed one vector per stage");
    }
    for (Map.Entry<String, io.consort.protocol.v1.Task> posted : banks.posted) {
      if (posted.getValue().hasFeatureStats() && posted.getValue().getFeatureStats().hasPreliminary()) {
        // the preliminary encoding the coordinator built from the first sum clips on the grid and names no 'islands'
        assertTrue(!posted.getValue().getFeatureStats().getPreliminary().toString().contains("islands"));
      }
    }
    for (FeatureStats kept : result.result().banks().values()) {
      assertEquals(0, kept.getStatisticsCount(), "no statistics in the clear");
      assertEquals(0, kept.getNumericCount(), "no numeric statistics in the clear");
    }
    // the encoding from the two secure sums is the one a single party holding every row would build
    Table.Builder all = new Table.Builder(MESSY, "all rows");
    for (Table t : rows) {
      for (int r = 0; r < t.rows(); r++) {
        all.add(new double[] {t.numeric(0, r), t.numeric(1, r)}, new String[] {t.category(0, r)}, t.isPositive(r));
      }
    }
    Table pooledRows = all.build();
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(LocalFeatureStats.compute(pooledRows)
        .namesOnly(LocalFeatureStats.MIN_NAMED_CATEGORY_ROWS));
    FeatureEncoding pooled = preliminary.refine(RefinedFeatureStats.compute(pooledRows,
        preliminary));
    FeatureEncoding viaSums = ModelWire.encoding(MESSY, result.result().encoding());
    assertEquals(List.of("north", "south", FeatureEncoding.OTHER_LEVEL_NAME), viaSums.categories().get(0));
    assertEquals(pooled.categories(), viaSums.categories());
    assertEquals(pooled.categoryFills(), viaSums.categoryFills());
    assertEquals(pooled.numericTreatments().get(0).clipLower(), viaSums.numericTreatments().get(0).clipLower());
    assertEquals(pooled.numericTreatments().get(0).clipUpper(), viaSums.numericTreatments().get(0).clipUpper());
    assertEquals(pooled.numericTreatments().get(0).fill(), viaSums.numericTreatments().get(0).fill(), 1e-6);
    assertArrayEquals(pooled.means(), viaSums.means(), 1e-6);
    assertArrayEquals(pooled.stds(), viaSums.stds(), 1e-6);
    assertEquals(2, result.result().preprocessing().getJsonObject("columns").getJsonObject("region")
        .getLong("mapped_to_other"), result.result().preprocessing().encodePrettily());
  }
}
