package io.consort.coordinator.job;

import io.consort.coordinator.store.CoordinatorStore;
import io.consort.coordinator.transport.MemberRegistry;
import io.consort.coordinator.transport.ResultSink;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.model.wire.ModelWire;
import io.consort.privacy.accounting.DistributedDiscreteGaussian;
import io.consort.privacy.ledger.LedgerSignature;
import io.consort.privacy.ledger.LedgerSigning;
import io.consort.privacy.ledger.MechanismKind;
import io.consort.privacy.ledger.MechanismRecord;
import io.consort.privacy.ledger.SignedEntryJson;
import io.consort.protocol.v1.Countersignature;
import io.consort.protocol.v1.CountersignRequest;
import io.consort.protocol.v1.DpReport;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.Role;
import io.consort.protocol.v1.EvaluateTask;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggPlan;
import io.consort.protocol.v1.SecAggStep;
import io.consort.secagg.AggregationResult;
import io.consort.secagg.RoundParameters;
import io.consort.secagg.SecAggServer;
import io.consort.secagg.ServerTransition;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.wire.SecAggCodec;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.FeatureEncoding;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.FeatureStatsTask;
import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.JobFinished;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.ModelUpdate;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one federated job on the coordinator's event loop: waits for banks, offers the job, merges
 * federated feature statistics, then for each round sends the global model, collects updates until
 * every selected bank answered or the stage deadline passed, aggregates with {@link FedAvg}, runs
 * federated evaluation and checkpoints. Exactly one stage is open at a time; a result that does not
 * answer the open stage (another job, an earlier round, a bank not asked) is refused by name.
 *
 * <p>Blocking work (database, aggregation, model arithmetic) runs on worker threads via
 * {@code executeBlocking}; all fields are touched only on the event loop.
 */
public final class JobRunner implements ResultSink {
  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

  private final Vertx vertx;
  private final JobDefinition definition;
  private final JobPlan plan;
  private final MemberRegistry registry;
  private final CoordinatorStore store;
  private final ModelOps modelOps;
  private final Path resultFile;
  private final LedgerKeeper ledger;
  private final IdentityVerifier identityVerifier;
  private Future<Double> bankNoiseMultiplier;
  private final Promise<JsonObject> outcome = Promise.promise();
  /** Per bank: the latest record-level epsilon total the ledger shows, and the rounds it declined. */
  private final Map<String, Double> epsilonTotals = new LinkedHashMap<>();
  private final Map<String, Double> bankEpsilonTotals = new LinkedHashMap<>();
  private final Map<String, JsonArray> declinedRounds = new LinkedHashMap<>();

  private OpenStage open;
  private final List<String> accepted = new ArrayList<>();
  private final Map<String, JsonObject> banks = new LinkedHashMap<>();
  private final JsonArray roundRecords = new JsonArray();
  private ModelParameters global;
  private ModelOps.Metrics lastMetrics;

  public JobRunner(Vertx vertx, JobDefinition definition, MemberRegistry registry, CoordinatorStore store,
                   ModelOps modelOps, LedgerKeeper ledger, IdentityVerifier identityVerifier, Path resultFile) {
    this.ledger = ledger;
    this.identityVerifier = identityVerifier;
    this.vertx = vertx;
    this.definition = definition;
    this.plan = definition.plan();
    this.registry = registry;
    this.store = store;
    this.modelOps = modelOps;
    this.resultFile = resultFile;
    registry.onDisconnect(this::onDisconnect);
  }

  /** A bank whose connection closed cannot answer the open stage: stop waiting for it. */
  private void onDisconnect(String memberId) {
    OpenStage stageState = open;
    if (stageState != null && stageState.awaiting.contains(memberId) && !stageState.results.containsKey(memberId)) {
      log.warn("bank '{}' disconnected during {}", memberId, Headers.describe(stageState.header));
      stageState.gone.add(memberId);
      if (stageState.results.size() + stageState.gone.size() >= stageState.awaiting.size()) {
        close(stageState);
      }
    }
  }

  /** Starts the job (or resumes it from its last checkpoint); completes with the result JSON. */
  public Future<JsonObject> start() {
    blocking(() -> store.job(plan.getJobId()))
        .compose(existing -> {
          if (existing.isPresent() && "COMPLETED".equals(existing.get().status())) {
            log.info("job '{}' already completed; nothing to run", plan.getJobId());
            return blocking(() -> new JsonObject(Files.readString(resultFile)));
          }
          return blocking(() -> {
            store.upsertJob(plan, "WAITING", null);
            return store.latestCheckpoint(plan.getJobId());
          }).compose(checkpoint -> runFrom(checkpoint.orElse(null)));
        })
        .onComplete(ar -> {
          if (ar.succeeded()) {
            outcome.tryComplete(ar.result());
          } else {
            log.error("job '{}' failed: {}", plan.getJobId(), ar.cause().getMessage());
            blocking(() -> {
              store.upsertJob(plan, "FAILED", ar.cause().getMessage());
              return null;
            }).onComplete(x -> outcome.tryFail(ar.cause()));
          }
        });
    return outcome.future();
  }

  public Future<JsonObject> outcome() {
    return outcome.future();
  }

  /** What the operator sees: state, open stage, members, finished rounds. Event loop only. */
  public JsonObject status() {
    OpenStage stageState = open;
    JsonObject members = new JsonObject();
    for (String m : registry.members()) {
      members.put(m, new JsonObject().put("connected", registry.isConnected(m)).put("accepted", accepted.contains(m)));
    }
    String state = outcome.future().isComplete() ? (outcome.future().succeeded() ? "completed" : "failed")
        : stageState != null ? "running" : "waiting";
    JsonObject status = new JsonObject().put("job_id", plan.getJobId()).put("state", state)
        .put("rounds_planned", plan.getRounds()).put("members", members)
        .put("rounds", roundRecords.copy());
    if (stageState != null) {
      status.put("open_stage", new JsonObject().put("round", stageState.header.getRound())
          .put("stage", stageState.header.getStage().name()).put("awaiting", new JsonArray(
              stageState.awaiting.stream().filter(m -> !stageState.results.containsKey(m)).toList())));
    }
    if (outcome.future().failed()) {
      status.put("reason", outcome.future().cause().getMessage());
    }
    return status;
  }

  private Future<JsonObject> runFrom(ModelParameters checkpoint) {
    Future<Void> ready = waitForBanks().compose(v -> offer());
    int firstRound;
    if (checkpoint != null) {
      firstRound = (int) checkpoint.getVersion() + 1;
      log.info("job '{}' resumes after round {} from its checkpoint", plan.getJobId(), checkpoint.getVersion());
      ready = ready.compose(v -> restoreFrom(checkpoint));
    } else {
      firstRound = 1;
      ready = ready.compose(v -> featureStatistics());
    }
    Future<Void> rounds = ready.compose(v -> blocking(() -> {
      store.upsertJob(plan, "RUNNING", null);
      return null;
    }));
    for (int r = firstRound; r <= plan.getRounds(); r++) {
      int round = r;
      rounds = rounds.compose(v -> runRound(round));
    }
    return rounds.compose(v -> finish());
  }

  // ------------------------------------------------------------------ start-up stages

  private Future<Void> waitForBanks() {
    Promise<Void> enough = Promise.promise();
    if (registry.members().size() >= definition.expectedBanks()) {
      return Future.succeededFuture();
    }
    log.info("job '{}' waits up to {} for {} banks ({} enrolled)", plan.getJobId(), definition.startTimeout(),
        definition.expectedBanks(), registry.members().size());
    registry.onEnrolment(id -> {
      if (registry.members().size() >= definition.expectedBanks()) {
        enough.tryComplete();
      }
    });
    vertx.setTimer(Math.max(1, definition.startTimeout().toMillis()), t -> {
      if (registry.members().size() >= plan.getMinBanks()) {
        enough.tryComplete();
      } else {
        enough.tryFail(new JobFailedException("only " + registry.members().size() + " banks enrolled within "
            + definition.startTimeout() + "; the job needs at least " + plan.getMinBanks()));
      }
    });
    return enough.future();
  }

  private Future<Void> offer() {
    List<String> invited = new ArrayList<>(registry.members());
    invited.sort(null);
    return collect(0, Stage.JOB_OFFER, invited, m -> Task.newBuilder().setJobOffer(JobOffer.newBuilder().setPlan(plan)))
        .compose(results -> {
          accepted.clear();
          for (String m : invited) {
            TaskResult r = results.get(m);
            boolean yes = r != null && r.hasDecision() && r.getDecision().getAccept();
            String reason = r == null ? "no answer before the deadline"
                : r.hasDecision() ? r.getDecision().getReason() : describeNonAnswer(r);
            double eps = r != null && r.hasDecision() ? r.getDecision().getProjectedEpsilon() : Double.NaN;
            banks.put(m, new JsonObject().put("id", m).put("accepted", yes).put("reason", reason)
                .put("projected_epsilon", Double.isNaN(eps) || eps == 0 ? null : eps)
                .put("epsilon_cap", r != null && r.hasDecision() ? r.getDecision().getEpsilonCap() : null));
            if (yes) {
              accepted.add(m);
            } else {
              log.info("bank '{}' does not take part in job '{}': {}", m, plan.getJobId(), reason);
            }
          }
          if (accepted.size() < plan.getMinBanks()) {
            return Future.failedFuture(new JobFailedException(accepted.size() + " banks accepted job '"
                + plan.getJobId() + "' but it needs at least " + plan.getMinBanks()));
          }
          return blocking(() -> {
            for (JsonObject b : banks.values()) {
              store.recordDecision(plan.getJobId(), b.getString("id"), b.getBoolean("accepted"),
                  b.getDouble("projected_epsilon") == null ? Double.NaN : b.getDouble("projected_epsilon"),
                  b.getString("reason"));
            }
            return null;
          });
        });
  }

  private Future<Void> featureStatistics() {
    return collect(0, Stage.FEATURE_STATS, List.copyOf(accepted),
        m -> Task.newBuilder().setFeatureStats(FeatureStatsTask.newBuilder().setPlan(plan)))
        .compose(results -> {
          List<FeatureStats> stats = new ArrayList<>();
          for (String m : List.copyOf(accepted)) {
            TaskResult r = results.get(m);
            if (r != null && r.hasFeatureStats()) {
              stats.add(r.getFeatureStats());
              banks.get(m).put("train_rows", r.getFeatureStats().getTrainRows())
                  .put("test_rows", r.getFeatureStats().getTestRows());
            } else {
              log.warn("bank '{}' sent no feature statistics ({}); it leaves job '{}'", m,
                  r == null ? "no answer before the deadline" : describeNonAnswer(r), plan.getJobId());
              accepted.remove(m);
            }
          }
          if (accepted.size() < plan.getMinBanks()) {
            return Future.failedFuture(new JobFailedException("only " + accepted.size()
                + " banks sent feature statistics; the job needs at least " + plan.getMinBanks()));
          }
          return blocking(() -> {
            FeatureEncoding encoding = modelOps.mergeFeatureStats(plan, stats);
            ModelParameters initial = modelOps.initialModel(plan, encoding);
            for (String m : accepted) {
              JsonObject b = banks.get(m);
              store.recordRows(plan.getJobId(), m, b.getLong("train_rows"), b.getLong("test_rows"));
            }
            store.saveCheckpoint(plan.getJobId(), 0, initial);
            return initial;
          }).map(initial -> {
            global = initial;
            log.info("job '{}': feature encoding agreed by {} banks; model has {} parameters", plan.getJobId(),
                accepted.size(), global.getValuesCount());
            return null;
          });
        });
  }

  private Future<Void> restoreFrom(ModelParameters checkpoint) {
    global = checkpoint;
    return blocking(() -> List.of(store.jobMembers(plan.getJobId()), store.rounds(plan.getJobId()))).map(stored -> {
      @SuppressWarnings("unchecked")
      List<CoordinatorStore.JobMemberRow> members = (List<CoordinatorStore.JobMemberRow>) stored.get(0);
      @SuppressWarnings("unchecked")
      List<CoordinatorStore.RoundRow> rounds = (List<CoordinatorStore.RoundRow>) stored.get(1);
      java.util.Set<String> withStatistics = new java.util.HashSet<>();
      for (CoordinatorStore.JobMemberRow row : members) {
        JsonObject b = banks.get(row.memberId());
        if (b != null && row.trainRows() > 0) {
          b.put("train_rows", row.trainRows()).put("test_rows", row.testRows());
          withStatistics.add(row.memberId());
        }
      }
      // a bank that never sent feature statistics was not part of the encoding or the weights
      accepted.removeIf(m -> {
        boolean unknown = !withStatistics.contains(m);
        if (unknown) {
          log.warn("bank '{}' joined after the job's feature statistics; it cannot take part in the resumed job", m);
        }
        return unknown;
      });
      for (CoordinatorStore.RoundRow row : rounds) {
        if (row.round() > checkpoint.getVersion()) {
          continue; // recorded but not checkpointed before the stop: that round runs again
        }
        JsonObject rec = new JsonObject(row.recordJson());
        roundRecords.add(rec);
        rec.getJsonObject("epsilon", new JsonObject()).forEach(e -> epsilonTotals.put(e.getKey(), (Double) e.getValue()));
        rec.getJsonObject("bank_epsilon", new JsonObject())
            .forEach(e -> bankEpsilonTotals.put(e.getKey(), (Double) e.getValue()));
        for (Object d : rec.getJsonArray("declined", new JsonArray())) {
          declinedRounds.computeIfAbsent((String) d, k -> new JsonArray()).add(rec.getInteger("round"));
        }
      }
      return null;
    }).map(v -> {
      for (int i = roundRecords.size() - 1; i >= 0; i--) {
        JsonObject rec = roundRecords.getJsonObject(i);
        if (rec.getValue("auc") != null) {
          lastMetrics = new ModelOps.Metrics(rec.getDouble("auc"), rec.getDouble("accuracy"), rec.getDouble("loss"),
              rec.getLong("examples", 0L));
          break;
        }
      }
      return null;
    });
  }

  // ------------------------------------------------------------------ rounds

  private Future<Void> runRound(int round) {
    long started = System.nanoTime();
    List<String> members = List.copyOf(accepted);
    JsonObject record = new JsonObject().put("round", round).put("secure_aggregation", false);
    List<String> dropped = new ArrayList<>();
    JsonArray droppedDetail = new JsonArray();
    List<String> declined = new ArrayList<>();
    List<String> participants = new ArrayList<>();
    Map<String, DpReport> dpReports = new LinkedHashMap<>();
    ModelParameters base = global;
    if (plan.getSecureAggregation().getEnabled()) {
      record.put("secure_aggregation", true);
      return secureRound(round, members, base, record, participants, dropped, droppedDetail, declined, dpReports)
          .compose(next -> finishRound(round, members, base, next, record, participants, dropped, dpReports, started));
    }
    return collect(round, Stage.TRAIN, members, m -> Task.newBuilder().setTrain(TrainTask.newBuilder()
        .setGlobalModel(base).setLocalEpochs(plan.getLocalEpochs()).setPrivacy(plan.getPrivacy())
        .setSecureAggregation(plan.getSecureAggregation()).addAllRoundMembers(members).setPlan(plan)))
        // checking and copying each update is O(model size): a worker does it, the loop does the bookkeeping
        .compose(results -> blocking(() -> checkUpdates(results, base)).map(checked -> Map.entry(results, checked)))
        .compose(both -> {
          Map<String, TaskResult> results = both.getKey();
          Map<String, CheckedUpdate> checked = both.getValue();
          List<FedAvg.Contribution> contributions = new ArrayList<>();
          for (String m : members) {
            TaskResult r = results.get(m);
            if (r != null && r.hasDeclined()) {
              decline(round, m, r.getDeclined().getReason(), declined);
              continue;
            }
            String problem = r == null ? "no update before the deadline"
                : r.hasUpdate() ? checked.get(m).problem() : describeNonAnswer(r);
            if (problem == null && recordLevel()
                && !validDpReport(r.getUpdate().hasDp() ? r.getUpdate().getDp() : null)) {
              problem = "the job requires record-level DP-SGD but the update carries no valid DP report";
            }
            if (problem != null) {
              drop(round, m, "train", problem, dropped, droppedDetail);
              continue;
            }
            participants.add(m);
            if (r.getUpdate().hasDp()) {
              dpReports.put(m, r.getUpdate().getDp());
            }
            contributions.add(new FedAvg.Contribution(m, checked.get(m).delta(), r.getUpdate().getExampleCount()));
          }
          record.put("participants", new JsonArray(participants)).put("dropped", new JsonArray(dropped))
              .put("dropped_detail", droppedDetail).put("declined", new JsonArray(declined));
          if (contributions.size() < plan.getMinBanks()) {
            record.put("status", "aborted").put("reason", contributions.size() + " updates arrived but the round needs "
                + plan.getMinBanks() + "; the global model is unchanged");
            log.warn("round {} aborted: {}", round, record.getString("reason"));
            return Future.succeededFuture(base);
          }
          return blocking(() -> ModelWire.withValues(base, FedAvg.apply(ModelWire.values(base), contributions), round));
        })
        .compose(next -> finishRound(round, members, base, next, record, participants, dropped, dpReports, started));
  }

  /** After aggregation: ledger entry (countersigned), federated evaluation, round record, checkpoint. */
  private Future<Void> finishRound(int round, List<String> members, ModelParameters base, ModelParameters aggregated,
                                   JsonObject record, List<String> participants, List<String> dropped,
                                   Map<String, DpReport> dpReports, long started) {
    return Future.succeededFuture(aggregated)
        .compose(next -> {
          if (next == base) {
            return Future.succeededFuture(next);
          }
          // the release is entered in the privacy ledger, and countersigned, before anyone sees it
          return recordRelease(round, participants, dpReports, next, record).map(next);
        })
        .compose(next -> {
          global = next;
          // banks that vanished during training are not waited for again in this round
          List<String> responsive = new ArrayList<>(members);
          responsive.removeIf(m -> dropped.stream().anyMatch(d -> d.startsWith(m + "@")));
          return evaluate(round, responsive, next);
        })
        .compose(metrics -> {
          if (metrics != null) {
            lastMetrics = metrics;
            record.put("auc", metrics.auc()).put("accuracy", metrics.accuracy()).put("loss", metrics.logLoss())
                .put("examples", metrics.examples());
          }
          record.put("status", record.getString("status", "completed"));
          record.put("seconds", (System.nanoTime() - started) / 1e9);
          record.put("model_sha256", global.getSha256());
          roundRecords.add(record);
          log.info("round {}/{}: {} banks, dropped {}, declined {}, AUC {}, {} s", round, plan.getRounds(),
              record.getJsonArray("participants").size(), dropped, record.getJsonArray("declined"),
              metrics == null ? "n/a" : String.format("%.4f", metrics.auc()),
              String.format("%.2f", record.getDouble("seconds")));
          ModelParameters checkpoint = global;
          return blocking(() -> {
            store.recordRound(plan.getJobId(), round, record.getString("status").toUpperCase(), record.encode());
            store.saveCheckpoint(plan.getJobId(), round, checkpoint.toBuilder().setVersion(round).build());
            return null;
          });
        });
  }

  /**
   * A round under secure aggregation (Bonawitz et al. 2017): the training task's answer is each
   * bank's signed round keys; the coordinator then relays keys (with the banks' certificates, so each
   * bank checks every peer's signature against the consortium CA), encrypted shares, collects masked
   * inputs and unmasking shares, and learns only the sum of the surviving banks' weighted, clipped,
   * quantised updates. Each stage has the job's stage deadline; a bank that misses it or sends
   * something the protocol refuses is dropped at that stage, and the round goes on while the
   * threshold allows. Below it the round aborts and nothing is unmasked.
   */
  private Future<ModelParameters> secureRound(int round, List<String> members, ModelParameters base, JsonObject record,
                                              List<String> participants, List<String> dropped, JsonArray droppedDetail,
                                              List<String> declined, Map<String, DpReport> dpReports) {
    SecAggPlan secagg = plan.getSecureAggregation();
    int dimension = base.getValuesCount();
    RoundParameters params;
    SecAggServer server;
    try {
      int needed = Math.max(2, plan.getMinBanks());
      if (members.size() < needed) {
        throw new IllegalArgumentException(members.size() + " banks in the round, secure aggregation needs at least "
            + needed + " (a sum of one bank is that bank's update)");
      }
      params = SecureAggregationPlan.roundParameters(plan.getJobId(), round, members, secagg, dimension,
          plan.getMinBanks());
      server = SecAggServer.create(params, (bank, message, signature) -> {
        java.security.cert.X509Certificate cert = registry.certificate(bank)
            .orElseThrow(() -> new java.security.GeneralSecurityException("bank '" + bank + "' has no certificate on record"));
        if (!identityVerifier.verify(cert, message, signature, Set.of(Role.PARTICIPANT)).name().equals(bank)) {
          throw new java.security.GeneralSecurityException("key signature of '" + bank + "' made with another identity");
        }
      });
    } catch (IllegalArgumentException e) {
      record.put("participants", new JsonArray()).put("dropped", new JsonArray()).put("dropped_detail", droppedDetail)
          .put("declined", new JsonArray()).put("status", "aborted")
          .put("reason", "secure aggregation cannot run with these banks: " + e.getMessage());
      log.warn("round {} aborted: {}", round, record.getString("reason"));
      return Future.succeededFuture(base);
    }
    RoundParameters roundParameters = params;
    SecAggServer roundServer = server;
    return bankNoiseMultiplier().compose(z -> runSecureRound(round, members, base, record, participants, dropped,
        droppedDetail, declined, dpReports, roundParameters, roundServer,
        SecureAggregationPlan.forRound(plan, members.size(), dimension, roundParameters.threshold(), z)));
  }

  /** The bank-level noise multiplier, calibrated once per job on a worker (0 without bank-level DP). */
  private Future<Double> bankNoiseMultiplier() {
    if (bankNoiseMultiplier == null) {
      bankNoiseMultiplier = SecureAggregationPlan.bankLevel(plan.getPrivacy())
          ? blocking(() -> SecureAggregationPlan.bankNoiseMultiplier(plan)) : Future.succeededFuture(0.0);
    }
    return bankNoiseMultiplier;
  }

  private Future<ModelParameters> runSecureRound(int round, List<String> members, ModelParameters base,
                                                 JsonObject record, List<String> participants, List<String> dropped,
                                                 JsonArray droppedDetail, List<String> declined,
                                                 Map<String, DpReport> dpReports, RoundParameters params,
                                                 SecAggServer server, SecureAggregationPlan.Round quantisation) {
    SecAggPlan secagg = plan.getSecureAggregation();
    int dimension = base.getValuesCount();
    Map<String, Double> weights = new LinkedHashMap<>();
    double totalRows = 0;
    for (String m : members) {
      totalRows += banks.get(m).getLong("train_rows", 1L);
    }
    for (String m : members) {
      weights.put(m, banks.get(m).getLong("train_rows", 1L) / totalRows);
    }
    // the threshold is sent explicitly so every bank builds exactly the coordinator's round parameters
    SecAggPlan roundPlan = secagg.toBuilder().setThreshold(params.threshold())
        .setQuantizerBanks(quantisation.quantizerBanks()).setPerBankSigma(quantisation.perBankSigma()).build();
    return collect(round, Stage.TRAIN, members, m -> Task.newBuilder().setTrain(TrainTask.newBuilder()
        .setGlobalModel(base).setLocalEpochs(plan.getLocalEpochs()).setPrivacy(plan.getPrivacy())
        .setSecureAggregation(roundPlan).addAllRoundMembers(members).setPlan(plan)
        .setAggregationWeight(weights.get(m))))
        .compose(results -> {
          for (String m : members) {
            TaskResult r = results.get(m);
            if (r != null && r.hasDeclined()) {
              decline(round, m, r.getDeclined().getReason(), declined);
              continue;
            }
            if (r == null || !r.hasSecureAggregation() || r.getSecureAggregation().getMessagesCount() != 1) {
              drop(round, m, "train", r == null ? "no answer before the deadline"
                  : r.hasSecureAggregation() ? "expected one key advertisement" : describeNonAnswer(r), dropped, droppedDetail);
              continue;
            }
            if (recordLevel() && !validDpReport(r.getSecureAggregation().hasDp() ? r.getSecureAggregation().getDp() : null)) {
              drop(round, m, "train", "the job requires record-level DP-SGD but the bank sent no valid DP report",
                  dropped, droppedDetail);
              continue;
            }
            if (r.getSecureAggregation().hasDp()) {
              dpReports.put(m, r.getSecureAggregation().getDp());
            }
          }
          // signature checks, Shamir reconstruction and mask expansion are CPU work: a worker does them
          return blocking(() -> {
            for (String m : members) {
              TaskResult r = results.get(m);
              if (r != null && r.hasSecureAggregation() && r.getSecureAggregation().getMessagesCount() == 1
                  && !dropped.contains(m + "@train") && !declined.contains(m)) {
                feed(server, round, m, r.getSecureAggregation(), "advertise-keys", dropped, droppedDetail);
              }
            }
            return server.closeStage();
          }).compose(transition -> driveSecureAggregation(round, server, transition, dropped, droppedDetail));
        })
        .compose(transition -> blocking(() -> {
          if (transition.isAborted()) {
            record.put("participants", new JsonArray()).put("dropped", new JsonArray(dropped))
                .put("dropped_detail", droppedDetail).put("declined", new JsonArray(declined))
                .put("status", "aborted").put("reason", transition.abortReason().get() + "; nothing was unmasked");
            log.warn("round {} aborted: {}", round, record.getString("reason"));
            return base;
          }
          AggregationResult result = transition.result().get();
          double[] sum = quantisation.quantizer().decodeSum(result.sum());
          double includedWeight = 0;
          for (String bank : result.includedBanks()) {
            includedWeight += weights.get(bank);
            participants.add(bank);
          }
          dpReports.keySet().retainAll(result.includedBanks());
          double[] mean = new double[sum.length];
          for (int i = 0; i < sum.length; i++) {
            mean[i] = sum[i] / includedWeight;
          }
          record.put("participants", new JsonArray(participants)).put("dropped", new JsonArray(dropped))
              .put("dropped_detail", droppedDetail).put("declined", new JsonArray(declined))
              .put("quantisation_error_bound_l2", quantisation.quantizer().l2ErrorBound(result.includedBanks().size(),
                  dimension) / includedWeight);
          if (quantisation.perBankSigma() > 0) {
            // the noise actually present is the survivors' shares only: account for exactly that
            double clip = secagg.getClipNorm() > 0 ? secagg.getClipNorm() : 1.0;
            double scale = quantisation.quantizer().scale();
            // weights are at most 1, so one bank moves the quantised sum by at most C*s, plus at most 1
            // per coordinate from stochastic rounding
            double l2 = clip * scale + Math.sqrt(dimension);
            record.put("bank_noise", new JsonObject().put("per_bank_sigma", quantisation.perBankSigma())
                .put("survivors", result.includedBanks().size()).put("clip_norm", clip)
                .put("l2_sensitivity", l2).put("dimension", dimension)
                .put("target_noise_multiplier", quantisation.bankNoiseMultiplier()));
          }
          return ModelWire.withValues(base, FedAvg.applyMeanDelta(ModelWire.values(base), mean), round);
        }));
  }

  /** Runs the remaining secure-aggregation stages until the round completes or aborts. */
  private Future<ServerTransition> driveSecureAggregation(int round, SecAggServer server, ServerTransition transition,
                                                         List<String> dropped, JsonArray droppedDetail) {
    if (transition.isAborted() || transition.isCompleted()) {
      return Future.succeededFuture(transition);
    }
    Map<String, SecAggMessage> byRecipient = new LinkedHashMap<>();
    for (SecAggMessage m : transition.outgoing()) {
      byRecipient.put(m.header().recipientId(), m);
    }
    io.consort.secagg.Stage next = transition.outgoing().get(0).header().stage();
    Stage wireStage = SecureAggregationPlan.wireStage(next);
    List<String> recipients = new ArrayList<>(byRecipient.keySet());
    List<PeerCertificate> certificates = new ArrayList<>();
    if (next == io.consort.secagg.Stage.SHARE_KEYS) {
      for (String bank : recipients) {
        registry.certificate(bank).ifPresent(c -> certificates.add(SecureAggregationPlan.peerCertificate(bank, c)));
      }
    }
    return collect(round, wireStage, recipients, m -> Task.newBuilder().setSecureAggregation(SecAggStep.newBuilder()
        .addMessages(com.google.protobuf.ByteString.copyFrom(SecAggCodec.encode(byRecipient.get(m))))
        .addAllCertificates(certificates)))
        .compose(results -> blocking(() -> {
          for (String m : recipients) {
            TaskResult r = results.get(m);
            if (r == null || !r.hasSecureAggregation()) {
              drop(round, m, next.wireName(), r == null ? "no answer before the deadline" : describeNonAnswer(r),
                  dropped, droppedDetail);
              continue;
            }
            feed(server, round, m, r.getSecureAggregation(), next.wireName(), dropped, droppedDetail);
          }
          return server.closeStage();
        }))
        .compose(transition2 -> driveSecureAggregation(round, server, transition2, dropped, droppedDetail));
  }

  private static void feed(SecAggServer server, int round, String bank, SecAggStep step, String stage,
                           List<String> dropped, JsonArray droppedDetail) {
    for (com.google.protobuf.ByteString message : step.getMessagesList()) {
      try {
        server.acceptEncoded(bank, message.toByteArray());
      } catch (io.consort.secagg.ProtocolViolationException e) {
        drop(round, bank, stage, e.getMessage(), dropped, droppedDetail);
        return;
      }
    }
  }

  private static void drop(int round, String bank, String stage, String reason, List<String> dropped,
                           JsonArray droppedDetail) {
    dropped.add(bank + "@" + stage);
    droppedDetail.add(new JsonObject().put("bank", bank).put("stage", stage).put("reason", reason));
    log.warn("round {}: bank '{}' dropped at {}: {}", round, bank, stage, reason);
  }

  /**
   * Appends the round's release to the privacy ledger: the mechanisms each bank reported running
   * (record-level DP-SGD with its own noise, sampling rate and steps), signed by the coordinator and
   * countersigned by each participating bank for its own spend. A bank that does not countersign in
   * time leaves its countersignature missing, which an audit reports.
   */
  private Future<Void> recordRelease(int round, List<String> participants, Map<String, DpReport> dpReports,
                                     ModelParameters released, JsonObject record) {
    List<MechanismRecord> mechanisms = new ArrayList<>();
    for (String bank : participants) {
      DpReport d = dpReports.get(bank);
      if (d != null) {
        mechanisms.add(new MechanismRecord(io.consort.privacy.ledger.PrivacyUnit.RECORD, bank,
            MechanismKind.SAMPLED_GAUSSIAN, d.getNoiseMultiplier(), d.getSamplingRate(), d.getSteps(), d.getClipNorm(),
            d.getNoiseMultiplier() * d.getClipNorm(), 0, 0, 0, 0, 0));
      }
    }
    JsonObject bankNoise = record.getJsonObject("bank_noise");
    if (bankNoise != null) {
      double l2 = bankNoise.getDouble("l2_sensitivity");
      long d = bankNoise.getLong("dimension");
      mechanisms.add(MechanismRecord.distributedDiscreteGaussian(bankNoise.getDouble("clip_norm"),
          bankNoise.getDouble("per_bank_sigma"), bankNoise.getInteger("survivors"), l2,
          DistributedDiscreteGaussian.l1Bound(l2, d), d));
    }
    double delta = plan.getPrivacy().getDelta() > 0 ? plan.getPrivacy().getDelta() : 1e-5;
    return blocking(() -> ledger.prepare(plan.getJobId(), round, participants, delta, mechanisms, released.getSha256()))
        .compose(signed -> collect(round, Stage.LEDGER_COUNTERSIGN, participants, m -> Task.newBuilder()
            .setCountersign(CountersignRequest.newBuilder().setEntryJson(SignedEntryJson.toJson(signed))
                .setEntryHash(signed.entryHash())))
            .compose(results -> {
              List<LedgerSignature> signatures = new ArrayList<>();
              List<java.security.cert.X509Certificate> certificates = new ArrayList<>();
              for (String bank : participants) {
                TaskResult r = results.get(bank);
                java.security.cert.X509Certificate cert = registry.certificate(bank).orElse(null);
                if (cert != null) {
                  certificates.add(cert);
                }
                String problem = r == null ? "no countersignature before the deadline"
                    : !r.hasCountersignature() ? describeNonAnswer(r)
                    : checkCountersignature(r.getCountersignature(), bank, signed.entryHash(), cert);
                if (problem != null) {
                  log.warn("round {}: ledger entry {} lacks the countersignature of bank '{}': {}", round,
                      signed.entry().sequence(), bank, problem);
                  continue;
                }
                Countersignature c = r.getCountersignature();
                LedgerSignature signature = new LedgerSignature(c.getSignerId(), c.getAlgorithm(),
                    c.getCertificateFingerprint(), c.getSignature().toByteArray());
                boolean valid;
                try {
                  valid = LedgerSigning.verifyCountersignature(signed.entry(), signature, cert);
                } catch (java.security.GeneralSecurityException e) {
                  valid = false;
                }
                if (!valid) {
                  log.warn("round {}: countersignature of bank '{}' on ledger entry {} does not verify; not stored",
                      round, bank, signed.entry().sequence());
                  continue;
                }
                signatures.add(signature);
              }
              return blocking(() -> ledger.commit(signed, signatures, certificates));
            }))
        .map(full -> {
          JsonObject epsilon = new JsonObject();
          JsonObject epsilonRound = new JsonObject();
          JsonObject bankEpsilon = new JsonObject();
          full.entry().spends().forEach((bank, spend) -> {
            if (spend.recordEpsilonTotal() != null) {
              epsilon.put(bank, spend.recordEpsilonTotal());
              epsilonRound.put(bank, spend.recordEpsilonRound());
              epsilonTotals.put(bank, spend.recordEpsilonTotal());
            }
            if (spend.bankEpsilonTotal() != null) {
              bankEpsilon.put(bank, spend.bankEpsilonTotal());
              bankEpsilonTotals.put(bank, spend.bankEpsilonTotal());
            }
          });
          if (!bankEpsilon.isEmpty()) {
            record.put("bank_epsilon", bankEpsilon);
          }
          record.put("ledger_entry", full.entry().sequence()).put("epsilon", epsilon).put("epsilon_round", epsilonRound)
              .put("countersigned_by", new JsonArray(full.countersignatures().stream().map(LedgerSignature::signerId)
                  .toList()));
          return null;
        });
  }

  private static String checkCountersignature(Countersignature c, String bank, String entryHash,
                                              java.security.cert.X509Certificate cert) {
    if (!c.getEntryHash().equals(entryHash)) {
      return "countersignature is for entry hash " + c.getEntryHash() + ", not " + entryHash;
    }
    if (!c.getSignerId().equals(bank)) {
      return "countersignature names signer '" + c.getSignerId() + "'";
    }
    if (cert == null) {
      return "no certificate on record for the bank";
    }
    if (!LedgerSigning.fingerprint(cert).equals(c.getCertificateFingerprint())) {
      return "countersignature was made with another certificate than the one the bank connected with";
    }
    return null;
  }

  private Future<ModelOps.Metrics> evaluate(int round, List<String> members, ModelParameters model) {
    return collect(round, Stage.EVALUATE, members, m -> Task.newBuilder().setEvaluate(EvaluateTask.newBuilder()
        .setGlobalModel(model).setHistogramBins(plan.getHistogramBins()).setPlan(plan)))
        .compose(results -> {
          List<EvaluationResult> evaluations = new ArrayList<>();
          for (String m : members) {
            TaskResult r = results.get(m);
            if (r != null && r.hasEvaluation() && r.getEvaluation().getBaseVersion() == model.getVersion()) {
              evaluations.add(r.getEvaluation());
            } else {
              log.warn("round {}: no usable evaluation from bank '{}' ({})", round, m,
                  r == null ? "no answer before the deadline" : describeNonAnswer(r));
            }
          }
          if (evaluations.isEmpty()) {
            return Future.succeededFuture(null);
          }
          return blocking(() -> modelOps.mergeEvaluations(evaluations));
        });
  }

  private Future<JsonObject> finish() {
    JobFinished finished = JobFinished.newBuilder().setFinalModel(global).setCompleted(true)
        .setReason("all " + plan.getRounds() + " rounds done").build();
    for (String m : accepted) {
      if (registry.isEnrolled(m)) {
        registry.mailbox(m).post(Task.newBuilder().setHeader(Headers.of(plan.getJobId(), 0, Stage.FINISHED))
            .setFinished(finished).build());
      }
    }
    JsonObject result = new JsonObject().put("job_id", plan.getJobId()).put("status", "completed")
        .put("banks", new JsonArray(new ArrayList<>(banks.values()))).put("rounds", roundRecords)
        .put("model", new JsonObject().put("sha256", global.getSha256()).put("parameters", global.getValuesCount())
            .put("version", global.getVersion()));
    JsonObject perBank = new JsonObject();
    for (String bank : accepted) {
      JsonObject b = banks.get(bank);
      perBank.put(bank, new JsonObject().put("epsilon", epsilonTotals.get(bank))
          .put("bank_level_epsilon", bankEpsilonTotals.get(bank))
          .put("cap", b.getDouble("epsilon_cap")).put("declined_rounds",
              declinedRounds.getOrDefault(bank, new JsonArray())));
    }
    result.put("privacy", new JsonObject().put("unit", privacyUnitName(plan.getPrivacy().getUnit()))
        .put("delta", plan.getPrivacy().getDelta() > 0 ? plan.getPrivacy().getDelta() : 1e-5)
        .put("per_bank", perBank));
    if (lastMetrics != null) {
      result.put("final", new JsonObject().put("auc", lastMetrics.auc()).put("accuracy", lastMetrics.accuracy())
          .put("loss", lastMetrics.logLoss()));
    }
    ModelParameters finalModel = global;
    return blocking(() -> {
      Files.createDirectories(resultFile.toAbsolutePath().getParent());
      Path modelFile = resultFile.resolveSibling(plan.getJobId() + "-final-model.pb");
      writeAtomically(modelFile, finalModel.toByteArray());
      writeAtomically(resultFile, result.encodePrettily().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      store.upsertJob(plan, "COMPLETED", null);
      log.info("job '{}' completed; result in {}", plan.getJobId(), resultFile);
      return result;
    });
  }

  // ------------------------------------------------------------------ stage collection

  /** One open stage: who was asked, who answered. */
  private static final class OpenStage {
    final Header header;
    final Set<String> awaiting;
    final Map<String, TaskResult> results = new LinkedHashMap<>();
    final Set<String> gone = new LinkedHashSet<>();
    final Promise<Map<String, TaskResult>> done = Promise.promise();
    long timer = -1;

    OpenStage(Header header, Set<String> awaiting) {
      this.header = header;
      this.awaiting = awaiting;
    }
  }

  private Future<Map<String, TaskResult>> collect(int round, Stage stage, List<String> members,
                                                  Function<String, Task.Builder> taskFor) {
    Header header = Headers.of(plan.getJobId(), round, stage);
    OpenStage stageState = new OpenStage(header, new LinkedHashSet<>(members));
    open = stageState;
    for (String m : members) {
      if (registry.isConnected(m)) {
        registry.mailbox(m).post(taskFor.apply(m).setHeader(header).build());
      } else {
        stageState.gone.add(m);
      }
    }
    stageState.timer = vertx.setTimer(definition.stageTimeout().toMillis(), t -> close(stageState));
    if (stageState.gone.size() >= members.size()) {
      close(stageState);
    }
    return stageState.done.future();
  }

  private void close(OpenStage stageState) {
    if (open == stageState) {
      open = null;
    }
    vertx.cancelTimer(stageState.timer);
    for (String m : stageState.awaiting) {
      if (registry.isEnrolled(m)) {
        registry.mailbox(m).withdraw(stageState.header);
      }
    }
    stageState.done.tryComplete(stageState.results);
  }

  @Override
  public void accept(String memberId, TaskResult result) {
    Header h = result.getHeader();
    if (!h.getJobId().equals(plan.getJobId())) {
      throw new ProtocolViolationException("unknown job '" + h.getJobId() + "'");
    }
    OpenStage stageState = open;
    if (stageState == null) {
      throw new ProtocolViolationException("result for " + Headers.describe(h) + " arrived while no stage is open");
    }
    Header expected = stageState.header;
    Headers.require(h, expected.getJobId(), expected.getRound(), expected.getStage());
    if (!stageState.awaiting.contains(memberId)) {
      throw new ProtocolViolationException("bank '" + memberId + "' was not asked for " + Headers.describe(h));
    }
    if (stageState.results.putIfAbsent(memberId, result) != null) {
      throw new ProtocolViolationException("bank '" + memberId + "' already answered " + Headers.describe(h));
    }
    stageState.gone.remove(memberId);
    if (stageState.results.size() + stageState.gone.size() >= stageState.awaiting.size()) {
      close(stageState);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String checkUpdate(ModelUpdate update, ModelParameters base) {
    if (update.getBaseVersion() != base.getVersion()) {
      return "update is based on model version " + update.getBaseVersion() + " but the round sent version "
          + base.getVersion();
    }
    if (update.getDeltaCount() != base.getValuesCount()) {
      return "update has " + update.getDeltaCount() + " values but the model has " + base.getValuesCount();
    }
    if (update.getExampleCount() <= 0) {
      return "update claims " + update.getExampleCount() + " examples";
    }
    for (int i = 0; i < update.getDeltaCount(); i++) {
      if (!Float.isFinite(update.getDelta(i))) {
        return "update value " + i + " is " + update.getDelta(i);
      }
    }
    return null;
  }

  private boolean recordLevel() {
    return plan.getPrivacy().getUnit() == io.consort.protocol.v1.PrivacyUnit.RECORD
        || plan.getPrivacy().getUnit() == io.consort.protocol.v1.PrivacyUnit.RECORD_AND_BANK;
  }

  /** A report the ledger can account: positive noise, a sampling rate in (0, 1], at least one step. */
  private boolean validDpReport(DpReport d) {
    if (d == null || !(d.getNoiseMultiplier() > 0) || !(d.getSamplingRate() > 0 && d.getSamplingRate() <= 1)
        || d.getSteps() < 1 || !(d.getClipNorm() > 0)) {
      return false;
    }
    double planned = plan.getPrivacy().getRecordNoiseMultiplier();
    return !(planned > 0) || d.getNoiseMultiplier() >= planned;
  }

  static String privacyUnitName(io.consort.protocol.v1.PrivacyUnit unit) {
    return switch (unit) {
      case RECORD -> "record";
      case BANK -> "bank";
      case RECORD_AND_BANK -> "both";
      default -> "off";
    };
  }

  private static String describeNonAnswer(TaskResult r) {
    if (r.hasError()) {
      return r.getError().getCode() + ": " + r.getError().getMessage();
    }
    if (r.hasDeclined()) {
      return "declined: " + r.getDeclined().getReason();
    }
    return "unexpected " + r.getKindCase() + " result";
  }

  /** An update checked against the round's model: the refusal reason, or its delta as an array. */
  private record CheckedUpdate(String problem, float[] delta) {}

  private static Map<String, CheckedUpdate> checkUpdates(Map<String, TaskResult> results, ModelParameters base) {
    Map<String, CheckedUpdate> checked = new LinkedHashMap<>();
    results.forEach((bank, r) -> {
      if (r.hasUpdate()) {
        String problem = checkUpdate(r.getUpdate(), base);
        checked.put(bank, new CheckedUpdate(problem, problem == null ? ModelWire.delta(r.getUpdate()) : null));
      }
    });
    return checked;
  }

  private void decline(int round, String bank, String reason, List<String> declined) {
    declined.add(bank);
    declinedRounds.computeIfAbsent(bank, k -> new JsonArray()).add(round);
    log.info("round {}: bank '{}' declined: {}", round, bank, reason);
  }

  private static void writeAtomically(Path target, byte[] bytes) throws java.io.IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return vertx.executeBlocking(work, true);
  }
}
