package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSource;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.QuantileClip;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.features.RefinedFeatureStats;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.FeatureStatsTask;
import io.consort.protocol.v1.JobDecision;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.NumericFeature;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bank's data path for a job: the offer reads and checks the data (a file or a query) and declines
 * with the problem's row and column before anything else is sent; the statistics and the encoded rows
 * come from streaming the same data again; the second statistics stage answers only a preliminary
 * encoding that fits the accepted schema, and only one.
 */
class BankDataTest {
  static final DataSchema SCHEMA = new DataSchema(List.of("income", "debt"),
      List.of(DataSchema.CategoricalColumn.open("region")), "default", "yes", new Preprocessing(
          Map.of("income", new NumericRules(Imputation.MEDIAN, OptionalDouble.empty(), true, List.of(-1.0), List.of(),
              Optional.of(new QuantileClip(0.05, 0.95)))),
          Map.of("region", new CategoricalRules(Imputation.MOST_FREQUENT, Optional.empty(), false, List.of(), true))));

  @TempDir
  Path dir;

  private ParticipantConfig config(Path data) throws Exception {
    for (String f : new String[] {"key.pem", "cert.pem", "ca.pem"}) {
      Files.writeString(dir.resolve(f), "x");
    }
    return new ParticipantConfig("localhost", 7443, dir.resolve("key.pem"), dir.resolve("cert.pem"),
        dir.resolve("ca.pem"), data, dir.resolve("local"), 3.0, 1e-5, 1 << 20, null, false)
        .withPolicy(new BankPolicy(true, false, 2, java.util.OptionalInt.empty()));
  }

  static String rows(int n) {
    StringBuilder csv = new StringBuilder("income,debt,region,default\n");
    for (int i = 0; i < n; i++) {
      String income = i % 10 == 3 ? "" : i % 17 == 5 ? "-1" : Integer.toString(20000 + 700 * i);
      csv.append(income).append(',').append(i % 7).append(',').append(i % 3 == 0 ? "north" : i == 11 ? "islands"
          : "south").append(',').append(i % 4 == 0 ? "yes" : "no").append('\n');
    }
    return csv.toString();
  }

  private static JobPlan plan(String id, DataSchema schema) {
    return JobSpecWire.toProto(JobSpec.builder().id(id).schema(schema).secureAggregation(false).build());
  }

  private static Task offer(JobPlan plan) {
    return Task.newBuilder().setHeader(Headers.of(plan.getJobId(), 0, Stage.JOB_OFFER))
        .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build();
  }

  private static Task stats(JobPlan plan, io.consort.protocol.v1.FeatureEncoding preliminary) {
    FeatureStatsTask.Builder t = FeatureStatsTask.newBuilder().setPlan(plan);
    if (preliminary != null) {
      t.setPreliminary(preliminary);
    }
    return Task.newBuilder().setHeader(Headers.of(plan.getJobId(), 0, Stage.FEATURE_STATS)).setFeatureStats(t).build();
  }

  private static int[] vector(FeatureStats s) {
    return s.getStatisticsList().stream().mapToInt(Integer::intValue).toArray();
  }

  @Test
  void offer_declined_namingLineAndColumn_whenALabelIsMissing_andNothingElseIsSent() throws Exception {
    Path data = Files.writeString(dir.resolve("data.csv"), "income,debt,region,default\n1,2,north,yes\n3,4,south,\n");
    JobDecision d = new BankTaskHandler(config(data)).handle(offer(plan("j", SCHEMA))).getDecision();
    assertFalse(d.getAccept());
    assertEquals(data + " line 3, column 'default': the label is missing (every row needs one; a row without its "
        + "outcome cannot be trained or evaluated on)", d.getReason());
    assertEquals(0.0, d.getProjectedEpsilon(), "a declined offer carries the reason and the cap, nothing of the data");
  }

  @Test
  void offer_declined_namingTheColumn_whenItIsMissingInEveryRow() throws Exception {
    Path data = Files.writeString(dir.resolve("data.csv"), "income,debt,region,default\n,2,north,yes\n-1,4,south,no\n");
    JobDecision d = new BankTaskHandler(config(data)).handle(offer(plan("j", SCHEMA))).getDecision();
    assertFalse(d.getAccept());
    assertEquals(data + " column 'income': the column is missing (empty, NULL or a sentinel) in every one of the 2 "
        + "rows; a bank cannot take part with a column it does not have", d.getReason());
  }

  @Test
  void offer_declined_namingTheQuery_whenItFails_orReturnsNoRows() throws Exception {
    String url = "jdbc:h2:mem:bank-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE loans (income DOUBLE PRECISION, debt INTEGER, region VARCHAR(10), \"default\" "
          + "VARCHAR(3))");
      ParticipantConfig config = config(null).withDataQuery(DataSource.query(url, "SELECT * FROM loans"));
      JobDecision empty = new BankTaskHandler(config).handle(offer(plan("j", SCHEMA))).getDecision();
      assertFalse(empty.getAccept());
      assertEquals("query \"SELECT * FROM loans\" on " + url.substring(0, url.indexOf(';'))
          + ": the query returned no rows", empty.getReason());
      ParticipantConfig broken = config.withDataQuery(DataSource.query(url, "SELECT * FROM laons"));
      JobDecision failed = new BankTaskHandler(broken).handle(offer(plan("j", SCHEMA))).getDecision();
      assertFalse(failed.getAccept());
      assertTrue(failed.getReason().startsWith("query \"SELECT * FROM laons\" on jdbc:h2:mem:bank-"),
          failed.getReason());
      assertTrue(failed.getReason().contains(": the query failed: Table \"LAONS\" not found"), failed.getReason());
    }
  }

  @Test
  void aQuerySource_isReadLikeAFile_missingValuesAndSentinelsIncluded() throws Exception {
    Path file = Files.writeString(dir.resolve("data.csv"), rows(60));
    String url = "jdbc:h2:mem:same-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE loans (id INTEGER, income DOUBLE PRECISION, debt INTEGER, region VARCHAR(10), "
          + "\"default\" VARCHAR(3))");
      List<String> lines = Files.readAllLines(file);
      for (int i = 1; i < lines.size(); i++) {
        String[] f = lines.get(i).split(",", -1);
        s.execute("INSERT INTO loans VALUES (" + i + ", " + (f[0].isEmpty() ? "NULL" : f[0]) + ", " + f[1] + ", '"
            + f[2] + "', '" + f[3] + "')");
      }
      ParticipantConfig fromQuery = config(null).withDataQuery(DataSource.query(url,
          "SELECT income, debt, region, \"default\" FROM loans ORDER BY id"));
      BankData data = BankData.open(fromQuery, SCHEMA);
      assertEquals(60, data.trainRows() + data.testRows());
      assertEquals(12, data.testRows(), "the bank's default test fraction, 0.2");
      LocalFeatureStats stats = data.firstStatistics();
      assertEquals(48, stats.rows());
      assertTrue(stats.numeric().get(0).missing() > 0, "NULL and -1 incomes are missing");
      DatasetLoader.Scan query = DatasetLoader.scan(fromQuery.dataSource(), SCHEMA, (r, n, cat, p) -> { });
      DatasetLoader.Scan csv = DatasetLoader.scan(DataSource.file(file), SCHEMA, (r, n, cat, p) -> { });
      assertEquals(csv.positives(), query.positives());
      assertEquals(java.util.Arrays.toString(csv.numericMissing()), java.util.Arrays.toString(query.numericMissing()));
    }
  }

  @Test
  void theDemosSplitOfATable_isTheBanksStreamedSplit() throws Exception {
    Path file = Files.writeString(dir.resolve("data.csv"), rows(80));
    ParticipantConfig config = config(file);
    BankData streamed = BankData.open(config, SCHEMA);
    var split = BankSplit.of(config, DatasetLoader.load(file, SCHEMA));
    assertEquals(LocalFeatureStats.compute(split.train()).categoryCounts(0), streamed.firstStatistics()
        .categoryCounts(0));
    assertEquals(LocalFeatureStats.compute(split.train()).numeric().get(1), streamed.firstStatistics().numeric()
        .get(1));
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(streamed.firstStatistics());
    assertEquals(RefinedFeatureStats.compute(split.train(), preliminary), streamed.secondStatistics(preliminary));
    BankData.Encoded encoded = streamed.encode(preliminary);
    assertEquals(preliminary.encode(split.test()).positives(), encoded.test().positives());
    assertEquals(split.train().rows(), encoded.train().rows());
  }

  @Test
  void aFileRewrittenAfterTheOffer_isRefused_insteadOfMixedWithTheFirstReading() throws Exception {
    Path file = Files.writeString(dir.resolve("data.csv"), rows(40));
    BankData data = BankData.open(config(file), SCHEMA);
    Files.writeString(file, rows(41));
    io.consort.model.data.DataFormatException e = assertThrows(io.consort.model.data.DataFormatException.class,
        data::firstStatistics);
    assertEquals(file + ": the data changed since this bank accepted the job (41 rows now, 40 then); the bank does "
        + "not mix two versions of its data", e.getMessage());
  }

  @Test
  void statisticsInTheClear_areTheVectorsTheBankWouldSumSecurely_inBothStages() throws Exception {
    Path file = Files.writeString(dir.resolve("data.csv"), rows(60));
    BankTaskHandler bank = new BankTaskHandler(config(file));
    JobPlan plan = plan("clear", SCHEMA);
    assertTrue(bank.handle(offer(plan)).getDecision().getAccept());
    FeatureStats first = bank.handle(stats(plan, null)).getFeatureStats();
    BankData data = BankData.open(config(file), SCHEMA);
    assertEquals(java.util.Arrays.toString(FeatureStatsVector.encode(data.firstStatistics())),
        java.util.Arrays.toString(vector(first)));
    assertFalse(first.getSecondStage());
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(data.firstStatistics().namesOnly(5));
    FeatureStats second = bank.handle(stats(plan, ModelWire.encoding(preliminary))).getFeatureStats();
    assertTrue(second.getSecondStage());
    assertEquals(java.util.Arrays.toString(FeatureStatsVector.encodeRefined(data.secondStatistics(preliminary),
        preliminary)), java.util.Arrays.toString(vector(second)));
  }

  @Test
  void secondStage_refused_whenThePreliminaryEncodingClipsOffTheGrid_orIsASecondOne_orTheJobHasNone()
      throws Exception {
    Path file = Files.writeString(dir.resolve("data.csv"), rows(60));
    BankTaskHandler bank = new BankTaskHandler(config(file));
    JobPlan plan = plan("hostile", SCHEMA);
    assertTrue(bank.handle(offer(plan)).getDecision().getAccept());
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(BankData.open(config(file), SCHEMA)
        .firstStatistics().namesOnly(5));
    io.consort.protocol.v1.FeatureEncoding good = ModelWire.encoding(preliminary);
    NumericFeature income = good.getNumeric(0);
    io.consort.protocol.v1.FeatureEncoding offGrid = good.toBuilder().setNumeric(0, income.toBuilder()
        .setClipUpper(income.getClipLower() + 0.5)).build();
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
        () -> bank.handle(stats(plan, offGrid)));
    assertEquals("job 'hostile': the preliminary feature encoding does not fit the accepted schema: column 'income': "
        + "clip bounds [" + income.getClipLower() + ", " + (income.getClipLower() + 0.5) + "] must be two increasing "
        + "edges of the quantile grid", e.getMessage());

    assertTrue(bank.handle(stats(plan, good)).getFeatureStats().getSecondStage());
    io.consort.protocol.v1.FeatureEncoding another = good.toBuilder().setNumeric(0, income.toBuilder()
        .setClipUpper(io.consort.model.data.QuantileGrid.upperEdge(io.consort.model.data.QuantileGrid.bin(
            income.getClipUpper()) + 1))).build();
    e = assertThrows(ProtocolViolationException.class, () -> bank.handle(stats(plan, another)));
    assertEquals("job 'hostile': this bank answered the second statistics stage for another preliminary encoding; it "
        + "answers for one only", e.getMessage());

    DataSchema plain = new DataSchema(List.of("income", "debt"), List.of(DataSchema.CategoricalColumn.open("region")),
        "default", "yes");
    Path clean = Files.writeString(dir.resolve("clean.csv"), "income,debt,region,default\n1,2,north,yes\n"
        + "2,3,south,no\n3,3,south,no\n4,1,north,yes\n5,1,north,no\n");
    BankTaskHandler other = new BankTaskHandler(config(clean));
    JobPlan plainPlan = plan("plain", plain);
    assertTrue(other.handle(offer(plainPlan)).getDecision().getAccept());
    e = assertThrows(ProtocolViolationException.class, () -> other.handle(stats(plainPlan, good)));
    assertEquals("job 'plain' has no second statistics stage (its preprocessing neither clips nor counts "
        + "categories)", e.getMessage());
  }
}
