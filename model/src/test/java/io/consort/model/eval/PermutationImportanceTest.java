package io.consort.model.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.Table;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.ModelSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
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

  @Test
  void scoringInChunks_givesTheSameImportance_asScoringAllRowsAtOnce() {
    float[] parameters = {4f, -1f, 0.5f, 0f, 0.2f};
    double[] whole = PermutationImportance.lossIncrease(ModelSpec.logisticRegression(1), parameters, rows(400),
        ENCODING, ReproducibleRandom.of("importance-shuffles", 5), 1 << 16);
    double[] chunked = PermutationImportance.lossIncrease(ModelSpec.logisticRegression(1), parameters, rows(400),
        ENCODING, ReproducibleRandom.of("importance-shuffles", 5), 128);
    assertArrayEquals(whole, chunked, 1e-9 * Math.abs(whole[0]));
    assertTrue(whole[0] > 100 && whole[1] != 0, java.util.Arrays.toString(whole));
  }

  @Test
  void aColumnsMissingIndicator_isShuffledWithIt() {
    DataSchema schema = new DataSchema(List.of("signal", "noise"), List.of(), "default", "yes",
        new Preprocessing(Map.of("signal", new NumericRules(Imputation.MEAN, OptionalDouble.empty(), true, List.of(),
            List.of(), Optional.empty())), Map.of()));
    ReproducibleRandom random = ReproducibleRandom.of("indicator-rows", 1);
    Table.Builder rows = new Table.Builder(schema, "rows");
    for (int r = 0; r < 400; r++) {
      boolean missing = random.nextInt(3) == 0;
      // the outcome is whether the signal is missing: only the indicator carries it
      rows.add(new double[] {missing ? Double.NaN : random.nextGaussian(), random.nextGaussian()}, new String[0],
          missing);
    }
    Table table = rows.build();
    FeatureEncoding encoding = FeatureEncoding.fromStatistics(LocalFeatureStats.compute(table));
    assertEquals(List.of("signal", "noise", "signal:missing"), encoding.featureNames());
    // weights for signal, noise, signal:missing, then the bias: only the indicator matters
    float[] parameters = {0f, 0f, 8f, -4f};
    double[] increase = PermutationImportance.lossIncrease(ModelSpec.logisticRegression(1), parameters,
        encoding.encode(table), encoding, ReproducibleRandom.of("importance-shuffles", 2));
    assertTrue(increase[0] > 100, "shuffling the signal moves its indicator: " + increase[0]);
    assertEquals(0, increase[1], 1e-9);
  }
}
