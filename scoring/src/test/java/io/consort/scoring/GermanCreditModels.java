package io.consort.scoring;

import io.consort.model.data.DataSplitter;
import io.consort.model.data.Datasets;
import io.consort.model.data.Table;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelType;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.v1.BankGuarantee;
import io.consort.scoring.v1.Provenance;
import io.consort.spec.CostMatrix;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Seeded models on German credit for the scoring tests: the bundled data split 70/30, one encoding
 * from the training rows' statistics, a logistic regression and an MLP trained on the native
 * engine, each published as the coordinator would publish it (the held-out rows' histogram of 100
 * bins, the German credit cost matrix 5:1). Built once per test JVM.
 */
final class GermanCreditModels {
  static final long SEED = 20261202L;
  static final int BINS = 100;

  /** One trained, published model with the rows it was evaluated on. */
  record Fixture(JobSpec spec, FeatureEncoding encoding, Table test, EncodedData encodedTest, float[] parameters,
                 ScoreHistogram histogram, PublishedModel model) {
    Scorer scorer() {
      return Scorer.of(model);
    }

    /** Held-out row {@code r} as column name to value, as a bank's file would give it. */
    Map<String, String> row(int r) {
      Map<String, String> row = new LinkedHashMap<>();
      for (String column : spec.schema().featureColumns()) {
        row.put(column, test.value(column, r));
      }
      return row;
    }
  }

  private static final Map<ModelType, Fixture> CACHE = new HashMap<>();

  private GermanCreditModels() {}

  static synchronized Fixture logisticRegression() {
    return CACHE.computeIfAbsent(ModelType.LOGISTIC_REGRESSION, t -> build(t, 20));
  }

  static synchronized Fixture mlp() {
    return CACHE.computeIfAbsent(ModelType.MLP, t -> build(t, 10));
  }

  private static Fixture build(ModelType type, int epochs) {
    try {
      Table all = Datasets.germanCredit().load();
      DataSplitter.TrainTest split = DataSplitter.trainTest(all, 0.3, SEED);
      FeatureEncoding encoding = FeatureEncoding.merge(List.of(LocalFeatureStats.compute(split.train())));
      JobSpec spec = JobSpec.builder().id("german-" + type.name().toLowerCase(java.util.Locale.ROOT))
          .schema(all.schema()).modelType(type).modelSeed(SEED).costMatrix(CostMatrix.GERMAN_CREDIT).build();
      EncodedData train = encoding.encode(split.train());
      EncodedData test = encoding.encode(split.test());
      LocalTrainer trainer = new LocalTrainer(spec.model(), train, TrainingEngine.NATIVE, new SplittableRandom(SEED),
          sigma -> {
            throw new AssertionError("no noise without DP-SGD");
          });
      float[] parameters = trainer.train(ModelFactory.initialParameters(spec.model(), encoding.featureCount()),
          epochs, TrainingOptions.standard()).parameters();
      ModelParameters model = ModelWire.withValues(ModelParameters.newBuilder()
          .setSpec(JobSpecWire.model(spec).toBuilder().setInputFeatures(encoding.featureCount()))
          .setEncoding(ModelWire.encoding(encoding)).build(), parameters, 10);
      float[] scores = Predictor.predict(spec.model(), parameters, test);
      ScoreHistogram histogram = ScoreHistogram.of(scores, test.y(), BINS);
      GlobalMetrics metrics = GlobalMetrics.from(histogram);
      // the final round's permutation importance, as the banks' summed increases would give it
      double[] increase = io.consort.model.eval.PermutationImportance.lossIncrease(spec.model(), parameters, test,
          encoding, new SplittableRandom(SEED));
      java.util.Map<String, Double> importance = new java.util.LinkedHashMap<>();
      List<String> columns = io.consort.model.eval.PermutationImportance.columns(encoding);
      for (int c = 0; c < columns.size(); c++) {
        importance.put(columns.get(c), increase[c] / test.rows());
      }
      PublishedModel published = ModelPublication.publish(spec, model,
          Optional.of(new ModelPublication.FinalEvaluation(10, histogram, metrics.auc(), metrics.accuracy(),
              metrics.logLoss(), importance)), provenance(spec, split));
      return new Fixture(spec, encoding, split.test(), test, parameters, histogram, published);
    } catch (Exception e) {
      throw new IllegalStateException("cannot build the German credit fixture", e);
    }
  }

  static Provenance provenance(JobSpec spec, DataSplitter.TrainTest split) {
    return Provenance.newBuilder().setJobId(spec.id()).setRoundsPlanned(10).setRoundsCompleted(10).setModelRound(10)
        .addBanks(BankGuarantee.newBuilder().setBank("bank-1").setDelta(spec.privacy().delta())
            .setMechanism(ModelPublication.mechanism(spec)))
        .setTrainingRows(split.train().rows()).setHeldOutRows(split.test().rows())
        .setStrategy("FedAvg weighted by training rows").setCodeVersion(ConsortVersion.current())
        .setCreatedAt("2026-12-02T00:00:00Z").build();
  }

  /** A job spec like the fixture's but with another privacy unit, for card and provenance tests. */
  static JobSpec withPrivacy(JobSpec spec, PrivacyMode mode) {
    return spec.toBuilder().privacy(mode).targetEpsilon(mode == PrivacyMode.OFF ? null : 3.0)
        .engine(TrainingEngine.NATIVE).build();
  }
}
