package io.consort.participant;

import io.consort.model.data.DataSchema;
import io.consort.model.data.SyntheticBankData;
import io.consort.model.eval.ExactMetrics;
import io.consort.model.eval.PermutationImportance;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One bank's job at scale, on the daemon's own data path: {@link BankData} (in the daemon's package so
 * that this drives the daemon's class, not a copy of it) reads the file and splits it, streams it for
 * the first- and second-stage statistics, which go through the secure-sum vectors as the coordinator
 * sums them (one bank, so the sum is its own vector), and encodes it once into the float rows the job
 * keeps; then one DP-SGD epoch on the native engine, the held-out scores and the permutation importance
 * of the last round. Run it in a JVM with the daemon's heap ({@code -Xmx2g}, as the {@code consort}
 * launcher starts the daemon) and a GC log; {@code bench/scripts/bank-scale.sh} does both.
 *
 * <p>Not measured here: the gRPC link, secure aggregation and journal, whose memory is a few copies of
 * the model's parameters (about 7,000 floats for this model), not of the rows.
 *
 * <p>Arguments: {@code generate FILE ROWS EXTRA_COLUMNS} writes the synthetic file ({@link
 * SyntheticBankData}, seed 5); {@code run FILE EXTRA_COLUMNS [EXPECTED_BATCH]} measures.
 */
public final class BankScaleBench {
  private BankScaleBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length >= 4 && args[0].equals("generate")) {
      long rows = Long.parseLong(args[2]);
      try (BufferedWriter out = Files.newBufferedWriter(Path.of(args[1]))) {
        SyntheticBankData.writeBank(out, 0, rows, SyntheticBankData.Config.of(rows, 1, 5), Integer.parseInt(args[3]));
      }
      return;
    }
    if (args.length < 3 || !args[0].equals("run")) {
      System.err.println("usage: generate FILE ROWS EXTRA_COLUMNS | run FILE EXTRA_COLUMNS [EXPECTED_BATCH]");
      System.exit(2);
    }
    Path file = Path.of(args[1]);
    DataSchema schema = SyntheticBankData.wideSchema(Integer.parseInt(args[2]));
    int expectedBatch = args.length > 3 ? Integer.parseInt(args[3]) : 512;
    Path dataDir = Files.createTempDirectory("bank-scale");
    ParticipantConfig config = new ParticipantConfig("localhost", 1, null, null, null, file, dataDir, 10, 1e-5,
        1 << 20, null, false);
    System.out.printf(Locale.ROOT, "%s: %,d bytes, %d columns, max heap %,d MiB%n", file, Files.size(file),
        schema.numericColumns().size() + schema.categoricalColumns().size(),
        Runtime.getRuntime().maxMemory() >> 20);

    long t = System.nanoTime();
    BankData data = BankData.open(config, schema);
    t = phase("read, validate and split", t);
    LocalFeatureStats first = data.firstStatistics();
    List<List<String>> categories = new ArrayList<>();
    LocalFeatureStats named = first.namesOnly(LocalFeatureStats.MIN_NAMED_CATEGORY_ROWS);
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      categories.add(new ArrayList<>(new java.util.TreeSet<>(named.categoryCounts(j).keySet())));
    }
    FeatureEncoding preliminary = FeatureEncoding.fromStatistics(
        FeatureStatsVector.decode(schema, FeatureStatsVector.encode(first), 1, categories));
    t = phase("first-stage statistics", t);
    FeatureEncoding encoding = preliminary.refine(FeatureStatsVector.decodeRefined(preliminary,
        FeatureStatsVector.encodeRefined(data.secondStatistics(preliminary), preliminary), 1));
    t = phase("second-stage statistics", t);
    BankData.Encoded encoded = data.encode(encoding);
    t = phase("encode", t);
    System.out.printf(Locale.ROOT, "  %,d training rows and %,d held out, %d encoded features: %,d MiB of floats%n",
        encoded.train().rows(), encoded.test().rows(), encoding.featureCount(),
        ((long) encoded.train().x().length + encoded.test().x().length + encoded.train().rows()
            + encoded.test().rows()) * 4 >> 20);

    ModelSpec spec = ModelSpec.defaultMlp(7);
    LocalTrainer trainer = new LocalTrainer(spec, encoded.train(), TrainingEngine.NATIVE);
    float[] parameters = ModelFactory.initialParameters(spec, encoding.featureCount());
    DpSgdConfig dp = DpSgdConfig.forExpectedBatch(1.0, 1.0, expectedBatch, encoded.train().rows());
    TrainingResult result = trainer.train(parameters, 1, TrainingOptions.withDpSgd(dp));
    t = phase(String.format(Locale.ROOT, "one DP-SGD epoch (%d steps, expected batch %d, MLP %d-64-32-1)",
        dp.stepsFor(1), expectedBatch, encoding.featureCount()), t);
    float[] scores = Predictor.predict(spec, result.parameters(), encoded.test());
    t = phase("held-out scores", t);
    double[] importance = PermutationImportance.lossIncrease(spec, result.parameters(), encoded.test(), encoding,
        new java.security.SecureRandom());
    phase("permutation importance (" + importance.length + " columns)", t);
    System.out.printf(Locale.ROOT, "held-out AUC after the epoch: %.4f%n", ExactMetrics.auc(scores, encoded.test().y()));
  }

  private static long phase(String name, long since) {
    long now = System.nanoTime();
    Runtime r = Runtime.getRuntime();
    System.out.printf(Locale.ROOT, "%-70s %8.1f s   heap in use %,6d MiB%n", name, (now - since) / 1e9,
        (r.totalMemory() - r.freeMemory()) >> 20);
    return now;
  }
}
