package io.consort.model.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ScoreHistogramTest {

  @Test
  void exactAucCountsTiesAsHalf() {
    assertEquals(1.0, ExactMetrics.auc(new float[] {0.1f, 0.9f}, new float[] {0, 1}));
    assertEquals(0.5, ExactMetrics.auc(new float[] {0.5f, 0.5f}, new float[] {0, 1}));
    // 1 positive at 0.6 vs negatives 0.2, 0.6, 0.8: wins 1 + 0.5 + 0 of 3.
    assertEquals(0.5, ExactMetrics.auc(new float[] {0.2f, 0.6f, 0.8f, 0.6f},
        new float[] {0, 0, 0, 1}), 1e-12);
  }

  @Test
  void mergedHistogramAucMatchesPooledExactAuc_onRealisticScores() {
    // Scores shaped like a trained credit model's: logistic of a shifted normal per class, many
    // near-ties, split unevenly over four banks.
    SplittableRandom random = new SplittableRandom(9);
    int n = 20_000;
    float[] scores = new float[n];
    float[] labels = new float[n];
    for (int i = 0; i < n; i++) {
      labels[i] = random.nextDouble() < 0.3 ? 1 : 0;
      double logit = -1 + 1.2 * labels[i] + random.nextGaussian();
      scores[i] = (float) (1 / (1 + Math.exp(-logit)));
    }
    List<ScoreHistogram> banks = new ArrayList<>();
    int[] cuts = {0, 1_000, 6_000, 12_000, n};
    for (int b = 0; b < 4; b++) {
      banks.add(ScoreHistogram.of(Arrays.copyOfRange(scores, cuts[b], cuts[b + 1]),
          Arrays.copyOfRange(labels, cuts[b], cuts[b + 1])));
    }
    GlobalMetrics merged = GlobalMetrics.from(ScoreHistogram.merge(banks));

    assertEquals(ExactMetrics.auc(scores, labels), merged.auc(), 0.002);
    assertEquals(ExactMetrics.logLoss(scores, labels), merged.logLoss(), 1e-9);
    long correct = 0;
    for (int i = 0; i < n; i++) {
      correct += (scores[i] >= 0.5f) == (labels[i] > 0.5f) ? 1 : 0;
    }
    assertEquals((double) correct / n, merged.accuracy(), 1e-12);
    assertEquals(n, merged.count());
  }

  @Test
  void placesScoreOneInTheTopBin_andRejectsScoresOutsideTheUnitInterval() {
    ScoreHistogram h = ScoreHistogram.of(new float[] {0f, 1f}, new float[] {0, 1}, 10);
    assertEquals(1, h.positives()[9]);
    assertEquals(1, h.negatives()[0]);
    assertThrows(IllegalArgumentException.class,
        () -> ScoreHistogram.of(new float[] {1.5f}, new float[] {1}, 10));
    assertThrows(IllegalArgumentException.class,
        () -> ScoreHistogram.of(new float[] {Float.NaN}, new float[] {1}, 10));
  }

  @Test
  void refusesToMergeDifferentBinCounts() {
    ScoreHistogram a = ScoreHistogram.of(new float[] {0.2f}, new float[] {1}, 10);
    ScoreHistogram b = ScoreHistogram.of(new float[] {0.2f}, new float[] {1}, 20);
    assertThrows(IllegalArgumentException.class, () -> ScoreHistogram.merge(List.of(a, b)));
  }
}
