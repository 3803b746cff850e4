package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class RoundRecordTest {
  @Test
  void completedSecureRoundWithEveryField_survivesItsStoredJson() {
    RoundRecord record = new RoundRecord(4, true, true, Optional.empty(), List.of("bank-1", "bank-2"),
        List.of(new Dropout("bank-3", "masked-input", "no answer before the deadline")), List.of("bank-4"),
        OptionalDouble.of(1.5e-4), Optional.of(new BankNoise(12.5, 2, 1.0, 310.2, 3649, 0.9)),
        Optional.of(new Release(7, Map.of("bank-1", 1.2, "bank-2", 1.3), Map.of("bank-1", 0.3, "bank-2", 0.31),
            Map.of("bank-1", 2.0), List.of("bank-1"))),
        Optional.of(new ModelOps.Metrics(0.78, 0.74, 0.52, 200, Optional.of(new io.consort.model.eval.ScoreHistogram(
            new long[] {10, 40, 50}, new long[] {60, 30, 10}, 104.0, 150, 200)))), 1.25, "ab12");
    JsonObject json = record.toJson();
    assertEquals(List.of("bank-3@masked-input"), json.getJsonArray("dropped").getList());
    assertEquals("completed", json.getString("status"));
    assertEquals(record, RoundRecord.fromJson(new JsonObject(json.encode())));
    assertEquals(List.of(60L, 30L, 10L), json.getJsonObject("histogram").getJsonArray("negatives").getList());
  }

  @Test
  void aRecordStoredBeforeHistogramsWereKept_readsWithoutOne() {
    JsonObject old = new RoundRecord(3, false, true, Optional.empty(), List.of("bank-1"), List.of(), List.of(),
        OptionalDouble.empty(), Optional.empty(), Optional.empty(),
        Optional.of(new ModelOps.Metrics(0.7, 0.7, 0.6, 100)), 0.5, "ef").toJson();
    assertEquals(Optional.empty(), RoundRecord.fromJson(old).metrics().orElseThrow().merged());
  }

  @Test
  void aRegressionRound_showsRmseMaeAndR2_notAuc_andSurvivesItsStoredJson() {
    io.consort.model.eval.RegressionTotals totals = io.consort.model.eval.RegressionTotals.of(10,
        new float[] {1.5f, 2f, 2f, 5f}, new float[] {1, 2, 3, 6});
    RoundRecord record = new RoundRecord(3, true, true, Optional.empty(), List.of("bank-1", "bank-2"), List.of(),
        List.of(), OptionalDouble.empty(), Optional.empty(), Optional.empty(),
        Optional.of(ModelOps.Metrics.ofRegression(totals)), 0.5, "ef");
    JsonObject json = record.toJson();
    assertEquals(0.75, json.getDouble("rmse"), 1e-12);
    assertEquals(0.625, json.getDouble("mae"), 1e-12);
    assertEquals(1 - 2.25 / 14, json.getDouble("r2"), 1e-12);
    assertEquals(Math.sqrt(14 / 4.0), json.getDouble("mean_prediction_rmse"), 1e-12);
    assertEquals(null, json.getValue("auc"));
    assertEquals(record, RoundRecord.fromJson(new JsonObject(json.encode())));
  }

  @Test
  void abortedRound_keepsItsReason_andHasNoRelease() {
    RoundRecord record = new RoundRecord(2, false, false, Optional.of("1 updates arrived"), List.of("bank-1"),
        List.of(), List.of(), OptionalDouble.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 0.5, "cd");
    JsonObject json = record.toJson();
    assertEquals("aborted", json.getString("status"));
    assertEquals(record, RoundRecord.fromJson(new JsonObject(json.encode())));
  }

  @Test
  void jsonThatIsNotARoundRecord_isRefused() {
    assertThrows(IllegalArgumentException.class, () -> RoundRecord.fromJson(new JsonObject().put("round", "two")));
  }
}
