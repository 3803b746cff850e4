package io.consort.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.data.DataSplitter;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.Table;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two banks' CSV files written here, through load, stats, encode, train and evaluate. */
class EndToEndCsvTest {
  @TempDir Path dir;

  private static final DataSchema SCHEMA = new DataSchema(List.of("income", "debt_ratio"),
      List.of(new CategoricalColumn("employment", List.of("employed", "self", "none")),
          CategoricalColumn.open("region")),
      "defaulted", "yes");

  /** Default risk falls with income, rises with debt and unemployment. */
  private Path writeBank(String name, int rows, long seed) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    String[] employment = {"employed", "self", "none"};
    String[] regions = {"north", "south", "\"east, coast\""};
    Path file = dir.resolve(name);
    try (BufferedWriter out = Files.newBufferedWriter(file)) {
      out.write("customer,income,debt_ratio,employment,region,defaulted\n");
      for (int r = 0; r < rows; r++) {
        double income = Math.exp(10.5 + 0.5 * random.nextGaussian());
        double debt = random.nextDouble();
        int job = random.nextInt(10) < 7 ? 0 : random.nextInt(3);
        double logit = -1 - 1.5 * (Math.log(income) - 10.5) / 0.5 + 2.5 * (debt - 0.5)
            + (job == 2 ? 1.5 : 0);
        boolean bad = random.nextDouble() < 1 / (1 + Math.exp(-logit));
        out.write(r + "," + String.format("%.2f", income) + "," + String.format("%.3f", debt)
            + "," + employment[job] + "," + regions[random.nextInt(3)] + "," + (bad ? "yes" : "no")
            + "\n");
      }
    }
    return file;
  }

  @Test
  void banksTrainAndEvaluateTogether_fromTheirOwnCsvFiles() throws Exception {
    List<DataSplitter.TrainTest> banks = new ArrayList<>();
    for (int b = 0; b < 2; b++) {
      Table table = DatasetLoader.load(writeBank("bank" + b + ".csv", 1500 + 1000 * b, b), SCHEMA);
      banks.add(DataSplitter.trainTest(table, 0.2, b));
    }
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(
        LocalFeatureStats.compute(banks.get(0).train()),
        LocalFeatureStats.compute(banks.get(1).train())));
    assertEquals(2 + 3 + 3, encoding.featureCount());

    ModelSpec spec = ModelSpec.defaultMlp(1);
    float[] global = ModelFactory.initialParameters(spec, encoding.featureCount());
    List<LocalTrainer> trainers = new ArrayList<>();
    for (DataSplitter.TrainTest bank : banks) {
      trainers.add(new LocalTrainer(spec, encoding.encode(bank.train())));
    }
    for (int round = 0; round < 3; round++) {
      float[] next = new float[global.length];
      long total = 0;
      for (LocalTrainer trainer : trainers) {
        TrainingResult result = trainer.train(global, 1, TrainingOptions.standard());
        for (int i = 0; i < next.length; i++) {
          next[i] += result.parameters()[i] * trainer.trainingRows();
        }
        total += trainer.trainingRows();
      }
      for (int i = 0; i < next.length; i++) {
        global[i] = next[i] / total;
      }
    }
    List<ScoreHistogram> histograms = new ArrayList<>();
    for (int b = 0; b < banks.size(); b++) {
      EncodedData test = encoding.encode(banks.get(b).test());
      histograms.add(ScoreHistogram.of(trainers.get(b).predict(global, test), test.y()));
    }
    GlobalMetrics metrics = GlobalMetrics.from(ScoreHistogram.merge(histograms));
    assertEquals(800, metrics.count());
    assertTrue(metrics.auc() > 0.75, "AUC " + metrics.auc());
  }
}
