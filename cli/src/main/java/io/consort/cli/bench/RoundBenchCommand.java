package io.consort.cli.bench;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.cli.demo.BankDataFiles;
import io.consort.cli.demo.NodeProcesses;
import io.consort.cli.option.OptionValues;
import io.consort.coordinator.CoordinatorConfig;
import io.consort.coordinator.CoordinatorService;
import io.consort.coordinator.job.WorkerPurpose;
import io.consort.coordinator.model.FederatedModelOps;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Datasets;
import io.consort.model.data.Table;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.features.EncodedData;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.participant.BankPolicy;
import io.consort.participant.BankTaskHandler;
import io.consort.participant.ParticipantConfig;
import io.consort.participant.ParticipantDaemon;
import io.consort.participant.TaskHandler;
import io.consort.protocol.v1.Declined;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.TaskResult;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import io.consort.spec.SecureAggregationSpec;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code consort bench round}: a whole federated job in this JVM with the real protocol over real
 * connections (one coordinator, N bank daemons, each bank its own mutual-TLS gRPC connection on
 * loopback, its own data file, key and journals), timed from inside: every bank task's start and end
 * and its trainer's own time, the coordinator's worker-pool busy intervals (database, aggregation,
 * secure-aggregation crypto, ledger), and the bytes of every task and result. {@link RoundTimeline}
 * divides each round's wall time among training, DP, secure aggregation and its round trips,
 * evaluation, the ledger, coordinator work and network and waiting.
 *
 * <p>Each bank's rows are drawn with replacement from German credit ({@code --rows-per-bank}), so
 * any number of banks gets the default job's amount of data per bank. The banks share one Vert.x
 * instance (event loops and worker pool) but not their connections.
 *
 * <p>With {@code --coordinator-process} the coordinator runs alone in a child JVM ({@link
 * CoordinatorNode}, heap capped by {@code --coordinator-xmx}) and reports its own heap's high-water
 * marks and worker-pool intervals; this JVM's heap is then the banks'.
 */
@Command(name = "round", mixinStandardHelpOptions = true,
    description = "Time federated rounds end to end with in-process banks over real TLS connections.")
public final class RoundBenchCommand implements Callable<Integer> {
  /** The --model choices: the default MLP, or one of about 10^6 parameters. */
  enum BenchModel { MLP, LARGE }

  /** Hidden layers of {@code --model large}: 61 encoded German-credit features give 982,785 parameters. */
  static final List<Integer> LARGE_HIDDEN_LAYERS = List.of(1024, 896);

  @Spec
  CommandSpec spec;

  @Option(names = "--banks", defaultValue = "5", description = "number of banks, 2 to 500 (default ${DEFAULT-VALUE})")
  int banks;

  @Option(names = "--warmup-rounds", defaultValue = "0",
      description = "first run a job of this many rounds (at least 3) in the same JVM and discard it, so that the "
          + "measured job runs on code the JIT has compiled, as a long-running coordinator and daemons do; 0 "
          + "measures from a cold JVM (default ${DEFAULT-VALUE})")
  int warmupRounds;

  @Option(names = "--rounds", defaultValue = "5",
      description = "rounds, at least 3: the first (warm-up) and the last (it ends with publishing) are reported but "
          + "left out of the medians (default ${DEFAULT-VALUE})")
  int rounds;

  @Option(names = "--model", defaultValue = "mlp", description = "mlp (the default job's) or large (about 10^6 "
      + "parameters: hidden layers 1024-896) (default ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--secure-aggregation", defaultValue = "on", converter = OptionValues.OnOffNames.class,
      completionCandidates = OptionValues.OnOffNames.class,
      description = "secure aggregation: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  OptionValues.OnOff secureAggregation;

  @Option(names = "--dp", defaultValue = "record", converter = OptionValues.PrivacyModes.class,
      completionCandidates = OptionValues.PrivacyModes.class,
      description = "differential privacy: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  PrivacyMode dp;

  @Option(names = "--engine", converter = OptionValues.TrainingEngines.class,
      completionCandidates = OptionValues.TrainingEngines.class,
      description = "local training engine: ${COMPLETION-CANDIDATES} (default: the job's default)")
  TrainingEngine engine;

  @Option(names = "--dropout", defaultValue = "0", description = "fraction of the banks that drop out of each round "
      + "at its masked-input stage (they answer it with a refusal), in [0, 0.5] (default ${DEFAULT-VALUE})")
  double dropout;

  @Option(names = "--unmasking", defaultValue = "after-inputs", description = "after-inputs (an unmasking stage "
      + "after the masked inputs) or with-input (each bank's b-shares travel with its masked input: "
      + "secure_aggregation.unmasking: with_input) (default ${DEFAULT-VALUE})")
  String unmasking;

  @Option(names = "--key-rounds", defaultValue = "1", description = "job rounds a bank's key pairs serve in pipelined "
      + "rounds (secure_aggregation.key_rounds; above 1 needs --unmasking with-input) (default ${DEFAULT-VALUE})")
  int keyRounds;

  @Option(names = "--self-mask", description = "on or off: whether each bank adds a self mask and shares its "
      + "seeds (secure_aggregation.self_mask; off needs --unmasking with-input) (default: off with --unmasking "
      + "with-input, on otherwise)")
  String selfMask;

  @Option(names = "--degree", defaultValue = "0", description = "SecAgg+ neighbour degree; 0: every bank is every "
      + "bank's neighbour (default ${DEFAULT-VALUE})")
  int degree;

  @Option(names = "--rows-per-bank", defaultValue = "200", description = "rows each bank draws from German credit, "
      + "with replacement (default ${DEFAULT-VALUE}, the default 5-bank demo's share)")
  int rowsPerBank;

  @Option(names = "--local-epochs", defaultValue = "1", description = "local epochs per round (default ${DEFAULT-VALUE})")
  int localEpochs;

  @Option(names = "--stage-timeout", defaultValue = "300", description = "seconds per stage (default ${DEFAULT-VALUE})")
  int stageTimeoutSeconds;

  @Option(names = "--bank-workers", defaultValue = "0", description = "threads of the worker pool the in-process "
      + "banks share (their training and secure-aggregation steps run there); 0: one per bank up to 32 "
      + "(default ${DEFAULT-VALUE})")
  int bankWorkers;

  @Option(names = "--coordinator-process", description = "run the coordinator in a JVM of its own (heap capped by "
      + "--coordinator-xmx), so that its heap is measured apart from the banks'")
  boolean coordinatorProcess;

  @Option(names = "--coordinator-xmx", description = "the coordinator JVM's -Xmx with --coordinator-process, a size "
      + "such as 512m or 1g (default " + DEFAULT_COORDINATOR_XMX + ")")
  String coordinatorXmx;

  static final String DEFAULT_COORDINATOR_XMX = "1g";

  @Option(names = "--seed", defaultValue = "42", description = "seed of the rows' draw and the model (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--work-dir", description = "where the PKI, bank data and databases go (default: a temporary "
      + "directory, deleted afterwards)")
  Path workDir;

  @Option(names = "--json", description = "print one JSON line instead of the table")
  boolean json;

  @Override
  public Integer call() throws Exception {
    BenchModel benchModel = validateOptions();
    Path work = workDir != null ? Files.createDirectories(workDir.toAbsolutePath())
        : Files.createTempDirectory("consort-bench-round");
    try {
      if (warmupRounds > 0) {
        int measuredRounds = rounds;
        rounds = warmupRounds;
        try {
          run(benchModel, work.resolve("warmup"));
        } finally {
          rounds = measuredRounds;
        }
      }
      JsonObject report = run(benchModel, warmupRounds > 0 ? work.resolve("measured") : work);
      report.put("warmup_rounds", warmupRounds);
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(report.encode());
      } else {
        printTable(out, report);
      }
      out.flush();
      return report.getBoolean("all_rounds_completed") ? 0 : 1;
    } finally {
      if (workDir == null) {
        try {
          deleteTree(work);
        } catch (java.io.IOException e) {
          // a bank may still be writing the published model of the finished job when its Vert.x has closed:
          // the leftover directory is not the benchmark's result
          spec.commandLine().getErr().println("warning: could not delete the work directory " + work + ": " + e);
        }
      }
    }
  }

  private BenchModel validateOptions() {
    if (banks < 2 || banks > 500) {
      throw new IllegalArgumentException("--banks must be between 2 and 500, got " + banks);
    }
    if (rounds < 3) {
      throw new IllegalArgumentException("--rounds must be at least 3 (the first and last are not measured), got "
          + rounds);
    }
    if (!(dropout >= 0 && dropout <= 0.5)) {
      throw new IllegalArgumentException("--dropout must be in [0, 0.5], got " + dropout);
    }
    if (warmupRounds != 0 && warmupRounds < 3) {
      throw new IllegalArgumentException("--warmup-rounds must be 0 or at least 3, got " + warmupRounds);
    }
    if (dropout > 0 && !secureAggregation.on()) {
      throw new IllegalArgumentException("--dropout needs secure aggregation (banks drop at its masked-input stage)");
    }
    if (dp.bankLevel() && !secureAggregation.on()) {
      throw new IllegalArgumentException("--dp " + dp.wireName() + " needs secure aggregation");
    }
    if (rowsPerBank < 20) {
      throw new IllegalArgumentException("--rows-per-bank must be at least 20, got " + rowsPerBank);
    }
    if (localEpochs < 1) {
      throw new IllegalArgumentException("--local-epochs must be >= 1, got " + localEpochs);
    }
    if (degree < 0) {
      throw new IllegalArgumentException("--degree must be >= 0, got " + degree);
    }
    if (bankWorkers < 0 || bankWorkers > 256) {
      throw new IllegalArgumentException("--bank-workers must be in [0, 256], got " + bankWorkers);
    }
    if (coordinatorXmx != null && !coordinatorProcess) {
      throw new IllegalArgumentException("--coordinator-xmx needs --coordinator-process");
    }
    if (unmaskingWithInput(unmasking) && !secureAggregation.on()) {
      throw new IllegalArgumentException("--unmasking with-input needs secure aggregation");
    }
    requireKeyRounds(keyRounds, unmasking);
    selfMask(selfMask, unmasking);
    if (warmupRounds > 0 && coordinatorProcess) {
      throw new IllegalArgumentException("--warmup-rounds warms this JVM only; a --coordinator-process coordinator "
          + "would start cold for the measured job");
    }
    if (coordinatorXmx != null && !coordinatorXmx.matches("[1-9][0-9]{0,6}[kKmMgG]")) {
      throw new IllegalArgumentException("--coordinator-xmx must be a size such as 512m or 1g, got '"
          + coordinatorXmx + "'");
    }
    return switch (model) {
      case "mlp" -> BenchModel.MLP;
      case "large" -> BenchModel.LARGE;
      default -> throw new IllegalArgumentException("--model must be mlp or large, got '" + model + "'");
    };
  }

  private JsonObject run(BenchModel benchModel, Path work) throws Exception {
    Datasets.BundledDataset german = Datasets.germanCredit(Files.createDirectories(work.resolve("source")));
    Table all = german.load();
    List<String> bankNames = new ArrayList<>();
    for (int i = 1; i <= banks; i++) {
      bankNames.add("bank-" + i);
    }
    RandomGenerator draw = ReproducibleRandom.of("bench-round-rows", seed);
    List<Path> dataFiles = new ArrayList<>();
    Table firstBank = null;
    for (String bank : bankNames) {
      int[] rows = new int[rowsPerBank];
      Arrays.setAll(rows, i -> draw.nextInt(all.rows()));
      Table own = all.select(rows, bank);
      firstBank = firstBank == null ? own : firstBank;
      Path file = Files.createDirectories(work.resolve("banks").resolve(bank)).resolve("data.csv");
      BankDataFiles.writeCsv(own, "good", file);
      dataFiles.add(file);
    }
    JobSpec plan = plan(german.schema(), benchModel);
    double dpFraction = dp.recordLevel() ? dpShareOfTraining(plan, firstBank) : 0;
    DemoPki pki = DemoPki.create(work.resolve("pki"), "coordinator", bankNames);
    int maxMessageBytes = benchModel == BenchModel.LARGE ? 64 << 20 : 16 << 20;

    WorkerPoolClock coordinatorClock = new WorkerPoolClock();
    List<RoundTimeline.BankTask> tasks = new CopyOnWriteArrayList<>();
    HeapPeak heap = new HeapPeak();
    CpuClock cpu = new CpuClock();
    Vertx coordinatorVertx = coordinatorProcess ? null
        : Vertx.builder().withMetrics(options -> coordinatorClock).build();
    Vertx bankVertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(bankWorkers > 0 ? bankWorkers : Math.min(banks, 32)));
    NodeProcesses nodes = coordinatorProcess ? new NodeProcesses(Files.createDirectories(work.resolve("nodes"))) : null;
    List<ParticipantDaemon> daemons = new ArrayList<>();
    long started;
    JsonObject outcome;
    List<RoundTimeline.Interval> coordinatorBusy;
    List<RoundTimeline.Interval> coordinatorSecureAggregation;
    JsonObject coordinatorReport = null;
    long jobTimeoutSeconds = (long) rounds * 20 * stageTimeoutSeconds;
    try {
      TlsMaterial c = pki.coordinator();
      CoordinatorService service = null;
      int port;
      Path reportFile = work.resolve("nodes").resolve("coordinator-report.json");
      if (coordinatorProcess) {
        Path portFile = work.resolve("nodes").resolve("coordinator-port");
        Path settings = work.resolve("nodes").resolve("coordinator-settings.json");
        Files.writeString(settings, new JsonObject()
            .put("plan", Base64.getEncoder().encodeToString(JobSpecWire.toProto(plan).toByteArray()))
            .put("banks", banks).put("key", c.keyFile().toString()).put("chain", c.chainFile().toString())
            .put("ca", c.caFile().toString()).put("crl", c.crlFile().toString())
            .put("data_dir", work.resolve("coordinator").toString()).put("max_message_bytes", maxMessageBytes)
            .put("stage_timeout_seconds", stageTimeoutSeconds).put("job_timeout_seconds", jobTimeoutSeconds)
            .put("port_file", portFile.toString()).put("report_file", reportFile.toString()).encode());
        nodes.start("coordinator", List.of("-Xmx" + coordinatorXmx()), "bench", "coordinator-node",
            "--settings", settings.toString());
        nodes.awaitFile("coordinator", portFile, Duration.ofMinutes(2));
        port = Integer.parseInt(Files.readString(portFile).strip());
      } else {
        CoordinatorConfig config = CoordinatorNode.config(c.keyFile(), c.chainFile(), c.caFile(), c.crlFile(),
            work.resolve("coordinator"), maxMessageBytes, plan, banks, stageTimeoutSeconds);
        service = new CoordinatorService(config, new FederatedModelOps());
        WorkerPurpose.listen(coordinatorClock);
        coordinatorVertx.deployVerticle(service).toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
        port = service.actualPort();
      }
      Map<Integer, Set<String>> dropping = droppingBanks(bankNames);
      heap.start();
      cpu.start();
      started = System.nanoTime();
      for (int b = 0; b < banks; b++) {
        String bank = bankNames.get(b);
        TlsMaterial t = pki.bank(bank);
        ParticipantConfig bankConfig = new ParticipantConfig("localhost", port, t.keyFile(),
            t.chainFile(), t.caFile(), dataFiles.get(b), dataFiles.get(b).getParent().resolve("local"), 10.0, 1e-5,
            maxMessageBytes, null, false, t.crlFile(), null,
            new BankPolicy(!dp.recordLevel(), secureAggregation.on(), 2, OptionalInt.empty()),
            ParticipantConfig.DEFAULT_TEST_FRACTION);
        ParticipantDaemon daemon = new ParticipantDaemon(bankVertx, bankConfig,
            timed(bank, bankConfig, tasks, dropping), status -> {});
        daemons.add(daemon);
        daemon.start();
      }
      if (coordinatorProcess) {
        nodes.awaitFile("coordinator", reportFile, Duration.ofSeconds(jobTimeoutSeconds + 180));
        coordinatorReport = new JsonObject(Files.readString(reportFile));
        outcome = coordinatorReport.getJsonObject("outcome");
        coordinatorBusy = CoordinatorNode.intervals(coordinatorReport, "busy");
        coordinatorSecureAggregation = CoordinatorNode.intervals(coordinatorReport, "secure_aggregation_busy");
      } else {
        outcome = service.jobOutcome().toCompletionStage().toCompletableFuture()
            .get(jobTimeoutSeconds, TimeUnit.SECONDS);
        coordinatorBusy = coordinatorClock.busy();
        coordinatorSecureAggregation = coordinatorClock.secureAggregation();
      }
    } finally {
      heap.stop();
      cpu.stop();
      if (!coordinatorProcess) {
        WorkerPurpose.listen(null);
      }
      for (ParticipantDaemon d : daemons) {
        d.stop();
      }
      bankVertx.close().toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
      if (coordinatorVertx != null) {
        coordinatorVertx.close().toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
      }
      if (nodes != null) {
        nodes.close();
      }
    }
    double jobSeconds = (System.nanoTime() - started) / 1e9;
    JsonObject report = report(plan, benchModel, outcome, tasks, coordinatorBusy, coordinatorSecureAggregation,
        dpFraction, heap, cpu, jobSeconds);
    report.put("coordinator_process", coordinatorProcess);
    if (coordinatorReport != null) {
      report.put("coordinator_xmx", coordinatorXmx())
          .put("coordinator_max_heap_bytes", coordinatorReport.getLong("max_heap_bytes"))
          .put("coordinator_peak_heap_bytes", coordinatorReport.getLong("peak_heap_bytes"))
          .put("coordinator_peak_heap_after_gc_bytes", coordinatorReport.getLong("peak_heap_after_gc_bytes"));
    }
    return report;
  }

  private String coordinatorXmx() {
    return coordinatorXmx != null ? coordinatorXmx : DEFAULT_COORDINATOR_XMX;
  }

  /** {@code --unmasking}: after-inputs or with-input (the job file's after_inputs or with_input). */
  public static boolean unmaskingWithInput(String option) {
    return switch (option) {
      case "after-inputs" -> false;
      case "with-input" -> true;
      default -> throw new IllegalArgumentException("--unmasking must be after-inputs or with-input, got '" + option
          + "'");
    };
  }

  /** {@code --key-rounds}: at least 1, above 1 only with {@code --unmasking with-input} (the job file's rule). */
  public static void requireKeyRounds(int keyRounds, String unmasking) {
    if (keyRounds < 1) {
      throw new IllegalArgumentException("--key-rounds must be at least 1 (1: fresh keys for every round), got "
          + keyRounds);
    }
    if (keyRounds > 1 && !unmaskingWithInput(unmasking)) {
      throw new IllegalArgumentException("--key-rounds " + keyRounds + " needs --unmasking with-input (a bank's keys "
          + "may serve several rounds only where no bank reveals an s^SK-share)");
    }
  }

  /**
   * {@code --self-mask}: on, off or absent (null: the job file's default, off with {@code --unmasking with-input});
   * off only with {@code --unmasking with-input} (the job file's rule).
   */
  public static boolean selfMask(String option, String unmasking) {
    boolean withInput = unmaskingWithInput(unmasking);
    if (option == null) {
      return SecureAggregationSpec.defaultSelfMask(withInput);
    }
    boolean on = switch (option) {
      case "on" -> true;
      case "off" -> false;
      default -> throw new IllegalArgumentException("--self-mask must be on or off, got '" + option + "'");
    };
    if (!on && !withInput) {
      throw new IllegalArgumentException("--self-mask off needs --unmasking with-input (unmasking after the inputs "
          + "recovers a dropped bank's masks from shares of its secrets)");
    }
    return on;
  }

  private JobSpec plan(DataSchema schema, BenchModel benchModel) {
    JobSpecBuilder b = JobSpec.builder().id("bench-round").schema(schema).modelType(ModelType.MLP)
        .batchSize(32).learningRate(dp.recordLevel() ? 0.02 : ModelSpec.DEFAULT_LEARNING_RATE).modelSeed(seed)
        .engine(engine).rounds(rounds).localEpochs(localEpochs).minBanks(minBanks())
        .histogramBins(JobSpecBuilder.DEFAULT_HISTOGRAM_BINS)
        .privacy(dp).delta(1e-5).targetEpsilon(dp == PrivacyMode.OFF ? null : 10.0)
        .recordClipNorm(dp.recordLevel() ? 1.0 : null)
        .secureAggregation(secureAggregation.on()).modulusBits(32)
        .secureAggregationClipNorm(dp.bankLevel() ? 1.0 : 10.0)
        .neighbourDegree(degree == 0 ? null : degree)
        .unmaskingWithInput(unmaskingWithInput(unmasking)).keyRounds(keyRounds)
        .selfMask(secureAggregation.on() ? selfMask(selfMask, unmasking) : null);
    if (benchModel == BenchModel.LARGE) {
      b.hiddenLayers(LARGE_HIDDEN_LAYERS);
    }
    return b.build();
  }

  /**
   * Half the banks (rounded up), as the demo; under SecAgg+ at most a majority of one neighbourhood,
   * because every sum's threshold is at least min_banks and at most the neighbourhood's size.
   */
  private int minBanks() {
    int half = Math.max(2, banks / 2 + banks % 2);
    return degree == 0 ? half : Math.max(2, Math.min(half, degree / 2 + 1));
  }

  /**
   * The banks that drop out of each round: {@code dropout x banks} of them (rounded up), a different
   * draw each round.
   */
  private Map<Integer, Set<String>> droppingBanks(List<String> bankNames) {
    Map<Integer, Set<String>> byRound = new ConcurrentHashMap<>();
    int count = (int) Math.ceil(dropout * bankNames.size());
    RandomGenerator r = ReproducibleRandom.of("bench-round-dropout", seed);
    for (int round = 1; round <= rounds; round++) {
      List<String> shuffled = new ArrayList<>(bankNames);
      for (int i = shuffled.size() - 1; i > 0; i--) {
        java.util.Collections.swap(shuffled, i, r.nextInt(i + 1));
      }
      byRound.put(round, new HashSet<>(shuffled.subList(0, count)));
    }
    return byRound;
  }

  /**
   * The bank's own handler, timed; a bank drawn to drop out of a round refuses that round's first
   * masked-input task (the round's one sum; the last round's evaluation sum comes later), which the coordinator treats
   * as a bank that dropped at that stage.
   */
  private static TaskHandler timed(String bank, ParticipantConfig config, List<RoundTimeline.BankTask> tasks,
                                   Map<Integer, Set<String>> dropping) {
    Map<BankTaskHandler.TaskClock.Phase, List<RoundTimeline.Interval>> spans =
        new java.util.EnumMap<>(BankTaskHandler.TaskClock.Phase.class);
    for (BankTaskHandler.TaskClock.Phase phase : BankTaskHandler.TaskClock.Phase.values()) {
      spans.put(phase, new ArrayList<>());
    }
    // the handler runs one task at a time and calls the clock on that task's thread
    BankTaskHandler handler = new BankTaskHandler(config, (phase, from, to) -> {
      synchronized (spans) {
        spans.get(phase).add(new RoundTimeline.Interval(from, to));
      }
    });
    Set<Integer> droppedRounds = ConcurrentHashMap.newKeySet();
    return task -> {
      long start = System.nanoTime();
      int round = task.getHeader().getRound();
      Stage stage = task.getHeader().getStage();
      TaskResult.Builder result;
      Map<BankTaskHandler.TaskClock.Phase, List<RoundTimeline.Interval>> taken =
          new java.util.EnumMap<>(BankTaskHandler.TaskClock.Phase.class);
      synchronized (spans) {
        spans.values().forEach(List::clear);
        if (stage == Stage.MASKED_INPUT && dropping.getOrDefault(round, Set.of()).contains(bank)
            && droppedRounds.add(round)) {
          result = TaskResult.newBuilder().setDeclined(Declined.newBuilder().setReason("bench: simulated dropout"));
        } else {
          result = handler.handle(task);
        }
        spans.forEach((phase, list) -> taken.put(phase, List.copyOf(list)));
        spans.values().forEach(List::clear);
      }
      long end = System.nanoTime();
      tasks.add(new RoundTimeline.BankTask(bank, round, stage, start, end,
          taken.get(BankTaskHandler.TaskClock.Phase.TRAINING),
          taken.get(BankTaskHandler.TaskClock.Phase.PRIVACY_ACCOUNTING),
          taken.get(BankTaskHandler.TaskClock.Phase.SECURE_AGGREGATION),
          taken.get(BankTaskHandler.TaskClock.Phase.EVALUATION),
          task.getSerializedSize() + (result == null ? 0L : result.build().getSerializedSize())));
      return result;
    };
  }

  /**
   * DP-SGD's share of local training time on the same rows: one bank's rows encoded, trained for the
   * job's local epochs with and without DP-SGD (the native engine, which DP-SGD runs on), first for
   * about two seconds to compile the hot loops, then 9 times each, interleaved; 1 - median plain /
   * median DP-SGD, at least 0.
   */
  private double dpShareOfTraining(JobSpec plan, Table rows) {
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(LocalFeatureStats.compute(rows)));
    EncodedData data = encoding.encode(rows);
    ModelSpec modelSpec = plan.model();
    float[] initial = ModelFactory.initialParameters(modelSpec, encoding.featureCount());
    LocalTrainer trainer = new LocalTrainer(modelSpec, data, TrainingEngine.NATIVE);
    TrainingOptions dpSgd = TrainingOptions.withDpSgd(new DpSgdConfig(1.0, 1.0,
        Math.min(1.0, (double) modelSpec.batchSize() / data.rows())));
    long warmUpEnds = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (System.nanoTime() < warmUpEnds) {
      trainer.train(initial, localEpochs, TrainingOptions.standard());
      trainer.train(initial, localEpochs, dpSgd);
    }
    double[] plain = new double[9];
    double[] withDp = new double[9];
    for (int i = 0; i < plain.length; i++) {
      long t0 = System.nanoTime();
      trainer.train(initial, localEpochs, TrainingOptions.standard());
      long t1 = System.nanoTime();
      trainer.train(initial, localEpochs, dpSgd);
      long t2 = System.nanoTime();
      plain[i] = t1 - t0;
      withDp[i] = t2 - t1;
    }
    dpCalibration = new JsonObject().put("rows", data.rows()).put("epochs", localEpochs)
        .put("plain_ms", median(plain) / 1e6).put("dp_sgd_ms", median(withDp) / 1e6);
    return Math.max(0, 1 - median(plain) / median(withDp));
  }

  /** The training times behind {@code dp_share_of_training}, for the report. */
  private JsonObject dpCalibration;

  private JsonObject report(JobSpec plan, BenchModel benchModel, JsonObject outcome,
                            List<RoundTimeline.BankTask> tasks, List<RoundTimeline.Interval> busy,
                            List<RoundTimeline.Interval> secureAggregationBusy, double dpFraction,
                            HeapPeak heap, CpuClock cpu, double jobSeconds) {
    long[] roundStart = new long[rounds + 2];
    Arrays.fill(roundStart, Long.MAX_VALUE);
    long finishedAt = Long.MAX_VALUE;
    long lastEnd = 0;
    for (RoundTimeline.BankTask t : tasks) {
      lastEnd = Math.max(lastEnd, t.end());
      if (t.stage() == Stage.TRAIN && t.round() >= 1 && t.round() <= rounds) {
        roundStart[t.round()] = Math.min(roundStart[t.round()], t.start());
      } else if (t.stage() == Stage.FINISHED) {
        finishedAt = Math.min(finishedAt, t.start());
      }
    }
    roundStart[rounds + 1] = finishedAt != Long.MAX_VALUE ? finishedAt : lastEnd;
    JsonArray perRound = new JsonArray();
    Map<String, List<Double>> measured = new java.util.LinkedHashMap<>();
    for (int r = 1; r <= rounds; r++) {
      if (roundStart[r] == Long.MAX_VALUE || roundStart[r + 1] == Long.MAX_VALUE) {
        continue;
      }
      long from = roundStart[r];
      long to = roundStart[r + 1];
      RoundTimeline.Split split = RoundTimeline.split(from, to, tasks, busy, secureAggregationBusy, dpFraction,
          RoundTimeline.Attribution.BY_PURPOSE);
      Map<RoundTimeline.Part, Long> parts = split.parts();
      JsonObject row = new JsonObject().put("round", r).put("seconds_per_round", (to - from) / 1e9);
      parts.forEach((part, nanos) -> row.put(part.field(), nanos / 1e9));
      double privacy = privacyNanos(parts) / 1e9;
      row.put("privacy_seconds", privacy).put("privacy_share", privacy / ((to - from) / 1e9));
      long cpuNanos = cpu.cpuNanos(from, to);
      if (cpuNanos >= 0) {
        row.put("cpu_seconds", cpuNanos / 1e9).put("cores_busy", cpuNanos / (double) (to - from));
      }
      // the attribution before 2026-12-03, on the same run, to compare
      Map<RoundTimeline.Part, Long> byStage = RoundTimeline.split(from, to, tasks, busy, secureAggregationBusy,
          dpFraction, RoundTimeline.Attribution.BY_STAGE).parts();
      for (RoundTimeline.Part part : List.of(RoundTimeline.Part.SECURE_AGGREGATION, RoundTimeline.Part.LEDGER,
          RoundTimeline.Part.COORDINATOR)) {
        row.put(part.field().replace("_seconds", "_by_stage_seconds"), byStage.get(part) / 1e9);
      }
      row.put("privacy_share_by_stage", privacyNanos(byStage) / (double) (to - from));
      List<RoundTimeline.BankTask> inRound = tasks.stream().filter(t -> t.start() >= from && t.start() < to).toList();
      long trainingBanks = inRound.stream().filter(t -> t.stage() == Stage.TRAIN).map(RoundTimeline.BankTask::bank)
          .distinct().count();
      row.put("bytes_per_bank", trainingBanks == 0 ? 0 : inRound.stream().mapToLong(RoundTimeline.BankTask::bytes)
          .sum() / trainingBanks);
      row.put("banks_trained", trainingBanks);
      perRound.add(row);
      JsonArray stages = new JsonArray();
      for (RoundTimeline.Window w : split.windows()) {
        stages.add(new JsonObject().put("stage", w.stage().name().toLowerCase(Locale.ROOT))
            .put("seconds", w.nanos() / 1e9).put("slowest_bank_seconds", w.slowest() / 1e9)
            .put("gap_seconds", w.gapNanos() / 1e9).put("coordinator_seconds_in_gap", w.coordinatorNanos() / 1e9)
            .put("coordinator_secure_aggregation_seconds_in_gap", w.coordinatorSecureAggregationNanos() / 1e9));
      }
      if (r > 1 && r < rounds) {
        for (String field : row.fieldNames()) {
          if (!"round".equals(field)) {
            measured.computeIfAbsent(field, f -> new ArrayList<>()).add(row.getDouble(field));
          }
        }
      }
      row.put("stages", stages);
    }
    JsonArray completed = outcome.getJsonArray("rounds", new JsonArray());
    boolean allCompleted = completed.size() == rounds && completed.stream()
        .allMatch(o -> "completed".equals(((JsonObject) o).getString("status")));
    JsonObject report = new JsonObject().put("banks", banks).put("rounds", rounds)
        .put("model", benchModel.name().toLowerCase(Locale.ROOT)).put("parameters",
            outcome.getJsonObject("model", new JsonObject()).getLong("parameters", -1L))
        .put("secure_aggregation", secureAggregation.on()).put("dp", dp.wireName()).put("dropout", dropout)
        .put("degree", degree).put("unmasking", unmasking).put("key_rounds", keyRounds)
        .put("self_mask", plan.secureAggregation().selfMask()).put("rows_per_bank", rowsPerBank).put("bank_workers", bankWorkers > 0 ? bankWorkers : Math.min(banks, 32))
        .put("engine", plan.training().engine() == null ? "default" : plan.training().engine().name().toLowerCase(Locale.ROOT));
    measured.forEach((field, values) -> report.put(field, median(values.stream().mapToDouble(d -> d).toArray())));
    report.put("dp_share_of_training", dpFraction)
        .put("dp_share_measured_on", dpCalibration).put("medians_over_rounds", "2.." + (rounds - 1))
        .put("job_seconds", jobSeconds).put("peak_heap_bytes", heap.peak())
        .put("peak_heap_after_gc_bytes", heap.peakAfterGc()).put("max_heap_bytes", HeapPeak.maxHeap())
        .put("all_rounds_completed", allCompleted)
        .put("dropped_per_round", new JsonArray(completed.stream()
            .map(o -> ((JsonObject) o).getJsonArray("dropped", new JsonArray()).size()).toList()))
        .put("per_round", perRound);
    return report;
  }

  private static long privacyNanos(Map<RoundTimeline.Part, Long> parts) {
    return parts.get(RoundTimeline.Part.DP) + parts.get(RoundTimeline.Part.SECURE_AGGREGATION)
        + parts.get(RoundTimeline.Part.PRIVACY_ROUND_TRIPS);
  }

  private static void printTable(PrintWriter out, JsonObject report) {
    out.printf(Locale.ROOT, "%d banks, %s model (%d parameters), secure aggregation %s, dp %s, dropout %.2f%n",
        report.getInteger("banks"), report.getString("model"), report.getLong("parameters"),
        report.getBoolean("secure_aggregation") ? "on" : "off", report.getString("dp"), report.getDouble("dropout"));
    String[] fields = {"seconds_per_round", "training_seconds", "dp_seconds", "secure_aggregation_seconds",
        "privacy_round_trips_seconds", "evaluation_seconds", "ledger_seconds", "coordinator_seconds",
        "network_seconds", "other_seconds", "privacy_seconds", "privacy_share", "bytes_per_bank", "cpu_seconds",
        "cores_busy"};
    out.printf("%-6s", "round");
    for (String f : fields) {
      out.printf(" %12s", f.replace("_seconds", "").replace("secure_aggregation", "secagg")
          .replace("privacy_round_trips", "priv_trips").replace("seconds_per_round", "round s"));
    }
    out.println();
    for (Object o : report.getJsonArray("per_round")) {
      JsonObject row = (JsonObject) o;
      out.printf("%-6d", row.getInteger("round"));
      for (String f : fields) {
        out.printf(Locale.ROOT, " %12.4f", row.getDouble(f, Double.NaN));
      }
      out.println();
    }
    out.printf("%-6s", "median");
    for (String f : fields) {
      out.printf(Locale.ROOT, " %12.4f", report.getDouble(f, Double.NaN));
    }
    out.println();
    out.printf(Locale.ROOT, "medians over rounds %s; DP-SGD's share of training %.3f; job %.1f s; peak heap %.0f MiB;"
            + " all rounds completed: %s%n", report.getString("medians_over_rounds"),
        report.getDouble("dp_share_of_training"), report.getDouble("job_seconds"),
        report.getLong("peak_heap_bytes") / 1048576.0, report.getBoolean("all_rounds_completed"));
    out.printf(Locale.ROOT, "charged by stage, as before 2026-12-03: secagg %.4f s, ledger %.4f s, coordinator %.4f s, "
            + "privacy share %.4f%n", report.getDouble("secure_aggregation_by_stage_seconds", Double.NaN),
        report.getDouble("ledger_by_stage_seconds", Double.NaN),
        report.getDouble("coordinator_by_stage_seconds", Double.NaN),
        report.getDouble("privacy_share_by_stage", Double.NaN));
    if (report.getBoolean("coordinator_process")) {
      out.printf(Locale.ROOT, "coordinator JVM (-Xmx%s): peak heap %.0f MiB, after a collection %.0f MiB; the peak "
              + "heap above is the banks' JVM%n", report.getString("coordinator_xmx"),
          report.getLong("coordinator_peak_heap_bytes") / 1048576.0,
          report.getLong("coordinator_peak_heap_after_gc_bytes") / 1048576.0);
    }
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    if (n == 0) {
      return Double.NaN;
    }
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
