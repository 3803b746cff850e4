package io.consort.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.train.Predictor;
import io.consort.scoring.calibration.Calibration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    java.nio.file.Files.write(file, new byte[] {1, 2, 3});
    assertThrows(ModelFileException.class, () -> Scorer.load(file));
  }
}
