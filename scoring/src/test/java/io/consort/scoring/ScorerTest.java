package io.consort.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.QuantileClip;
import io.consort.model.data.RecordStream;
import io.consort.model.data.Table;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.features.RefinedFeatureStats;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Predictor;
import io.consort.scoring.calibration.Calibration;
import io.consort.scoring.explain.Attribution;
import io.consort.scoring.explain.Attributor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScorerTest {
  private final GermanCreditModels.Fixture mlp = GermanCreditModels.mlp();

  @Test
  void modelProbability_isBitForBitTheBanksEvaluationScore_forEveryHeldOutRow() throws Exception {
    for (GermanCreditModels.Fixture f : List.of(mlp, GermanCreditModels.logisticRegression())) {
      float[] expected = Predictor.predict(f.spec().model(), f.parameters(), f.encodedTest());
      Scorer scorer = f.scorer();
      for (int r = 0; r < f.test().rows(); r++) {
        assertEquals(expected[r], (float) scorer.score(f.row(r)).modelProbability(), "row " + r);
      }
    }
  }

  @Test
  void rowEncoder_encodesRawTextExactlyAsTheFederatedEncoding() {
    RowEncoder encoder = new RowEncoder(mlp.encoding());
    int features = mlp.encoding().featureCount();
    for (int r = 0; r < mlp.test().rows(); r++) {
      float[] x = new float[features];
      List<String> columns = encoder.columns();
      String[] values = columns.stream().map(mlp.row(r)::get).toArray(String[]::new);
      assertEquals(List.of(), encoder.encode(values, x, 0));
      float[] expected = java.util.Arrays.copyOfRange(mlp.encodedTest().x(), r * features, (r + 1) * features);
      assertArrayEquals(expected, x, "row " + r);
    }
  }

  @Test
  void score_isTheCalibratedProbability_andDeclinesAtOrAboveTheThreshold() throws Exception {
    Scorer scorer = mlp.scorer();
    Calibration c = mlp.model().calibration();
    assertEquals(Calibration.Method.PLATT, c.method());
    assertEquals(1.0 / 6, scorer.threshold(), 1e-15);
    int declined = 0;
    io.consort.scoring.explain.InferenceNetwork network = new io.consort.scoring.explain.InferenceNetwork(
        mlp.spec().model(), mlp.encoding().featureCount(), mlp.parameters());
    int features = mlp.encoding().featureCount();
    for (int r = 0; r < mlp.test().rows(); r++) {
      Score s = scorer.score(mlp.row(r));
      float logit = network.logit(java.util.Arrays.copyOfRange(mlp.encodedTest().x(), r * features,
          (r + 1) * features));
      assertEquals(c.probability(logit), s.probability(), 0);
      assertEquals(s.probability() >= scorer.threshold() ? Decision.DECLINE : Decision.APPROVE, s.decision());
      declined += s.decision() == Decision.DECLINE ? 1 : 0;
    }
    assertTrue(declined > 0 && declined < mlp.test().rows(), "some but not all declined: " + declined);
  }

  @Test
  void calibration_changesNoRanking_soTheCalibratedAucIsTheModelsOwn() throws Exception {
    Scorer scorer = mlp.scorer();
    int n = mlp.test().rows();
    float[] calibrated = new float[n];
    float[] own = new float[n];
    for (int r = 0; r < n; r++) {
      Score s = scorer.score(mlp.row(r));
      calibrated[r] = (float) s.probability();
      own[r] = (float) s.modelProbability();
    }
    float[] y = mlp.encodedTest().y();
    assertEquals(io.consort.model.eval.ExactMetrics.auc(own, y), io.consort.model.eval.ExactMetrics.auc(calibrated, y),
        1e-12);
  }

  @Test
  void reasons_areTheColumnsThatRaisedTheScoreMost_largestFirst_withTheRowsValues() throws Exception {
    Scorer scorer = mlp.scorer();
    for (int r = 0; r < 50; r++) {
      Map<String, String> row = mlp.row(r);
      Score s = scorer.score(row);
      assertTrue(s.reasons().size() <= Scorer.DEFAULT_REASON_CODES);
      double[] all = s.contributions();
      long raising = java.util.Arrays.stream(all).filter(v -> v > 0).count();
      assertEquals(Math.min(3, raising), s.reasons().size());
      for (int k = 0; k < s.reasons().size(); k++) {
        ReasonCode code = s.reasons().get(k);
        assertTrue(code.contribution() > 0);
        assertEquals(row.get(code.column()), code.value());
        assertEquals(all[scorer.columns().indexOf(code.column())], code.contribution(), 0);
        if (k > 0) {
          assertTrue(code.contribution() <= s.reasons().get(k - 1).contribution());
        }
      }
      // no column outside the reasons raised the score more than the last reason
      double last = s.reasons().isEmpty() ? 0 : s.reasons().get(s.reasons().size() - 1).contribution();
      long larger = java.util.Arrays.stream(all).filter(v -> v > last).count();
      assertTrue(larger <= s.reasons().size());
    }
  }

  @Test
  void withReasonCodesZero_scoresTheSameWithoutReasons() throws Exception {
    Scorer plain = mlp.scorer().withReasonCodes(0);
    Score with = mlp.scorer().score(mlp.row(3));
    Score without = plain.score(mlp.row(3));
    assertEquals(with.probability(), without.probability());
    assertEquals(List.of(), without.reasons());
    assertEquals(0, without.contributions().length);
    assertEquals(5, mlp.scorer().withReasonCodes(5).score(mlp.row(3)).reasons().size() <= 5 ? 5 : -1);
  }

  @Test
  void withThreshold_movesTheDecisionOnly_andRefusesThresholdsOutsideZeroOne() throws Exception {
    Scorer strict = mlp.scorer().withThreshold(0.999);
    Score s = strict.score(mlp.row(0));
    assertEquals(Decision.APPROVE, s.decision());
    assertEquals(mlp.scorer().score(mlp.row(0)).probability(), s.probability());
    for (double bad : new double[] {0, 1, -0.5, Double.NaN}) {
      assertThrows(IllegalArgumentException.class, () -> mlp.scorer().withThreshold(bad));
    }
    assertThrows(IllegalArgumentException.class, () -> mlp.scorer().withReasonCodes(-1));
  }

  @Test
  void aRowViolatingTheSchema_isRefusedWithEveryProblemNamed_neverScored() {
    Map<String, String> row = new HashMap<>(mlp.row(0));
    row.put("duration", "twelve");
    row.put("credit_amount", null);
    row.put("purpose", "boat");
    row.remove("age");
    RowRejectedException e = assertThrows(RowRejectedException.class, () -> mlp.scorer().score(row));
    List<String> columns = e.problems().stream().map(RowProblem::column).toList();
    assertEquals(List.of("duration", "credit_amount", "age", "purpose"), columns);
    assertTrue(e.problems().get(0).problem().contains("value 'twelve' is not a finite number"));
    assertTrue(e.problems().get(1).problem().startsWith("missing value"));
    assertTrue(e.problems().get(2).problem().startsWith("missing value"));
    assertTrue(e.problems().get(3).problem().startsWith("unknown category 'boat'; allowed: ["));
    assertTrue(e.getMessage().startsWith("the row was not scored: column 'duration'"), e.getMessage());
  }

  @Test
  void nonFiniteNumbers_areRefusedLikeTheLoaderRefusesThem() {
    for (String bad : new String[] {"NaN", "Infinity", "-Infinity", "1e999", "", "12,5"}) {
      Map<String, String> row = new HashMap<>(mlp.row(0));
      row.put("duration", bad);
      RowRejectedException e = assertThrows(RowRejectedException.class, () -> mlp.scorer().score(row), bad);
      assertEquals("duration", e.problems().get(0).column());
    }
  }

  @Test
  void scoreAll_keepsTheRowsOrder_andRefusesOnlyTheBadRows() throws Exception {
    List<Map<String, String>> rows = new ArrayList<>();
    for (int r = 0; r < 2_100; r++) {
      Map<String, String> row = new HashMap<>(mlp.row(r % mlp.test().rows()));
      if (r % 700 == 5) {
        row.put("age", "old");
      }
      rows.add(row);
    }
    List<RowOutcome> outcomes = mlp.scorer().scoreAll(rows);
    assertEquals(rows.size(), outcomes.size());
    for (int r = 0; r < rows.size(); r++) {
      if (r % 700 == 5) {
        assertFalse(outcomes.get(r).isScored());
        assertEquals("age", outcomes.get(r).problems().get(0).column());
      } else {
        assertEquals(mlp.scorer().score(rows.get(r)), outcomes.get(r).score().orElseThrow(), "row " + r);
      }
    }
  }

  @Test
  void oneScorer_givesEveryThreadTheSameScoresAsOneThread() throws Exception {
    Scorer scorer = mlp.scorer();
    List<Score> sequential = new ArrayList<>();
    for (int r = 0; r < mlp.test().rows(); r++) {
      sequential.add(scorer.score(mlp.row(r)));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<List<Score>>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int offset = t;
        futures.add(pool.submit(() -> {
          Score[] scores = new Score[mlp.test().rows()];
          for (int i = 0; i < scores.length; i++) {
            int r = (i + offset * 37) % scores.length;
            scores[r] = scorer.score(mlp.row(r));
          }
          return List.of(scores);
        }));
      }
      for (Future<List<Score>> f : futures) {
        assertEquals(sequential, f.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void load_checksTheFile_thenScoresAsTheModelInMemory(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("m.consort");
    PublishedModelFile.write(file, mlp.model());
    assertEquals(mlp.scorer().score(mlp.row(7)), Scorer.load(file).score(mlp.row(7)));
    Files.write(file, new byte[] {1, 2, 3});
    assertThrows(ModelFileException.class, () -> Scorer.load(file));
  }

  /** A job with preprocessing: median fill and indicator, a sentinel and clipping; a fill and "other" levels. */
  private static final DataSchema MESSY = new DataSchema(
      List.of("age", "income"), List.of(DataSchema.CategoricalColumn.open("home")), "status",
      "bad", new Preprocessing(Map.of("income", new NumericRules(
          Imputation.MEDIAN, OptionalDouble.empty(), true, List.of(99999999.0),
          List.of("NA"), Optional.of(new QuantileClip(0.05, 0.95)))),
      Map.of("home", new CategoricalRules(Imputation.MOST_FREQUENT,
          Optional.empty(), false, List.of(), true))));

  @Test
  void rowEncoder_fillsClipsAndMapsToOther_exactlyAsTheBanksLoaderAndEncodingDo(@TempDir Path dir) throws Exception {
    StringBuilder csv = new StringBuilder("age,income,home,status\n");
    for (int r = 0; r < 200; r++) {
      String income = r % 9 == 0 ? "" : r % 13 == 0 ? "NA" : r % 17 == 0 ? "99999999"
          : Integer.toString(30000 + 500 * r + (r % 31 == 0 ? 5_000_000 : 0));
      String home = r % 11 == 0 ? "" : r == 7 ? "boat" : r % 3 == 0 ? "own" : "rent";
      csv.append(20 + r % 50).append(',').append(income).append(',').append(home).append(',')
          .append(r % 4 == 0 ? "bad" : "good").append('\n');
    }
    Path file = Files.writeString(dir.resolve("messy.csv"), csv);
    Table table = DatasetLoader.load(file, MESSY);
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(
        LocalFeatureStats.compute(table).namesOnly(5));
    FeatureEncoding encoding = preliminary.refine(
        RefinedFeatureStats.compute(table, preliminary));
    assertEquals(List.of("own", "rent", "(other)"), encoding.categories().get(0));
    EncodedData banks = encoding.encode(table);
    RowEncoder encoder = new RowEncoder(encoding);
    int features = encoding.featureCount();
    try (RecordStream in = RecordStream.open(file)) {
      List<String> header = in.columns();
      String[] record;
      for (int r = 0; (record = in.next()) != null; r++) {
        String[] values = new String[encoder.columns().size()];
        for (int i = 0; i < values.length; i++) {
          values[i] = record[header.indexOf(encoder.columns().get(i))];
        }
        float[] x = new float[features];
        assertEquals(List.of(), encoder.encode(values, x, 0), "row " + r);
        assertArrayEquals(java.util.Arrays.copyOfRange(banks.x(), r * features, (r + 1) * features), x, "row " + r);
      }
    }
    // a column that refuses missing values still refuses them, naming the policy
    float[] x = new float[features];
    assertEquals(List.of(new RowProblem("age", "missing value, and the model refuses missing values in this column "
        + "(its job's missing policy is refuse: fill or drop this row before scoring)")),
        encoder.encode(new String[] {null, "NA", "boat"}, x, 0));
    // reason codes: a missing income's indicator counts toward income
    float[] parameters = new float[features + 1];
    parameters[encoding.numericIndicatorFeature(1)] = 3f;
    Attributor attributor = new Attributor(
        new io.consort.scoring.explain.InferenceNetwork(ModelSpec.logisticRegression(1),
            features, parameters), encoding);
    assertEquals(List.of(), encoder.encode(new String[] {"40", "NA", "own"}, x, 0));
    Attribution a = attributor.explain(x, 3f);
    assertEquals(3.0, a.of(1), 1e-6, "the indicator's weight is income's contribution");
    assertEquals(0.0, a.of(0), 1e-9);
    // and a published model's scorer scores the row, giving the missing income as the reason
    io.consort.spec.JobSpec spec = io.consort.spec.JobSpec.builder().id("messy").schema(MESSY)
        .modelType(io.consort.model.train.ModelType.LOGISTIC_REGRESSION).build();
    io.consort.protocol.v1.ModelParameters model = io.consort.model.wire.ModelWire.withValues(
        io.consort.protocol.v1.ModelParameters.newBuilder().setSpec(io.consort.spec.JobSpecWire.model(spec).toBuilder()
            .setInputFeatures(features)).setEncoding(io.consort.model.wire.ModelWire.encoding(encoding)).build(),
        parameters, 1);
    Scorer scorer = Scorer.of(ModelPublication.publish(spec, model, Optional.empty(),
        io.consort.scoring.v1.Provenance.newBuilder().setJobId("messy").setRoundsPlanned(1).setRoundsCompleted(1)
            .setModelRound(1).setCodeVersion("test").setCreatedAt("2026-12-02T00:00:00Z").build()));
    Map<String, String> row = new HashMap<>(Map.of("age", "40", "home", "own"));
    row.put("income", null);
    Score score = scorer.score(row);
    ReasonCode first = score.reasons().get(0);
    assertEquals("income=(missing)", first.label(), score.reasons().toString());
    assertEquals(3.0, first.contribution(), 1e-6);
  }
}
