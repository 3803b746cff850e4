package io.consort.cli.demo;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.coordinator.BoundPorts;
import io.consort.cli.option.OptionValues;
import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataFormatException;
import io.consort.model.data.DataProfile;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSplitter;
import io.consort.model.data.DataSource;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Datasets;
import io.consort.model.data.SplitStrategy;
import io.consort.model.data.Table;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.wire.ModelWire;
import io.consort.model.train.ModelType;
import io.consort.participant.BankSplit;
import io.consort.model.train.TrainingEngine;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.PrivacyMode;
import io.consort.spec.StrategySpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main job: a whole consortium on this machine. It creates a throwaway PKI, splits the data
 * among N banks (each gets its own CSV file, as a bank would have), starts the coordinator and one
 * daemon per bank as separate JVMs talking mTLS gRPC on loopback, runs the job, trains the
 * centralised and local-only baselines on the same splits, prints a table and writes a report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a local consortium: coordinator and N bank daemons as separate processes.")
public final class DemoCommand implements Callable<Integer> {
  static final String MARKER = ".consort-demo";

  /** How long the coordinator's JVM may take to start and bind its ports. */
  private static final Duration COORDINATOR_START_TIMEOUT = Duration.ofMinutes(2);

  /** How often the coordinator's log is echoed and crashed banks are looked for while it runs. */
  private static final Duration FOLLOW_INTERVAL = Duration.ofMillis(300);

  @Spec
  CommandSpec spec;

  @Option(names = "--banks", defaultValue = "3", description = "number of banks (default ${DEFAULT-VALUE})")
  int banks;

  @Option(names = "--rounds", description = "federated rounds (default 10; with --record-noise distributed, where "
      + "each round is one DP-SGD step, " + DISTRIBUTED_ROUNDS + ")")
  Integer roundsOption;

  /** Rounds: --rounds, or the default of the privacy mode. */
  int rounds;

  /** The distributed recipe's steps, chosen on synthetic data (docs/PRIVACY.md, "Recipes"). */
  static final int DISTRIBUTED_ROUNDS = 60;
  /** The distributed recipe's Poisson rate of each step. */
  static final double DISTRIBUTED_SAMPLING_RATE = 0.2;
  /**
   * The distributed recipe's server step (FedAdam on the noisy mean gradient): 0.03 for logistic regression
   * (chosen on synthetic data), 0.01 for the MLP (chosen on German credit, public data; docs/PRIVACY.md).
   */
  static double distributedServerLearningRate(ModelType type) {
    return type == ModelType.LOGISTIC_REGRESSION ? 0.03 : 0.01;
  }

  @Option(names = "--record-noise", defaultValue = "distributed",
      description = "with record-level DP: local (each bank adds all of its DP-SGD noise, several local steps per "
          + "round) or distributed (one federated DP-SGD step per round, each bank adding only its share of the "
          + "noise under secure aggregation; docs/PRIVACY.md; default ${DEFAULT-VALUE})")
  String recordNoise;

  @Option(names = "--colluders", defaultValue = "1",
      description = "with --record-noise distributed: banks assumed to pool their own noise shares against a "
          + "bank's customers (default ${DEFAULT-VALUE})")
  int colluders;

  @Option(names = "--sampling-rate", description = "with --record-noise distributed: every bank's Poisson rate per "
      + "step (default " + DISTRIBUTED_SAMPLING_RATE + ")")
  Double samplingRate;

  @Option(names = "--proximal-mu", defaultValue = "0",
      description = "FedProx's proximal term mu for the banks' local steps (Li et al. 2020; 0: none; default "
          + "${DEFAULT-VALUE})")
  double proximalMu;

  @Option(names = "--local-epochs", defaultValue = "1", description = "local epochs per round (default ${DEFAULT-VALUE})")
  int localEpochs;

  @Option(names = "--task", defaultValue = "credit", converter = TaskNames.class, completionCandidates = TaskNames.class,
      description = "credit (German credit or --data) or market (direction of the next interval of the real price "
          + "series bundled with ta4j-examples; baselines majority class and last return) (default ${DEFAULT-VALUE})")
  Task task;

  @Option(names = "--target", defaultValue = "direction",
      description = "market task: direction (up or not, AUC) or return (the next interval's scaled return, regression on "
          + "mean squared error, RMSE; baselines predict 0 and last return) (default ${DEFAULT-VALUE})")
  String target;

  @Option(names = "--window", defaultValue = "10",
      description = "market task: time steps per example, of returns and of volumes (default ${DEFAULT-VALUE})")
  int window;

  @Option(names = "--market-split", defaultValue = "period", converter = MarketSplitNames.class,
      completionCandidates = MarketSplitNames.class,
      description = "market task: how the series are divided among the banks: ${COMPLETION-CANDIDATES} (period: each "
          + "bank one stretch of every asset; asset: one asset per bank, --banks 3) (default ${DEFAULT-VALUE})")
  MarketBanks.Split marketSplit;

  @Option(names = "--data", defaultValue = "german-credit",
      description = "german-credit (bundled), or a CSV/ARFF file (default ${DEFAULT-VALUE})")
  String data;

  @Option(names = "--label", description = "label column (required for a file; german-credit: class)")
  String label;

  @Option(names = "--positive", description = "positive class value (german-credit: bad)")
  String positive;

  @Option(names = "--split", defaultValue = "iid", converter = OptionValues.SplitStrategies.class,
      completionCandidates = OptionValues.SplitStrategies.class,
      description = "how the data is divided among the banks: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  SplitStrategy split;

  @Option(names = "--model", defaultValue = "mlp", converter = OptionValues.ModelTypes.class,
      completionCandidates = OptionValues.ModelTypes.class,
      description = "model: ${COMPLETION-CANDIDATES} (logreg for short; default ${DEFAULT-VALUE})")
  ModelType model;

  @Option(names = "--seed", defaultValue = "42", description = "seed for the data split and model init (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--report", description = "report JSON file (default WORK_DIR/report.json)")
  Path report;

  @Option(names = "--work-dir", defaultValue = "consort-work/demo",
      description = "where the PKI, configs, bank data and logs go (default ${DEFAULT-VALUE})")
  Path workDir;

  @Option(names = "--dp", defaultValue = "record", converter = OptionValues.PrivacyModes.class,
      completionCandidates = OptionValues.PrivacyModes.class,
      description = "differential privacy: ${COMPLETION-CANDIDATES} (record: DP-SGD in each bank; bank: noise on the "
          + "securely aggregated sum; default ${DEFAULT-VALUE})")
  PrivacyMode dp;

  @Option(names = "--epsilon", defaultValue = "3", description = "each bank's record-level epsilon cap and the job's target (default ${DEFAULT-VALUE})")
  double epsilon;

  @Option(names = "--delta", defaultValue = "1e-5", description = "delta (default ${DEFAULT-VALUE})")
  double delta;

  @Option(names = "--clip", defaultValue = "1.0", description = "DP-SGD per-example clip norm (default ${DEFAULT-VALUE})")
  double clip;

  @Option(names = "--learning-rate", description = "Adam step size (default 0.003 without record-level DP, 0.02 with it:"
      + " DP-SGD noise shrinks Adam's effective step, so private jobs need a larger one)")
  Double learningRate;

  @Option(names = "--engine", converter = OptionValues.TrainingEngines.class,
      completionCandidates = OptionValues.TrainingEngines.class,
      description = "local training engine: ${COMPLETION-CANDIDATES} (default: native, which computes every model)")
  TrainingEngine engine;

  @Option(names = "--batch", defaultValue = "32", description = "batch size, the expected Poisson batch under DP-SGD (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--secure-aggregation", defaultValue = "on", converter = OptionValues.OnOffNames.class,
      completionCandidates = OptionValues.OnOffNames.class,
      description = "secure aggregation: ${COMPLETION-CANDIDATES} (on: the coordinator sees only the sum of the banks' "
          + "masked updates; off: the plaintext baseline; default ${DEFAULT-VALUE})")
  OptionValues.OnOff secureAggregation;

  @Option(names = "--consistency-check", defaultValue = "on", converter = OptionValues.OnOffNames.class,
      completionCandidates = OptionValues.OnOffNames.class,
      description = "secure aggregation's consistency check: ${COMPLETION-CANDIDATES} (on, it runs only in rounds someone "
          + "dropped from; off: no check even then, secure against an honest-but-curious coordinator only; default "
          + "${DEFAULT-VALUE})")
  OptionValues.OnOff consistencyCheck;

  @Option(names = "--unmasking", defaultValue = "after-inputs", description = "after-inputs (an unmasking stage "
      + "after the masked inputs) or with-input (each bank's b-shares travel with its masked input, two stages a "
      + "round; a round with a missing input is abandoned; default ${DEFAULT-VALUE})")
  String unmasking;

  @Option(names = "--key-rounds", defaultValue = "1", description = "job rounds a bank's key pairs serve in pipelined "
      + "rounds (secure_aggregation.key_rounds; above 1 needs --unmasking with-input; default ${DEFAULT-VALUE})")
  int keyRounds;

  @Option(names = "--self-mask", description = "on or off: whether each bank adds a self mask and shares its seeds "
      + "(secure_aggregation.self_mask; off needs --unmasking with-input; default: off with --unmasking with-input, on "
      + "otherwise)")
  String selfMask;

  @Option(names = "--drop", paramLabel = "BANK@STAGE", converter = DropFault.Converter.class,
      completionCandidates = DropFault.Converter.class,
      description = "fault injection: that bank's process exits when a task of that stage arrives; STAGE one of "
          + "${COMPLETION-CANDIDATES}; repeatable (a round runs consistency-check only after someone dropped, and "
          + "share-keys and masked-input only when it is not keyed ahead: docs/PROTOCOL.md)")
  List<DropFault> drops = new ArrayList<>();

  @Option(names = "--stage-timeout", description = "seconds per round stage (default 120; 900 for the market task, "
      + "whose DP-SGD clips sequence models example by example)")
  Integer stageTimeout;
  int stageTimeoutSeconds;

  @Option(names = "--strategy", defaultValue = "fedavg", converter = OptionValues.Strategies.class,
      completionCandidates = OptionValues.Strategies.class,
      description = "how the coordinator applies each round's aggregate: ${COMPLETION-CANDIDATES} (the adaptive ones "
          + "with Reddi et al.'s defaults; default ${DEFAULT-VALUE})")
  StrategySpec.Name strategy;

  @Option(names = "--server-learning-rate", description = "the server step of fedavgm, fedadam, fedyogi or fedadagrad "
      + "(default 1 for fedavgm, 0.01 for the adaptive ones)")
  Double serverLearningRate;

  @Option(names = "--costs", paramLabel = "FN:FP",
      description = "cost of approving a bad applicant and of refusing a good one, or none (default 5:1 for "
          + "german-credit, from its documentation; none for a file); sets the published decision threshold")
  String costs;

  @Option(names = "--keep-running", description = "keep the coordinator and banks running after the job (Ctrl-C "
      + "stops them); prints the dashboard's address and a 'consort job submit' line for the next job")
  boolean keepRunning;

  @Option(names = "--restart-coordinator-at", paramLabel = "ROUND[:STAGE]", converter = CoordinatorKill.Converter.class,
      description = "kill the coordinator (SIGKILL) once it has that round's stage open (any stage without "
          + ":STAGE, e.g. 2:masked-input), then start it again: the round is recorded as an aborted attempt and "
          + "runs again from the last checkpoint")
  CoordinatorKill restartCoordinatorAt;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    validateOptions();
    Path work = prepareWorkDir(workDir.toAbsolutePath().normalize());
    Path reportFile = report != null ? report.toAbsolutePath() : work.resolve("report.json");

    // ---------------------------------------------------------------- data and its split among banks
    MarketBanks.Data market = task == Task.MARKET
        ? MarketBanks.write(work.resolve("source"), banks, window, marketSplit) : null;
    Datasets.BundledDataset dataset = market != null ? new Datasets.BundledDataset(market.allRows(),
        returnTarget() ? MarketBanks.returnSchema(window) : market.schema())
        : dataset(work.resolve("source"), out);
    Table table = DatasetLoader.load(dataset.file(), dataset.schema());
    List<String> bankNames = new ArrayList<>();
    for (int i = 1; i <= banks; i++) {
      bankNames.add("bank-" + i);
    }
    // each bank gets its share of the source file as it is: missing values, sentinels and markers included;
    // the market task's banks get their series' windows (by period or by asset)
    List<int[]> shares = market != null ? null : DataSplitter.assign(table, banks, split, seed);
    if (market != null) {
      out.printf("market series (ta4j-examples 0.18): %s%n", String.join("; ", market.description()));
    }
    String negativeLabel = market != null ? "0"
        : "german-credit".equals(data) ? "good" : "not-" + dataset.schema().positiveClass();
    Map<String, Path> bankFiles = new LinkedHashMap<>();
    for (int i = 0; i < banks; i++) {
      Path bankDir = Files.createDirectories(work.resolve("banks").resolve(bankNames.get(i)));
      bankFiles.put(bankNames.get(i), bankDir.resolve("data.csv"));
    }
    if (market != null) {
      for (int i = 0; i < banks; i++) {
        Files.copy(market.bankFiles().get(i), bankFiles.get(bankNames.get(i)),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    } else {
      BankDataFiles.writeShares(dataset.file(), shares, List.copyOf(bankFiles.values()));
    }
    out.printf("Consort demo: %s, %d rows, %d features, %d banks (%s split), %d rounds, model %s%n", datasetName(),
        table.rows(), dataset.schema().featureColumns().size(), banks, splitName(), rounds, model.wireName());

    // ---------------------------------------------------------------- PKI and configs
    DemoPki pki = DemoPki.create(work.resolve("pki"), "coordinator", bankNames);
    JobSpec plan = jobSpec(dataset.schema());
    Path coordinatorYaml = work.resolve("coordinator.yaml");
    // port 0: the coordinator binds whatever ports are free and publishes them (BoundPorts)
    writeCoordinatorConfig(coordinatorYaml, work, pki.coordinator(), 0, 0, plan);

    // ---------------------------------------------------------------- run the federation
    long started = System.nanoTime();
    Path logDir = Files.createDirectories(work.resolve("logs"));
    Path coordinatorData = work.resolve("coordinator-data");
    Path result = coordinatorData.resolve("jobs").resolve(plan.id() + "-result.json");
    int coordinatorStatus;
    Map<String, Path> bankYamls = new LinkedHashMap<>();
    NodeProcesses nodes = new NodeProcesses(logDir);
    int apiPort;
    try {
      nodes.start("coordinator", "1g", "coordinator", "--config", coordinatorYaml.toString());
      nodes.awaitFile("coordinator", BoundPorts.file(coordinatorData), COORDINATOR_START_TIMEOUT);
      BoundPorts ports = BoundPorts.read(coordinatorData).orElseThrow();
      // the ports it got go into the configs, so the work dir also starts the federation by hand
      writeCoordinatorConfig(coordinatorYaml, work, pki.coordinator(), ports.grpc(), ports.api(), plan);
      for (String bank : bankNames) {
        Path yaml = work.resolve(bank + ".yaml");
        writeBankConfig(yaml, work, pki.bank(bank), ports.grpc(), bankFiles.get(bank), bank);
        bankYamls.put(bank, yaml);
      }
      out.printf("PKI, configs and bank data in %s%n", work);
      out.printf("operator API while it runs: curl --cacert %s --cert %s --key %s https://localhost:%d/api/v1/job%n",
          work.relativize(pki.operator().caFile()), work.relativize(pki.operator().chainFile()),
          work.relativize(pki.operator().keyFile()), ports.api());
      out.flush();
      for (String bank : bankNames) {
        nodes.start(bank, "768m", "participant", "--config", bankYamls.get(bank).toString());
      }
      apiPort = ports.api();
      CoordinatorKill.Watch watch = restartCoordinatorAt == null ? null
          : restartCoordinatorAt.watch(URI.create("https://localhost:" + ports.api()), pki.operator());
      try {
        coordinatorStatus = followCoordinator(nodes, out, watch, keepRunning ? result : null);
      } finally {
        if (watch != null) {
          watch.close();
        }
      }
    } finally {
      if (!keepRunning) {
        nodes.close();
      }
    }
    if (keepRunning) {
      // the processes stop when this one does (Ctrl-C, SIGTERM): SIGTERM to each, as the plain demo does
      Runtime.getRuntime().addShutdownHook(new Thread(nodes::close, "consort-demo-stop"));
    }
    if (coordinatorStatus != 0 || !Files.exists(result)) {
      throw new IllegalStateException("the federated job did not complete (coordinator exit status "
          + coordinatorStatus + "); see " + logDir.resolve("coordinator.log"));
    }
    JsonObject job = new JsonObject(Files.readString(result));
    double federationSeconds = (System.nanoTime() - started) / 1e9;

    // ---------------------------------------------------------------- baselines on the same splits
    Path finalModelFile = result.resolveSibling(plan.id() + "-final-model.pb");
    ModelParameters finalModel = io.consort.protocol.WireLimits.decode(ModelParameters.parser(),
        Files.readAllBytes(finalModelFile), io.consort.protocol.WireLimits.DEFAULT_MAX_MESSAGE_BYTES,
        "final model " + finalModelFile);
    DataSchema schema = dataset.schema();
    FeatureEncoding encoding = ModelWire.encoding(schema, finalModel.getEncoding());
    Map<String, DataSplitter.TrainTest> splits = new LinkedHashMap<>();
    for (String bank : bankNames) {
      // each bank's own split (its test fraction and secret split key), read as the bank reads it
      splits.put(bank, BankSplit.of(io.consort.cli.ConfigFiles.participant(bankYamls.get(bank)),
          DatasetLoader.load(bankFiles.get(bank), schema)));
    }
    // non-private baselines use the non-private step size; the DP baseline the job's own settings
    io.consort.model.train.ModelSpec jobSpec = distributed() ? plan.model().withLearningRate(0.02) : plan.model();
    boolean recordDp = dp.recordLevel();
    io.consort.model.train.ModelSpec plainSpec = recordDp && learningRate == null
        ? jobSpec.withLearningRate(io.consort.model.train.ModelSpec.DEFAULT_LEARNING_RATE) : jobSpec;
    // the baselines train the local-noise recipe's passes (10 epochs by default)
    int baselineRounds = distributed() && roundsOption == null ? 10 : rounds;
    Baselines.DpTarget dpTarget = recordDp ? new Baselines.DpTarget(epsilon, delta, clip) : null;
    Baselines.Result baselines = Baselines.run(plainSpec, encoding, splits, baselineRounds, localEpochs, dpTarget,
        jobSpec);
    // what each bank gains is measured in AUC; a regression job reports its baselines' RMSE instead
    Map<String, Baselines.BankGain> gains = returnTarget() ? Map.of() : Baselines.gains(plainSpec, jobSpec, encoding,
        splits, baselineRounds * localEpochs, dpTarget, plan.model(), ModelWire.values(finalModel));
    Baselines.Naive naive = market != null && !returnTarget() ? Baselines.naive(encoding, splits, window - 1) : null;
    Baselines.NaiveReturn naiveReturn = returnTarget() ? Baselines.naiveReturn(splits, window - 1) : null;

    // the bank's Scorer computes every dense network in plain Java; a sequence model is scored by `consort score`
    // on the native engine, and not here
    HeldOutScoring scoring = !jobSpec.type().isSequence()
        ? scoreHeldOut(job, result.getParent(), splits, negativeLabel, work, bankYamls) : null;
    JsonObject reportJson = report(job, table, schema, encoding, baselines, federationSeconds, work);
    if (job.getJsonObject("preprocessing") != null) {
      reportJson.put("preprocessing", job.getJsonObject("preprocessing").copy());
    }
    JsonObject gainJson = new JsonObject();
    gains.forEach((bank, g) -> gainJson.put(bank, new JsonObject().put("local_only_auc", g.localOnlyAuc())
        .put("local_only_dp_auc", g.localOnlyDpAuc()).put("consortium_auc", g.consortiumAuc()).put("gain", g.gain())));
    reportJson.put("per_bank_gain", gainJson).put("guarantee", guarantee(plan));
    if (naive != null) {
      reportJson.getJsonObject("baselines").put("majority_class", new JsonObject().put("auc", naive.majorityAuc())
              .put("accuracy", naive.majorityAccuracy()))
          .put("last_return", new JsonObject().put("auc", naive.lastReturnAuc()).put("accuracy",
              naive.lastReturnAccuracy()));
    }
    if (market != null) {
      reportJson.put("task", "market").put("target", returnTarget() ? "return" : "direction").put("window", window)
          .put("market_split", marketSplit.wireName());
    }
    if (naiveReturn != null) {
      reportJson.getJsonObject("baselines").put("predict_zero", new JsonObject().put("rmse", naiveReturn.zeroRmse()))
          .put("last_return", new JsonObject().put("rmse", naiveReturn.lastReturnRmse()));
    }
    if (job.getJsonObject("published_model") != null) {
      reportJson.put("published_model", job.getJsonObject("published_model").copy()
          .put("path", result.resolveSibling(job.getJsonObject("published_model").getString("file")).toString()));
    }
    if (scoring != null) {
      reportJson.put("held_out_scoring", scoring.json());
    }
    Files.createDirectories(reportFile.toAbsolutePath().getParent());
    Files.writeString(reportFile, reportJson.encodePrettily());
    printSummary(out, reportJson);
    out.printf("Report: %s%n", reportFile);
    if (keepRunning) {
      keepServing(out, work, pki, apiPort, plan);
    }
    return 0;
  }

  /**
   * Leaves the consortium running: writes a next job (the same one under a new id) and prints where
   * the dashboard is and how to submit it, then waits until this process is stopped.
   */
  private void keepServing(PrintWriter out, Path work, DemoPki pki, int apiPort, JobSpec plan) throws Exception {
    JobSpec next = io.consort.spec.JobSpecWire.fromProto(io.consort.spec.JobSpecWire.toProto(plan).toBuilder()
        .setJobId(plan.id() + "-2").build());
    Path nextJob = work.resolve("next-job.yaml");
    io.consort.cli.ConfigFiles.write(nextJob, io.consort.cli.ConfigFiles.jobYaml(next, banks, 300, stageTimeoutSeconds));
    Path operatorDir = pki.operator().keyFile().getParent();
    out.println();
    out.printf("The coordinator and the banks keep running (Ctrl-C stops them).%n");
    out.printf("dashboard: https://localhost:%d/ (import %s into the browser: openssl pkcs12 -export -inkey %s -in %s "
        + "-out operator.p12; trust %s)%n", apiPort, operatorDir, pki.operator().keyFile(), pki.operator().chainFile(),
        pki.operator().caFile());
    out.printf("next job:  ./consort job submit %s --api https://localhost:%d --identity %s%n", nextJob, apiPort,
        operatorDir);
    out.printf("           (each bank's cap counts every job: a bank whose budget this job spent declines the next;%n"
        + "            run the demo with a larger --epsilon cap, or lower the job's target_epsilon, to see it run)%n");
    out.printf("jobs:      ./consort job list --api https://localhost:%d --identity %s%n", apiPort, operatorDir);
    out.printf("metrics:   curl --cacert %s --cert %s --key %s https://localhost:%d/metrics%n", pki.operator().caFile(),
        pki.operator().chainFile(), pki.operator().keyFile(), apiPort);
    out.flush();
    new java.util.concurrent.CountDownLatch(1).await();
  }

  // ------------------------------------------------------------------ options and inputs

  private void validateOptions() {
    stageTimeoutSeconds = stageTimeout != null ? stageTimeout : task == Task.MARKET ? 900 : 120;
    if (stageTimeoutSeconds < 1) {
      throw new IllegalArgumentException("--stage-timeout must be >= 1, got " + stageTimeoutSeconds);
    }
    if (banks < 2 || banks > 64) {
      // a consortium is at least two banks: a sum of one bank's update is that bank's update
      throw new IllegalArgumentException("--banks must be between 2 and 64, got " + banks);
    }
    if (!recordNoise.equals("local") && !recordNoise.equals("distributed")) {
      throw new IllegalArgumentException("--record-noise must be local or distributed, got '" + recordNoise + "'");
    }
    io.consort.cli.bench.RoundBenchCommand.requireKeyRounds(keyRounds, unmasking);
    io.consort.cli.bench.RoundBenchCommand.selfMask(selfMask, unmasking);
    rounds = roundsOption != null ? roundsOption : distributed() ? DISTRIBUTED_ROUNDS : 10;
    if (rounds < 1) {
      throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
    }
    if (distributed() && localEpochs != 1) {
      throw new IllegalArgumentException("--local-epochs must be 1 with --record-noise distributed: each round is one "
          + "DP-SGD step");
    }
    if (localEpochs < 1) {
      throw new IllegalArgumentException("--local-epochs must be >= 1, got " + localEpochs);
    }
    if (dp != PrivacyMode.OFF) {
      io.consort.privacy.DpPreconditions.checkEpsilon(epsilon);
      io.consort.privacy.DpPreconditions.checkDelta(delta);
      io.consort.privacy.DpPreconditions.checkClipNorm(clip);
    }
    if (dp.bankLevel() && !secureAggregation.on()) {
      throw new IllegalArgumentException("--dp " + dp.wireName() + " needs secure aggregation (bank-level noise shares "
          + "are added under masking)");
    }
    if (restartCoordinatorAt != null && restartCoordinatorAt.stage() == io.consort.protocol.v1.Stage.EVALUATE
        && secureAggregation.on() && restartCoordinatorAt.round() != rounds) {
      throw new IllegalArgumentException("--restart-coordinator-at " + restartCoordinatorAt + ": under secure "
          + "aggregation only the last round (" + rounds + ") has an evaluate stage; every other round's model is "
          + "evaluated in the next round's secure sum");
    }
    for (DropFault drop : drops) {
      if (drop.bank() > banks) {
        throw new IllegalArgumentException("--drop " + drop + ": no such bank (banks are bank-1 .. bank-" + banks + ")");
      }
    }
    if (batch < 1) {
      throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
    }
    if (task == Task.MARKET && !"german-credit".equals(data)) {
      throw new IllegalArgumentException("--data applies to --task credit; the market task uses the price series "
          + "bundled with ta4j-examples");
    }
    if (task == Task.CREDIT && model.isSequence()) {
      throw new IllegalArgumentException("--model " + model.wireName() + " reads a window of a time series: use it "
          + "with --task market");
    }
    if (window < 1) {
      throw new IllegalArgumentException("--window must be >= 1, got " + window);
    }
    if (task == Task.MARKET) {
      if (marketSplit == MarketBanks.Split.ASSET && banks != io.consort.model.market.MarketSeries.bundled().size()) {
        throw new IllegalArgumentException("--market-split asset gives each bank one asset: --banks must be "
            + io.consort.model.market.MarketSeries.bundled().size() + ", got " + banks);
      }
      for (io.consort.model.market.MarketSeries s : io.consort.model.market.MarketSeries.bundled()) {
        try {
          io.consort.model.market.MarketWindows.of(s, window);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("--window: " + e.getMessage(), e);
        }
      }
    }
    if (!"direction".equals(target) && !"return".equals(target)) {
      throw new IllegalArgumentException("--target must be direction or return, got '" + target + "'");
    }
    if (task != Task.MARKET && !"direction".equals(target)) {
      throw new IllegalArgumentException("--target applies to --task market");
    }
    if (task == Task.MARKET && costs != null && !"none".equals(costs)) {
      throw new IllegalArgumentException("--costs applies to credit decisions, not to the market task");
    }
    if (!"german-credit".equals(data) && label == null) {
      throw new IllegalArgumentException("--label is required with --data " + data);
    }
    if (!"german-credit".equals(data) && positive == null) {
      throw new IllegalArgumentException("--positive is required with --data " + data);
    }
    costMatrix();
    strategySpec();
  }

  /**
   * The data and its schema: german-credit's own, or what {@code consort data profile} proposes for the
   * file (column types, and preprocessing for its missing values, sentinels, heavy tails and rare
   * categories), printed so that the run says what it does with the data.
   */
  private Datasets.BundledDataset dataset(Path sourceDir, PrintWriter out) throws IOException, DataFormatException {
    Files.createDirectories(sourceDir);
    Path file;
    if ("german-credit".equals(data)) {
      Datasets.BundledDataset german = Datasets.germanCredit(sourceDir);
      if (label == null && positive == null) {
        return german;
      }
      file = german.file();
    } else {
      file = Path.of(data);
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("--data: file " + file + " does not exist");
      }
    }
    DataProfile profile = DataProfile.of(DataSource.file(file), label == null ? "class" : label,
        positive == null ? "bad" : positive);
    DataSchema schema = profile.proposedSchema(DataProfile.Proposal.WITH_PREPROCESSING);
    out.printf("schema (proposed by the profiler, as `consort data profile %s --label %s --positive %s` prints it): "
        + "numeric %s, categorical %s%n", file, schema.labelColumn(), schema.positiveClass(), schema.numericColumns(),
        schema.categoricalColumns().stream().map(DataSchema.CategoricalColumn::name).toList());
    profile.leftOut().forEach((column, why) -> out.printf("  left out: %s (%s)%n", column, why));
    for (String column : schema.numericColumns()) {
      NumericRules r = schema.preprocessing().numeric(column);
      if (!r.isDefault()) {
        List<String> parts = new ArrayList<>();
        parts.add("missing: " + r.imputation().wireName() + (r.missingIndicator() ? " + indicator" : ""));
        if (!r.sentinels().isEmpty() || !r.textSentinels().isEmpty()) {
          parts.add("sentinels " + r.writtenSentinels());
        }
        r.clip().ifPresent(c -> parts.add("clip at the " + c.lower() + " and " + c.upper() + " quantiles"));
        out.printf("  %s: %s%n", column, String.join("; ", parts));
      }
    }
    for (DataSchema.CategoricalColumn column : schema.categoricalColumns()) {
      CategoricalRules r = schema.preprocessing().categorical(column.name());
      if (!r.isDefault()) {
        List<String> parts = new ArrayList<>();
        parts.add("missing: " + r.imputation().wireName() + (r.missingIndicator() ? " + indicator" : ""));
        if (!r.sentinels().isEmpty()) {
          parts.add("sentinels " + r.sentinels());
        }
        if (r.unseenToOther()) {
          parts.add("unseen or rare categories -> other");
        }
        out.printf("  %s: %s%n", column.name(), String.join("; ", parts));
      }
    }
    return new Datasets.BundledDataset(file, schema);
  }

  private String datasetName() {
    return task == Task.MARKET ? "market" : "german-credit".equals(data) ? "german-credit"
        : Path.of(data).getFileName().toString();
  }

  private String splitName() {
    return task == Task.MARKET ? "by " + marketSplit.wireName() : OptionValues.SplitStrategies.name(split);
  }

  /** The demo's task. */
  enum Task { CREDIT, MARKET }

  /** {@code --task}: credit or market. */
  public static final class TaskNames extends io.consort.cli.option.NamedValues<Task> {
    public TaskNames() {
      super(List.of(Task.values()), t -> t.name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  /** {@code --market-split}: period or asset. */
  public static final class MarketSplitNames extends io.consort.cli.option.NamedValues<MarketBanks.Split> {
    public MarketSplitNames() {
      super(List.of(MarketBanks.Split.values()), MarketBanks.Split::wireName);
    }
  }

  /** Whether the job shares its record-level DP-SGD noise among the banks (only with --dp record). */
  private boolean distributed() {
    return dp == PrivacyMode.RECORD && recordNoise.equals("distributed") && secureAggregation.on();
  }

  private JobSpec jobSpec(DataSchema schema) {
    JobSpecBuilder b = JobSpec.builder().id("demo").schema(schema).modelType(model).batchSize(batch)
        // DP-SGD noise shrinks Adam's effective step, so private jobs need a larger one (docs/PRIVACY.md);
        // with distributed noise the mean gradient goes to the server's FedAdam as it is (step 1)
        .learningRate(learningRate != null ? learningRate : distributed() ? 1.0
            : dp.recordLevel() ? 0.02 : io.consort.model.train.ModelSpec.DEFAULT_LEARNING_RATE)
        .modelSeed(seed).engine(engine).window(model.isSequence() ? window : null)
        .rounds(rounds).localEpochs(localEpochs).minBanks(Math.max(2, banks / 2 + banks % 2))
        .histogramBins(JobSpecBuilder.DEFAULT_HISTOGRAM_BINS)
        .privacy(dp).delta(delta).targetEpsilon(dp == PrivacyMode.OFF ? null : epsilon)
        .recordClipNorm(dp.recordLevel() ? clip : null)
        .secureAggregation(secureAggregation.on()).consistencyCheck(consistencyCheck.on()).modulusBits(32)
        .unmaskingWithInput(secureAggregation.on()
            && io.consort.cli.bench.RoundBenchCommand.unmaskingWithInput(unmasking))
        .keyRounds(keyRounds)
        .selfMask(secureAggregation.on() ? io.consort.cli.bench.RoundBenchCommand.selfMask(selfMask, unmasking) : null)
        // without bank-level DP the clip only bounds quantisation; keep it loose so it rarely bites
        .secureAggregationClipNorm(dp.bankLevel() ? clip : 10.0)
        .costMatrix(returnTarget() ? null : costMatrix()).strategy(strategySpec()).proximalMu(proximalMu)
        .objective(returnTarget() ? io.consort.model.train.Objective.REGRESSION : io.consort.model.train.Objective.BINARY);
    if (distributed()) {
      // every bank must survive for the shares to carry exactly z (t = n); a dropout aborts the round
      b.distributedRecordNoise(true).colludingBanks(colluders).minBanks(banks)
          .recordSamplingRate(samplingRate != null ? samplingRate : DISTRIBUTED_SAMPLING_RATE);
    }
    return b.build();
  }

  /** The server rule: --strategy with its defaults, and --server-learning-rate if given. */
  private StrategySpec strategySpec() {
    StrategySpec defaults = StrategySpec.defaults(strategy);
    if (serverLearningRate == null && distributed() && strategy == StrategySpec.Name.FEDAVG) {
      // the distributed recipe: FedAdam on the noisy mean gradient (DP-Adam at the server)
      return new StrategySpec(StrategySpec.Name.FEDADAM, distributedServerLearningRate(model),
          StrategySpec.DEFAULT_BETA1, StrategySpec.DEFAULT_BETA2, StrategySpec.DEFAULT_TAU);
    }
    if (serverLearningRate == null) {
      return defaults;
    }
    if (strategy == StrategySpec.Name.FEDAVG) {
      throw new IllegalArgumentException("--server-learning-rate applies to fedavgm, fedadam, fedyogi and fedadagrad; "
          + "fedavg applies the mean update as it is");
    }
    try {
      return new StrategySpec(strategy, serverLearningRate, defaults.beta1(), defaults.beta2(), defaults.tau());
    } catch (io.consort.spec.InvalidJobSpecException e) {
      throw new IllegalArgumentException("--server-learning-rate: " + e.getMessage(), e);
    }
  }

  /** The job's cost matrix: --costs, or German credit's documented 5:1 on german-credit. */
  private io.consort.spec.CostMatrix costMatrix() {
    if (costs == null) {
      return "german-credit".equals(data) ? io.consort.spec.CostMatrix.GERMAN_CREDIT : null;
    }
    if ("none".equals(costs)) {
      return null;
    }
    String[] parts = costs.split(":", -1);
    try {
      if (parts.length == 2) {
        return new io.consort.spec.CostMatrix(Double.parseDouble(parts[0]), Double.parseDouble(parts[1]));
      }
    } catch (NumberFormatException e) {
      // reported below
    } catch (io.consort.spec.InvalidJobSpecException e) {
      throw new IllegalArgumentException("--costs " + costs + ": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("--costs must be FN:FP (two numbers, e.g. 5:1) or none, got '" + costs + "'");
  }

  private static Path prepareWorkDir(Path work) throws IOException {
    if (Files.exists(work)) {
      boolean empty;
      try (Stream<Path> s = Files.list(work)) {
        empty = s.findAny().isEmpty();
      }
      if (!empty && !Files.exists(work.resolve(MARKER))) {
        throw new IllegalArgumentException("--work-dir " + work + " is not empty and was not made by a demo; "
            + "choose another directory");
      }
      try (Stream<Path> s = Files.walk(work)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(work);
    Files.writeString(work.resolve(MARKER), "made by consort demo; deleted by the next demo run\n");
    return work;
  }

  // ------------------------------------------------------------------ configs

  private void writeCoordinatorConfig(Path yaml, Path work, TlsMaterial tls, int port, int apiPort, JobSpec plan)
      throws IOException {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("listen", Map.of("host", "127.0.0.1", "port", port));
    c.put("api", Map.of("port", apiPort));
    c.put("tls", tlsMap(work, tls, true));
    c.put("data_dir", "coordinator-data");
    c.put("exit_when_done", !keepRunning);
    c.put("job", io.consort.cli.ConfigFiles.jobYaml(plan, banks, 300, stageTimeoutSeconds));
    io.consort.cli.ConfigFiles.write(yaml, c);
  }

  private void writeBankConfig(Path yaml, Path work, TlsMaterial tls, int port, Path dataFile, String bank)
      throws IOException {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("coordinator", Map.of("host", "localhost", "port", port));
    c.put("tls", tlsMap(work, tls, true)); // the bank checks relayed peer certificates against the CRL too
    c.put("data", Map.of("file", work.relativize(dataFile).toString(),
        "dir", work.relativize(dataFile.getParent().resolve("local")).toString()));
    c.put("privacy", Map.of("epsilon_cap", epsilon, "delta", delta));
    // each bank's own policy admits exactly the kind of job the demo was asked to run
    c.put("policy", Map.of("allow_non_private_jobs", !dp.recordLevel(),
        "require_secure_aggregation", secureAggregation.on(), "min_banks", 2));
    for (DropFault drop : drops) {
      if (drop.bankName().equals(bank)) {
        c.put("fault", Map.of("exit_at_stage", drop.stage()));
      }
    }
    io.consort.cli.ConfigFiles.write(yaml, c);
  }

  private static Map<String, Object> tlsMap(Path work, TlsMaterial tls, boolean withCrl) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("key", work.relativize(tls.keyFile()).toString());
    m.put("cert", work.relativize(tls.chainFile()).toString());
    m.put("ca", work.relativize(tls.caFile()).toString());
    if (withCrl) {
      m.put("crl", work.relativize(tls.crlFile()).toString());
    }
    return m;
  }

  // ------------------------------------------------------------------ the published model at work

  /** The held-out rows scored as a bank scores with the published model, and how many banks kept it. */
  private record HeldOutScoring(JsonObject json) {}

  /**
   * Writes the banks' pooled held-out rows as one CSV (with the label) and scores it with the
   * coordinator's published model, as {@code consort score} does, so the report shows the model at
   * work on rows it was not trained on (they are the rows its calibration was fitted on, in the
   * merged histograms). Also checks that every bank kept a copy identical to the coordinator's.
   */
  private HeldOutScoring scoreHeldOut(JsonObject job, Path jobsDir, Map<String, DataSplitter.TrainTest> splits,
                                      String negativeLabel, Path work, Map<String, Path> bankYamls) throws IOException {
    JsonObject published = job.getJsonObject("published_model");
    if (published == null) {
      return null;
    }
    Path modelFile = jobsDir.resolve(published.getString("file"));
    Path heldOut = work.resolve("held-out.csv");
    BankDataFiles.writeCsv(Table.concat(splits.values().stream().map(DataSplitter.TrainTest::test).toList(),
        "held-out"), negativeLabel, heldOut);
    Path scores = work.resolve("held-out-scores.csv");
    io.consort.scoring.Scorer scorer = io.consort.scoring.Scorer.load(modelFile);
    java.util.List<String> refused = new ArrayList<>();
    io.consort.scoring.rows.ScoringRun.Summary summary;
    long started = System.nanoTime();
    try (io.consort.scoring.rows.RowSource rows = io.consort.scoring.rows.CsvRowSource.open(heldOut);
         java.io.Writer w = Files.newBufferedWriter(scores)) {
      summary = io.consort.scoring.rows.ScoringRun.run(scorer, rows, List.of(), w, r -> refused.add(r.toString()));
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    int copies = 0;
    for (Path yaml : bankYamls.values()) {
      Path copy = io.consort.cli.ConfigFiles.participant(yaml).dataDir().resolve("jobs").resolve(modelFile.getFileName());
      if (Files.exists(copy) && java.util.Arrays.equals(Files.readAllBytes(copy), Files.readAllBytes(modelFile))) {
        copies++;
      }
    }
    JsonObject json = new JsonObject().put("file", heldOut.toString()).put("scores", scores.toString())
        .put("rows", summary.rows()).put("scored", summary.scored()).put("refused", summary.refused())
        .put("declined", summary.declined()).put("seconds", seconds).put("banks_with_identical_copy", copies)
        .put("command", "./consort score --model " + modelFile + " --data " + heldOut + " --out " + scores);
    summary.labelled().ifPresent(l -> {
      json.put("auc", l.auc()).put("log_loss", l.logLoss()).put("model_log_loss", l.modelLogLoss())
          .put("brier", l.brier()).put("model_brier", l.modelBrier()).put("accuracy_at_threshold", l.accuracy());
      l.expectedCost().ifPresent(c -> json.put("expected_cost", c));
    });
    return new HeldOutScoring(json);
  }

  // ------------------------------------------------------------------ progress and report

  /**
   * Echoes the coordinator's round lines while it runs and restarts banks that died by fault
   * injection; returns the coordinator's exit status as soon as it exits.
   */
  /**
   * Echoes the coordinator's log until it exits (its status), or, with {@code doneWhen}, until that
   * file exists (0: a coordinator kept running). With {@code watch}, kills and restarts it once.
   */
  private static int followCoordinator(NodeProcesses nodes, PrintWriter out, CoordinatorKill.Watch watch,
                                       Path doneWhen) throws Exception {
    Path log = nodes.logFile("coordinator");
    long offset = 0;
    while (true) {
      boolean exited = nodes.awaitExit("coordinator", watch != null && !watch.done() ? CoordinatorKill.POLL
          : FOLLOW_INTERVAL);
      offset = echoNew(log, offset, out);
      if (exited) {
        return nodes.exitStatus("coordinator");
      }
      if (doneWhen != null && Files.exists(doneWhen)) {
        return 0;
      }
      if (watch != null && watch.due()) {
        nodes.kill("coordinator");
        out.printf("  the coordinator was killed (SIGKILL) at %s; starting it again%n", watch.what());
        out.flush();
        nodes.restart("coordinator");
      }
      nodes.restartInjectedFaults(out);
    }
  }

  private static long echoNew(Path log, long offset, PrintWriter out) throws IOException {
    if (!Files.exists(log)) {
      return offset;
    }
    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
      if (f.length() <= offset) {
        return offset;
      }
      f.seek(offset);
      byte[] bytes = new byte[(int) (f.length() - offset)];
      f.readFully(bytes);
      String text = new String(bytes, StandardCharsets.UTF_8);
      int lastNewline = text.lastIndexOf('\n');
      if (lastNewline < 0) {
        return offset;
      }
      for (String line : text.substring(0, lastNewline).split("\n")) {
        if ((line.contains("JobRunner") || line.contains("RoundRunner")) && (line.contains(" round ") || line.contains("job '"))
            || line.contains("ERROR")) {
          out.println("  " + line.substring(Math.min(line.length(), line.indexOf(' ') + 1)));
          out.flush();
        }
      }
      return offset + lastNewline + 1;
    }
  }

  private JsonObject report(JsonObject job, Table table, DataSchema schema, FeatureEncoding encoding,
                            Baselines.Result baselines, double seconds, Path work) {
    JsonArray bankArray = new JsonArray();
    for (Object o : job.getJsonArray("banks")) {
      JsonObject b = (JsonObject) o;
      bankArray.add(new JsonObject().put("id", b.getString("id")).put("train_rows", b.getLong("train_rows", 0L))
          .put("test_rows", b.getLong("test_rows", 0L)).put("accepted", b.getBoolean("accepted")));
    }
    JsonObject local = new JsonObject();
    String metric = metric();
    baselines.localOnly().forEach((bank, figure) -> local.put(bank, new JsonObject().put(metric, figure)));
    return new JsonObject()
        .put("dataset", new JsonObject().put("name", datasetName()).put("rows", table.rows())
            .put("features", schema.featureColumns().size()).put("encoded_features", encoding.featureCount())
            .put("label", schema.labelColumn()).put("positive_class", schema.positiveClass()))
        .put("metric", metric)
        .put("split", splitName()).put("seed", seed)
        .put("model", new OptionValues.ModelTypes().name(model)).put("secure_aggregation", secureAggregation.on())
        .put("consistency_check", secureAggregation.on() && consistencyCheck.on()).put("unmasking", unmasking)
        .put("dp", dp.wireName()).put("drops", new JsonArray(drops.stream().map(DropFault::toString).toList()))
        .put("banks", bankArray)
        .put("rounds", job.getJsonArray("rounds"))
        .put("aborted_attempts", job.getJsonArray("aborted_attempts", new JsonArray()))
        .put("final", job.getJsonObject("final"))
        .put("privacy", job.getJsonObject("privacy"))
        .put("baselines", new JsonObject().put("centralized", new JsonObject().put(metric, baselines.centralized()))
            .put("centralized_dp", baselines.centralizedDp() == null ? null
                : new JsonObject().put(metric, baselines.centralizedDp()).put("epsilon", epsilon))
            .put("local_only", local))
        .put("model_sha256", job.getJsonObject("model").getString("sha256"))
        .put("federation_seconds", seconds)
        .put("work_dir", work.toString());
  }

  /** Whether the job is the market task's return regression. */
  private boolean returnTarget() {
    return task == Task.MARKET && "return".equals(target);
  }

  /** The report's figure: AUC (higher is better), or for a regression job RMSE (lower is better). */
  private String metric() {
    return returnTarget() ? "rmse" : "auc";
  }

  /** What the job's record-level DP protects against, as docs/PRIVACY.md states it. */
  private static String guarantee(JobSpec plan) {
    var p = plan.privacy();
    if (!p.recordLevel()) {
      return "no record-level DP";
    }
    if (p.distributedRecordNoise().isEmpty()) {
      return "record-level DP-SGD in each bank (local noise): each bank's update carries its own full noise; the"
          + " epsilon holds against the coordinator, every other bank and anyone holding the model";
    }
    int k = p.distributedRecordNoise().get().colludingBanks();
    return "distributed record-level noise: each round is one DP-SGD step whose noise is shared among the banks under "
        + "secure aggregation; a bank's epsilon holds against the coordinator together with up to " + k
        + " colluding bank" + (k == 1 ? "" : "s") + " and against anyone holding the model; more colluders, or a "
        + "coordinator that breaks secure aggregation, face less noise (docs/PRIVACY.md)";
  }

  /** Calibration before and after, the decision rule and its cost, the published files, the held-out scoring. */
  private static void printPublished(PrintWriter out, JsonObject report) {
    JsonObject p = report.getJsonObject("published_model");
    if (p == null) {
      out.println("published model: none (see the coordinator's log)");
      return;
    }
    JsonObject c = p.getJsonObject("calibration");
    JsonObject before = c.getJsonObject("before");
    JsonObject after = c.getJsonObject("after");
    if (before != null && after != null) {
      out.printf("calibration (%s, slope %.3f, intercept %.3f, on the merged histograms of %d held-out rows): log-loss "
              + "%.4f -> %.4f (base rate %.4f), ECE %.4f -> %.4f, Brier %.4f -> %.4f%n", c.getString("method"),
          c.getDouble("slope"), c.getDouble("intercept"), c.getLong("fitted_on_examples"), before.getDouble("log_loss"),
          after.getDouble("log_loss"), c.getDouble("base_rate_log_loss"), before.getDouble("ece"), after.getDouble("ece"),
          before.getDouble("brier"), after.getDouble("brier"));
    } else {
      out.printf("calibration: %s (%s)%n", c.getString("method"), c.getString("note", ""));
    }
    JsonObject d = p.getJsonObject("decision");
    if (d.getValue("threshold") == null) {
      out.printf("decision: %s%n", d.getString("rule"));
    } else {
      out.printf("decision: decline at a calibrated probability of %.4f or more; rule: %s%n", d.getDouble("threshold"),
          d.getString("rule"));
    }
    JsonObject cost = d.getJsonObject("expected_cost");
    if (cost != null) {
      out.printf("expected cost per applicant (held-out, from the histograms): %.4f at the decision threshold, %.4f at "
              + "0.5, minimum %.4f at %.4f (in sample); approve everyone %.4f, refuse everyone %.4f%n",
          cost.getJsonObject("at_decision_threshold").getDouble("expected_cost_per_applicant"),
          cost.getJsonObject("at_0_5").getDouble("expected_cost_per_applicant"),
          cost.getJsonObject("minimising").getDouble("expected_cost_per_applicant"),
          cost.getJsonObject("minimising").getDouble("threshold"), cost.getDouble("approve_everyone"),
          cost.getDouble("refuse_everyone"));
    }
    out.printf("published model: %s (SHA-256 %s), model card %s%n", p.getString("path"), p.getString("sha256"),
        Path.of(p.getString("path")).resolveSibling(p.getString("model_card")));
    JsonObject h = report.getJsonObject("held_out_scoring");
    if (h != null) {
      out.printf("held-out rows scored with it (%d rows, %d refused, %d declined): AUC %.4f, log-loss %.4f calibrated "
              + "(%.4f the model's own), Brier %.4f (%.4f)%s; banks holding an identical copy: %d%n", h.getLong("rows"),
          h.getLong("refused"), h.getLong("declined"), h.getDouble("auc", Double.NaN), h.getDouble("log_loss", Double.NaN),
          h.getDouble("model_log_loss", Double.NaN), h.getDouble("brier", Double.NaN),
          h.getDouble("model_brier", Double.NaN), h.getValue("expected_cost") == null ? ""
              : String.format(", expected cost %.4f", h.getDouble("expected_cost")), h.getInteger("banks_with_identical_copy"));
      out.printf("  %s%n", h.getString("command"));
    }
  }

  /**
   * What the federation did with missing, sentinel, extreme and unseen values: per column the policy, the
   * fill and clip bounds computed from the banks' secure sums, and the consortium's counts of missing
   * training values and of rows mapped to "other" (each bank sent its count only inside the sum).
   */
  private static void printPreprocessing(PrintWriter out, JsonObject report) {
    JsonObject p = report.getJsonObject("preprocessing");
    if (p == null) {
      return;
    }
    out.printf("preprocessing (federated: %d statistics stage%s through the secure sum, %d training rows):%n",
        p.getInteger("statistics_stages", 1), p.getInteger("statistics_stages", 1) == 1 ? "" : "s",
        p.getLong("training_rows", 0L));
    JsonObject columns = p.getJsonObject("columns");
    for (String column : columns.fieldNames()) {
      JsonObject c = columns.getJsonObject(column);
      List<String> parts = new ArrayList<>();
      String policy = c.getString("missing_policy");
      Object fill = c.getValue("fill");
      parts.add(c.getLong("missing_rows", 0L) + " missing" + (c.getJsonArray("sentinels") == null ? ""
          : " (sentinels " + c.getJsonArray("sentinels").encode() + " included)") + " -> " + policy
          + (fill == null ? "" : " " + (fill instanceof Number n ? String.format("%.6g", n.doubleValue()) : "'" + fill + "'"))
          + (c.getBoolean("missing_indicator", false) ? " + indicator" : ""));
      if (c.getJsonArray("clip") != null) {
        parts.add(String.format("clipped to [%.6g, %.6g] (quantiles %s)", c.getJsonArray("clip").getDouble(0),
            c.getJsonArray("clip").getDouble(1), c.getJsonArray("clip_quantiles").encode()));
      }
      if (c.getValue("mapped_to_other") != null) {
        parts.add(c.getLong("mapped_to_other") + " rows mapped to other");
      }
      out.printf("  %-12s %s%n", column, String.join("; ", parts));
    }
  }

  private static void printSummary(PrintWriter out, JsonObject report) {
    out.println();
    for (Object o : report.getJsonArray("aborted_attempts", new JsonArray())) {
      JsonObject a = (JsonObject) o;
      out.printf("aborted attempt: round %d at stage %s (%s)%n", a.getInteger("round"), a.getString("stage"),
          a.getString("reason"));
    }
    boolean regression = "rmse".equals(report.getString("metric"));
    String quality = regression ? "r2" : "auc";
    String loss = regression ? "rmse" : "loss";
    out.printf("%-6s %-6s %-24s %-8s %-8s %-8s %-10s%n", "round", "banks", "dropped", regression ? "R^2" : "AUC",
        regression ? "RMSE" : "loss", "seconds", "max eps");
    for (Object o : report.getJsonArray("rounds")) {
      JsonObject r = (JsonObject) o;
      JsonObject eps = r.getJsonObject("epsilon", new JsonObject());
      double maxEps = eps.fieldNames().stream().mapToDouble(eps::getDouble).max().orElse(Double.NaN);
      out.printf("%-6d %-6d %-24s %-8s %-8s %-8.2f %-10s%n", r.getInteger("round"),
          r.getJsonArray("participants").size(), String.join(",", r.getJsonArray("dropped").getList()),
          r.getValue(quality) == null ? "-" : String.format("%.4f", r.getDouble(quality)),
          r.getValue(loss) == null ? "-" : String.format("%.4f", r.getDouble(loss)), r.getDouble("seconds"),
          Double.isNaN(maxEps) ? "-" : String.format("%.3f", maxEps));
    }
    JsonObject fin = report.getJsonObject("final");
    out.println();
    if (fin != null && regression) {
      out.printf("final: RMSE %.4f, MAE %.4f, R^2 %s (predicting the held-out mean: RMSE %.4f)%n", fin.getDouble("rmse"),
          fin.getDouble("mae"), fin.getValue("r2") == null ? "-" : String.format("%.4f", fin.getDouble("r2")),
          fin.getDouble("mean_prediction_rmse", Double.NaN));
    } else if (fin != null) {
      out.printf("final: AUC %.4f, accuracy %.4f, log-loss %.4f%n", fin.getDouble("auc"), fin.getDouble("accuracy"),
          fin.getDouble("loss"));
    }
    JsonObject privacy = report.getJsonObject("privacy");
    if (privacy != null) {
      out.printf("privacy: unit %s, delta %s%n", privacy.getString("unit"), privacy.getValue("delta"));
      JsonObject perBank = privacy.getJsonObject("per_bank");
      for (String bank : perBank.fieldNames()) {
        JsonObject b = perBank.getJsonObject(bank);
        out.printf("  %s: record-level epsilon %s of cap %s, bank-level epsilon %s, declined rounds %s%n", bank,
            b.getValue("epsilon") == null ? "none (no DP)" : String.format("%.3f", b.getDouble("epsilon")),
            b.getValue("cap"),
            b.getValue("bank_level_epsilon") == null ? "none" : String.format("%.3f", b.getDouble("bank_level_epsilon")),
            b.getJsonArray("declined_rounds").encode());
      }
    }
    printPreprocessing(out, report);
    printPublished(out, report);
    JsonObject base = report.getJsonObject("baselines");
    String metric = regression ? "rmse" : "auc";
    String name = regression ? "RMSE" : "AUC";
    out.printf("centralised baseline %s %.4f%s%n", name, base.getJsonObject("centralized").getDouble(metric),
        report.getJsonObject("preprocessing") == null ? ""
            : " (the pooled training rows with the federation's preprocessing: its fills, clips and other levels)");
    if (fin != null) {
      out.printf("federated minus centralised %s: %+.4f%n", name, fin.getDouble(metric)
          - base.getJsonObject("centralized").getDouble(metric));
    }
    if (base.getJsonObject("centralized_dp") != null) {
      out.printf("centralised baseline with DP-SGD at the same epsilon %s %.4f%n", name,
          base.getJsonObject("centralized_dp").getDouble(metric));
    }
    if (base.getJsonObject("predict_zero") != null) {
      out.printf("naive baselines on the same held-out rows: predict 0 RMSE %.4f, last return RMSE %.4f%n",
          base.getJsonObject("predict_zero").getDouble("rmse"), base.getJsonObject("last_return").getDouble("rmse"));
    }
    if (base.getJsonObject("majority_class") != null) {
      out.printf("naive baselines on the same held-out rows: majority class AUC %.4f (accuracy %.4f), last return "
              + "AUC %.4f (accuracy %.4f)%n", base.getJsonObject("majority_class").getDouble("auc"),
          base.getJsonObject("majority_class").getDouble("accuracy"), base.getJsonObject("last_return").getDouble("auc"),
          base.getJsonObject("last_return").getDouble("accuracy"));
    }
    for (String bank : base.getJsonObject("local_only").fieldNames()) {
      out.printf("local-only %s %s %.4f%n", bank, name, base.getJsonObject("local_only").getJsonObject(bank)
          .getDouble(metric));
    }
    out.printf("guarantee: %s%n", report.getString("guarantee"));
    JsonObject gains = report.getJsonObject("per_bank_gain");
    if (gains != null && !gains.isEmpty()) {
      out.println("what each bank gains, on its own held-out rows (AUC):");
      for (String bank : gains.fieldNames()) {
        JsonObject g = gains.getJsonObject(bank);
        out.printf("  %s: alone %.4f without DP%s; consortium model %.4f; gain %+.4f%n", bank,
            g.getDouble("local_only_auc"), g.getValue("local_only_dp_auc") == null ? ""
                : String.format(", %.4f with DP-SGD at its cap", g.getDouble("local_only_dp_auc")),
            g.getDouble("consortium_auc"), g.getDouble("gain"));
      }
    }
    out.flush();
  }
}
