package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.consort.model.features.EncodedData;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * FedProx (Li et al. 2020) on the native engine, against a hand-computed example: logistic regression on
 * two rows whose only feature is 0 and whose label is 1, batch 2, so each epoch is one step and only the
 * bias moves. Step 1 starts at the global model, where the proximal term is 0; step 2's gradient is
 * sigmoid(b1) - 1 + mu (b1 - b0), fed through Adam (beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected).
 */
class FedProxTest {
  private static final double LR = 0.1;

  private static LocalTrainer trainer() {
    ModelSpec spec = new ModelSpec(ModelType.LOGISTIC_REGRESSION, List.of(), 2, LR, 0, 1);
    EncodedData data = new EncodedData(2, 1, new float[] {0, 0}, new float[] {1, 1});
    return new LocalTrainer(spec, data, new Random(1), new PolarGaussianNoise(new Random(2)));
  }

  /** The bias after two Adam steps from b0 with FedProx's mu, computed by hand (in double). */
  private static double expectedBias(double b0, double mu) {
    double b1 = 0.9;
    double b2 = 0.999;
    double g1 = sigmoid(b0) - 1;
    double m = (1 - b1) * g1;
    double v = (1 - b2) * g1 * g1;
    double bias = b0 - LR * Math.sqrt(1 - b2) / (1 - b1) * m / (Math.sqrt(v) + 1e-8);
    double g2 = sigmoid(bias) - 1 + mu * (bias - b0);
    m = b1 * m + (1 - b1) * g2;
    v = b2 * v + (1 - b2) * g2 * g2;
    return bias - LR * Math.sqrt(1 - b2 * b2) / (1 - b1 * b1) * m / (Math.sqrt(v) + 1e-8);
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  @Test
  void theProximalTerm_pullsTheSecondStepBackTowardsTheGlobalModel_asComputedByHand() {
    float[] global = {0.5f, -0.2f};
    for (double mu : new double[] {0, 1, 10}) {
      TrainingResult r = trainer().train(global, 2, TrainingOptions.standard().withProximalMu(mu));
      assertEquals(2, r.steps());
      assertEquals(0.5f, r.parameters()[0], "the weight of a zero feature never moves");
      assertEquals(expectedBias(-0.2, mu), r.parameters()[1], 1e-5, "mu " + mu);
    }
    // with mu 10 the pull outweighs the data's push at step 2: the bias moves less than without it
    float plain = trainer().train(global, 2, TrainingOptions.standard()).parameters()[1];
    float prox = trainer().train(global, 2, TrainingOptions.standard().withProximalMu(10)).parameters()[1];
    assertNotEquals(plain, prox);
    assertEquals(true, Math.abs(prox + 0.2) < Math.abs(plain + 0.2), plain + " vs " + prox);
  }

  @Test
  void aNegativeOrInfiniteMu_isRefused() {
    assertThrows(IllegalArgumentException.class, () -> TrainingOptions.standard().withProximalMu(-1));
    assertThrows(IllegalArgumentException.class, () -> TrainingOptions.standard().withProximalMu(Double.NaN));
    assertThrows(IllegalArgumentException.class,
        () -> TrainingOptions.standard().withProximalMu(Double.POSITIVE_INFINITY));
  }

  /**
   * The bank's half of a federated DP-SGD step: with rate 1 every row is in the sample and the sum is the
   * clipped per-example gradients' sum; each example's gradient here is (sigmoid(b) - y) on the bias and
   * x (sigmoid(b) - y) on the weight, clipped to norm C.
   */
  @Test
  void clippedGradientSum_sumsEachRowsClippedGradient() {
    ModelSpec spec = new ModelSpec(ModelType.LOGISTIC_REGRESSION, List.of(), 2, LR, 0, 1);
    EncodedData data = new EncodedData(2, 1, new float[] {3, 0}, new float[] {0, 1});
    LocalTrainer t = new LocalTrainer(spec, data, new Random(1), new PolarGaussianNoise(new Random(2)));
    float[] params = {0f, 0f};
    LocalTrainer.GradientSum sum = t.clippedGradientSum(params, 1.0, 1.0);
    assertEquals(2, sum.examples());
    // row 1: p = 0.5, y = 0: gradient (3 * 0.5, 0.5), norm 1.58, clipped to (0.949, 0.316) (times 1 - 1e-5)
    // row 2: p = 0.5, y = 1: gradient (0, -0.5), norm 0.5, unclipped
    double n1 = Math.hypot(1.5, 0.5);
    assertEquals(1.5 / n1, sum.sum()[0], 1e-4);
    assertEquals(0.5 / n1 - 0.5, sum.sum()[1], 1e-4);
    assertThrows(IllegalArgumentException.class, () -> t.clippedGradientSum(params, 0, 1.0));
  }
}
