package io.consort.cli.demo;

import io.consort.model.data.DataSplitter;
import io.consort.model.eval.ExactMetrics;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two reference points a federated result is judged against, trained on the same splits, model,
 * encoding and total epochs, and scored on the same pooled held-out rows: centralised (every bank's
 * training rows pooled, which federation cannot beat without sharing data) and local-only (each bank
 * alone, which federation should beat).
 */
final class Baselines {
  private Baselines() {}

  record Result(double centralizedAuc, Map<String, Double> localOnlyAuc) {}

  static Result run(ModelSpec spec, FeatureEncoding encoding, Map<String, DataSplitter.TrainTest> banks,
                    int totalEpochs) {
    List<EncodedData> trains = new ArrayList<>();
    List<EncodedData> tests = new ArrayList<>();
    Map<String, EncodedData> trainByBank = new LinkedHashMap<>();
    for (Map.Entry<String, DataSplitter.TrainTest> e : banks.entrySet()) {
      EncodedData train = encoding.encode(e.getValue().train());
      trainByBank.put(e.getKey(), train);
      trains.add(train);
      tests.add(encoding.encode(e.getValue().test()));
    }
    EncodedData pooledTest = EncodedData.concat(tests);
    double centralized = trainAndScore(spec, EncodedData.concat(trains), pooledTest, totalEpochs, encoding);
    Map<String, Double> local = new LinkedHashMap<>();
    for (Map.Entry<String, EncodedData> e : trainByBank.entrySet()) {
      local.put(e.getKey(), trainAndScore(spec, e.getValue(), pooledTest, totalEpochs, encoding));
    }
    return new Result(centralized, local);
  }

  private static double trainAndScore(ModelSpec spec, EncodedData train, EncodedData test, int epochs,
                                      FeatureEncoding encoding) {
    float[] initial = ModelFactory.initialParameters(spec, encoding.featureCount());
    float[] trained = new LocalTrainer(spec, train).train(initial, epochs, TrainingOptions.standard()).parameters();
    return ExactMetrics.auc(Predictor.predict(spec, trained, test), test.y());
  }
}
