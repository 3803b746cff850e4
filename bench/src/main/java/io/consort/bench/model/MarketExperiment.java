package io.consort.bench.model;

import io.consort.model.eval.ExactMetrics;
import io.consort.model.features.EncodedData;
import io.consort.model.market.MarketSeries;
import io.consort.model.market.MarketWindows;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.GaussianNoise;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.Predictor;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.privacy.accounting.NoiseCalibration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The market prediction figures of docs/RESULTS.md, in one run: the three real series bundled with
 * ta4j-examples (BTC and ETH at 5 minutes, Apple daily), windows of {@code W} returns and volumes,
 * divided among 3 banks by period (each bank one contiguous stretch of every asset); each bank holds
 * out the last 20% of its stretch of each asset (time order, so no test window precedes a training
 * one). For each model: FedAvg over the banks (the production {@link LocalTrainer} with Adam, one
 * local epoch per round, record-level DP-SGD at the given epsilon with the noise each bank's own
 * accountant calibrates, or none), centralised training on the pooled training rows (same epochs,
 * same DP), each bank alone, and the naive baselines (majority class; last return), all scored on the
 * pooled held-out rows: AUC of the next interval's direction, and with {@code regression} the RMSE
 * of the next (scaled) return against predicting 0 and predicting the last return.
 *
 * <p>What this simulates and what it does not: the banks' training, DP-SGD and accounting are the
 * production code; the federation is in-process (plain FedAvg mean of the banks' parameters,
 * weighted by rows, standardisation from the pooled training rows as the federated statistics give
 * it) without the network and secure aggregation, whose mean differs only by quantisation. The
 * end-to-end run of the same task is {@code ./consort demo --task market --model ...}. Seeds fix
 * sampling and noise here, so reruns give the same figures on the same code.
 *
 * <p>Arguments: {@code [rounds=5] [epsilon=3|off] [window=10] [models=mlp,lstm,cnn1d,attention]
 * [regression=false]}.
 */
public final class MarketExperiment {
  private static final int BANKS = 3;
  private static final int BATCH = 32;
  private static final double DELTA = 1e-5;
  private static final double CLIP = 1.0;

  private MarketExperiment() {}

  record Bank(EncodedData train, EncodedData test) {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Double epsilon = args.length > 1 && !args[1].equals("off") ? Double.valueOf(args[1]) : args.length > 1 ? null : 3.0;
    int window = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    String[] models = (args.length > 3 ? args[3] : "mlp,lstm,cnn1d,attention").split(",");
    boolean regression = args.length > 4 && Boolean.parseBoolean(args[4]);
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);

    for (Objective objective : regression ? List.of(Objective.BINARY, Objective.REGRESSION) : List.of(Objective.BINARY)) {
      List<Bank> banks = banks(window, objective);
      EncodedData test = EncodedData.concat(banks.stream().map(Bank::test).toList());
      EncodedData train = EncodedData.concat(banks.stream().map(Bank::train).toList());
      System.out.printf(Locale.ROOT, "%n%s, window %d, %d banks by period, train rows %s, held-out rows %d, %d rounds "
              + "of 1 local epoch, batch %d, %s%n", objective == Objective.BINARY ? "direction (AUC)" : "return (RMSE)",
          window, BANKS, banks.stream().map(b -> Integer.toString(b.train().rows())).toList(), test.rows(), rounds, BATCH,
          epsilon == null ? "no DP" : String.format(Locale.ROOT, "record-level DP-SGD epsilon %.1f, delta %.0e, clip %.1f",
              epsilon, DELTA, CLIP));
      printNaive(objective, train, test, window);
      System.out.printf(Locale.ROOT, "| model | params | federated | centralised | local-only (mean, worst) | seconds |%n");
      System.out.printf(Locale.ROOT, "|---|---|---|---|---|---|%n");
      for (String name : models) {
        long started = System.nanoTime();
        ModelSpec spec = spec(ModelType.fromName(name), window, objective, epsilon != null);
        int inputs = train.features();
        double federated = metric(objective, spec, fedAvg(spec, banks, rounds, epsilon), test);
        double central = metric(objective, spec, trainAlone(spec, train, rounds, epsilon, 7), test);
        double sum = 0;
        double worst = objective == Objective.BINARY ? 1 : 0;
        for (int b = 0; b < banks.size(); b++) {
          double m = metric(objective, spec, trainAlone(spec, banks.get(b).train(), rounds, epsilon, 11 + b), test);
          sum += m;
          worst = objective == Objective.BINARY ? Math.min(worst, m) : Math.max(worst, m);
        }
        System.out.printf(Locale.ROOT, "| %s | %d | %.4f | %.4f | %.4f, %.4f | %.0f |%n", name,
            ModelFactory.parameterCount(spec, inputs), federated, central, sum / banks.size(), worst,
            (System.nanoTime() - started) / 1e9);
      }
    }
  }

  static ModelSpec spec(ModelType type, int window, Objective objective, boolean dp) {
    // DP-SGD noise shrinks Adam's effective step, so private runs use a larger one (as the demo does)
    double lr = dp ? 0.02 : ModelSpec.DEFAULT_LEARNING_RATE;
    ModelSpec spec = switch (type) {
      case MLP -> ModelSpec.defaultMlp(7).withObjective(objective);
      case LSTM, SIMPLE_RNN -> ModelSpec.sequence(type, new SequenceSpec(window, 16, 0, 0), List.of(16), objective, 7);
      case CNN1D -> ModelSpec.sequence(type, new SequenceSpec(window, 16, 3, 0), List.of(16), objective, 7);
      case ATTENTION -> ModelSpec.sequence(type, new SequenceSpec(window, 16, 0, 2), List.of(16), objective, 7);
      case LOGISTIC_REGRESSION -> ModelSpec.logisticRegression(7).withObjective(objective);
    };
    return spec.withLearningRate(lr).withBatchSize(BATCH);
  }

  private static float[] fedAvg(ModelSpec spec, List<Bank> banks, int rounds, Double epsilon) {
    int inputs = banks.get(0).train().features();
    float[] global = ModelFactory.initialParameters(spec, inputs);
    List<LocalTrainer> trainers = new ArrayList<>();
    for (int b = 0; b < banks.size(); b++) {
      trainers.add(trainer(spec, banks.get(b).train(), 101 + b));
    }
    for (int r = 0; r < rounds; r++) {
      double[] sum = new double[global.length];
      long rows = 0;
      for (int b = 0; b < banks.size(); b++) {
        EncodedData data = banks.get(b).train();
        float[] local = trainers.get(b).train(global, 1, options(data.rows(), rounds, epsilon)).parameters();
        for (int i = 0; i < sum.length; i++) {
          sum[i] += (double) local[i] * data.rows();
        }
        rows += data.rows();
      }
      for (int i = 0; i < sum.length; i++) {
        global[i] = (float) (sum[i] / rows);
      }
    }
    return global;
  }

  /** One party training alone for as many epochs as the federation runs rounds, under the same DP. */
  private static float[] trainAlone(ModelSpec spec, EncodedData data, int rounds, Double epsilon, long seed) {
    float[] initial = ModelFactory.initialParameters(spec, data.features());
    return trainer(spec, data, seed).train(initial, rounds, options(data.rows(), rounds, epsilon)).parameters();
  }

  /** Plain training, or DP-SGD at q = batch / rows with z calibrated for {@code rounds} epochs to epsilon. */
  private static TrainingOptions options(int rows, int rounds, Double epsilon) {
    if (epsilon == null) {
      return TrainingOptions.standard();
    }
    double q = Math.min(1.0, (double) BATCH / rows);
    long steps = (long) Math.max(1, Math.round(1 / q)) * rounds;
    double z = NoiseCalibration.defaults().noiseMultiplier(epsilon, q, steps, DELTA);
    return TrainingOptions.withDpSgd(new DpSgdConfig(z, CLIP, q));
  }

  private static LocalTrainer trainer(ModelSpec spec, EncodedData data, long seed) {
    TrainingEngine engine = spec.nativeKernel() ? TrainingEngine.NATIVE : TrainingEngine.DL4J;
    // seeded (AES-CTR streams) for reproducible figures; production banks draw sampling and noise from SecureRandom
    java.util.random.RandomGenerator noise = ReproducibleRandom.of("market-experiment-noise", seed);
    return new LocalTrainer(spec, data, engine, ReproducibleRandom.of("market-experiment-sampling", seed),
        sigma -> sigma * noise.nextGaussian());
  }

  private static double metric(Objective objective, ModelSpec spec, float[] parameters, EncodedData test) {
    float[] predicted = Predictor.predict(spec, parameters, test);
    return objective == Objective.BINARY ? ExactMetrics.auc(predicted, test.y()) : rmse(predicted, test.y());
  }

  private static void printNaive(Objective objective, EncodedData train, EncodedData test, int window) {
    float[] last = new float[test.rows()];
    for (int r = 0; r < test.rows(); r++) {
      last[r] = test.x()[r * test.features() + window - 1];
    }
    if (objective == Objective.BINARY) {
      boolean majorityUp = 2L * train.positives() >= train.rows();
      double majorityAccuracy = (double) (majorityUp ? test.positives() : test.rows() - test.positives()) / test.rows();
      System.out.printf(Locale.ROOT, "naive: majority class (%s) AUC 0.5000, accuracy %.4f; last return AUC %.4f%n",
          majorityUp ? "up" : "not up", majorityAccuracy, ExactMetrics.auc(last, test.y()));
    } else {
      System.out.printf(Locale.ROOT, "naive: predict 0 RMSE %.4f; predict the last return RMSE %.4f%n",
          rmse(new float[test.rows()], test.y()), rmse(last, test.y()));
    }
  }

  private static double rmse(float[] predicted, float[] actual) {
    double s = 0;
    for (int i = 0; i < actual.length; i++) {
      s += Math.pow((double) predicted[i] - actual[i], 2);
    }
    return Math.sqrt(s / actual.length);
  }

  /**
   * The banks' rows: by period, each bank's stretch of each asset split 80/20 in time; features
   * standardised with the pooled training rows' means and standard deviations (for the last return
   * baseline the return columns are left unstandardised in sign: standardising keeps the order).
   */
  static List<Bank> banks(int window, Objective objective) {
    List<List<MarketWindows.Window>> trains = new ArrayList<>();
    List<List<MarketWindows.Window>> tests = new ArrayList<>();
    for (int b = 0; b < BANKS; b++) {
      trains.add(new ArrayList<>());
      tests.add(new ArrayList<>());
    }
    for (MarketSeries s : MarketSeries.bundled()) {
      List<MarketWindows.Window> w = MarketWindows.of(s, window);
      for (int b = 0; b < BANKS; b++) {
        List<MarketWindows.Window> stretch = w.subList(w.size() * b / BANKS, w.size() * (b + 1) / BANKS);
        int cut = stretch.size() * 4 / 5;
        trains.get(b).addAll(stretch.subList(0, cut));
        tests.get(b).addAll(stretch.subList(cut, stretch.size()));
      }
    }
    int width = 2 * window;
    double[] mean = new double[width];
    double[] sq = new double[width];
    long n = 0;
    for (List<MarketWindows.Window> t : trains) {
      for (MarketWindows.Window w : t) {
        for (int j = 0; j < width; j++) {
          mean[j] += w.features()[j];
          sq[j] += (double) w.features()[j] * w.features()[j];
        }
        n++;
      }
    }
    double[] std = new double[width];
    for (int j = 0; j < width; j++) {
      mean[j] /= n;
      std[j] = Math.sqrt(Math.max(sq[j] / n - mean[j] * mean[j], 1e-12));
    }
    List<Bank> banks = new ArrayList<>();
    for (int b = 0; b < BANKS; b++) {
      banks.add(new Bank(encode(trains.get(b), mean, std, objective), encode(tests.get(b), mean, std, objective)));
    }
    return banks;
  }

  private static EncodedData encode(List<MarketWindows.Window> windows, double[] mean, double[] std,
      Objective objective) {
    int width = mean.length;
    float[] x = new float[windows.size() * width];
    float[] y = new float[windows.size()];
    for (int r = 0; r < windows.size(); r++) {
      MarketWindows.Window w = windows.get(r);
      for (int j = 0; j < width; j++) {
        x[r * width + j] = (float) ((w.features()[j] - mean[j]) / std[j]);
      }
      y[r] = objective == Objective.BINARY ? (w.up() ? 1f : 0f) : (float) w.nextReturn();
    }
    return new EncodedData(windows.size(), width, x, y);
  }
}
