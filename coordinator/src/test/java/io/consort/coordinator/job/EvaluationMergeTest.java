package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.coordinator.model.FederatedModelOps;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Preprocessing;
import io.consort.model.eval.RegressionTotals;
import io.consort.model.sums.RegressionVector;
import io.consort.model.train.Objective;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.RegressionSums;
import io.consort.spec.JobSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A regression job's evaluation at the coordinator: what is summed, what is refused, what is merged. */
class EvaluationMergeTest {
  static final double BOUND = 2;
  static final JobSpec REGRESSION = JobSpec.builder().id("r").schema(DataSchema.numericLabel(List.of("a", "b"),
      List.of(), "y", BOUND, Preprocessing.NONE)).objective(Objective.REGRESSION).rounds(3).build();
  static final JobSpec BINARY = JobSpec.builder().id("b").schema(new DataSchema(List.of("a", "b"), List.of(), "y",
      "1")).rounds(3).build();

  private static EvaluationResult answer(RegressionTotals t) {
    return EvaluationResult.newBuilder().setExamples(t.rows()).setRegression(RegressionSums.newBuilder()
        .setRows(t.rows()).setSquaredErrorSum(t.squaredErrorSum()).setAbsoluteErrorSum(t.absoluteErrorSum())
        .setLabelSum(t.labelSum()).setSquaredLabelSum(t.squaredLabelSum())).build();
  }

  @Test
  void aRegressionJob_sumsTheRegressionVector_andMeasuresNoImportance_evenInItsLastRound() {
    EvaluationMerge merge = new EvaluationMerge(REGRESSION, new FederatedModelOps());
    assertEquals(List.of(), merge.importanceColumns(3));
    assertEquals(RegressionVector.length(), merge.vectorLength(List.of()));
    assertEquals(List.of("a", "b"), new EvaluationMerge(BINARY, new FederatedModelOps()).importanceColumns(3));
  }

  @Test
  void clearAnswers_mergeIntoThePooledTotals_andTheSecureSumDecodesToTheSame() {
    EvaluationMerge merge = new EvaluationMerge(REGRESSION, new FederatedModelOps());
    RegressionTotals a = RegressionTotals.of(BOUND, new float[] {0.5f, 1f, -1f}, new float[] {0.4f, 1.5f, -0.5f});
    RegressionTotals b = RegressionTotals.of(BOUND, new float[] {0f, 3f}, new float[] {0.2f, 1.9f});
    RegressionTotals pooled = a.plus(b);
    ModelOps.Metrics clear = merge.fromClear(List.of(answer(a), answer(b)), List.of());
    assertEquals(pooled.rmse(), clear.regression().orElseThrow().rmse(), 1e-12);
    assertEquals(pooled.rSquared(), clear.regression().orElseThrow().rSquared(), 1e-12);
    assertTrue(Double.isNaN(clear.auc()));
    int[] va = RegressionVector.encode(a);
    int[] vb = RegressionVector.encode(b);
    int[] sum = new int[va.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = va[i] + vb[i];
    }
    ModelOps.Metrics summed = merge.fromSum(List.of(), sum, 2);
    assertEquals(pooled.rmse(), summed.regression().orElseThrow().rmse(), 1e-6);
    assertEquals(pooled.mae(), summed.regression().orElseThrow().mae(), 1e-6);
  }

  /**
   * The attack: without secure aggregation a bank answers sums no rows under the bound could give (to
   * drag the consortium's RMSE); the coordinator does not use the answer.
   */
  @Test
  void aClearAnswer_whoseSumsExceedWhatItsRowsAllow_isNotUsed() {
    EvaluationMerge merge = new EvaluationMerge(REGRESSION, new FederatedModelOps());
    RegressionTotals honest = RegressionTotals.of(BOUND, new float[] {0.5f, 1f}, new float[] {0.4f, 1.5f});
    assertTrue(merge.completeInClear(answer(honest), List.of()));
    double max = 4 * BOUND * BOUND * 2;
    assertFalse(merge.completeInClear(answer(new RegressionTotals(BOUND, 2, max * 10, 0, 0, 0)), List.of()));
    assertFalse(merge.completeInClear(answer(new RegressionTotals(BOUND, 2, 0, 0, 0, -1)), List.of()));
    assertFalse(merge.completeInClear(answer(new RegressionTotals(BOUND, 2, 0, 0, 3 * BOUND, 0)), List.of()));
    EvaluationResult nan = answer(honest).toBuilder().setRegression(answer(honest).getRegression().toBuilder()
        .setAbsoluteErrorSum(Double.NaN)).build();
    assertFalse(merge.completeInClear(nan, List.of()));
    assertFalse(merge.completeInClear(EvaluationResult.newBuilder().setExamples(2).build(), List.of()),
        "a histogram answer to a regression job");
  }

  /**
   * The attack under secure aggregation: a bank puts a negative squared error into its slots so that
   * the pooled sum, which the coordinator cannot take apart, shows a near-zero RMSE. The sum's totals
   * are not what its rows, clipped to the bound, can give; the coordinator uses no metrics from it
   * (the secure path then records none, {@code FederatedEvaluation.fromSum}).
   */
  @Test
  void aSecureSum_whoseTotalsNoClippedRowsGive_isRefused_ratherThanReadAsAPerfectModel() {
    EvaluationMerge merge = new EvaluationMerge(REGRESSION, new FederatedModelOps());
    RegressionTotals honest = RegressionTotals.of(BOUND, new float[] {0.5f, 1f, -1f}, new float[] {0.4f, 1.5f, 1f});
    RegressionTotals cancelling = new RegressionTotals(BOUND, 1, -honest.squaredErrorSum() - 1, 0, 0, 0);
    int[] va = RegressionVector.encode(honest);
    int[] vb = RegressionVector.encode(cancelling);
    int[] sum = new int[va.length];
    for (int i = 0; i < sum.length; i++) {
      sum[i] = va[i] + vb[i];
    }
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> merge.fromSum(List.of(), sum, 2));
    assertTrue(e.getMessage().contains("are not what 4 rows clipped to 2.0 give"), e.getMessage());
  }
}
