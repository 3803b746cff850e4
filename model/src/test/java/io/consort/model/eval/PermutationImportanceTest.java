package io.consort.model.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.ModelSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class PermutationImportanceTest {
  private static final DataSchema SCHEMA = new DataSchema(List.of("signal", "noise"),
      List.of(new DataSchema.CategoricalColumn("region", List.of("north", "south"))), "default", "yes");
  private static final FeatureEncoding ENCODING = new FeatureEncoding(SCHEMA, new double[] {0, 0},
      new double[] {1, 1}, List.of(List.of("north", "south")));

  /** Rows whose label follows the sign of the first feature; the other features are irrelevant noise. */
  private static EncodedData rows(int n) {
    ReproducibleRandom random = ReproducibleRandom.of("importance-rows", 1);
    float[] x = new float[n * 4];
    float[] y = new float[n];
    for (int r = 0; r < n; r++) {
      x[r * 4] = (float) random.nextGaussian();
      x[r * 4 + 1] = (float) random.nextGaussian();
      x[r * 4 + 2 + random.nextInt(2)] = 1f;
      y[r] = x[r * 4] > 0 ? 1f : 0f;
    }
    return new EncodedData(n, 4, x, y);
  }

  @Test
  void shufflingTheColumnTheModelUses_raisesTheLoss_andShufflingOnesItIgnores_changesNothing() {
    ModelSpec logistic = ModelSpec.logisticRegression(1);
    // weights for signal, noise, region=north, region=south, then the bias: only signal matters
    float[] parameters = {4f, 0f, 0f, 0f, 0f};
    double[] increase = PermutationImportance.lossIncrease(logistic, parameters, rows(400), ENCODING,
        ReproducibleRandom.of("importance-shuffles", 2));
    assertEquals(List.of("signal", "noise", "region"), PermutationImportance.columns(ENCODING));
    assertTrue(increase[0] > 100, "shuffling the signal costs the model: " + increase[0]);
    assertArrayEquals(new double[] {0, 0}, new double[] {increase[1], increase[2]}, 1e-9);
  }

  @Test
  void fewerThanTwoRows_giveNoImportance() {
    assertArrayEquals(new double[3], PermutationImportance.lossIncrease(ModelSpec.logisticRegression(1),
        new float[5], rows(1), ENCODING, ReproducibleRandom.of("x", 3)));
  }
}
