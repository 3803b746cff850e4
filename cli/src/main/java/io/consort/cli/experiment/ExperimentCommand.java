package io.consort.cli.experiment;

import io.consort.model.data.DataFormatException;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSplitter;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.Datasets;
import io.consort.model.data.SplitStrategy;
import io.consort.model.data.SyntheticBankData;
import io.consort.model.data.Table;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.PrivacyMode;
import io.consort.spec.StrategySpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code consort experiment}: federated strategies and privacy modes against local-only and centralised
 * training, over several seeds, in one process ({@link FederatedExperiment}); prints a Markdown table.
 * docs/results.sh and docs/privacy-utility.sh run it for docs/RESULTS.md and docs/PRIVACY.md.
 */
@Command(name = "experiment", mixinStandardHelpOptions = true,
    description = "Run federated methods, local-only and centralised training on the same splits over several "
        + "seeds, in one process (no network), and print a Markdown table of AUCs.")
public final class ExperimentCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--data", defaultValue = "german-credit",
      description = "german-credit, credit-data (docs/data/credit-data-complete.csv) or synthetic (the generator, "
          + "--synthetic-rows per bank, each bank its own generated file)")
  String data;

  @Option(names = "--synthetic-rows", defaultValue = "100000", description = "rows per bank of --data synthetic")
  int syntheticRows;

  @Option(names = "--banks", defaultValue = "5")
  int banks;

  @Option(names = "--split", defaultValue = "dirichlet:0.5", description = "iid, label-skew, dirichlet:ALPHA")
  String split;

  @Option(names = "--seeds", defaultValue = "5", description = "seeds 1..N (data split and initial model)")
  int seeds;

  @Option(names = "--epsilon", split = ",", defaultValue = "off,3",
      description = "record-level epsilons to run (off: no DP), comma-separated")
  List<String> epsilons;

  @Option(names = "--methods", split = ",",
      defaultValue = "local-only,centralised,fedavg,fedprox,fedadam,fedyogi,dp-fedsgd",
      description = "comma-separated: local-only, centralised, fedavg, fedprox, fedadam, fedyogi (each bank its "
          + "own DP-SGD), dp-fedsgd (distributed record noise: one federated DP-SGD step per round, FedAdam on "
          + "the server)")
  List<String> methods;

  @Option(names = "--rounds", defaultValue = "10", description = "rounds of the local-noise methods")
  int rounds;

  @Option(names = "--steps", defaultValue = "100", description = "rounds (= DP-SGD steps) of dp-fedsgd")
  int steps;

  @Option(names = "--sampling-rate", defaultValue = "0.1", description = "dp-fedsgd's Poisson rate")
  double samplingRate;

  @Option(names = "--server-learning-rate", defaultValue = "0.01", description = "dp-fedsgd's FedAdam step")
  double serverLearningRate;

  @Option(names = "--adaptive-learning-rate", defaultValue = "0.01",
      description = "the server step of fedadam and fedyogi with local noise")
  double adaptiveLearningRate;

  @Option(names = "--model", defaultValue = "mlp", description = "mlp (64-32) or logistic-regression")
  String model;

  @Option(names = "--learning-rate", description = "the banks' Adam step (default: 0.05 for logistic regression; "
      + "for the MLP 0.003, 0.02 under DP-SGD, the demo's)")
  Double learningRate;

  @Option(names = "--proximal-mu", defaultValue = "0.01", description = "fedprox's mu")
  double proximalMu;

  @Option(names = "--colluders", defaultValue = "1", description = "dp-fedsgd's colluding banks k")
  int colluders;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Map<String, double[]>> cells = new LinkedHashMap<>();
    Map<String, double[]> worst = new LinkedHashMap<>();
    Map<String, double[]> best = new LinkedHashMap<>();
    Map<String, double[]> epsilonsSpent = new LinkedHashMap<>();
    long started = System.nanoTime();
    for (int seed = 1; seed <= seeds; seed++) {
      FederatedExperiment.Consortium c = FederatedExperiment.consortium(bankTables(seed), seed);
      for (String eps : epsilons) {
        FederatedExperiment.Privacy privacy = eps.equals("off") ? FederatedExperiment.Privacy.off()
            : new FederatedExperiment.Privacy(Double.parseDouble(eps), 1e-5, 1.0);
        for (String method : methods) {
          String key = method + "|" + eps;
          double auc = Double.NaN;
          double spent = Double.NaN;
          try {
            switch (method) {
              case "local-only" -> {
                var r = FederatedExperiment.localOnly(c, modelSpec(privacy.on(), seed), rounds, privacy);
                auc = mean(r.pooled());
                add(worst, key, min(r.pooled()));
                add(best, key, java.util.Arrays.stream(r.pooled()).max().orElse(Double.NaN));
              }
              case "centralised" -> auc = FederatedExperiment.centralised(c, modelSpec(privacy.on(), seed), rounds,
                  privacy).pooledAuc();
              case "dp-fedsgd" -> {
                if (!privacy.on()) {
                  auc = Double.NaN;
                  break;
                }
                var r = FederatedExperiment.federated(c, job(method, privacy, c, seed));
                auc = r.pooledAuc();
                spent = r.epsilon();
              }
              default -> {
                var r = FederatedExperiment.federated(c, job(method, privacy, c, seed));
                auc = r.pooledAuc();
                spent = r.epsilon();
              }
            }
          } catch (IllegalArgumentException e) {
            // a run that cannot be set up (a bank too small for the batch, say) is reported, not fatal
            out.printf(Locale.ROOT, "<!-- seed %d, %s at epsilon %s failed: %s -->%n", seed, method, eps,
                e.getMessage());
          }
          add(cells.computeIfAbsent(method, m -> new LinkedHashMap<>()), eps, auc);
          add(epsilonsSpent, key, spent);
        }
      }
      out.printf(Locale.ROOT, "<!-- seed %d done, %.0f s -->%n", seed, (System.nanoTime() - started) / 1e9);
      out.flush();
    }
    out.println();
    StringBuilder header = new StringBuilder("| method |");
    StringBuilder rule = new StringBuilder("|---|");
    for (String eps : epsilons) {
      header.append(eps.equals("off") ? " DP off |" : " epsilon " + eps + " |");
      rule.append("---|");
    }
    out.println(header);
    out.println(rule);
    for (String method : methods) {
      StringBuilder row = new StringBuilder("| " + method + " |");
      for (String eps : epsilons) {
        double[] ms = FederatedExperiment.meanAndSd(cells.get(method).get(eps));
        if (Double.isNaN(ms[0])) {
          row.append(" - |");
          continue;
        }
        row.append(String.format(Locale.ROOT, " %.3f ± %.3f", ms[0], ms[1]));
        double[] spent = epsilonsSpent.get(method + "|" + eps);
        double maxSpent = java.util.Arrays.stream(spent).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
        if (!Double.isNaN(maxSpent)) {
          row.append(String.format(Locale.ROOT, " (ε ≤ %.2f)", maxSpent));
        }
        row.append(" |");
      }
      out.println(row);
      if (method.equals("local-only")) {
        for (String which : List.of("worst", "best")) {
          StringBuilder w = new StringBuilder("| local-only, " + which + " bank |");
          for (String eps : epsilons) {
            double[] ms = FederatedExperiment.meanAndSd((which.equals("worst") ? worst : best).get("local-only|" + eps));
            w.append(String.format(Locale.ROOT, " %.3f ± %.3f |", ms[0], ms[1]));
          }
          out.println(w);
        }
      }
    }
    out.printf(Locale.ROOT, "%n<!-- %d seeds, %.0f s -->%n", seeds, (System.nanoTime() - started) / 1e9);
    return 0;
  }

  private static void add(Map<String, double[]> map, String key, double value) {
    double[] old = map.getOrDefault(key, new double[0]);
    double[] grown = java.util.Arrays.copyOf(old, old.length + 1);
    grown[old.length] = value;
    map.put(key, grown);
  }

  private List<Table> bankTables(int seed) throws IOException, DataFormatException {
    switch (data) {
      case "german-credit" -> {
        return DataSplitter.split(Datasets.germanCredit().load(), banks, SplitStrategy.parse(split), seed);
      }
      case "credit-data" -> {
        Table t = DatasetLoader.load(Path.of("docs/data/credit-data-complete.csv"), creditDataSchema());
        return DataSplitter.split(t, banks, SplitStrategy.parse(split), seed);
      }
      case "synthetic" -> {
        Path dir = Files.createTempDirectory("consort-synthetic");
        List<Path> files = SyntheticBankData.writeBanks(dir, new SyntheticBankData.Config((long) syntheticRows * banks,
            banks, 0, 0.04, 0.20, seed));
        List<Table> tables = new ArrayList<>();
        for (Path f : files) {
          tables.add(DatasetLoader.load(f, SyntheticBankData.schema()));
          Files.delete(f);
        }
        Files.delete(dir);
        return tables;
      }
      default -> throw new IllegalArgumentException("--data must be german-credit, credit-data or synthetic, got "
          + data);
    }
  }

  /** docs/data/credit-data-complete.csv: modeldata's credit_data, label Status, positive class bad. */
  static DataSchema creditDataSchema() {
    return new DataSchema(List.of("Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount",
        "Price"), List.of(new DataSchema.CategoricalColumn("Home", List.of()),
        new DataSchema.CategoricalColumn("Marital", List.of()), new DataSchema.CategoricalColumn("Records", List.of()),
        new DataSchema.CategoricalColumn("Job", List.of())), "Status", "bad");
  }

  private ModelSpec modelSpec(boolean dp, long seed) {
    double lr = learningRate != null ? learningRate : model.equals("logistic-regression") ? 0.05
        : dp ? 0.02 : ModelSpec.DEFAULT_LEARNING_RATE;
    return model.equals("logistic-regression")
        ? new ModelSpec(ModelType.LOGISTIC_REGRESSION, List.of(), 32, lr, 0, seed)
        : new ModelSpec(ModelType.MLP, ModelSpec.DEFAULT_HIDDEN_LAYERS, 32, lr, 0, seed);
  }

  private JobSpec job(String method, FederatedExperiment.Privacy privacy, FederatedExperiment.Consortium c,
                      long seed) {
    ModelSpec m = modelSpec(privacy.on(), seed);
    DataSchema schema = c.encoding().schema();
    JobSpecBuilder b = JobSpec.builder().id("experiment").schema(schema).modelType(m.type())
        .hiddenLayers(m.hiddenLayers()).batchSize(m.batchSize()).learningRate(m.learningRate()).modelSeed(seed)
        .rounds(rounds).minBanks(banks).engine(io.consort.model.train.TrainingEngine.NATIVE);
    if (privacy.on()) {
      b.privacy(PrivacyMode.RECORD).targetEpsilon(privacy.epsilon()).delta(privacy.delta())
          .recordClipNorm(privacy.clipNorm());
    }
    switch (method) {
      case "fedavg" -> {}
      case "fedprox" -> b.proximalMu(proximalMu);
      case "fedadam", "fedyogi" -> b.strategy(new StrategySpec(StrategySpec.Name.fromName(method),
          adaptiveLearningRate, StrategySpec.DEFAULT_BETA1, StrategySpec.DEFAULT_BETA2, StrategySpec.DEFAULT_TAU));
      case "dp-fedsgd" -> {
        b.rounds(steps).learningRate(1.0).strategy(new StrategySpec(StrategySpec.Name.FEDADAM, serverLearningRate,
            StrategySpec.DEFAULT_BETA1, StrategySpec.DEFAULT_BETA2, StrategySpec.DEFAULT_TAU));
        if (privacy.on()) {
          b.distributedRecordNoise(true).colludingBanks(colluders).recordSamplingRate(samplingRate);
        }
      }
      default -> throw new IllegalArgumentException("unknown method '" + method + "'");
    }
    return b.build();
  }

  private static double mean(double[] v) {
    return java.util.Arrays.stream(v).average().orElse(Double.NaN);
  }

  private static double min(double[] v) {
    return java.util.Arrays.stream(v).min().orElse(Double.NaN);
  }
}
