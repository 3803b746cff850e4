package io.consort.cli.demo;

import io.consort.model.data.DataSplitter;
import io.consort.model.eval.ExactMetrics;
import io.consort.model.eval.RegressionTotals;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Predictor;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.NoiseCalibration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two reference points a federated result is judged against, trained on the same splits, model,
 * encoding and total epochs, and scored on the same pooled held-out rows: centralised (every bank's
 * training rows pooled, which federation cannot beat without sharing data) and local-only (each bank
 * alone, which federation should beat). A binary model's figure is its AUC; a regression model's its
 * RMSE, labels and predictions clipped to the schema's label bound as the federated evaluation clips them.
 */
final class Baselines {
  private Baselines() {}

  /**
   * @param centralized the figure (AUC, or RMSE for regression) of centralised training
   * @param centralizedDp centralised training with record-level DP-SGD at the job's epsilon (the fair
   *     reference for a private job), or null when the job has no record-level DP
   * @param localOnly each bank's model trained alone
   */
  record Result(double centralized, Double centralizedDp, Map<String, Double> localOnly) {}

  /** Record-level DP for the centralised baseline: the job's target epsilon, delta and clip. */
  record DpTarget(double epsilon, double delta, double clipNorm) {}

  static Result run(ModelSpec spec, FeatureEncoding encoding, Map<String, DataSplitter.TrainTest> banks,
                    int rounds, int localEpochs, DpTarget dp, ModelSpec dpSpec) {
    int totalEpochs = rounds * localEpochs;
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
    EncodedData pooledTrain = EncodedData.concat(trains);
    double centralized = trainAndScore(spec, pooledTrain, pooledTest, totalEpochs, encoding, TrainingOptions.standard());
    Double centralizedDp = null;
    if (dp != null) {
      // the same privacy as each bank gets, but on the pooled rows: q = batch / pooled rows, the
      // same number of passes, noise calibrated to the same target
      LocalTrainingPlan perRound = new LocalTrainingPlan(pooledTrain.rows(), dpSpec.batchSize(), localEpochs, 1.0);
      double z = NoiseCalibration.defaults().noiseMultiplier(dp.epsilon(), perRound.samplingRate(),
          perRound.steps() * (long) rounds, dp.delta());
      centralizedDp = trainAndScore(dpSpec, pooledTrain, pooledTest, totalEpochs, encoding,
          TrainingOptions.withDpSgd(new DpSgdConfig(z, dp.clipNorm(), perRound.samplingRate())));
    }
    Map<String, Double> local = new LinkedHashMap<>();
    for (Map.Entry<String, EncodedData> e : trainByBank.entrySet()) {
      local.put(e.getKey(), trainAndScore(spec, e.getValue(), pooledTest, totalEpochs, encoding,
          TrainingOptions.standard()));
    }
    return new Result(centralized, centralizedDp, local);
  }

  /**
   * What one bank gains by joining, all on its own held-out rows: its local-only model without DP, with
   * DP-SGD at its cap (null without record-level DP), and the consortium's model.
   */
  record BankGain(double localOnlyAuc, Double localOnlyDpAuc, double consortiumAuc) {
    /** The consortium's AUC less the better of what the bank could build alone at the same privacy. */
    double gain() {
      return consortiumAuc - (localOnlyDpAuc != null ? localOnlyDpAuc : localOnlyAuc);
    }
  }

  static Map<String, BankGain> gains(ModelSpec spec, ModelSpec dpSpec, FeatureEncoding encoding,
                                     Map<String, DataSplitter.TrainTest> banks, int epochs, DpTarget dp,
                                     ModelSpec consortiumSpec, float[] consortium) {
    Map<String, BankGain> out = new LinkedHashMap<>();
    for (Map.Entry<String, DataSplitter.TrainTest> e : banks.entrySet()) {
      EncodedData train = encoding.encode(e.getValue().train());
      EncodedData test = encoding.encode(e.getValue().test());
      double plain = trainAndScore(spec, train, test, epochs, encoding, TrainingOptions.standard());
      Double private_ = null;
      if (dp != null) {
        // the bank alone, spending its whole cap on its own rows
        LocalTrainingPlan plan = LocalTrainingPlan.calibrated(train.rows(), Math.min(dpSpec.batchSize(), train.rows()),
            epochs, 1, dp.epsilon(), dp.delta());
        private_ = trainAndScore(dpSpec, train, test, epochs, encoding,
            TrainingOptions.withDpSgd(new DpSgdConfig(plan.noiseMultiplier(), dp.clipNorm(), plan.samplingRate())));
      }
      double joint = ExactMetrics.auc(Predictor.predict(consortiumSpec, consortium, test), test.y());
      out.put(e.getKey(), new BankGain(plain, private_, joint));
    }
    return out;
  }

  /**
   * The market task's naive predictors on the pooled held-out rows: the majority class (a constant
   * score, AUC 0.5 by definition; its accuracy is the larger class's share) and the last return
   * (score = the window's last return, momentum; predicts up when it is above the encoding's mean).
   */
  record Naive(double majorityAuc, double majorityAccuracy, double lastReturnAuc, double lastReturnAccuracy) {}

  static Naive naive(FeatureEncoding encoding, Map<String, DataSplitter.TrainTest> banks, int lastReturnColumn) {
    List<EncodedData> tests = new ArrayList<>();
    List<EncodedData> trains = new ArrayList<>();
    for (DataSplitter.TrainTest t : banks.values()) {
      tests.add(encoding.encode(t.test()));
      trains.add(encoding.encode(t.train()));
    }
    EncodedData test = EncodedData.concat(tests);
    // the majority class of the training rows, applied to the held-out rows
    boolean majorityUp = 2L * EncodedData.concat(trains).positives() >= EncodedData.concat(trains).rows();
    int upTest = test.positives();
    double majorityAccuracy = (double) (majorityUp ? upTest : test.rows() - upTest) / test.rows();
    float[] lastReturn = new float[test.rows()];
    int correct = 0;
    for (int r = 0; r < test.rows(); r++) {
      lastReturn[r] = test.x()[r * test.features() + lastReturnColumn];
      boolean up = lastReturn[r] > 0; // standardised: above the consortium's mean return
      if (up == test.y()[r] > 0.5f) {
        correct++;
      }
    }
    return new Naive(0.5, majorityAccuracy, ExactMetrics.auc(lastReturn, test.y()), (double) correct / test.rows());
  }

  /**
   * The market return task's naive predictors on the pooled held-out rows, as RMSE with labels and
   * predictions clipped to the label bound: predicting a return of 0, and predicting the window's last
   * return (the raw, scaled value of column {@code lastReturnColumn}).
   */
  record NaiveReturn(double zeroRmse, double lastReturnRmse) {}

  static NaiveReturn naiveReturn(Map<String, DataSplitter.TrainTest> banks, int lastReturnColumn) {
    List<Float> labels = new ArrayList<>();
    List<Float> last = new ArrayList<>();
    double bound = 0;
    for (DataSplitter.TrainTest t : banks.values()) {
      bound = t.test().schema().labelBound().getAsDouble();
      for (int r = 0; r < t.test().rows(); r++) {
        labels.add((float) t.test().label(r));
        last.add((float) t.test().numeric(lastReturnColumn, r));
      }
    }
    float[] y = new float[labels.size()];
    float[] lastReturn = new float[labels.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = labels.get(i);
      lastReturn[i] = last.get(i);
    }
    return new NaiveReturn(RegressionTotals.of(bound, new float[y.length], y).rmse(),
        RegressionTotals.of(bound, lastReturn, y).rmse());
  }

  private static double trainAndScore(ModelSpec spec, EncodedData train, EncodedData test, int epochs,
                                      FeatureEncoding encoding, TrainingOptions options) {
    float[] initial = ModelFactory.initialParameters(spec, encoding.featureCount());
    float[] trained = new LocalTrainer(spec, train, spec.nativeKernel() ? TrainingEngine.NATIVE : TrainingEngine.DL4J)
        .train(initial, epochs, options).parameters();
    return figure(spec, encoding, Predictor.predict(spec, trained, test), test.y());
  }

  /** AUC of a binary model, RMSE of a regression model (clipped to the schema's label bound). */
  static double figure(ModelSpec spec, FeatureEncoding encoding, float[] predictions, float[] labels) {
    return spec.objective() == io.consort.model.train.Objective.REGRESSION
        ? RegressionTotals.of(encoding.schema().labelBound().getAsDouble(), predictions, labels).rmse()
        : ExactMetrics.auc(predictions, labels);
  }
}
