package io.consort.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.data.Preprocessing;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.TrainingEngine;
import io.consort.protocol.v1.JobPlan;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** A regression job: a numeric label with its bound, validated with the field named. */
class RegressionJobSpecTest {
  static final DataSchema NUMERIC_LABEL = DataSchema.numericLabel(List.of("x1", "x2"), List.of(), "y", 4.0,
      Preprocessing.NONE);

  static JobSpecBuilder regression() {
    return JobSpec.builder().id("returns").schema(NUMERIC_LABEL).objective(Objective.REGRESSION);
  }

  @Test
  void aRegressionJob_withANumericLabel_isAccepted_trainsNatively_andSurvivesTheWire() {
    JobSpec spec = regression().privacy(PrivacyMode.RECORD).targetEpsilon(3.0).build();
    assertEquals(Objective.REGRESSION, spec.model().objective());
    assertEquals(TrainingEngine.NATIVE, spec.training().engine(), "the native kernel computes the identity output");
    assertEquals(OptionalDouble.of(4.0), spec.schema().labelBound());
    JobPlan plan = JobSpecWire.toProto(spec);
    assertEquals("regression", plan.getModel().getObjective());
    assertEquals(4.0, plan.getSchema().getLabelBound());
    assertEquals(spec, JobSpecWire.fromProto(plan));
    assertEquals(spec, spec.toBuilder().build());
  }

  @Test
  void regression_withAClassLabel_isRefusedNamingLabelBound() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecTest.base().objective(Objective.REGRESSION).build());
    assertEquals("schema.label_bound", e.field());
    assertTrue(e.getMessage().contains("is required with model.objective regression"), e.getMessage());
  }

  @Test
  void aBinaryJob_withANumericLabel_isRefusedNamingLabelBound() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> regression().objective(Objective.BINARY).build());
    assertEquals("schema.label_bound", e.field());
    assertTrue(e.getMessage().contains("applies only with model.objective regression"), e.getMessage());
  }

  @Test
  void regression_onEitherEngine_isAccepted() {
    assertEquals(TrainingEngine.NATIVE, regression().engine(TrainingEngine.NATIVE).build().training().engine());
    assertEquals(TrainingEngine.DL4J, regression().engine(TrainingEngine.DL4J).build().training().engine());
  }

  @Test
  void regression_withACostMatrix_isRefused() {
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class,
        () -> regression().costMatrix(new CostMatrix(5, 1)).build());
    assertEquals("cost_matrix", e.field());
  }

  @Test
  void aLabelBound_thatIsNotPositiveAndFinite_isRefusedNamingIt() {
    for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> DataSchema.numericLabel(List.of("x1"), List.of(), "y", bad, Preprocessing.NONE));
      assertTrue(e.getMessage().contains("label_bound"), e.getMessage());
    }
  }

  @Test
  void aNumericLabel_withAPositiveClass_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DataSchema(List.of("x1"),
        List.of(), "y", "1", Preprocessing.NONE, OptionalDouble.of(2)));
    assertTrue(e.getMessage().contains("has no positive class"), e.getMessage());
  }

  @Test
  void aPlanWithoutAnObjective_orWithAnUnknownOne_isRefusedNamingIt() {
    JobPlan plan = JobSpecWire.toProto(regression().build());
    for (String objective : new String[] {"", "poisson"}) {
      JobPlan tampered = plan.toBuilder().setModel(plan.getModel().toBuilder().setObjective(objective)).build();
      InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(tampered));
      assertEquals("model.objective", e.field());
    }
  }

  @Test
  void aPlanWhoseRegressionSchemaLosesItsBound_isRefused() {
    JobPlan plan = JobSpecWire.toProto(regression().build());
    JobPlan tampered = plan.toBuilder().setSchema(plan.getSchema().toBuilder().clearLabelBound()).build();
    assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(tampered));
  }

  @Test
  void aSequenceModel_canRegress() {
    JobSpec spec = JobSpec.builder().id("market").schema(DataSchema.numericLabel(List.of("r0", "r1", "r2", "v0", "v1",
        "v2"), List.of(), "ret", 10, Preprocessing.NONE)).objective(Objective.REGRESSION).modelType(ModelType.LSTM)
        .window(3).build();
    assertEquals(Objective.REGRESSION, spec.model().objective());
  }
}
