package io.consort.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.Table;
import io.consort.model.eval.RegressionTotals;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.Objective;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.calibration.Calibration;
import io.consort.scoring.card.ModelCard;
import io.consort.scoring.v1.Provenance;
import io.consort.scoring.v1.PublishedModelBody;
import io.consort.spec.JobSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A regression job's published model: no calibration or decision, RMSE, MAE and R^2 on its card. */
class RegressionPublicationTest {
  static final DataSchema SCHEMA = DataSchema.numericLabel(List.of("x1", "x2"), List.of(), "y", 5, Preprocessing.NONE);
  static final JobSpec SPEC = JobSpec.builder().id("returns").schema(SCHEMA).objective(Objective.REGRESSION)
      .hiddenLayers(List.of(4)).build();

  @TempDir Path dir;

  private static ModelParameters model() {
    Table.Builder rows = new Table.Builder(SCHEMA, "rows");
    for (int i = 0; i < 20; i++) {
      rows.add(new double[] {i, 20 - i * 0.5}, new String[0], 0.1 * i);
    }
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(LocalFeatureStats.compute(rows.build())));
    float[] parameters = ModelFactory.initialParameters(SPEC.model(), encoding.featureCount());
    return ModelWire.withValues(ModelParameters.newBuilder()
        .setSpec(io.consort.spec.JobSpecWire.model(SPEC).toBuilder().setInputFeatures(encoding.featureCount()))
        .setEncoding(ModelWire.encoding(encoding)).build(), parameters, 3);
  }

  private static PublishedModel published() {
    // labels 1, 2, 3, 6 against predictions 1.5, 2, 2, 5 (RegressionTotalsTest's hand-computed example)
    RegressionTotals t = RegressionTotals.of(10, new float[] {1.5f, 2f, 2f, 5f}, new float[] {1, 2, 3, 6});
    return ModelPublication.publishRegression(SPEC, model(),
        Optional.of(new ModelPublication.RegressionEvaluation(3, t)),
        Provenance.newBuilder().setJobId(SPEC.id()).setRoundsPlanned(3).setRoundsCompleted(3).build());
  }

  @Test
  void aRegressionModel_isPublishedWithoutCalibrationOrDecision_andItsErrorsOnItsCard() throws Exception {
    PublishedModel m = published();
    assertTrue(m.regression());
    assertEquals(Calibration.Method.IDENTITY, m.calibration().method());
    assertFalse(m.body().hasDecision());
    assertEquals(Math.sqrt(2.25 / 4), m.evaluation().orElseThrow().getRegression().getRmse(), 1e-12);
    assertEquals(1 - 2.25 / 14, m.evaluation().orElseThrow().getRegression().getRSquared(), 1e-12);
    assertThrows(IllegalStateException.class, m::decisionThreshold);
    Path file = dir.resolve("returns-model.consort");
    PublishedModelFile.write(file, m);
    assertEquals(m, PublishedModelFile.read(file));
    String card = ModelCard.markdown(m);
    assertTrue(card.contains("| RMSE | MAE | R^2 | RMSE of predicting 0 |"), card);
    assertTrue(card.contains("| 0.7500 | 0.6250 | 0.8393 |"), card);
    assertTrue(card.contains("makes no decision"), card);
    assertFalse(card.contains("applicant"), "a regression card speaks of rows, not credit applicants:\n" + card);
    assertTrue(ModelCard.json(m).contains("\"rmse\" : 0.75"), ModelCard.json(m));
  }

  @Test
  void theScorer_refusesARegressionModel_sayingWhy() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scorer.of(published()));
    assertTrue(e.getMessage().contains("regression model") && e.getMessage().contains("makes no decision"),
        e.getMessage());
  }

  @Test
  void aRegressionModel_carryingADecisionRule_isRefused() {
    PublishedModelBody body = published().body().toBuilder().setDecision(PublishedModel.decisionRule(
        JobSpec.builder().id("returns").schema(new DataSchema(List.of("x1", "x2"), List.of(), "y", "1")).build()))
        .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PublishedModel.of(body));
    assertTrue(e.getMessage().contains("carries a decision rule"), e.getMessage());
  }

  @Test
  void publishingABinaryJob_asRegression_isRefused() {
    JobSpec binary = JobSpec.builder().id("loans").schema(new DataSchema(List.of("x1", "x2"), List.of(), "y", "1"))
        .build();
    assertThrows(IllegalArgumentException.class, () -> ModelPublication.publishRegression(binary, model(),
        Optional.empty(), Provenance.newBuilder().setJobId("loans").build()));
  }
}
