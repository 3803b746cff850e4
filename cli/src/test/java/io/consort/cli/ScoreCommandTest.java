package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSplitter;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.Table;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelType;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.ModelPublication;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.PublishedModelFile;
import io.consort.scoring.v1.Provenance;
import io.consort.spec.CostMatrix;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code consort score} and {@code consort model card} as a bank's engineer runs them. */
class ScoreCommandTest {
  @TempDir
  Path dir;

  private Path model;
  private PublishedModel published;

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  /** A logistic regression on the synthetic loans, published as a coordinator would publish it. */
  @BeforeEach
  void publishAModel() throws Exception {
    Path csv = TestData.loanCsv(dir.resolve("training.csv"), 1_000, 5);
    DataSchema schema = DatasetLoader.inferSchema(csv, "default", "yes");
    Table all = DatasetLoader.load(csv, schema);
    DataSplitter.TrainTest split = DataSplitter.trainTest(all, 0.3, 5);
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(LocalFeatureStats.compute(split.train())));
    JobSpec spec = JobSpec.builder().id("loans").schema(schema).modelType(ModelType.LOGISTIC_REGRESSION)
        .costMatrix(CostMatrix.GERMAN_CREDIT).build();
    EncodedData train = encoding.encode(split.train());
    EncodedData test = encoding.encode(split.test());
    float[] parameters = new LocalTrainer(spec.model(), train, TrainingEngine.NATIVE, new SplittableRandom(5), s -> {
      throw new AssertionError("no noise");
    }).train(ModelFactory.initialParameters(spec.model(), encoding.featureCount()), 10, TrainingOptions.standard())
        .parameters();
    ModelParameters params = ModelWire.withValues(ModelParameters.newBuilder().setSpec(JobSpecWire.model(spec)
        .toBuilder().setInputFeatures(encoding.featureCount())).setEncoding(ModelWire.encoding(encoding)).build(),
        parameters, 10);
    ScoreHistogram h = ScoreHistogram.of(Predictor.predict(spec.model(), parameters, test), test.y(), 100);
    GlobalMetrics m = GlobalMetrics.from(h);
    published = ModelPublication.publish(spec, params, Optional.of(new ModelPublication.FinalEvaluation(10, h,
        m.auc(), m.accuracy(), m.logLoss())), Provenance.newBuilder().setJobId("loans").setRoundsPlanned(10)
        .setRoundsCompleted(10).setStrategy("FedAvg").setCodeVersion("test").build());
    model = dir.resolve("loans-model.consort");
    PublishedModelFile.write(model, published);
  }

  @Test
  void score_writesOneLinePerRow_andExitsZero_whenEveryRowFitsTheSchema() throws Exception {
    Path data = TestData.loanCsv(dir.resolve("applicants.csv"), 200, 77);
    Path out = dir.resolve("scores.csv");
    CliRun r = run("score", "--model", model.toString(), "--data", data.toString(), "--out", out.toString());
    assertEquals(0, r.status(), r.err());
    List<String> lines = Files.readAllLines(out);
    assertEquals(201, lines.size());
    assertEquals("line,probability,decision,reason_1,contribution_1,reason_2,contribution_2,reason_3,contribution_3",
        lines.get(0));
    assertTrue(lines.get(1).startsWith("2,"), lines.get(1));
    assertTrue(r.out().contains("scored 200 of 200 rows (0 refused)"), r.out());
    assertTrue(r.out().contains("(the job's cost matrix)"), r.out());
    assertTrue(r.out().contains("labelled rows (default present): 200"), r.out());
    assertTrue(r.out().contains("columns that moved these rows' scores most"), r.out());
    assertEquals("", r.err());
  }

  @Test
  void score_exitsThree_andNamesFileLineAndColumnOfEveryRefusedRow_whileScoringTheRest() throws Exception {
    Path data = TestData.loanCsv(dir.resolve("applicants.csv"), 5, 78);
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(data));
    String[] third = lines.get(3).split(",");
    third[0] = "n/a";
    lines.set(3, String.join(",", third));
    String[] fifth = lines.get(5).split(",");
    fifth[1] = "";
    lines.set(5, String.join(",", fifth));
    Files.write(data, lines);
    Path out = dir.resolve("scores.csv");
    Path rejects = dir.resolve("rejects.csv");
    CliRun r = run("score", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
        "--rejects", rejects.toString(), "--reasons", "1", "--threshold", "0.5");
    assertEquals(3, r.status(), r.err());
    assertTrue(r.err().contains("refused: " + data + " line 4, column 'income': value 'n/a' is not a finite number"),
        r.err());
    assertTrue(r.err().contains("refused: " + data + " line 6, column 'debt_ratio': missing value"), r.err());
    assertEquals(4, Files.readAllLines(out).size(), "header and the three good rows");
    assertEquals("source,position,line_or_row,column,problem", Files.readAllLines(rejects).get(0));
    assertEquals(3, Files.readAllLines(rejects).size());
    assertTrue(r.out().contains("scored 3 of 5 rows (2 refused)"), r.out());
    assertTrue(r.out().contains("threshold 0.5000 (--threshold)"), r.out());
  }

  @Test
  void score_exitsTwo_withOneLineAndNoScoresFile_whenTheModelFileIsCorrupt() throws Exception {
    byte[] bytes = Files.readAllBytes(model);
    bytes[bytes.length / 2] ^= 1;
    Files.write(model, bytes);
    Path out = dir.resolve("scores.csv");
    CliRun r = run("score", "--model", model.toString(), "--data", TestData.loanCsv(dir.resolve("a.csv"), 3, 1)
        .toString(), "--out", out.toString());
    assertEquals(2, r.status());
    assertTrue(r.err().startsWith("error: " + model + ": checksum mismatch"), r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void score_exitsTwo_whenTheFileIsOfAnUnknownVersionOrLacksAColumn() throws Exception {
    Path data = dir.resolve("no-income.csv");
    Files.writeString(data, "debt_ratio,region,employment\n0.5,north,salaried\n");
    CliRun missing = run("score", "--model", model.toString(), "--data", data.toString(), "--out",
        dir.resolve("s.csv").toString());
    assertEquals(2, missing.status());
    assertTrue(missing.err().contains("the feature column [income] is missing"), missing.err());
    assertFalse(Files.exists(dir.resolve("s.csv")));
    assertFalse(Files.exists(dir.resolve("s.csv.tmp")));

    byte[] bytes = Files.readAllBytes(model);
    java.nio.ByteBuffer.wrap(bytes).putInt(8, 9);
    Files.write(model, bytes);
    CliRun future = run("score", "--model", model.toString(), "--data", data.toString(), "--out",
        dir.resolve("s.csv").toString());
    assertEquals(2, future.status());
    assertTrue(future.err().contains("has format version 9; this version of Consort reads format 1 only"),
        future.err());
  }

  @Test
  void score_readsRowsFromAJdbcQuery() throws Exception {
    String url = "jdbc:h2:mem:bank" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url)) {
      c.createStatement().execute("CREATE TABLE loans (id INT, income DOUBLE PRECISION, debt_ratio DOUBLE PRECISION,"
          + " region VARCHAR(10), employment VARCHAR(20))");
      c.createStatement().execute("INSERT INTO loans VALUES (1, 55000, 0.3, 'north', 'salaried'),"
          + " (2, 21000, 0.9, 'south', 'unemployed'), (3, NULL, 0.5, 'east', 'salaried')");
      Path out = dir.resolve("scores.csv");
      CliRun r = run("score", "--model", model.toString(), "--jdbc", url, "--query",
          "SELECT id, income, debt_ratio, region, employment FROM loans ORDER BY id", "--id", "ID", "--out",
          out.toString());
      assertEquals(3, r.status(), r.err());
      // SQL folds unquoted names to upper case in H2: the schema's names match regardless of case
      assertTrue(r.err().contains(" row 3, column 'income': missing value"), r.err());
      List<String> lines = Files.readAllLines(out);
      assertTrue(lines.get(0).startsWith("row,ID,probability,decision"), lines.get(0));
      assertEquals(3, lines.size());
    }
  }

  @Test
  void score_refusesTwoSourcesAtOnce() {
    CliRun r = run("score", "--model", model.toString(), "--data", "a.csv", "--jdbc", "jdbc:h2:mem:x", "--query", "q",
        "--out", "s.csv");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("mutually exclusive"), r.err());
  }

  @Test
  void modelCard_printsTheCardFromTheFileAlone() throws Exception {
    CliRun md = run("model", "card", "--model", model.toString());
    assertEquals(0, md.status(), md.err());
    assertTrue(md.out().startsWith("# Model card: job `loans`"), md.out());
    CliRun json = run("model", "card", "--model", model.toString(), "--json");
    assertEquals(published.fileSha256(), new JsonObject(json.out()).getJsonObject("checksums")
        .getString("model_file_sha256"));
  }
}
