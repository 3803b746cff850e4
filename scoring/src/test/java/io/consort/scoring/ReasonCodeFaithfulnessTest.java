package io.consort.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.ModelSpec;
import io.consort.scoring.explain.Attribution;
import io.consort.scoring.explain.Attributor;
import io.consort.scoring.explain.InferenceNetwork;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Reason codes must be faithful to the model: for a logistic regression the contributions are exact
 * and add up to the logit difference from the reference applicant; for a network the integrated
 * gradients add up to it within {@link Attributor#COMPLETENESS_TOLERANCE} logits (completeness,
 * Sundararajan et al. 2017). Checked on every held-out German credit row; nothing is random.
 */
class ReasonCodeFaithfulnessTest {

  @Test
  void logisticRegression_contributionsAreCoefficientTimesDeviation_andSumToTheLogitDifference() throws Exception {
    GermanCreditModels.Fixture lr = GermanCreditModels.logisticRegression();
    FeatureEncoding encoding = lr.encoding();
    float[] w = lr.parameters();
    InferenceNetwork network = new InferenceNetwork(lr.spec().model(), encoding.featureCount(), w);
    Attributor attributor = new Attributor(network, encoding);
    int numeric = encoding.schema().numericColumns().size();
    int features = encoding.featureCount();
    for (int r = 0; r < lr.test().rows(); r++) {
      float[] x = java.util.Arrays.copyOfRange(lr.encodedTest().x(), r * features, (r + 1) * features);
      float logit = network.logit(x);
      Attribution a = attributor.explain(x, logit);
      double sum = java.util.Arrays.stream(a.perColumn()).sum();
      // exact up to float rounding of the logits themselves
      assertEquals(logit - a.referenceLogit(), sum, 1e-5, "row " + r);
      assertEquals(1, a.pieces());
      for (int j = 0; j < numeric; j++) {
        assertEquals((double) w[j] * x[j], a.of(j), 1e-12, "numeric column " + j + ", row " + r);
      }
      // a categorical column: the row's level's coefficient minus the mean coefficient of the column's levels
      int offset = numeric;
      for (int c = 0; c < encoding.categories().size(); c++) {
        int levels = encoding.categories().get(c).size();
        double mean = 0;
        double own = 0;
        for (int k = 0; k < levels; k++) {
          mean += w[offset + k] / (double) levels;
          own += x[offset + k] * (double) w[offset + k];
        }
        assertEquals(own - mean, a.of(numeric + c), 1e-6, "categorical column " + c + ", row " + r);
        offset += levels;
      }
    }
  }

  @Test
  void network_integratedGradientsSumToTheLogitDifference_withinTheStatedTolerance() {
    GermanCreditModels.Fixture mlp = GermanCreditModels.mlp();
    FeatureEncoding encoding = mlp.encoding();
    InferenceNetwork network = new InferenceNetwork(mlp.spec().model(), encoding.featureCount(), mlp.parameters());
    Attributor attributor = new Attributor(network, encoding);
    int features = encoding.featureCount();
    double worst = 0;
    int maxPieces = 0;
    for (int r = 0; r < mlp.test().rows(); r++) {
      float[] x = java.util.Arrays.copyOfRange(mlp.encodedTest().x(), r * features, (r + 1) * features);
      float logit = network.logit(x);
      Attribution a = attributor.explain(x, logit);
      double gap = Math.abs(java.util.Arrays.stream(a.perColumn()).sum() - (logit - a.referenceLogit()));
      assertEquals(gap, a.residual(), 1e-9);
      assertTrue(gap <= Attributor.COMPLETENESS_TOLERANCE, "row " + r + ": gap " + gap + " over " + a.pieces()
          + " linear pieces");
      // against the double-precision logits the integral is exact up to rounding
      double exact = network.logitInDouble(x) - network.logitInDouble(attributor.reference());
      assertEquals(exact, java.util.Arrays.stream(a.perColumn()).sum(), 1e-9 * Math.max(1, Math.abs(exact)));
      worst = Math.max(worst, gap);
      maxPieces = Math.max(maxPieces, a.pieces());
    }
    System.out.printf("integrated gradients on %d rows: worst completeness gap %.2e logits, at most %d pieces%n",
        mlp.test().rows(), worst, maxPieces);
  }

  @Test
  void network_givesTheReferenceApplicantNoReasons() {
    GermanCreditModels.Fixture mlp = GermanCreditModels.mlp();
    InferenceNetwork network = new InferenceNetwork(mlp.spec().model(), mlp.encoding().featureCount(),
        mlp.parameters());
    Attributor attributor = new Attributor(network, mlp.encoding());
    float[] reference = attributor.reference();
    Attribution a = attributor.explain(reference, network.logit(reference));
    for (double c : a.perColumn()) {
      assertEquals(0, c, 1e-12);
    }
  }

  @Test
  void referenceApplicant_isTheConsortiumMeanAndUniformLevels() {
    GermanCreditModels.Fixture lr = GermanCreditModels.logisticRegression();
    InferenceNetwork network = new InferenceNetwork(lr.spec().model(), lr.encoding().featureCount(),
        lr.parameters());
    float[] reference = new Attributor(network, lr.encoding()).reference();
    int numeric = lr.encoding().schema().numericColumns().size();
    for (int j = 0; j < numeric; j++) {
      assertEquals(0f, reference[j]);
    }
    int offset = numeric;
    for (List<String> levels : lr.encoding().categories()) {
      for (int k = 0; k < levels.size(); k++) {
        assertEquals(1f / levels.size(), reference[offset + k]);
      }
      offset += levels.size();
    }
  }

  @Test
  void integratedGradients_onANetworkThatIsLinear_equalTheExactAttribution() {
    // a one-unit ReLU layer that stays active on the whole path behaves as a linear model
    ModelSpec spec = new ModelSpec(io.consort.model.train.ModelType.MLP, List.of(1), 32, 0.01, 0, 1);
    FeatureEncoding encoding = new FeatureEncoding(new io.consort.model.data.DataSchema(List.of("a", "b"),
        List.of(), "y", "1"), new double[] {0, 0}, new double[] {1, 1}, List.of());
    // layer 1: weights (2 x 1) then bias; layer 2: weight (1 x 1) then bias
    float[] parameters = {0.5f, -2f, 10f, 3f, -1f};
    InferenceNetwork network = new InferenceNetwork(spec, 2, parameters);
    Attribution a = new Attributor(network, encoding).explain(new float[] {1f, 0.25f}, network.logit(
        new float[] {1f, 0.25f}));
    assertEquals(3 * 0.5 * 1, a.of(0), 1e-6);
    assertEquals(3 * -2 * 0.25, a.of(1), 1e-6);
    assertEquals(1, a.pieces());
  }

  @Test
  void scorerReasons_areTheAttributionScaledByTheCalibrationSlope() throws Exception {
    GermanCreditModels.Fixture mlp = GermanCreditModels.mlp();
    Scorer scorer = mlp.scorer();
    double slope = mlp.model().calibration().slope();
    Attribution calibrated = scorer.explain(mlp.row(11));
    Score s = scorer.score(mlp.row(11));
    double sum = java.util.Arrays.stream(calibrated.perColumn()).sum();
    assertEquals(calibrated.logit() - calibrated.referenceLogit(), sum, Attributor.COMPLETENESS_TOLERANCE * slope);
    double[] contributions = s.contributions();
    for (int c = 0; c < contributions.length; c++) {
      assertEquals(calibrated.of(c), contributions[c], 1e-12);
    }
  }
}
