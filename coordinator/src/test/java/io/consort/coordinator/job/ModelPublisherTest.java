package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.coordinator.model.FederatedModelOps;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.NumericColumnStats;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.PublishedModelFile;
import io.consort.scoring.calibration.Calibration;
import io.consort.scoring.v1.BankGuarantee;
import io.consort.spec.CostMatrix;
import io.consort.spec.JobSpec;
import io.consort.spec.PrivacyMode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelPublisherTest {
  private static final JobSpec SPEC = JobFixtures.spec().privacy(PrivacyMode.RECORD).targetEpsilon(3.0)
      .modelType(io.consort.model.train.ModelType.LOGISTIC_REGRESSION).costMatrix(CostMatrix.GERMAN_CREDIT).build();

  /** The initial model of SPEC on one numeric column, with the given version. */
  private static ModelParameters model(long version, float weight) {
    FederatedModelOps ops = new FederatedModelOps();
    var encoding = ops.mergeFeatureStats(SPEC, List.of(FeatureStats.newBuilder().setRows(10).setPositives(3)
        .addNumeric(NumericColumnStats.newBuilder().setName("x").setCount(10).setSum(5).setSumOfSquares(30)).build()));
    ModelParameters initial = ops.initialModel(SPEC, encoding);
    return ModelWire.withValues(initial, new float[] {weight, -0.5f}, version);
  }

  private static RoundRecord round(int round, ModelParameters model, long[] pos, long[] neg) {
    ScoreHistogram h = new ScoreHistogram(pos, neg, 5, 10, java.util.Arrays.stream(pos).sum()
        + java.util.Arrays.stream(neg).sum());
    return new RoundRecord(round, false, true, Optional.empty(), List.of("bank-1", "bank-2"), List.of(), List.of(),
        OptionalDouble.empty(), Optional.empty(),
        Optional.of(new Release(round, Map.of("bank-1", 0.5 * round, "bank-2", 0.6 * round), Map.of(), Map.of(),
            List.of("bank-1", "bank-2"))),
        Optional.of(new ModelOps.Metrics(0.8, 0.7, 0.6, h.count(), Optional.of(h))), 1, model.getSha256());
  }

  private static BankRecord bank(String id, long train, long test) {
    return new BankRecord(id, true, "", OptionalDouble.empty(), OptionalDouble.of(3), OptionalLong.of(train),
        OptionalLong.of(test));
  }

  @Test
  void publish_calibratesOnTheFinalModelsOwnEvaluation_andRecordsTheConsortiumsProvenance() {
    ModelParameters earlier = model(1, 0.1f);
    ModelParameters last = model(2, 0.9f);
    PrivacyTotals privacy = new PrivacyTotals();
    List<RoundRecord> rounds = List.of(round(1, earlier, new long[] {5, 5}, new long[] {5, 5}),
        round(2, last, new long[] {2, 8, 10}, new long[] {30, 12, 3}));
    rounds.forEach(privacy::add);
    PublishedModel m = ModelPublisher.publish(SPEC, last, rounds, List.of(bank("bank-1", 300, 80),
        bank("bank-2", 200, 50), bank("bank-3", 0, 0)), List.of("bank-1", "bank-2"), privacy, List.of(),
        Instant.parse("2026-12-02T10:00:00.123Z"));
    assertEquals(2, m.evaluation().orElseThrow().getRound());
    assertEquals(65, m.evaluation().orElseThrow().getExamples());
    assertEquals(3, m.evaluation().orElseThrow().getHistogramBins());
    assertEquals(Calibration.Method.PLATT, m.calibration().method());
    assertEquals(1.0 / 6, m.decisionThreshold(), 1e-15);
    var p = m.provenance();
    assertEquals(500, p.getTrainingRows());
    assertEquals(130, p.getHeldOutRows());
    assertEquals(2, p.getRoundsCompleted());
    assertEquals(10, p.getRoundsPlanned());
    assertEquals("2026-12-02T10:00:00Z", p.getCreatedAt());
    assertEquals(List.of("bank-1", "bank-2"), p.getBanksList().stream().map(BankGuarantee::getBank).toList());
    assertEquals(1.2, p.getBanks(1).getRecordEpsilon(), 1e-12);
    assertFalse(p.getBanks(1).hasBankEpsilon());
    assertEquals(3, p.getBanks(0).getEpsilonCap(), 0);
    assertTrue(p.getBanks(0).getMechanism().startsWith("record level: DP-SGD"));
    assertEquals(0, p.getLedgerEntry(), "no ledger entry given, none claimed");
    assertEquals(last.getSha256(), m.parametersSha256());
  }

  @Test
  void publish_shipsTheModelUncalibrated_whenNoRoundEvaluatedIt() {
    ModelParameters evaluated = model(1, 0.1f);
    ModelParameters unevaluated = model(2, 0.7f);
    PublishedModel m = ModelPublisher.publish(SPEC, unevaluated, List.of(round(1, evaluated, new long[] {1, 9},
        new long[] {9, 1})), List.of(bank("bank-1", 10, 5)), List.of("bank-1"), new PrivacyTotals(), List.of(),
        Instant.EPOCH);
    assertEquals(Calibration.Method.IDENTITY, m.calibration().method());
    assertFalse(m.evaluation().isPresent());
  }

  @Test
  void write_putsTheModelAndItsCardInTheJobsDirectory_andDescribesThemForTheResult(@TempDir Path dir)
      throws Exception {
    ModelParameters last = model(2, 0.9f);
    PublishedModel m = ModelPublisher.publish(SPEC, last, List.of(round(2, last, new long[] {2, 8, 10},
        new long[] {30, 12, 3})), List.of(bank("bank-1", 10, 5)), List.of("bank-1"), new PrivacyTotals(), List.of(),
        Instant.EPOCH);
    JsonObject block = new ModelPublisher(dir).write(m);
    assertEquals("job-model.consort", block.getString("file"));
    assertEquals(m, PublishedModelFile.read(dir.resolve("job-model.consort")));
    assertEquals(m.fileSha256(), block.getString("sha256"));
    assertTrue(Files.readString(dir.resolve("job-model-card.md")).contains("# Model card: job `job`"));
    assertTrue(Files.exists(dir.resolve("job-model-card.json")));
    assertEquals("platt", block.getJsonObject("calibration").getString("method"));
    assertEquals(1.0 / 6, block.getJsonObject("decision").getDouble("threshold"), 1e-15);
  }
}
