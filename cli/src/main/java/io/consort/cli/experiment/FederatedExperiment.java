package io.consort.cli.experiment;

import io.consort.coordinator.job.AggregatedUpdate;
import io.consort.coordinator.job.ServerUpdateRule;
import io.consort.model.data.DataSplitter;
import io.consort.model.data.Table;
import io.consort.model.eval.ExactMetrics;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.RdpAccountant;
import io.consort.privacy.ledger.RecordNoiseShare;
import io.consort.privacy.noise.DiscreteGaussianSampler;
import io.consort.spec.JobSpec;
import io.consort.spec.SecureRoundPlan;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a federated job in one process, without network, certificates or the secure-aggregation
 * protocol's messages, so that multi-seed sweeps take seconds instead of the minutes of a demo.
 *
 * <p>What it shares with production: the job specification ({@link JobSpec}) and every value derived
 * from it by {@link SecureRoundPlan#derive} (threshold, quantiser, noise shares, z), the banks' local
 * training ({@link LocalTrainer}: DP-SGD, FedProx, the distributed step's clipped gradient sum), the
 * noise calibration ({@link LocalTrainingPlan#calibrated}), the quantiser's encoding and decoding with
 * stochastic rounding, the exact discrete Gaussian shares ({@link DiscreteGaussianSampler}), the
 * coordinator's server rules ({@link ServerUpdateRule}) and the accounting ({@link RecordNoiseShare},
 * {@link RdpAccountant}). What it leaves out: pairwise and self masks (they cancel exactly in the
 * unmasked sum, which this computes directly in the ring), key agreement, TLS, the ledger's signatures,
 * and dropouts (every bank survives every round). Banks' held-out rows are a stratified 20% of each
 * bank's rows (production uses each bank's own secret split key); the encoding is merged from the banks'
 * training statistics as the coordinator merges them. Randomness for sampling, noise and rounding is
 * SecureRandom, as in production; the seed fixes the data split and the initial model.
 */
public final class FederatedExperiment {
  private FederatedExperiment() {}

  /** The test fraction each bank holds out, as {@code ParticipantConfig}'s default. */
  public static final double TEST_FRACTION = 0.2;

  /** Each bank's encoded training and held-out rows, encoded with the federation's merged encoding. */
  public record Consortium(List<EncodedData> train, List<EncodedData> test, EncodedData pooledTrain,
                           EncodedData pooledTest, FeatureEncoding encoding) {
    public int banks() {
      return train.size();
    }
  }

  /** Splits each bank's table into training and held-out rows (seeded) and encodes them. */
  public static Consortium consortium(List<Table> banks, long seed) {
    List<DataSplitter.TrainTest> splits = new ArrayList<>();
    List<LocalFeatureStats> stats = new ArrayList<>();
    for (int b = 0; b < banks.size(); b++) {
      DataSplitter.TrainTest split = DataSplitter.trainTest(banks.get(b), TEST_FRACTION, seed * 1_000 + b);
      splits.add(split);
      stats.add(LocalFeatureStats.compute(split.train()));
    }
    FeatureEncoding encoding = FeatureEncoding.merge(stats);
    List<EncodedData> train = new ArrayList<>();
    List<EncodedData> test = new ArrayList<>();
    for (DataSplitter.TrainTest split : splits) {
      train.add(encoding.encode(split.train()));
      test.add(encoding.encode(split.test()));
    }
    return new Consortium(train, test, EncodedData.concat(train), EncodedData.concat(test), encoding);
  }

  /**
   * One model's figures.
   *
   * @param pooledAuc AUC on every bank's held-out rows pooled
   * @param bankAuc per bank, AUC on that bank's own held-out rows
   * @param epsilon the largest record-level epsilon any bank spent (NaN without DP)
   */
  public record Result(double pooledAuc, double[] bankAuc, double epsilon) {}

  /** Record-level DP at a target epsilon, or off. */
  public record Privacy(double epsilon, double delta, double clipNorm) {
    public static Privacy off() {
      return new Privacy(Double.NaN, 1e-5, 1.0);
    }

    public boolean on() {
      return !Double.isNaN(epsilon);
    }
  }

  /** Every bank's rows pooled in one place: centralised training, DP-SGD at the target if on. */
  public static Result centralised(Consortium c, ModelSpec spec, int epochs, Privacy privacy) {
    float[] model = trainAlone(spec, c.pooledTrain(), epochs, privacy);
    return evaluate(c, spec, model, privacy.on() ? privacy.epsilon() : Double.NaN);
  }

  /**
   * Each bank alone on its own rows (DP-SGD at the target if on): per bank, its model's AUC on its own
   * held-out rows ({@code bankAuc}) and on the pooled ones ({@code pooled}).
   */
  public record LocalOnly(double[] bankAuc, double[] pooled) {}

  public static LocalOnly localOnly(Consortium c, ModelSpec spec, int epochs, Privacy privacy) {
    double[] own = new double[c.banks()];
    double[] pooled = new double[c.banks()];
    for (int b = 0; b < c.banks(); b++) {
      float[] model = trainAlone(spec, c.train().get(b), epochs, privacy);
      own[b] = auc(spec, model, c.test().get(b));
      pooled[b] = auc(spec, model, c.pooledTest());
    }
    return new LocalOnly(own, pooled);
  }

  private static float[] trainAlone(ModelSpec spec, EncodedData data, int epochs, Privacy privacy) {
    float[] initial = ModelFactory.initialParameters(spec, data.features());
    TrainingOptions options = TrainingOptions.standard();
    if (privacy.on()) {
      int batch = Math.min(spec.batchSize(), data.rows());
      LocalTrainingPlan plan = LocalTrainingPlan.calibrated(data.rows(), batch, epochs, 1, privacy.epsilon(),
          privacy.delta());
      options = TrainingOptions.withDpSgd(new DpSgdConfig(plan.noiseMultiplier(), privacy.clipNorm(),
          plan.samplingRate()));
    }
    return new LocalTrainer(spec, data).train(initial, epochs, options).parameters();
  }

  /**
   * The federated job {@code spec} on {@code c}: every round, every bank trains (or, with distributed
   * record noise, sums its clipped gradients and adds its noise share), the inputs are quantised and
   * summed in the secure sum's ring, and the coordinator's server rule applies the decoded aggregate.
   */
  public static Result federated(Consortium c, JobSpec spec) {
    int banks = c.banks();
    List<String> roster = new ArrayList<>();
    for (int b = 1; b <= banks; b++) {
      roster.add("bank-" + b);
    }
    ModelSpec model = spec.model();
    float[] global = ModelFactory.initialParameters(model, c.encoding().featureCount());
    int d = global.length;
    List<LocalTrainer> trainers = new ArrayList<>();
    for (EncodedData data : c.train()) {
      trainers.add(new LocalTrainer(model, data, spec.training().engine()));
    }
    ServerUpdateRule rule = ServerUpdateRule.of(spec.training().strategy());
    SecureRandom random = new SecureRandom();
    boolean distributed = spec.privacy().distributedRecordNoise().isPresent();
    List<List<PrivacyEvent>> spent = new ArrayList<>();
    LocalTrainingPlan[] plans = new LocalTrainingPlan[banks];
    for (int b = 0; b < banks; b++) {
      spent.add(new ArrayList<>());
      if (spec.privacy().recordLevel() && !distributed) {
        var target = spec.privacy();
        plans[b] = LocalTrainingPlan.calibrated(c.train().get(b).rows(),
            Math.min(model.batchSize(), c.train().get(b).rows()),
            spec.training().localEpochs(), spec.training().rounds(), target.targetEpsilon().orElseThrow(),
            target.delta());
      }
    }
    long totalRows = c.pooledTrain().rows();
    for (int round = 1; round <= spec.training().rounds(); round++) {
      SecureRoundPlan plan = SecureRoundPlan.derive(spec, round, roster, d);
      int mask = plan.parameters().ringMask();
      int[] ring = new int[d];
      for (int b = 0; b < banks; b++) {
        float[] input;
        long[] noise = null;
        if (distributed) {
          RecordNoiseShare share = plan.recordNoise();
          input = trainers.get(b).clippedGradientSum(global, share.samplingRate(), share.clipNorm()).sum();
          noise = new long[d];
          DiscreteGaussianSampler.ofSigma(share.perBankSigma(), random).addNoise(noise);
          spent.get(b).add(share.event(banks));
        } else {
          TrainingOptions options = TrainingOptions.standard().withProximalMu(spec.training().proximalMu());
          if (plans[b] != null) {
            options = TrainingOptions.withDpSgd(new DpSgdConfig(plans[b].noiseMultiplier(),
                spec.privacy().record().orElseThrow().clipNorm(), plans[b].samplingRate()))
                .withProximalMu(spec.training().proximalMu());
            spent.get(b).add(plans[b].event());
          }
          TrainingResult r = trainers.get(b).train(global, spec.training().localEpochs(), options);
          input = weightedClippedDelta(global, r.parameters(), plan.clipNorm(),
              (double) c.train().get(b).rows() / totalRows);
        }
        int[] encoded = plan.quantizer().encode(input, random);
        for (int i = 0; i < d; i++) {
          ring[i] = (int) ((ring[i] + encoded[i] + (noise == null ? 0 : noise[i])) & mask);
        }
      }
      double[] sum = plan.quantizer().decodeSum(ring);
      AggregatedUpdate update;
      if (distributed) {
        double expectedBatch = Math.max(1.0, plan.recordNoise().samplingRate() * totalRows);
        for (int i = 0; i < d; i++) {
          sum[i] *= -model.learningRate();
        }
        update = new AggregatedUpdate(sum, expectedBatch, banks);
      } else {
        update = new AggregatedUpdate(sum, 1.0, banks);
      }
      global = rule.apply(global, update);
    }
    double epsilon = Double.NaN;
    if (spec.privacy().recordLevel()) {
      epsilon = 0;
      for (List<PrivacyEvent> events : spent) {
        epsilon = Math.max(epsilon, RdpAccountant.defaults().epsilon(events, spec.privacy().delta()));
      }
    }
    return evaluate(c, model, global, epsilon);
  }

  /** The bank's update clipped to the secure sum's norm and scaled by its FedAvg weight, as a bank sends it. */
  private static float[] weightedClippedDelta(float[] base, float[] after, double clip, double weight) {
    float[] delta = new float[base.length];
    double squared = 0;
    for (int i = 0; i < base.length; i++) {
      delta[i] = after[i] - base[i];
      squared += (double) delta[i] * delta[i];
    }
    double factor = Math.min(1.0, clip / Math.max(Math.sqrt(squared), 1e-30)) * weight;
    for (int i = 0; i < delta.length; i++) {
      delta[i] = (float) (delta[i] * factor);
    }
    return delta;
  }

  private static Result evaluate(Consortium c, ModelSpec spec, float[] model, double epsilon) {
    double[] own = new double[c.banks()];
    for (int b = 0; b < c.banks(); b++) {
      own[b] = auc(spec, model, c.test().get(b));
    }
    return new Result(auc(spec, model, c.pooledTest()), own, epsilon);
  }

  private static double auc(ModelSpec spec, float[] model, EncodedData test) {
    return ExactMetrics.auc(Predictor.predict(spec, model, test), test.y());
  }

  /** Mean and sample standard deviation of the values that are not NaN (NaN: none). */
  public static double[] meanAndSd(double[] all) {
    double[] values = Arrays.stream(all).filter(v -> !Double.isNaN(v)).toArray();
    double mean = Arrays.stream(values).average().orElse(Double.NaN);
    double ss = 0;
    for (double v : values) {
      ss += (v - mean) * (v - mean);
    }
    return new double[] {mean, values.length > 1 ? Math.sqrt(ss / (values.length - 1)) : 0};
  }
}
