package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSplitter;
import io.consort.model.data.Datasets;
import io.consort.model.data.Table;
import io.consort.model.eval.ExactMetrics;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The brief's acceptance check: German credit split iid over 3 banks, 10 rounds of FedAvg
 * (weighted by examples, 1 local epoch per round), simulated in-process with the production
 * classes; federated AUC on the pooled test rows against centralised training with the same total
 * epochs. Seeded so the figures are reproducible. Runs here on the native engine; consort-model-dl4j
 * runs the same check on the DL4J engine ({@code Dl4jEngineTest}) with these fixtures.
 */
class FederatedGermanCreditTest {
  static final long SEED = 20240601L;
  static final int BANKS = 3;
  static final int ROUNDS = 10;

  /** The simulated consortium: per-bank encoded train and test rows under one encoding. */
  record Consortium(List<EncodedData> train, List<EncodedData> test) {
    EncodedData pooledTrain() {
      return EncodedData.concat(train);
    }

    EncodedData pooledTest() {
      return EncodedData.concat(test);
    }
  }

  static Consortium germanCredit(String split, long seed) throws Exception {
    Table all = Datasets.germanCredit().load();
    List<Table> banks = DataSplitter.split(all, BANKS, split, seed);
    List<DataSplitter.TrainTest> parts = new ArrayList<>();
    List<LocalFeatureStats> stats = new ArrayList<>();
    for (int b = 0; b < BANKS; b++) {
      DataSplitter.TrainTest part = DataSplitter.trainTest(banks.get(b), 0.2, seed + b);
      parts.add(part);
      stats.add(LocalFeatureStats.compute(part.train()));
    }
    FeatureEncoding encoding = FeatureEncoding.merge(stats);
    List<EncodedData> train = new ArrayList<>();
    List<EncodedData> test = new ArrayList<>();
    for (DataSplitter.TrainTest part : parts) {
      train.add(encoding.encode(part.train()));
      test.add(encoding.encode(part.test()));
    }
    return new Consortium(train, test);
  }

  static LocalTrainer seededTrainer(ModelSpec spec, EncodedData data, long seed) {
    return seededTrainer(spec, data, seed, TrainingEngine.NATIVE);
  }

  static LocalTrainer seededTrainer(ModelSpec spec, EncodedData data, long seed,
      TrainingEngine engine) {
    return new LocalTrainer(spec, data, engine, new SplittableRandom(seed),
        new PolarGaussianNoise(new SplittableRandom(~seed)));
  }

  static float[] federatedAveraging(Consortium consortium, ModelSpec spec, int rounds,
      TrainingOptions options, long seed) {
    return federatedAveraging(consortium, spec, rounds, options, seed, TrainingEngine.NATIVE);
  }

  /** FedAvg (McMahan et al. 2017): the example-weighted mean of the banks' new parameters. */
  static float[] federatedAveraging(Consortium consortium, ModelSpec spec, int rounds,
      TrainingOptions options, long seed, TrainingEngine engine) {
    int inputs = consortium.train().get(0).features();
    float[] global = ModelFactory.initialParameters(spec, inputs);
    List<LocalTrainer> trainers = new ArrayList<>();
    for (int b = 0; b < consortium.train().size(); b++) {
      trainers.add(seededTrainer(spec, consortium.train().get(b), seed + 31L * b, engine));
    }
    for (int round = 0; round < rounds; round++) {
      double[] sum = new double[global.length];
      long examples = 0;
      for (LocalTrainer trainer : trainers) {
        TrainingResult result = trainer.train(global, 1, options);
        for (int i = 0; i < sum.length; i++) {
          sum[i] += (double) result.parameters()[i] * trainer.trainingRows();
        }
        examples += trainer.trainingRows();
      }
      for (int i = 0; i < sum.length; i++) {
        global[i] = (float) (sum[i] / examples);
      }
    }
    return global;
  }

  static float[] centralised(Consortium consortium, ModelSpec spec, int epochs, long seed,
      TrainingEngine engine) {
    EncodedData pooled = consortium.pooledTrain();
    float[] initial = ModelFactory.initialParameters(spec, pooled.features());
    return seededTrainer(spec, pooled, seed, engine)
        .train(initial, epochs, TrainingOptions.standard()).parameters();
  }

  /** Federated evaluation: every bank bins its own test scores; only histograms are merged. */
  static GlobalMetrics federatedEvaluation(Consortium consortium, ModelSpec spec, float[] params) {
    List<ScoreHistogram> histograms = new ArrayList<>();
    for (EncodedData test : consortium.test()) {
      histograms.add(ScoreHistogram.of(Predictor.predict(spec, params, test), test.y()));
    }
    return GlobalMetrics.from(ScoreHistogram.merge(histograms));
  }

  @Test
  void fedAvgMatchesCentralisedAuc_whenGermanCreditIsSplitIidOverThreeBanks() throws Exception {
    assertFedAvgMatchesCentralisedAuc(TrainingEngine.NATIVE);
  }

  /**
   * The acceptance check on {@code engine}: federated AUC at least 0.75 and within 0.03 of the
   * centralised AUC.
   */
  static void assertFedAvgMatchesCentralisedAuc(TrainingEngine engine) throws Exception {
    Consortium consortium = germanCredit("iid", SEED);
    ModelSpec spec = ModelSpec.defaultMlp(SEED);

    float[] federated = federatedAveraging(consortium, spec, ROUNDS, TrainingOptions.standard(),
        SEED, engine);
    float[] central = centralised(consortium, spec, ROUNDS, SEED, engine);

    GlobalMetrics federatedMetrics = federatedEvaluation(consortium, spec, federated);
    EncodedData test = consortium.pooledTest();
    double centralAuc = ExactMetrics.auc(Predictor.predict(spec, central, test), test.y());
    double federatedExactAuc = ExactMetrics.auc(Predictor.predict(spec, federated, test), test.y());
    System.out.printf("German credit, 3 banks iid, %d rounds, %s engine: federated AUC %.4f"
        + " (exact %.4f), accuracy %.3f, log-loss %.4f; centralised AUC %.4f%n", ROUNDS,
        engine.wireName(), federatedMetrics.auc(),
        federatedExactAuc, federatedMetrics.accuracy(), federatedMetrics.logLoss(), centralAuc);

    assertEquals(federatedExactAuc, federatedMetrics.auc(), 0.002);
    assertTrue(federatedMetrics.auc() >= 0.75, "federated AUC " + federatedMetrics.auc());
    assertTrue(Math.abs(federatedMetrics.auc() - centralAuc) <= 0.03,
        "federated " + federatedMetrics.auc() + " vs centralised " + centralAuc);
  }
}
