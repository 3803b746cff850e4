package io.consort.cli;

import io.consort.certs.DemoPki;
import io.consort.certs.TlsMaterial;
import io.consort.coordinator.CoordinatorConfig;
import io.consort.coordinator.CoordinatorService;
import io.consort.coordinator.ServerLimits;
import io.consort.coordinator.job.JobDefinition;
import io.consort.coordinator.job.ModelOps;
import io.consort.coordinator.model.FederatedModelOps;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DatasetLoader;
import io.consort.participant.BankPolicy;
import io.consort.participant.BankTaskHandler;
import io.consort.participant.ParticipantConfig;
import io.consort.participant.ParticipantDaemon;
import io.consort.participant.TaskHandler;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.model.train.ModelType;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A consortium inside one test JVM that still uses the whole network stack: a coordinator and N
 * bank daemons, each with its own Vert.x instance, speaking gRPC over mutual TLS on loopback, each
 * bank with its own CSV file made by {@link TestData}.
 */
final class LocalConsortium implements AutoCloseable {
  /** Per-bank settings a test may change; {@code bankEpsilonCap} null: no bank-level cap. */
  record BankSettings(double epsilonCap, String failAtStage, boolean acceptPartialJobs, Double bankEpsilonCap,
                      BankPolicy policy) {
    /**
     * The test consortium's banks take part in plaintext and non-private jobs too (the base plan is
     * one), so that those paths can be tested; the strict default policy has its own tests.
     */
    static final BankPolicy PERMISSIVE = new BankPolicy(true, false, 2, java.util.OptionalInt.empty());

    BankSettings(double epsilonCap, String failAtStage, boolean acceptPartialJobs, Double bankEpsilonCap) {
      this(epsilonCap, failAtStage, acceptPartialJobs, bankEpsilonCap, PERMISSIVE);
    }

    BankSettings(double epsilonCap, String failAtStage, boolean acceptPartialJobs) {
      this(epsilonCap, failAtStage, acceptPartialJobs, null);
    }

    static BankSettings defaults() {
      return new BankSettings(3.0, null, false);
    }
  }

  private final Path dir;
  private final List<Vertx> vertxes = new ArrayList<>();
  final DemoPki pki;
  final List<String> banks = new ArrayList<>();
  CoordinatorService service;
  CoordinatorConfig coordinatorConfig;
  final List<Integer> faultExits = new ArrayList<>();
  private final Map<String, CompletableFuture<Void>> finished = new ConcurrentHashMap<>();
  private final Map<String, ParticipantDaemon> daemons = new ConcurrentHashMap<>();

  /** The running daemon of {@code bank} (after {@link #startBanks}). */
  ParticipantDaemon daemon(String bank) {
    return daemons.get(bank);
  }

  LocalConsortium(Path dir, int banks) throws Exception {
    this.dir = dir;
    for (int i = 1; i <= banks; i++) {
      this.banks.add("bank-" + i);
    }
    this.pki = DemoPki.create(dir.resolve("pki"), "coordinator", this.banks);
  }

  /** The plan every test starts from: a small MLP on the synthetic loans, 240 rows per bank. */
  JobSpecBuilder basePlan(String jobId, int rounds) throws Exception {
    Path all = TestData.loanCsv(dir.resolve("all.csv"), 240 * banks.size(), 11);
    DataSchema schema = DatasetLoader.inferSchema(all, "default", "yes");
    return JobSpec.builder().id(jobId).schema(schema).modelType(ModelType.MLP).hiddenLayers(List.of(16))
        .batchSize(32).learningRate(0.01).modelSeed(3).rounds(rounds).localEpochs(2).minBanks(2)
        .histogramBins(1000).secureAggregation(false);
  }

  private Vertx coordinatorVertx;
  private int coordinatorPort;
  /** The coordinator's server limits; tests of dead links shorten its keep-alive. */
  ServerLimits limits = ServerLimits.defaults();
  private final Map<String, FaultyLink> links = new ConcurrentHashMap<>();
  private final Map<String, TaskHook> beforeTask = new ConcurrentHashMap<>();
  private final Map<String, TaskHook> afterTask = new ConcurrentHashMap<>();

  /** Something a test does on a bank's worker thread around one of its tasks. */
  @FunctionalInterface
  interface TaskHook {
    void run(Task task) throws Exception;
  }

  /**
   * Routes {@code bank}'s connections through a {@link FaultyLink} to the running coordinator; call
   * after the coordinator started and before {@link #startBanks}.
   */
  FaultyLink throughFaultyLink(String bank) throws java.io.IOException {
    FaultyLink link = new FaultyLink(coordinatorPort);
    links.put(bank, link);
    return link;
  }

  /** Runs {@code hook} before {@code bank} handles each task. */
  void beforeTask(String bank, TaskHook hook) {
    beforeTask.put(bank, hook);
  }

  /** Runs {@code hook} after {@code bank} has handled each task, before its result is sent. */
  void afterTask(String bank, TaskHook hook) {
    afterTask.put(bank, hook);
  }

  /** Starts the coordinator on a port the operating system picks ({@link CoordinatorService#actualPort()}). */
  CoordinatorService startCoordinator(JobSpec plan, Duration stageTimeout, ModelOps modelOps) throws Exception {
    return deployCoordinator(plan, stageTimeout, 0, modelOps);
  }

  /**
   * Starts the coordinator again, after {@link #stopCoordinator()}, on the same data directory and on
   * the port the stopped one had bound, where the banks reconnect. Nothing reserves the port in
   * between, as for an operator restarting a service on its configured port.
   */
  CoordinatorService restartCoordinator(JobSpec plan, Duration stageTimeout) throws Exception {
    return deployCoordinator(plan, stageTimeout, coordinatorPort, new FederatedModelOps());
  }

  private CoordinatorService deployCoordinator(JobSpec plan, Duration stageTimeout, int port, ModelOps modelOps)
      throws Exception {
    return deployCoordinator(new JobDefinition(plan, banks.size(), Duration.ofSeconds(60), stageTimeout), port,
        modelOps, -1);
  }

  /**
   * Starts the coordinator as a standing service: no job of its own, the operator API on a port the
   * operating system picks ({@link CoordinatorService#apiPort()}); jobs come through the API.
   */
  CoordinatorService startService() throws Exception {
    return deployCoordinator(null, 0, new FederatedModelOps(), 0);
  }

  /** The operator API's address, for {@code --api}. */
  String apiUrl() {
    return "https://localhost:" + service.apiPort();
  }

  /** The identity directory of the demo PKI's operator or auditor, for {@code --identity}. */
  static String identityDir(TlsMaterial identity) {
    return identity.keyFile().getParent().toString();
  }

  /** The result of job {@code jobId} on the running coordinator, once it completes. */
  JsonObject awaitJob(String jobId) throws Exception {
    io.vertx.core.Promise<JsonObject> result = io.vertx.core.Promise.promise();
    service.onEventLoop(() -> service.jobs().eventualOutcome(jobId).onComplete(result));
    return Await.within(JOB_TIMEOUT, "job '" + jobId + "' to finish", result.future());
  }

  private CoordinatorService deployCoordinator(JobDefinition job, int port, ModelOps modelOps, int apiPort)
      throws Exception {
    TlsMaterial c = pki.coordinator();
    coordinatorVertx = Vertx.vertx();
    vertxes.add(coordinatorVertx);
    coordinatorConfig = new CoordinatorConfig("127.0.0.1", port, c.keyFile(), c.chainFile(), c.caFile(), c.crlFile(),
        dir.resolve("coordinator"), 16 << 20, Duration.ofSeconds(30), false, job, apiPort);
    service = new CoordinatorService(coordinatorConfig, modelOps, limits);
    Await.within(Duration.ofSeconds(30), "the coordinator to start", coordinatorVertx.deployVerticle(service));
    coordinatorPort = service.actualPort();
    return service;
  }

  /** Stops the coordinator as a crash or an operator's restart would: the banks keep running. */
  void stopCoordinator() throws Exception {
    vertxes.remove(coordinatorVertx);
    Await.within(Duration.ofSeconds(30), "the coordinator to stop", coordinatorVertx.close());
  }

  /** Starts the coordinator and the banks and waits for the job's result. */
  JsonObject run(JobSpec plan, Duration stageTimeout, Function<String, BankSettings> perBank) throws Exception {
    startCoordinator(plan, stageTimeout, new FederatedModelOps());
    startBanks(perBank);
    return Await.within(JOB_TIMEOUT, "job '" + plan.id() + "' to finish", service.jobOutcome());
  }

  /** Completes once {@code bank} has handled the job-finished notice of {@code jobId}. */
  CompletableFuture<Void> finished(String bank, String jobId) {
    return finished(bank + "/" + jobId);
  }

  /** Bounds a whole job in these tests; one takes a few seconds. */
  static final Duration JOB_TIMEOUT = Duration.ofSeconds(60);

  /**
   * Completes once {@code bank} has handled the job-finished notice, that is, saved the final model
   * in its own directory (it arrives with the bank's next poll after the job completes).
   */
  CompletableFuture<Void> finished(String bank) {
    return finished.computeIfAbsent(bank, b -> new CompletableFuture<>());
  }

  /** Starts one daemon per bank, each with its own Vert.x, pointed at the running coordinator. */
  void startBanks(Function<String, BankSettings> perBank) throws Exception {
    startBanksAt(coordinatorPort, perBank);
  }

  /** Starts the banks pointed at {@code port} (where no coordinator may listen yet). */
  void startBanksAt(int coordinatorPort, Function<String, BankSettings> perBank) throws Exception {
    List<String> lines = Files.readAllLines(dir.resolve("all.csv"));
    for (int b = 0; b < banks.size(); b++) {
      Path bankDir = Files.createDirectories(dir.resolve(banks.get(b)));
      List<String> own = new ArrayList<>();
      own.add(lines.get(0));
      own.addAll(lines.subList(1 + b * 240, 1 + (b + 1) * 240));
      Files.write(bankDir.resolve("data.csv"), own);
    }
    startBanksAt(coordinatorPort, perBank, bank -> dir.resolve(bank).resolve("data.csv"));
  }

  /** Starts one daemon per bank on the data file {@code dataOf} gives it. */
  void startBanks(Function<String, BankSettings> perBank, Function<String, Path> dataOf) throws Exception {
    startBanksAt(coordinatorPort, perBank, dataOf);
  }

  private void startBanksAt(int coordinatorPort, Function<String, BankSettings> perBank, Function<String, Path> dataOf)
      throws Exception {
    for (String bank : banks) {
      Path bankDir = Files.createDirectories(dir.resolve(bank));
      Path data = dataOf.apply(bank);
      BankSettings settings = perBank.apply(bank);
      TlsMaterial t = pki.bank(bank);
      int port = links.containsKey(bank) ? links.get(bank).port() : coordinatorPort;
      ParticipantConfig config = new ParticipantConfig("localhost", port, t.keyFile(),
          t.chainFile(), t.caFile(), data, bankDir.resolve("local"), settings.epsilonCap(), 1e-5, 16 << 20,
          settings.failAtStage(), settings.acceptPartialJobs(), t.crlFile(), settings.bankEpsilonCap(),
          settings.policy(), 0.25);
      Vertx v = Vertx.vertx();
      vertxes.add(v);
      ParticipantDaemon[] daemon = new ParticipantDaemon[1];
      daemon[0] = new ParticipantDaemon(v, config, observed(bank, new BankTaskHandler(config)), status -> {
        faultExits.add(status);
        daemon[0].stop();
      });
      daemon[0].start();
      daemons.put(bank, daemon[0]);
    }
  }

  /** The bank's own handler, telling {@link #finished(String)} when it has handled the job-finished notice. */
  private TaskHandler observed(String bank, TaskHandler handler) {
    return task -> {
      TaskHook before = beforeTask.get(bank);
      if (before != null) {
        before.run(task);
      }
      TaskResult.Builder result = handler.handle(task);
      TaskHook after = afterTask.get(bank);
      if (after != null) {
        after.run(task);
      }
      if (task.getHeader().getStage() == Stage.FINISHED) {
        finished(bank).complete(null);
        finished(bank + "/" + task.getHeader().getJobId()).complete(null);
      }
      return result;
    };
  }

  /**
   * The auditor's view: stops the consortium, exports the ledger from the coordinator's database to
   * {@code export} and verifies it offline against the CA alone.
   */
  io.consort.privacy.ledger.VerificationResult auditorsView(Path export) throws Exception {
    CoordinatorConfig cfg = coordinatorConfig;
    close();
    try (io.consort.coordinator.store.CoordinatorStore store = io.consort.coordinator.store.CoordinatorStore.open(
        cfg.dataDir())) {
      new io.consort.coordinator.job.LedgerKeeper(store, io.consort.certs.PemFiles.readPrivateKey(cfg.keyFile()),
          io.consort.certs.PemFiles.readCertificates(cfg.certFile()).get(0)).export(export);
    }
    return io.consort.privacy.ledger.LedgerVerifier.verify(export,
        io.consort.certs.PemFiles.readCertificate(cfg.caFile()));
  }

  Path bankDir(String bank) {
    return dir.resolve(bank);
  }

  @Override
  public void close() throws Exception {
    for (FaultyLink link : links.values()) {
      link.close();
    }
    links.clear();
    for (Vertx v : vertxes) {
      Await.within(Duration.ofSeconds(30), "a Vert.x instance to close", v.close());
    }
  }
}
