package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.market.MarketWindows;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.ModelType;
import io.consort.spec.JobSpec;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sequence model goes through every path a job's model takes: the coordinator initialises the LSTM
 * from its plain-Java parameter layout (no DL4J in the coordinator), three banks train it on the native
 * engine (its default) and evaluate it, secure aggregation sums the updates, the model is
 * checkpointed each round and published with its provenance at the end.
 */
@Tag("e2e")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SequenceModelFederationTest {
  private static final int WINDOW = 4;

  @TempDir
  Path dir;

  @Test
  void anLstm_trainsFederatedlyUnderSecureAggregation_andIsPublished() throws Exception {
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      writeWindows(dir.resolve("all.csv"), 240 * 3);
      DataSchema schema = new DataSchema(MarketWindows.featureColumns(WINDOW), List.of(), "up", "1");
      JobSpec plan = JobSpec.builder().id("lstm").schema(schema).modelType(ModelType.LSTM).window(WINDOW).units(8)
          .hiddenLayers(List.of(8)).batchSize(32).learningRate(0.02).modelSeed(3).rounds(3).localEpochs(2)
          .minBanks(2).histogramBins(1000).build();
      assertTrue(plan.secureAggregation().enabled());
      JsonObject result = consortium.run(plan, Duration.ofSeconds(60), bank -> LocalConsortium.BankSettings.defaults());
      assertEquals("completed", result.getString("status"), result.encodePrettily());
      assertEquals(3, result.getJsonArray("rounds").size());
      for (Object o : result.getJsonArray("rounds")) {
        JsonObject r = (JsonObject) o;
        assertEquals(List.of("bank-1", "bank-2", "bank-3"), r.getJsonArray("participants").getList());
        assertEquals(true, r.getBoolean("secure_aggregation"));
      }
      // the label follows the window's last two steps; an LSTM that trained learns it
      assertTrue(result.getJsonObject("final").getDouble("auc") > 0.75, result.encodePrettily());
      assertTrue(result.getJsonObject("published_model") != null, result.encodePrettily());
    }
  }

  /** Rows of r0..r3, v0..v3 and a label "1" when r2 + r3 (plus noise) is positive; seeded. */
  private static void writeWindows(Path file, int rows) throws Exception {
    RandomGenerator random = ReproducibleRandom.of("sequence-model-federation-test", 5);
    List<String> lines = new ArrayList<>();
    lines.add(String.join(",", MarketWindows.featureColumns(WINDOW)) + ",up");
    for (int r = 0; r < rows; r++) {
      StringBuilder line = new StringBuilder();
      double[] x = new double[2 * WINDOW];
      for (int j = 0; j < x.length; j++) {
        x[j] = random.nextGaussian();
        line.append(String.format(Locale.ROOT, "%.5f", x[j])).append(',');
      }
      boolean up = x[WINDOW - 2] + x[WINDOW - 1] + 0.5 * random.nextGaussian() > 0;
      lines.add(line.append(up ? "1" : "0").toString());
    }
    Files.write(file, lines);
  }
}
