package io.consort.participant;

import io.consort.model.data.DataFormatException;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import io.consort.model.wire.ModelWire;
import io.consort.model.train.DpSgdConfig;
import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.budget.BudgetDecision;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.Declined;
import io.consort.protocol.v1.Countersignature;
import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.JobDecision;
import io.consort.protocol.v1.JobPlan;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.SecureSumPurpose;
import io.consort.spec.RoundEvaluation;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.protocol.v1.FeatureStats;
import io.consort.spec.SecureRoundPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelUpdate;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TrainTask;
import io.consort.protocol.v1.TaskResult;
import io.consort.secagg.ModelDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
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

  /**
   * Told when a training task trained, when it did its privacy accounting (the budget checks and starting
   * the journal entry before training, waiting for the entry to be on disk before answering), when it evaluated the model it started from (the evaluation
   * its secure sum carries) and when it clipped, quantised and masked its update for
   * secure aggregation (with the keys it advertises; in a ledger task, the next round's shares it
   * computes), on the worker thread that did them: what
   * {@code consort bench round} separates from the rest of a training task (decoding the model,
   * encoding the update). The daemon's is a no-op.
   */
  @FunctionalInterface
  public interface TaskClock {
    TaskClock NONE = (phase, startNanos, endNanos) -> {};

    /** What part of a training task a span of it was. */
    enum Phase { TRAINING, PRIVACY_ACCOUNTING, SECURE_AGGREGATION, EVALUATION }

    void phase(Phase phase, long startNanos, long endNanos);
  }

  private final ParticipantConfig config;
  private final TaskClock clock;
  private final Map<String, BankJob> jobs = new HashMap<>();
  private final AcceptedJobs acceptedJobs;
  /** Shuffles of permutation importance: they decide which rows' values meet, so from SecureRandom. */
  private final java.security.SecureRandom shuffles = new java.security.SecureRandom();
  private BankPrivacy privacy;
  private BankSecureAggregation secureAggregation;
  private AnsweredOnce answeredOnce;

  public BankTaskHandler(ParticipantConfig config) {
    this(config, TaskClock.NONE);
  }

  public BankTaskHandler(ParticipantConfig config, TaskClock clock) {
    this.config = config;
    this.clock = java.util.Objects.requireNonNull(clock, "clock");
    this.acceptedJobs = new AcceptedJobs(config.dataDir());
  }

  /** Package-private for tests that play the ledger stage's key relay without a signed ledger entry. */
  BankSecureAggregation secureAggregation() {
    if (secureAggregation == null) {
      secureAggregation = new BankSecureAggregation(config,
          (jobId, round, survivors) -> privacy().recordSurvivors(jobId, round, survivors));
    }
    return secureAggregation;
  }

  /** The secure sums of a job this bank answered, which it answers once per job; read on first use. */
  private AnsweredOnce answeredOnce() throws IOException {
    if (answeredOnce == null) {
      answeredOnce = new AnsweredOnce(config.dataDir());
    }
    return answeredOnce;
  }

  /** The bank's privacy accounting, opened on first use (it reads the bank's key and ledger copy). */
  BankPrivacy privacy() {
    if (privacy == null) {
      privacy = new BankPrivacy(config);
    }
    return privacy;
  }

  @Override
  public synchronized TaskResult.Builder handle(Task task) throws Exception {
    String jobId = task.getHeader().getJobId();
    return switch (task.getKindCase()) {
      case JOB_OFFER -> offer(jobId, task.getJobOffer().getPlan());
      case FEATURE_STATS -> featureStats(task, accepted(jobId, task.getFeatureStats().getPlan()));
      case TRAIN -> {
        BankJob job = accepted(jobId, task.getTrain().getPlan());
        TaskResult.Builder answer = train(task, job);
        if (!keyNextRoundWithInput(task, job, answer)) {
          prepareNextKeys(task, job, answer);
        }
        yield answer;
      }
      case EVALUATE -> evaluate(task, accepted(jobId, task.getEvaluate().getPlan()));
      case FINISHED -> finished(task, accepted(jobId, null));
      case SECURE_AGGREGATION -> secureAggregationStep(task, accepted(jobId, null));
      case COUNTERSIGN -> {
        BankJob job = accepted(jobId, null);
        // the ledger copy's append is forced to disk while the bank computes the next round's shares; the
        // countersignature leaves only once the copy holds the entry
        BankPrivacy.Countersigned countersigned = privacy().countersignAhead(jobId, task.getCountersign());
        Countersignature.Builder countersignature = countersigned.countersignature().toBuilder();
        try {
          if (task.getCountersign().hasNextRound()) {
            // pipelined rounds: the next round's key roster rides on the ledger task, the shares on the answer
            long sharingStarted = System.nanoTime();
            // the next round trains on the model this entry releases, in the encoding this bank trained the round with
            // (a bank that did not train here has no keys ahead either): its masks are bound to both (version 8)
            io.consort.protocol.v1.FeatureEncoding encoding = job.preparedEncoding != null ? job.preparedEncoding
                : io.consort.protocol.v1.FeatureEncoding.getDefaultInstance();
            int nextRound = task.getHeader().getRound() + 1;
            ModelDigest nextModel = ModelDigest.ofHex(io.consort.protocol.ModelChecksum
                .boundModelSha256Hex(countersigned.modelChecksum(), encoding));
            // and to the next round's row total (version 9), which its training task must carry again
            ModelDigest bound;
            try {
              bound = trainingDigest(job, nextModel, task.getCountersign().getNextRoundRowTotal(), nextRound);
            } catch (ProtocolViolationException e) {
              secureAggregation().discardAhead(jobId, e.getMessage());
              throw e;
            }
            countersignature.setNextRound(secureAggregation().shareAhead(jobId, nextRound,
                task.getCountersign().getNextRound(), bound));
            clock.phase(TaskClock.Phase.SECURE_AGGREGATION, sharingStarted, System.nanoTime());
          }
        } catch (Throwable e) {
          settle(countersigned.copy(), e);
          throw e;
        }
        countersigned.copy().await();
        yield TaskResult.newBuilder().setCountersignature(countersignature);
      }
      default -> throw new ProtocolViolationException("this bank does not handle " + task.getKindCase() + " tasks");
    };
  }

  /**
   * One secure-aggregation stage. With pipelined rounds (docs/PROTOCOL.md, version 3) the unmasking request
   * of round r's update sum names the roster of round r+1, and the bank answers with its fresh keys for
   * that round beside its shares; only after a training task, whose model size it then knows, and only
   * at the unmasking stage.
   */
  private TaskResult.Builder secureAggregationStep(Task task, BankJob job) throws java.security.GeneralSecurityException {
    int round = task.getHeader().getRound();
    SecAggStep step = task.getSecureAggregation();
    // the sum's last request: the unmasking request, or, unmasking with the input (pinned), the forwarded shares
    Stage lastRequest = job.spec.secureAggregation().unmaskingWithInput() ? Stage.MASKED_INPUT : Stage.UNMASKING;
    if (step.getNextRoundMembersCount() > 0 && (task.getHeader().getStage() != lastRequest || job.dimension == 0)) {
      throw new ProtocolViolationException("a next round's roster may come only with the "
          + (lastRequest == Stage.UNMASKING ? "unmasking" : "masked-input") + " request of a round this bank trained for, not with stage " + task.getHeader().getStage() + " of round "
          + round);
    }
    SecAggStep.Builder reply;
    try {
      reply = secureAggregation().step(task.getHeader().getJobId(), round, step).toBuilder();
    } catch (RuntimeException e) {
      // a refused or aborted stage: the round's unmasking answer will not advertise the keys made ahead
      secureAggregation().discardPrepared(task.getHeader().getJobId());
      throw e;
    }
    if (step.getNextRoundMembersCount() > 0) {
      try {
        reply.setNextRound(SecAggStep.newBuilder().addMessages(com.google.protobuf.ByteString.copyFrom(
            secureAggregation().keyAhead(job.spec, round + 1, step.getNextRoundMembersList(), job.dimension))));
      } catch (ProtocolViolationException e) {
        // the unmasking answer is sound and goes out; without keys the next round runs in full
        log.warn("round {}: keys nothing ahead for round {}: {}", round, round + 1, e.getMessage());
      }
    }
    return TaskResult.newBuilder().setSecureAggregation(reply);
  }

  /**
   * Pipelined rounds unmasking with the input: the training task that carries the forwarded shares ends this
   * round's sum, so it may name the next round's roster, and the bank's answer (its masked input and b-shares)
   * then carries its keys for that round. The task was checked before training ({@link #secureRoundBeforeTraining}).
   *
   * @return whether the task named a next round's roster
   */
  private boolean keyNextRoundWithInput(Task task, BankJob job, TaskResult.Builder answer) {
    TrainTask t = task.getTrain();
    if (!t.hasForwardedShares() || t.getForwardedShares().getNextRoundMembersCount() == 0) {
      return false;
    }
    if (answer.hasSecureAggregation()) {
      int round = task.getHeader().getRound();
      try {
        answer.getSecureAggregationBuilder().setNextRound(SecAggStep.newBuilder().addMessages(
            com.google.protobuf.ByteString.copyFrom(secureAggregation().keyAhead(job.spec, round + 1,
                t.getForwardedShares().getNextRoundMembersList(), job.dimension))));
      } catch (ProtocolViolationException | java.security.GeneralSecurityException e) {
        // the masked input is sound and goes out; without keys the next round runs in full
        log.warn("round {}: keys nothing ahead for round {}: {}", round, round + 1, e.getMessage());
      }
    }
    return true;
  }

  /**
   * Pipelined rounds: after answering a training task of a secure round with its secure-aggregation step, the
   * bank makes the next round's keys on its key thread while the round goes on, for the unmasking request that
   * will ask for them ({@link BankSecureAggregation#prepareKeys}); they are wiped if that request does not come.
   */
  private void prepareNextKeys(Task task, BankJob job, TaskResult.Builder answer) {
    if (job.spec.secureAggregation().enabled() && answer.hasSecureAggregation()) {
      secureAggregation().prepareKeys(job.spec, task.getHeader().getRound() + 1,
          task.getTrain().getRoundMembersList(), job.dimension);
    }
  }

  /** The bank's view of one job: its data and split and, once the encoding is known, its trainer. */
  private static final class BankJob {
    /** The plan as the bank accepted it, compared byte for byte with every later task's. */
    final JobPlan plan;
    final JobSpec spec;
    final BankData data;
    /** The wire encoding and spec the trainer was built for; a model with others rebuilds it. */
    io.consort.protocol.v1.FeatureEncoding preparedEncoding;
    io.consort.protocol.v1.ModelSpec preparedSpec;
    EncodedData train;
    EncodedData test;
    FeatureEncoding encoding;
    LocalTrainer trainer;
    /** The parameter count of the last model this bank trained, 0 before any: what it keys a next round for. */
    int dimension;

    BankJob(JobPlan plan, JobSpec spec, BankData data) {
      this.plan = plan;
      this.spec = spec;
      this.data = data;
    }

    int trainRows() {
      return (int) data.trainRows();
    }
  }

  /**
   * Decides on an offered job: the plan must be a valid specification for the job the task names,
   * the bank's policy must allow it, the bank's data must load under its schema, and under
   * record-level DP the whole job's cost must fit the bank's cap. An accepted job is remembered
   * durably, with its plan, before the bank says yes.
   */
  private TaskResult.Builder offer(String jobId, JobPlan plan) throws IOException {
    try {
      BankJob job = open(jobId, plan);
      String reason = null;
      boolean accept = true;
      JobDecision.Builder decision = JobDecision.newBuilder().setEpsilonCap(config.epsilonCap());
      if (job.spec.privacy().recordLevel()) {
        // privacy preview: the whole job's record-level cost for this bank's own rows, on top of what
        // it has already spent; the bank declines if that would pass its own cap
        BudgetDecision preview = privacy().preview(job.spec, job.trainRows());
        accept = preview.accepted() || config.acceptPartialJobs();
        decision.setProjectedEpsilon(preview.projectedEpsilon());
        reason = preview.accepted() ? preview.reason() : preview.reason() + (accept
            ? "; accepting anyway (accept_partial_jobs): rounds past the cap will be declined" : "");
      }
      log.info("job '{}' offered: {} training rows, {} held-out rows{}; {}", jobId, job.data.trainRows(),
          job.data.testRows(), reason == null ? "" : "; privacy preview: " + reason,
          accept ? "accepting" : "declining");
      if (accept) {
        acceptedJobs.accept(plan);
        jobs.put(jobId, job);
      } else {
        jobs.remove(jobId);
      }
      return TaskResult.newBuilder().setDecision(decision.setAccept(accept).setReason(reason == null ? "" : reason));
    } catch (DataFormatException | IllegalArgumentException | ProtocolViolationException e) {
      // the bank cannot or will not take part; say why instead of failing silently
      log.error("declining job '{}': {}", jobId, e.getMessage());
      return TaskResult.newBuilder().setDecision(JobDecision.newBuilder().setAccept(false)
          .setReason(e.getMessage()).setEpsilonCap(config.epsilonCap()));
    }
  }

  /**
   * The bank's feature statistics, of its training rows only (the held-out split stays untouched until
   * evaluation). In the clear: its row counts and, for open categorical columns, the category names it
   * has enough rows of. Under secure aggregation its numeric statistics (missing counts and quantile
   * histograms included) go only into the secure sum the task opens, so the coordinator sees the
   * consortium's totals and never this bank's, and it answers one such task per job ({@link AnsweredOnce}):
   * a second sum over another roster would give this bank's vector as the difference. A task with a
   * preliminary encoding asks for the second stage ({@link #secondStageStats}).
   */
  private TaskResult.Builder featureStats(Task task, BankJob job) throws java.security.GeneralSecurityException,
      DataFormatException, IOException {
    if (task.getFeatureStats().hasPreliminary()) {
      return secondStageStats(task, job);
    }
    boolean secure = job.spec.secureAggregation().enabled();
    if (secure) {
      answeredOnce().requireUnanswered(job.spec.id(), AnsweredOnce.Kind.FIRST_STATISTICS);
    }
    LocalFeatureStats stats = job.data.firstStatistics();
    FeatureStats.Builder out = ModelWire.stats(stats.namesOnly(LocalFeatureStats.MIN_NAMED_CATEGORY_ROWS),
        job.data.trainRows(), job.data.testRows()).toBuilder();
    int[] vector = FeatureStatsVector.encode(stats);
    if (secure) {
      out.clearNumeric().setRows(0).setPositives(0)
          .setSecureSum(openSum(task, job, SecureSumPurpose.FEATURE_STATISTICS, vector, ModelDigest.NONE));
      answeredOnce().record(job.spec.id(), AnsweredOnce.Kind.FIRST_STATISTICS, AnsweredOnce.NO_DETAIL);
    } else {
      out.addAllStatistics(java.util.Arrays.stream(vector).boxed().toList());
    }
    return TaskResult.newBuilder().setFeatureStats(out);
  }

  /**
   * The second statistics stage, for a job whose preprocessing clips or counts categories: sums of the
   * training rows' values clipped to the preliminary encoding's bounds and counts per level of it. The
   * encoding is the coordinator's and so hostile: it must fit the accepted schema (clip bounds on the
   * quantile grid, fills and categories as the rules say), and the bank answers for one preliminary
   * encoding per job only, so a coordinator cannot ask for the sums at bound after bound, also after a
   * restart ({@link AnsweredOnce}). Under secure aggregation it answers one second-stage task per job at all,
   * as the first.
   */
  private TaskResult.Builder secondStageStats(Task task, BankJob job) throws java.security.GeneralSecurityException,
      DataFormatException, IOException {
    String jobId = job.spec.id();
    if (!FeatureEncoding.needsSecondStage(job.spec.schema())) {
      throw new ProtocolViolationException("job '" + jobId + "' has no second statistics stage (its preprocessing "
          + "neither clips nor counts categories)");
    }
    boolean secure = job.spec.secureAggregation().enabled();
    if (secure) {
      answeredOnce().requireUnanswered(jobId, AnsweredOnce.Kind.SECOND_STATISTICS);
    }
    io.consort.protocol.v1.FeatureEncoding wire = task.getFeatureStats().getPreliminary();
    // no map fields: the same encoding always serialises to the same bytes
    String digest = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
        .digest(wire.toByteArray()));
    Optional<String> answered = answeredOnce().answered(jobId, AnsweredOnce.Kind.SECOND_STATISTICS);
    if (answered.isPresent() && !answered.get().equals(digest)) {
      throw new ProtocolViolationException("job '" + jobId + "': this bank answered the second statistics stage for "
          + "another preliminary encoding; it answers for one only");
    }
    FeatureEncoding preliminary;
    try {
      preliminary = ModelWire.encoding(job.spec.schema(), wire);
    } catch (IllegalArgumentException e) {
      throw new ProtocolViolationException("job '" + jobId + "': the preliminary feature encoding does not fit the "
          + "accepted schema: " + e.getMessage(), e);
    }
    int[] vector = FeatureStatsVector.encodeRefined(job.data.secondStatistics(preliminary), preliminary);
    FeatureStats.Builder out = FeatureStats.newBuilder().setSecondStage(true).setTrainRows(job.data.trainRows())
        .setTestRows(job.data.testRows());
    if (secure) {
      // bound to the encoding it answered: banks given different encodings derive different seeds
      out.setSecureSum(openSum(task, job, SecureSumPurpose.FEATURE_STATISTICS_SECOND_STAGE, vector,
          ModelDigest.ofHex(io.consort.protocol.ModelChecksum.secondStageStatisticsSha256Hex(wire))));
      answeredOnce().record(jobId, AnsweredOnce.Kind.SECOND_STATISTICS, digest);
    } else {
      if (answered.isEmpty()) {
        answeredOnce().record(jobId, AnsweredOnce.Kind.SECOND_STATISTICS, digest);
      }
      out.addAllStatistics(java.util.Arrays.stream(vector).boxed().toList());
    }
    return TaskResult.newBuilder().setFeatureStats(out);
  }

  /** Opens the secure sum of {@code vector} the task asks for: the bank's key advertisement. */
  private SecAggStep openSum(Task task, BankJob job, SecureSumPurpose purpose, int[] vector, ModelDigest bound)
      throws java.security.GeneralSecurityException {
    List<String> roster = task.getFeatureStats().getRoundMembersList();
    checkRoster(job, roster);
    var params = secureAggregation().sumPlan(job.spec, task.getHeader().getRound(), purpose, roster, vector.length);
    checkThreshold(job, params.threshold());
    return SecAggStep.newBuilder().addMessages(com.google.protobuf.ByteString.copyFrom(
        secureAggregation().startSum(params, task.getHeader().getRound(), vector, bound))).build();
  }

  private TaskResult.Builder train(Task task, BankJob job) throws IOException, java.security.GeneralSecurityException,
      DataFormatException {
    var t = task.getTrain();
    ModelParameters global = t.getGlobalModel();
    prepare(job, global);
    long started = System.nanoTime();
    float[] base = ModelWire.values(global);
    requireFinite(job, task.getHeader().getRound(), base);
    if (t.hasForwardedShares() && !job.spec.secureAggregation().enabled()) {
      throw new ProtocolViolationException("training task carries forwarded shares, but job '" + job.spec.id()
          + "' has no secure aggregation");
    }
    job.dimension = base.length;
    // epochs, privacy and secure aggregation come from the pinned plan, never from the task alone
    int epochs = job.spec.training().localEpochs();
    TrainingOptions options = TrainingOptions.standard();
    DpReport dp = null;
    SecureRoundPlan secureRound = null;
    // the model this bank trains on, by its own digest of the parameters (never the task's sha256 field) with the
    // encoding it encodes its rows with: bound into the sum's masks
    ModelDigest model = null;
    String baseSha = null; // its SHA-256, computed once: the carried evaluation's release check reuses it
    if (job.spec.secureAggregation().enabled()) {
      baseSha = io.consort.protocol.ModelChecksum.sha256Hex(base);
      model = ModelDigest.ofHex(io.consort.protocol.ModelChecksum.boundModelSha256Hex(baseSha, global.getEncoding()));
      try {
        // the bank's FedAvg weight is its own rows / R, and R is bound into the masks (version 9)
        model = trainingDigest(job, model, t.getRoundRowTotal(), task.getHeader().getRound());
      } catch (ProtocolViolationException e) {
        secureAggregation().discardAhead(job.spec.id(), "the training task of round " + task.getHeader().getRound()
            + " was refused");
        throw e;
      }
      secureRound = secureRoundBeforeTraining(task, job, base.length, model);
      long checkStarted = System.nanoTime();
      try {
        privacy().checkBankRound(secureRound);
        if (secureRound.distributedRecordNoise()) {
          privacy().checkDistributedRound(secureRound);
        }
      } catch (PrivacyBudgetExceededException e) {
        log.warn("round {}: declining: {}", task.getHeader().getRound(), e.getMessage());
        secureAggregation().discardAhead(job.spec.id(), "the bank declined round " + task.getHeader().getRound());
        return declined(e);
      } finally {
        clock.phase(TaskClock.Phase.PRIVACY_ACCOUNTING, checkStarted, System.nanoTime());
      }
      if (secureRound.distributedRecordNoise()) {
        return distributedStep(task, job, secureRound, base, carriedEvaluation(task, job, global, base, baseSha),
            started, model);
      }
    }
    long accountingStarted = System.nanoTime();
    if (job.spec.privacy().recordLevel()) {
      LocalTrainingPlan round = privacy().roundPlan(job.spec, job.trainRows());
      try {
        privacy().checkRound(round);
      } catch (PrivacyBudgetExceededException e) {
        // a declined round is the bank's right, not an error: the coordinator cannot override it
        log.warn("round {}: declining: {}", task.getHeader().getRound(), e.getMessage());
        if (secureRound != null) {
          secureAggregation().discardAhead(job.spec.id(), "the bank declined round " + task.getHeader().getRound());
        }
        return declined(e);
      }
      double clip = job.spec.privacy().record().orElseThrow().clipNorm();
      options = TrainingOptions.withDpSgd(new DpSgdConfig(round.noiseMultiplier(), clip, round.samplingRate()));
      long steps = options.dp().get().stepsFor(epochs);
      if (steps > round.steps()) {
        throw new IllegalStateException("DP-SGD would run " + steps + " steps but the budget check covered "
            + round.steps());
      }
      dp = DpReport.newBuilder().setNoiseMultiplier(round.noiseMultiplier()).setSamplingRate(round.samplingRate())
          .setSteps(steps).setClipNorm(clip).setRows(job.trainRows()).build();
    }
    // the spend is journalled now and forced to disk on the journal's thread while the bank trains and masks
    // (computation, not a release); the answer waits for it below, so nothing of the run leaves before it
    BankPrivacy.DurableRecord spend = dp == null ? null
        : privacy().recordRunAhead(job.plan.getJobId(), task.getHeader().getRound(), dp);
    if (dp != null) {
      clock.phase(TaskClock.Phase.PRIVACY_ACCOUNTING, accountingStarted, System.nanoTime());
    }
    TaskResult.Builder answer;
    try {
      answer = trainedAnswer(task, job, global, base, baseSha, options, dp, secureRound, model, started);
    } catch (Throwable e) {
      if (spend != null) {
        settle(spend, e);
      }
      throw e;
    }
    if (spend != null) {
      long waitStarted = System.nanoTime();
      spend.await();
      clock.phase(TaskClock.Phase.PRIVACY_ACCOUNTING, waitStarted, System.nanoTime());
    }
    return answer;
  }

  /**
   * Waits for {@code write} before {@code failure} is thrown: a task that fails is reported, and the next one runs,
   * only after the disk write it started settled (a write that failed too is added to the failure).
   */
  private static void settle(BankPrivacy.DurableRecord write, Throwable failure) {
    try {
      write.await();
    } catch (IOException suppressed) {
      failure.addSuppressed(suppressed);
    }
  }

  /**
   * The training task's work after its checks and budget: trains, then builds the answer (under secure
   * aggregation the masked update or keys). Nothing it returns has left the bank: {@link #train} sends it
   * only once the run's spend is on disk.
   */
  private TaskResult.Builder trainedAnswer(Task task, BankJob job, ModelParameters global, float[] base,
      String baseSha, TrainingOptions options, DpReport dp, SecureRoundPlan secureRound, ModelDigest model,
      long started)
      throws IOException, java.security.GeneralSecurityException {
    long trainingStarted = System.nanoTime();
    int epochs = job.spec.training().localEpochs();
    // FedProx's proximal term, as pinned in the plan: data-independent, so free under DP-SGD
    TrainingResult result = job.trainer.train(base, epochs, options.withProximalMu(job.spec.training().proximalMu()));
    clock.phase(TaskClock.Phase.TRAINING, trainingStarted, System.nanoTime());
    float[] after = result.parameters();
    if (dp != null && dp.getSteps() != result.steps()) {
      throw new IllegalStateException("DP-SGD ran " + result.steps() + " steps but " + dp.getSteps() + " were planned");
    }
    if (secureRound != null) {
      int[] carried = carriedEvaluation(task, job, global, base, baseSha);
      long maskingStarted = System.nanoTime();
      try {
        return secureUpdate(task, secureRound, base, after, dp, carried, model, fedAvgWeight(job, model), started);
      } finally {
        clock.phase(TaskClock.Phase.SECURE_AGGREGATION, maskingStarted, System.nanoTime());
      }
    }
    ModelUpdate.Builder update = ModelUpdate.newBuilder().setBaseVersion(global.getVersion())
        .setExampleCount(job.trainRows()).setSteps(result.steps());
    if (dp != null) {
      update.setDp(dp); // and no training loss: an exact, un-noised function of the rows the DP update covers
    } else {
      update.setTrainLoss(result.meanLoss());
    }
    for (int i = 0; i < after.length; i++) {
      float delta = after[i] - base[i];
      if (!Float.isFinite(delta)) {
        // which coordinates overflowed depends on the bank's rows, and no noise covers a NaN: the error that
        // reaches the coordinator names no coordinate
        throw new IllegalStateException("round " + task.getHeader().getRound() + ": the update is not finite "
            + "(training on the coordinator's model overflowed); it is not sent");
      }
      update.addDelta(delta);
    }
    update.setSeconds((System.nanoTime() - started) / 1e9);
    log.info("round {}: trained {} steps on {} rows, loss {}", task.getHeader().getRound(), result.steps(),
        job.trainRows(), String.format("%.4f", result.meanLoss()));
    return TaskResult.newBuilder().setUpdate(update);
  }

  /**
   * The secure round as this bank derives it from the pinned plan and the task's roster, checked before any
   * work or spend: a task that disagrees with it or with the bank's policy is refused, and so is a task
   * carrying forwarded shares of a round the bank did not key ahead for exactly these parameters (pipelined
   * rounds), so a refused round never reaches the spend or noise journal. Keys made ahead for the job are
   * discarded unless this task runs them.
   */
  private SecureRoundPlan secureRoundBeforeTraining(Task task, BankJob job, int dimension, ModelDigest model) {
    int round = task.getHeader().getRound();
    TrainTask t = task.getTrain();
    try {
      SecureRoundPlan plan = secureAggregation().roundPlan(job.spec, round, t, dimension);
      checkRoster(job, t.getRoundMembersList(), plan.threshold());
      if (t.getForwardedShares().getNextRoundMembersCount() > 0 && !job.spec.secureAggregation().unmaskingWithInput()) {
        throw new ProtocolViolationException("the training task of round " + round + " names a next round's roster, "
            + "which only a job pinned with " + io.consort.spec.SecureAggregationSpec.UNMASKING_KEY + ": "
            + io.consort.spec.SecureAggregationSpec.WITH_INPUT + " takes there; bank refuses it before training");
      }
      if (t.hasForwardedShares()) {
        secureAggregation().requireKeyedAhead(plan, RoundEvaluation.carriedSlots(job.spec, round),
            t.getForwardedShares(), model);
      } else {
        secureAggregation().discardAhead(job.spec.id(), "round " + round + " runs unpipelined");
      }
      return plan;
    } catch (ProtocolViolationException e) {
      secureAggregation().discardAhead(job.spec.id(), "the training task of round " + round + " was refused");
      throw e;
    }
  }

  /**
   * A global model with a NaN or infinite parameter is refused before any work or spend: DP-SGD cannot
   * bound what such a model makes of the bank's rows (keys made ahead for the job are discarded).
   */
  private void requireFinite(BankJob job, int round, float[] parameters) {
    for (int i = 0; i < parameters.length; i++) {
      if (!Float.isFinite(parameters[i])) {
        if (job.spec.secureAggregation().enabled()) {
          secureAggregation().discardAhead(job.spec.id(), "the training task of round " + round + " was refused");
        }
        throw new ProtocolViolationException("the global model of round " + round + " of job '" + job.spec.id()
            + "' is refused: its parameter " + i + " is " + parameters[i]);
      }
    }
  }

  /**
   * What a training sum's masks are bound to (protocol version 9, docs/SECURE_AGGREGATION.md, "The FedAvg weight is
   * the bank's own"): {@code model}, the digest of the model the round trains on, with the round's row total R beside
   * it; a job with distributed record-level noise, whose gradient sums carry no weight, binds the model alone and
   * reads no R. The bank weights its update by its own training rows / R ({@link #fedAvgWeight}): R is refused unless
   * it is at least the bank's own rows (a weight above 1 would break the quantiser's range and the stated
   * sensitivity) and positive, checked before training, so a refusal costs no spend.
   *
   * @param rowTotal R as the task carries it (uint64: a value past 2^63 reads as negative and is refused)
   */
  private static ModelDigest trainingDigest(BankJob job, ModelDigest model, long rowTotal, int round) {
    if (job.spec.privacy().distributedRecordNoise().isPresent()) {
      return model;
    }
    if (rowTotal <= 0) {
      throw new ProtocolViolationException("job '" + job.spec.id() + "', round " + round + ": the round's row total "
          + "must be a positive integer (the sum of the round members' training rows), got "
          + Long.toUnsignedString(rowTotal));
    }
    if (rowTotal < job.trainRows()) {
      throw new ProtocolViolationException("job '" + job.spec.id() + "', round " + round + ": the round's row total "
          + rowTotal + " is below this bank's own " + job.trainRows() + " training rows (its FedAvg weight would "
          + "exceed 1)");
    }
    return model.withRoundRowTotal(rowTotal);
  }

  /** The bank's FedAvg weight: its own training rows over the round's row total bound in {@code model}. */
  private static double fedAvgWeight(BankJob job, ModelDigest model) {
    if (model.roundRowTotal() <= 0) {
      throw new IllegalStateException("a weighted update needs the round's row total bound into its masks");
    }
    return (double) job.trainRows() / model.roundRowTotal();
  }

  /**
   * Under secure aggregation the update never leaves the bank in readable form: it is clipped to the
   * plan's L2 norm, scaled by the bank's FedAvg weight ({@code weight}: its own rows over the round's row total
   * bound into {@code model}'s masks), quantised (plus the bank's discrete Gaussian
   * noise share when bank-level DP is on) and handed to the secure-aggregation client, whose signed
   * keys are the bank's answer to the training task. {@code round} is what the bank derived from the
   * pinned plan and the roster; the task's own values were only checked against it.
   */
  private TaskResult.Builder secureUpdate(Task task, SecureRoundPlan round, float[] base, float[] after, DpReport dp,
                                         int[] evaluation, ModelDigest model, double weight, long started)
      throws java.security.GeneralSecurityException, IOException {
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
    SecAggStep.Builder step = open(task, round, delta, noise, evaluation, model);
    if (dp != null) {
      step.setDp(dp);
    }
    log.info("round {}: trained and masked-aggregation keys sent ({} s)", task.getHeader().getRound(),
        String.format("%.2f", (System.nanoTime() - started) / 1e9));
    return TaskResult.newBuilder().setSecureAggregation(step);
  }

  /**
   * One federated DP-SGD step with distributed record-level noise: the bank Poisson-samples its rows at the
   * job's rate, sums their clipped gradients at the global model, and hands the sum with its share of the
   * step's noise (journalled first) to secure aggregation. Nothing of the round's values comes from the
   * task: rate, clip, share and quantiser are what the bank derived from its pinned plan.
   */
  private TaskResult.Builder distributedStep(Task task, BankJob job, SecureRoundPlan round, float[] base,
                                             int[] evaluation, long started, ModelDigest model)
      throws IOException, java.security.GeneralSecurityException {
    var share = round.recordNoise();
    LocalTrainer.GradientSum step = job.trainer.clippedGradientSum(base, share.samplingRate(), share.clipNorm());
    long[] noise = privacy().recordNoiseShare(round);
    SecAggStep.Builder opened = open(task, round, step.sum(), noise, evaluation, model);
    // the report states the step's planned noise (its worst case, t survivors) for the coordinator's records
    DpReport dp = DpReport.newBuilder().setNoiseMultiplier(share.effectiveNoiseMultiplier(share.threshold()))
        .setSamplingRate(share.samplingRate()).setSteps(1).setClipNorm(share.clipNorm())
        .setRows(job.trainRows()).build();
    log.info("round {}: gradient of a Poisson sample of {} rows summed, noise share added and masked ({} s)",
        task.getHeader().getRound(), step.examples(), String.format("%.2f", (System.nanoTime() - started) / 1e9));
    return TaskResult.newBuilder().setSecureAggregation(opened.setDp(dp));
  }

  /**
   * The round's secure sum: keys now (the answer is the bank's signed keys), or, when the task carries
   * the peers' forwarded shares of a round keyed ahead, the masked input at once (pipelined rounds); its masks
   * bound to {@code model}, the digest of the model the bank trained on.
   */
  private SecAggStep.Builder open(Task task, SecureRoundPlan round, float[] weighted, long[] noise, int[] evaluation,
                                  ModelDigest model) throws java.security.GeneralSecurityException {
    if (task.getTrain().hasForwardedShares()) {
      return secureAggregation().startAhead(round, weighted, noise, evaluation, task.getTrain().getForwardedShares(),
          model).toBuilder();
    }
    return SecAggStep.newBuilder().addMessages(com.google.protobuf.ByteString.copyFrom(
        secureAggregation().start(round, weighted, noise, evaluation, model)));
  }

  private static TaskResult.Builder declined(PrivacyBudgetExceededException e) {
    return TaskResult.newBuilder().setDeclined(Declined.newBuilder().setReason(e.getMessage())
        .setSpentEpsilon(e.spentEpsilon()).setProjectedEpsilon(e.projectedEpsilon()).setEpsilonCap(e.capEpsilon()));
  }

  /**
   * Scores the bank's held-out rows with a released model ({@link HeldOutEvaluation}: histograms, or a
   * regression's error sums). Under secure aggregation they go only into the secure sum the task opens,
   * and only for the job's last round: every other model's evaluation travels in the next round's secure
   * sum ({@link #carriedEvaluation}), so a coordinator cannot open evaluation sums of its own in other
   * rounds, and the last round's it answers once per job ({@link AnsweredOnce}), so it cannot open two over
   * different rosters and difference them; otherwise they are the answer (in the clear, a repeat tells
   * nothing the first answer did not).
   */
  private TaskResult.Builder evaluate(Task task, BankJob job) throws IOException,
      java.security.GeneralSecurityException, DataFormatException {
    var e = task.getEvaluate();
    ModelParameters model = e.getGlobalModel();
    int round = task.getHeader().getRound();
    boolean last = round == job.spec.training().rounds();
    if (job.spec.secureAggregation().enabled() && !last) {
      throw new ProtocolViolationException("job '" + job.spec.id() + "': an evaluation task for round " + round
          + "; under secure aggregation a model's evaluation travels in the next round's secure sum and only the "
          + "last round's (" + job.spec.training().rounds() + ") has a sum of its own");
    }
    if (job.spec.secureAggregation().enabled()) {
      answeredOnce().requireUnanswered(job.spec.id(), AnsweredOnce.Kind.FINAL_EVALUATION);
    }
    prepare(job, model);
    requireReleased(job, model);
    // the final round's evaluation also measures permutation importance per column, for the model card;
    // decided by the pinned plan, not the task, so a coordinator cannot ask for it round after round
    HeldOutEvaluation evaluation = HeldOutEvaluation.of(job.spec, ModelWire.values(model), job.test, job.encoding,
        last, shuffles);
    if (job.spec.secureAggregation().enabled()) {
      List<String> roster = e.getRoundMembersList();
      checkRoster(job, roster);
      int[] vector = evaluation.secureSumVector();
      var params = secureAggregation().sumPlan(job.spec, round, SecureSumPurpose.EVALUATION, roster, vector.length);
      checkThreshold(job, params.threshold());
      // bound to the model it evaluated (requireReleased recomputed its digest): version 8
      SecAggStep advertisement = SecAggStep.newBuilder().addMessages(com.google.protobuf.ByteString.copyFrom(
          secureAggregation().startSum(params, round, vector,
              ModelDigest.ofHex(io.consort.protocol.ModelChecksum.boundModelSha256Hex(model))))).build();
      answeredOnce().record(job.spec.id(), AnsweredOnce.Kind.FINAL_EVALUATION, AnsweredOnce.NO_DETAIL);
      return TaskResult.newBuilder().setEvaluation(EvaluationResult.newBuilder().setBaseVersion(model.getVersion())
          .setSecureSum(advertisement));
    }
    return TaskResult.newBuilder().setEvaluation(evaluation.clearResult(model.getVersion()));
  }

  /**
   * The evaluation a training task's secure sum carries after the update ({@link RoundEvaluation}): from
   * round 2 on, of the model the round starts from (the one the previous round released), on the bank's
   * held-out rows; nothing in round 1. A model this bank may not evaluate (not the job's initial model
   * and in no ledger entry it countersigned: a bank that missed the previous round's countersignatures,
   * or a coordinator probing with a model of its own making) gets an empty evaluation of zero rows: the
   * bank still trains, and the sum tells nothing of its held-out rows under that model.
   */
  private int[] carriedEvaluation(Task task, BankJob job, ModelParameters model, float[] values, String sha)
      throws IOException {
    int round = task.getHeader().getRound();
    if (!RoundEvaluation.carried(job.spec, round)) {
      return new int[0];
    }
    long started = System.nanoTime();
    try {
      return carriedVector(job, round, model, values, sha);
    } finally {
      clock.phase(TaskClock.Phase.EVALUATION, started, System.nanoTime());
    }
  }

  /** {@code values} and {@code sha} are {@code model}'s parameters and this bank's own SHA-256 of them. */
  private int[] carriedVector(BankJob job, int round, ModelParameters model, float[] values, String sha)
      throws IOException {
    HeldOutEvaluation evaluation;
    try {
      requireReleased(job, model, values, sha);
      evaluation = HeldOutEvaluation.of(job.spec, values, job.test, job.encoding, false, shuffles);
    } catch (ProtocolViolationException e) {
      log.warn("round {}: the evaluation in this round's secure sum is empty: {}", round, e.getMessage());
      evaluation = HeldOutEvaluation.empty(job.spec);
    }
    int[] vector = evaluation.secureSumVector();
    if (vector.length != RoundEvaluation.carriedSlots(job.spec, round)) {
      throw new IllegalStateException("the evaluation vector has " + vector.length + " slots but round " + round
          + " carries " + RoundEvaluation.carriedSlots(job.spec, round));
    }
    return vector;
  }

  private TaskResult.Builder finished(Task task, BankJob job) throws IOException {
    var f = task.getFinished();
    String jobId = job.spec.id();
    if (job.spec.secureAggregation().enabled()) {
      secureAggregation().jobFinished(jobId);
    }
    Path out = config.dataDir().resolve("jobs").resolve(jobId + "-final-model.pb");
    Files.createDirectories(out.getParent());
    Files.write(out, f.getFinalModel().toByteArray());
    log.info("job '{}' finished ({}); final model {} saved to {}", jobId, f.getReason(),
        f.getFinalModel().getSha256(), out);
    try {
      PublishedModelKeeper.keep(out.getParent(), job.plan, f, model -> requireReleased(job, model)).ifPresent(p ->
          log.info("job '{}': published model (calibration, decision rule, provenance) saved to {}", jobId, p));
    } catch (io.consort.scoring.ModelFileException | ProtocolViolationException e) {
      log.error("job '{}': the published model is refused, only the bare final model is kept: {}", jobId,
          e.getMessage());
    }
    return null;
  }

  // ------------------------------------------------------------------ job state

  /**
   * The bank's state for an offered job: the plan must be a valid specification for the job the
   * offer names and the bank's policy must allow it; the bank's data is loaded with its schema. A
   * job the bank already accepted may be offered again (a coordinator that restarted) only with the
   * same plan.
   */
  private BankJob open(String jobId, JobPlan plan) throws DataFormatException, IOException {
    if (!plan.getJobId().equals(jobId)) {
      throw new ProtocolViolationException("the offer for job '" + jobId + "' carries the plan of job '"
          + plan.getJobId() + "'");
    }
    Optional<JobPlan> pinned = acceptedJobs.plan(jobId);
    if (pinned.isPresent() && !pinned.get().equals(plan)) {
      throw new ProtocolViolationException("job '" + jobId + "' was accepted with another plan; this bank does not "
          + "take part under a changed one");
    }
    BankJob known = jobs.get(jobId);
    if (known != null && known.plan.equals(plan)) {
      return known;
    }
    // every value of the plan is validated before any of it is used; an invalid plan is declined by name
    JobSpec spec = JobSpecWire.fromProto(plan);
    Optional<String> refusal = config.policy().refusal(spec);
    if (refusal.isPresent()) {
      throw new IllegalArgumentException("this bank's policy refuses the job: " + refusal.get());
    }
    return load(plan, spec);
  }

  private BankJob load(JobPlan plan, JobSpec spec) throws DataFormatException, IOException {
    // read and validated now, streamed again for each step; the bank's own split, the same for every job
    // on this data: no coordinator chooses held-out rows
    return new BankJob(plan, spec, BankData.open(config, spec.schema()));
  }

  /**
   * The bank's state for a task of a job it accepted. The plan was pinned at the offer and is
   * remembered durably: a task for a job the bank did not accept, naming another job than its
   * header, or carrying a different plan is refused, so a coordinator cannot change epochs, privacy
   * or secure aggregation after the bank's privacy preview, nor run a job the bank declined. After a
   * restart the job is reopened from the pinned plan, and the bank's policy is checked again.
   *
   * @param plan the plan the task carries, or null for tasks that carry none
   */
  private BankJob accepted(String jobId, JobPlan plan) throws IOException, DataFormatException {
    if (plan != null && !plan.getJobId().equals(jobId)) {
      throw new ProtocolViolationException("a task for job '" + jobId + "' carries the plan of job '"
          + plan.getJobId() + "'");
    }
    BankJob job = jobs.get(jobId);
    if (job == null) {
      Optional<JobPlan> pinned = acceptedJobs.plan(jobId);
      if (pinned.isEmpty()) {
        throw new ProtocolViolationException("job '" + jobId + "' was not accepted by this bank; refusing its task");
      }
      job = load(pinned.get(), JobSpecWire.fromProto(pinned.get()));
      jobs.put(jobId, job);
    }
    if (plan != null && !job.plan.equals(plan)) {
      throw new ProtocolViolationException("job '" + jobId + "': the task carries a different plan than "
          + "the one this bank accepted; refusing it");
    }
    Optional<String> refusal = config.policy().refusal(job.spec);
    if (refusal.isPresent()) {
      throw new ProtocolViolationException("job '" + jobId + "': this bank's policy refuses it: " + refusal.get());
    }
    return job;
  }

  /** A secure round's roster must satisfy the job's and the bank's minimums, and its threshold the bank's. */
  private void checkRoster(BankJob job, List<String> roster, int threshold) {
    checkRoster(job, roster);
    checkThreshold(job, threshold);
  }

  private void checkThreshold(BankJob job, int threshold) {
    refuseIf(job, config.policy().thresholdRefusal(threshold));
  }

  private static void refuseIf(BankJob job, Optional<String> refusal) {
    if (refusal.isPresent()) {
      throw new ProtocolViolationException("job '" + job.spec.id() + "': this bank's policy refuses the round: "
          + refusal.get());
    }
  }

  /** A secure sum's roster must satisfy the job's and the bank's minimum number of banks, and name no bank twice. */
  private void checkRoster(BankJob job, List<String> roster) {
    if (roster.size() < job.spec.training().minBanks()) {
      throw new ProtocolViolationException("job '" + job.spec.id() + "': the round has " + roster.size()
          + " banks but the accepted plan's min_banks is " + job.spec.training().minBanks());
    }
    if (new java.util.HashSet<>(roster).size() != roster.size()) {
      throw new ProtocolViolationException("job '" + job.spec.id() + "': the round's roster names a bank twice");
    }
    refuseIf(job, config.policy().rosterRefusal(roster.size()));
  }

  /**
   * A bank scores its held-out rows only with a model that was released: the job's initial model
   * (which it recomputes itself) or one entered in the privacy ledger in an entry this bank
   * countersigned. A coordinator cannot probe the held-out rows with models of its own making. The task's
   * {@code sha256} must also be that of the values it carries (an {@code EVALUATE} task is refused whole).
   */
  private void requireReleased(BankJob job, ModelParameters model) throws IOException {
    float[] values = ModelWire.values(model);
    String sha = io.consort.protocol.ModelChecksum.sha256Hex(values);
    if (!sha.equals(model.getSha256())) {
      throw new ProtocolViolationException("job '" + job.spec.id() + "': the model's SHA-256 " + model.getSha256()
          + " is not that of its values (" + sha + ")");
    }
    requireReleased(job, model, values, sha);
  }

  /**
   * As {@link #requireReleased(BankJob, ModelParameters)}, given {@code model}'s values and this bank's own SHA-256
   * of them, and decided from the bank's own data alone: the ledger entries it countersigned and the initial model
   * it recomputes, never the task's {@code sha256} or {@code version} fields. A carried evaluation that fails this
   * check goes into the round's sum empty, and the masks do not cover those fields: were they the lever, a
   * coordinator could send every bank but the victim a wrong checksum or version and read the victim's histogram
   * alone out of the sum (CarriedEvaluationTest).
   */
  private void requireReleased(BankJob job, ModelParameters model, float[] values, String sha) throws IOException {
    if (privacy().countersignedModel(job.spec.id(), sha)) {
      return;
    }
    // the pinned plan's initial parameters (a network brought from Keras), else Xavier from its seed
    String notInitial;
    try {
      notInitial = java.util.Arrays.equals(job.spec.initialModel(model.getSpec().getInputFeatures()), values) ? null
          : "its values differ";
    } catch (IllegalArgumentException e) {
      notInitial = e.getMessage();
    }
    if (notInitial == null) {
      return;
    }
    throw new ProtocolViolationException("job '" + job.spec.id() + "': model " + sha + " (version "
        + model.getVersion() + ") is in no ledger entry this bank countersigned, and "
        + (model.getVersion() == 0 ? "model version 0" : "it") + " is not the job's initial model (" + notInitial
        + "); this bank evaluates only released models");
  }

  /**
   * Encodes the bank's rows with the job's encoding (once per encoding) and builds its trainer; then
   * checks that {@code model} has exactly the parameters that network has, on every task.
   */
  private static void prepare(BankJob job, ModelParameters model) throws DataFormatException {
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
      // the rows are streamed once more and kept only encoded: no second copy of a large data set
      job.train = null;
      job.test = null;
      job.trainer = null;
      BankData.Encoded encoded = job.data.encode(encoding);
      job.train = encoded.train();
      job.test = encoded.test();
      job.encoding = encoding;
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
