package io.consort.participant;

import io.consort.model.data.DataFormatException;
import io.consort.model.data.DataSplitter;
import io.consort.model.data.DatasetLoader;
import io.consort.model.data.Table;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import io.consort.model.wire.ModelWire;
import io.consort.model.train.DpSgdConfig;
import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.budget.BudgetDecision;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.Declined;
import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.JobDecision;
import io.consort.protocol.v1.JobPlan;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.SecureRoundPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelUpdate;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a bank does for each task. Its rows never leave this class: the coordinator gets per-column
 * sums and counts (feature statistics), parameter deltas (updates) and score histograms
 * (evaluation). Called on one worker thread at a time per task; job state is kept per job id.
 */
public final class BankTaskHandler implements TaskHandler {
  private static final Logger log = LoggerFactory.getLogger(BankTaskHandler.class);

  private final ParticipantConfig config;
  private final Map<String, BankJob> jobs = new HashMap<>();
  private BankPrivacy privacy;
  private BankSecureAggregation secureAggregation;

  public BankTaskHandler(ParticipantConfig config) {
    this.config = config;
  }

  private BankSecureAggregation secureAggregation() {
    if (secureAggregation == null) {
      secureAggregation = new BankSecureAggregation(config,
          (jobId, round, survivors) -> privacy().recordSurvivors(jobId, round, survivors));
    }
    return secureAggregation;
  }

  /** The bank's privacy accounting, opened on first use (it reads the bank's key and ledger copy). */
  private BankPrivacy privacy() {
    if (privacy == null) {
      privacy = new BankPrivacy(config);
    }
    return privacy;
  }

  @Override
  public synchronized TaskResult.Builder handle(Task task) throws Exception {
    return switch (task.getKindCase()) {
      case JOB_OFFER -> offer(task.getJobOffer().getPlan());
      case FEATURE_STATS -> featureStats(task.getFeatureStats().getPlan());
      case TRAIN -> train(task);
      case EVALUATE -> evaluate(task);
      case FINISHED -> finished(task);
      case SECURE_AGGREGATION -> TaskResult.newBuilder().setSecureAggregation(secureAggregation()
          .step(task.getHeader().getJobId(), task.getHeader().getRound(), task.getSecureAggregation()));
      case COUNTERSIGN -> TaskResult.newBuilder().setCountersignature(privacy().countersign(task.getCountersign()));
      default -> throw new ProtocolViolationException("this bank does not handle " + task.getKindCase() + " tasks");
    };
  }

  /** The bank's view of one job: its data split and, once the encoding is known, its trainer. */
  private static final class BankJob {
    /** The plan as the bank accepted it, compared byte for byte with every later task's. */
    final JobPlan plan;
    final JobSpec spec;
    final DataSplitter.TrainTest split;
    /** The wire encoding and spec the trainer was built for; a model with others rebuilds it. */
    io.consort.protocol.v1.FeatureEncoding preparedEncoding;
    io.consort.protocol.v1.ModelSpec preparedSpec;
    EncodedData train;
    EncodedData test;
    LocalTrainer trainer;

    BankJob(JobPlan plan, JobSpec spec, DataSplitter.TrainTest split) {
      this.plan = plan;
      this.spec = spec;
      this.split = split;
    }
  }

  private TaskResult.Builder offer(JobPlan plan) throws IOException {
    try {
      BankJob job = job(plan);
      JobDecision.Builder decision = JobDecision.newBuilder().setAccept(true).setEpsilonCap(config.epsilonCap());
      if (job.spec.privacy().recordLevel()) {
        // privacy preview: the whole job's record-level cost for this bank's own rows, on top of what
        // it has already spent; the bank declines if that would pass its own cap
        BudgetDecision preview = privacy().preview(job.spec, job.split.train().rows());
        boolean accept = preview.accepted() || config.acceptPartialJobs();
        decision.setAccept(accept).setProjectedEpsilon(preview.projectedEpsilon())
            .setReason(preview.accepted() ? preview.reason() : preview.reason() + (accept
                ? "; accepting anyway (accept_partial_jobs): rounds past the cap will be declined" : ""));
        log.info("job '{}' offered: {} training rows, {} held-out rows; privacy preview: {}; {}", plan.getJobId(),
            job.split.train().rows(), job.split.test().rows(), preview.reason(),
            accept ? "accepting" : "declining");
        return TaskResult.newBuilder().setDecision(decision);
      }
      log.info("job '{}' offered: {} training rows, {} held-out rows; accepting", plan.getJobId(),
          job.split.train().rows(), job.split.test().rows());
      return TaskResult.newBuilder().setDecision(decision);
    } catch (DataFormatException | IllegalArgumentException e) {
      // the bank cannot take part with this data; say why instead of failing silently
      log.error("declining job '{}': {}", plan.getJobId(), e.getMessage());
      return TaskResult.newBuilder().setDecision(JobDecision.newBuilder().setAccept(false)
          .setReason(e.getMessage()).setEpsilonCap(config.epsilonCap()));
    }
  }

  private TaskResult.Builder featureStats(JobPlan plan) throws DataFormatException {
    BankJob job = job(plan);
    // statistics of the training rows only: the held-out split stays untouched until evaluation
    LocalFeatureStats stats = LocalFeatureStats.compute(job.split.train());
    return TaskResult.newBuilder().setFeatureStats(
        ModelWire.stats(stats, job.split.train().rows(), job.split.test().rows()));
  }

  private TaskResult.Builder train(Task task) throws DataFormatException, IOException,
      java.security.GeneralSecurityException {
    var t = task.getTrain();
    BankJob job = job(t.getPlan());
    ModelParameters global = t.getGlobalModel();
    prepare(job, global);
    long started = System.nanoTime();
    float[] base = ModelWire.values(global);
    // epochs, privacy and secure aggregation come from the pinned plan, never from the task alone
    int epochs = job.spec.training().localEpochs();
    TrainingOptions options = TrainingOptions.standard();
    DpReport dp = null;
    SecureRoundPlan secureRound = null;
    if (job.spec.secureAggregation().enabled()) {
      // the round as this bank derives it from the pinned plan: a task that disagrees is refused before any work
      secureRound = secureAggregation().roundPlan(job.spec, task.getHeader().getRound(), t, base.length);
      try {
        privacy().checkBankRound(secureRound);
      } catch (PrivacyBudgetExceededException e) {
        log.warn("round {}: declining: {}", task.getHeader().getRound(), e.getMessage());
        return declined(e);
      }
    }
    if (job.spec.privacy().recordLevel()) {
      LocalTrainingPlan round = privacy().roundPlan(job.spec, job.split.train().rows());
      try {
        privacy().checkRound(round);
      } catch (PrivacyBudgetExceededException e) {
        // a declined round is the bank's right, not an error: the coordinator cannot override it
        log.warn("round {}: declining: {}", task.getHeader().getRound(), e.getMessage());
        return TaskResult.newBuilder().setDeclined(Declined.newBuilder().setReason(e.getMessage())
            .setSpentEpsilon(e.spentEpsilon()).setProjectedEpsilon(e.projectedEpsilon())
            .setEpsilonCap(e.capEpsilon()));
      }
      double clip = job.spec.privacy().record().orElseThrow().clipNorm();
      options = TrainingOptions.withDpSgd(new DpSgdConfig(round.noiseMultiplier(), clip, round.samplingRate()));
      long steps = options.dp().get().stepsFor(epochs);
      if (steps > round.steps()) {
        throw new IllegalStateException("DP-SGD would run " + steps + " steps but the budget check covered "
            + round.steps());
      }
      dp = DpReport.newBuilder().setNoiseMultiplier(round.noiseMultiplier()).setSamplingRate(round.samplingRate())
          .setSteps(steps).setClipNorm(clip).setRows(job.split.train().rows()).build();
    }
    TrainingResult result = job.trainer.train(base, epochs, options);
    float[] after = result.parameters();
    if (dp != null && dp.getSteps() != result.steps()) {
      throw new IllegalStateException("DP-SGD ran " + result.steps() + " steps but " + dp.getSteps() + " were planned");
    }
    if (dp != null) {
      privacy().recordRun(job.plan.getJobId(), task.getHeader().getRound(), dp);
    }
    if (secureRound != null) {
      return secureUpdate(task, secureRound, base, after, dp, started);
    }
    ModelUpdate.Builder update = ModelUpdate.newBuilder().setBaseVersion(global.getVersion())
        .setExampleCount(job.split.train().rows()).setSteps(result.steps()).setTrainLoss(result.meanLoss());
    if (dp != null) {
      update.setDp(dp);
    }
    for (int i = 0; i < after.length; i++) {
      update.addDelta(after[i] - base[i]);
    }
    update.setSeconds((System.nanoTime() - started) / 1e9);
    log.info("round {}: trained {} steps on {} rows, loss {}", task.getHeader().getRound(), result.steps(),
        job.split.train().rows(), String.format("%.4f", result.meanLoss()));
    return TaskResult.newBuilder().setUpdate(update);
  }

  /**
   * Under secure aggregation the update never leaves the bank in readable form: it is clipped to the
   * plan's L2 norm, scaled by the bank's FedAvg weight, quantised (plus the bank's discrete Gaussian
   * noise share when bank-level DP is on) and handed to the secure-aggregation client, whose signed
   * keys are the bank's answer to the training task. {@code round} is what the bank derived from the
   * pinned plan and the roster; the task's own values were only checked against it.
   */
  private TaskResult.Builder secureUpdate(Task task, SecureRoundPlan round, float[] base, float[] after, DpReport dp,
                                         long started) throws java.security.GeneralSecurityException, IOException {
    double weight = task.getTrain().getAggregationWeight();
    if (!(weight > 0 && weight <= 1)) {
      // a weight outside (0, 1] would break the quantiser's range and the stated sensitivity
      throw new ProtocolViolationException("aggregation weight must be in (0, 1], got " + weight);
    }
    float[] delta = new float[after.length];
    double squared = 0;
    for (int i = 0; i < after.length; i++) {
      delta[i] = after[i] - base[i];
      squared += (double) delta[i] * delta[i];
    }
    double factor = Math.min(1.0, round.clipNorm() / Math.max(Math.sqrt(squared), 1e-30)) * weight;
    for (int i = 0; i < delta.length; i++) {
      delta[i] = (float) (delta[i] * factor);
    }
    long[] noise = round.bankLevel() ? privacy().noiseShare(round) : null;
    byte[] first = secureAggregation().start(round, delta, noise);
    SecAggStep.Builder step = SecAggStep.newBuilder().addMessages(com.google.protobuf.ByteString.copyFrom(first));
    if (dp != null) {
      step.setDp(dp);
    }
    log.info("round {}: trained and masked-aggregation keys sent ({} s)", task.getHeader().getRound(),
        String.format("%.2f", (System.nanoTime() - started) / 1e9));
    return TaskResult.newBuilder().setSecureAggregation(step);
  }

  private static TaskResult.Builder declined(PrivacyBudgetExceededException e) {
    return TaskResult.newBuilder().setDeclined(Declined.newBuilder().setReason(e.getMessage())
        .setSpentEpsilon(e.spentEpsilon()).setProjectedEpsilon(e.projectedEpsilon()).setEpsilonCap(e.capEpsilon()));
  }

  private TaskResult.Builder evaluate(Task task) throws DataFormatException {
    var e = task.getEvaluate();
    BankJob job = job(e.getPlan());
    ModelParameters model = e.getGlobalModel();
    prepare(job, model);
    float[] scores = Predictor.predict(job.spec.model(), ModelWire.values(model), job.test);
    int bins = job.spec.evaluation().histogramBins();
    ScoreHistogram h = ScoreHistogram.of(scores, job.test.y(), bins);
    EvaluationResult.Builder out = EvaluationResult.newBuilder().setBaseVersion(model.getVersion())
        .setExamples(h.count()).setLogLossSum(h.logLossSum()).setCorrect(h.correct());
    for (long c : h.positives()) {
      out.addPositiveHistogram(c);
    }
    for (long c : h.negatives()) {
      out.addNegativeHistogram(c);
    }
    return TaskResult.newBuilder().setEvaluation(out);
  }

  private TaskResult.Builder finished(Task task) throws IOException {
    var f = task.getFinished();
    String jobId = task.getHeader().getJobId();
    Path out = config.dataDir().resolve("jobs").resolve(jobId + "-final-model.pb");
    Files.createDirectories(out.getParent());
    Files.write(out, f.getFinalModel().toByteArray());
    log.info("job '{}' finished ({}); final model {} saved to {}", jobId, f.getReason(),
        f.getFinalModel().getSha256(), out);
    return null;
  }

  // ------------------------------------------------------------------ job state

  /**
   * The bank's state for a job. The plan is pinned when the bank first sees it (the offer it
   * accepted): a later task that carries a different plan for the same job is refused, so a
   * coordinator cannot change epochs, privacy or secure aggregation after the bank's privacy preview.
   */
  private BankJob job(JobPlan plan) throws DataFormatException {
    BankJob job = jobs.get(plan.getJobId());
    if (job != null && job.plan.equals(plan)) {
      return job;
    }
    if (job != null) {
      throw new ProtocolViolationException("job '" + plan.getJobId() + "': the task carries a different plan than "
          + "the one this bank accepted; refusing it");
    }
    // every value of the plan is validated before any of it is used; an invalid plan is declined by name
    JobSpec spec = JobSpecWire.fromProto(plan);
    Table table = DatasetLoader.load(config.dataFile(), spec.schema());
    job = new BankJob(plan, spec, DataSplitter.trainTest(table, spec.evaluation().testFraction(),
        spec.evaluation().splitSeed()));
    jobs.put(plan.getJobId(), job);
    return job;
  }

  /**
   * Encodes the bank's rows with the job's encoding (once per encoding) and builds its trainer; then
   * checks that {@code model} has exactly the parameters that network has, on every task.
   */
  private static void prepare(BankJob job, ModelParameters model) {
    if (!model.getEncoding().equals(job.preparedEncoding) || !model.getSpec().equals(job.preparedSpec)) {
      FeatureEncoding encoding;
      try {
        encoding = ModelWire.encoding(job.spec.schema(), model.getEncoding());
      } catch (IllegalArgumentException e) {
        throw new ProtocolViolationException("job '" + job.spec.id() + "': the model's feature encoding does not "
            + "fit the accepted schema: " + e.getMessage(), e);
      }
      // the model must be the accepted plan's, at the width of the encoding: the bank trains what it pinned
      io.consort.protocol.v1.ModelSpec expected = JobSpecWire.model(job.spec).toBuilder()
          .setInputFeatures(encoding.featureCount()).build();
      if (!model.getSpec().equals(expected)) {
        throw new ProtocolViolationException("job '" + job.spec.id() + "': the global model's specification differs "
            + "from the accepted plan's (with " + encoding.featureCount() + " encoded features)");
      }
      job.train = encoding.encode(job.split.train());
      job.test = encoding.encode(job.split.test());
      io.consort.model.train.TrainingEngine engine = job.spec.training().engine();
      job.trainer = new LocalTrainer(job.spec.model(), job.train, engine);
      job.preparedEncoding = model.getEncoding();
      job.preparedSpec = model.getSpec();
      log.info("job '{}': {} encoded features, {} training rows, training engine {}", job.spec.id(),
          encoding.featureCount(), job.train.rows(), engine.wireName());
    }
    if (model.getValuesCount() != job.trainer.parameterCount()) {
      throw new ProtocolViolationException("global model has " + model.getValuesCount()
          + " parameters but this job's network has " + job.trainer.parameterCount());
    }
  }
}
