package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataProfile;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSource;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.MessyLoans;
import io.consort.model.data.Table;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.features.RefinedFeatureStats;
import io.consort.model.wire.ModelWire;
import io.consort.participant.BankSplit;
import io.consort.participant.ParticipantConfig;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Messy bank data through a whole federation: missing values, sentinels, a heavy tail and a category
 * only one bank has, with the preprocessing the profiler proposes. The encoding the coordinator builds
 * from the banks' (secure) sums is the one a single party holding all training rows would build with
 * the same rules, and the result reports the fills and the rows mapped to "other".
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PreprocessingFederationTest {
  @TempDir
  Path dir;

  @ParameterizedTest(name = "secure aggregation {0}")
  @ValueSource(booleans = {true, false})
  void messyBankData_isPreprocessedAsOnePartyWouldWithAllRows_andTheReportSaysHow(boolean secure) throws Exception {
    Path all = MessyLoans.write(dir.resolve("all.csv"), 1800, 7);
    DataSchema schema = DataProfile.of(DataSource.file(all), "Status", "bad")
        .proposedSchema(DataProfile.Proposal.WITH_PREPROCESSING);
    assertTrue(schema.preprocessing().numeric("income").clip().isPresent(), "the profiler clips the heavy tail");
    // round robin, every 'boat' loan at bank-1: a category the other banks lack
    List<String> lines = Files.readAllLines(all);
    List<List<String>> own = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    for (int i = 1; i < lines.size(); i++) {
      own.get(lines.get(i).contains(",boat,") ? 0 : i % 3).add(lines.get(i));
    }
    try (LocalConsortium consortium = new LocalConsortium(dir, 3)) {
      for (int b = 0; b < 3; b++) {
        List<String> file = new ArrayList<>(List.of(lines.get(0)));
        file.addAll(own.get(b));
        Files.createDirectories(dir.resolve("bank-" + (b + 1)));
        Files.write(dir.resolve("bank-" + (b + 1)).resolve("data.csv"), file);
      }
      // bank-1's split key is chosen (deterministically) so that one of its 3 boat loans is a training row:
      // with a fresh random key all 3 are held out in 0.25^3 of runs and the test would check nothing
      keepABoatLoanInTraining(dir.resolve("bank-1"), schema);
      JobSpec plan = JobSpec.builder().id("messy").schema(schema).hiddenLayers(List.of(16)).batchSize(32)
          .learningRate(0.01).modelSeed(3).rounds(3).localEpochs(2).minBanks(2).secureAggregation(secure).build();
      consortium.startCoordinator(plan, Duration.ofSeconds(60), new io.consort.coordinator.model.FederatedModelOps());
      consortium.startBanks(bank -> LocalConsortium.BankSettings.defaults(),
          bank -> dir.resolve(bank).resolve("data.csv"));
      JsonObject result = Await.within(LocalConsortium.JOB_TIMEOUT, "the job to finish",
          consortium.service.jobOutcome());
      assertEquals("completed", result.getString("status"), result.encodePrettily());

      JsonObject columns = result.getJsonObject("preprocessing").getJsonObject("columns");
      assertEquals("median", columns.getJsonObject("income").getString("missing_policy"));
      assertEquals(2, result.getJsonObject("preprocessing").getInteger("statistics_stages"));

      // the banks' training rows, pooled, with the same rules: the same encoding, to float tolerance
      List<Table> trains = new ArrayList<>();
      for (String bank : consortium.banks) {
        Path data = dir.resolve(bank).resolve("data.csv");
        ParticipantConfig config = new ParticipantConfig("localhost", 1, data, data, data, data,
            dir.resolve(bank).resolve("local"), 3.0, 1e-5, 1 << 20, null, false).withTestFraction(0.25);
        trains.add(BankSplit.of(config, DatasetLoader.load(data, schema)).train());
      }
      FeatureEncoding pooled = pooled(trains);
      long boats = 0;
      for (Table t : trains) {
        boats += boats(t);
      }
      assertTrue(boats > 0, "bank-1 trains on a boat loan");
      assertEquals(boats, columns.getJsonObject("purpose").getLong("mapped_to_other"), columns.encodePrettily());
      ModelParameters model = io.consort.protocol.WireLimits.decode(ModelParameters.parser(), Files.readAllBytes(
          dir.resolve("coordinator/jobs/messy-final-model.pb")), 16 << 20, "final model");
      FeatureEncoding federated = ModelWire.encoding(schema, model.getEncoding());
      assertEquals(pooled.categories(), federated.categories());
      assertEquals(pooled.categoryFills(), federated.categoryFills());
      assertEquals(pooled.numericTreatments().size(), federated.numericTreatments().size());
      for (int j = 0; j < pooled.means().length; j++) {
        FeatureEncoding.NumericTreatment p = pooled.numericTreatments().get(j);
        FeatureEncoding.NumericTreatment f = federated.numericTreatments().get(j);
        assertEquals(p.clipLower(), f.clipLower());
        assertEquals(p.clipUpper(), f.clipUpper());
        assertEquals(p.fill(), f.fill(), Double.isNaN(p.fill()) ? 0 : 1e-9 * Math.max(1, Math.abs(p.fill())));
      }
      assertArrayEquals(pooled.means(), federated.means(), 1e-6);
      assertArrayEquals(pooled.stds(), federated.stds(), 1e-6);
      assertEquals(pooled.numericTreatments().get(1).fill(), columns.getJsonObject("income").getDouble("fill"),
          1e-6);
      assertTrue(result.getJsonObject("final").getDouble("auc") > 0.6, result.getJsonObject("final").encode());
    }
  }

  /** One party with every training row: the same two stages, categories named by the same five-row rule per bank. */
  private static FeatureEncoding pooled(List<Table> trains) {
    List<LocalFeatureStats> named = new ArrayList<>();
    for (Table t : trains) {
      named.add(LocalFeatureStats.compute(t).namesOnly(LocalFeatureStats.MIN_NAMED_CATEGORY_ROWS));
    }
    LocalFeatureStats names = LocalFeatureStats.sum(named);
    LocalFeatureStats exact = LocalFeatureStats.compute(Table.concat(trains, "pooled"));
    // the exact pooled sums and histograms, with the names the banks would release
    LocalFeatureStats total = new LocalFeatureStats(exact.schema(), exact.rows(), exact.positives(), exact.numeric(),
        names.categoryCounts(), exact.categoricalMissing());
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(total);
    return preliminary.refine(RefinedFeatureStats.compute(Table.concat(trains, "pooled"), preliminary));
  }

  private static long boats(Table t) {
    long n = 0;
    for (int r = 0; r < t.rows(); r++) {
      n += "boat".equals(t.category(2, r)) ? 1 : 0;
    }
    return n;
  }

  /** Writes the first of a fixed sequence of split keys under which the bank trains on a boat loan. */
  private static void keepABoatLoanInTraining(Path bankDir, DataSchema schema) throws Exception {
    Path data = bankDir.resolve("data.csv");
    Path local = Files.createDirectories(bankDir.resolve("local"));
    ParticipantConfig config = new ParticipantConfig("localhost", 1, data, data, data, data, local, 3.0, 1e-5,
        1 << 20, null, false).withTestFraction(0.25);
    Table table = DatasetLoader.load(data, schema);
    for (int i = 0; i < 1000; i++) {
      byte[] key = java.security.MessageDigest.getInstance("SHA-256")
          .digest(("split-key-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      Files.write(local.resolve("split-key"), key);
      if (boats(BankSplit.of(config, table).train()) > 0) {
        return;
      }
    }
    throw new AssertionError("no split key of the sequence keeps a boat loan in training");
  }
}
