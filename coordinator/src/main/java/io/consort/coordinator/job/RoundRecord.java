package io.consort.coordinator.job;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One finished round as the operator, the result file and the store see it. Its JSON form is the
 * round entry of the job's result and status, and what the store keeps to resume a job.
 *
 * @param completed whether the round's aggregate was applied (otherwise the model is unchanged)
 * @param reason why the round aborted; present exactly when it did not complete
 * @param release the round's ledger entry, when the round released a model
 * @param metrics federated evaluation of the round's model (the one {@code modelSha256} names), when
 *     banks evaluated it
 * @param seconds wall-clock duration of the round
 * @param modelSha256 SHA-256 of the global model after the round
 * @param evaluatedInRound the round whose secure sum carried that evaluation: under secure aggregation
 *     the next round's ({@link io.consort.spec.RoundEvaluation}), so a round's metrics arrive with the
 *     round after it; the round itself for the last round and without secure aggregation
 */
public record RoundRecord(int round, boolean secureAggregation, boolean completed, Optional<String> reason,
                          List<String> participants, List<Dropout> dropouts, List<String> declined,
                          OptionalDouble quantisationErrorBound, Optional<BankNoise> bankNoise,
                          Optional<Release> release, Optional<ModelOps.Metrics> metrics, double seconds,
                          String modelSha256, int evaluatedInRound) {
  /** A round evaluated in itself. */
  public RoundRecord(int round, boolean secureAggregation, boolean completed, Optional<String> reason,
                     List<String> participants, List<Dropout> dropouts, List<String> declined,
                     OptionalDouble quantisationErrorBound, Optional<BankNoise> bankNoise,
                     Optional<Release> release, Optional<ModelOps.Metrics> metrics, double seconds,
                     String modelSha256) {
    this(round, secureAggregation, completed, reason, participants, dropouts, declined, quantisationErrorBound,
        bankNoise, release, metrics, seconds, modelSha256, round);
  }

  public RoundRecord {
    participants = List.copyOf(participants);
    dropouts = List.copyOf(dropouts);
    declined = List.copyOf(declined);
    Objects.requireNonNull(modelSha256, "modelSha256");
    if (completed == reason.isPresent()) {
      throw new IllegalArgumentException("an aborted round (and only one) has a reason");
    }
  }

  /** A round record from its protocol's outcome and what followed (release, evaluation). */
  static RoundRecord of(int round, boolean secureAggregation, RoundOutcome outcome, Optional<Release> release,
                        Optional<ModelOps.Metrics> metrics, double seconds, String modelSha256) {
    return new RoundRecord(round, secureAggregation, outcome.completed(), outcome.abortReason(),
        outcome.participants(), outcome.dropouts(), outcome.declined(), outcome.quantisationErrorBound(),
        outcome.bankNoise(), release, metrics, seconds, modelSha256);
  }

  /** This record with {@code evaluation} of its model, measured in round {@code inRound}. */
  RoundRecord withMetrics(ModelOps.Metrics evaluation, int inRound) {
    return new RoundRecord(round, secureAggregation, completed, reason, participants, dropouts, declined,
        quantisationErrorBound, bankNoise, release, Optional.of(evaluation), seconds, modelSha256, inRound);
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("round", round).put("secure_aggregation", secureAggregation)
        .put("status", completed ? "completed" : "aborted");
    reason.ifPresent(r -> j.put("reason", r));
    j.put("participants", new JsonArray(participants))
        .put("dropped", new JsonArray(dropouts.stream().map(Dropout::label).toList()))
        .put("dropped_detail", new JsonArray(dropouts.stream().map(Dropout::toJson).toList()))
        .put("declined", new JsonArray(declined));
    quantisationErrorBound.ifPresent(b -> j.put("quantisation_error_bound_l2", b));
    bankNoise.ifPresent(n -> j.put("bank_noise", n.toJson()));
    release.ifPresent(r -> r.putInto(j));
    metrics.ifPresent(m -> {
      m.putInto(j);
      j.put("evaluated_in_round", evaluatedInRound);
    });
    metrics.flatMap(ModelOps.Metrics::regression).ifPresent(t -> j.put("regression", regressionJson(t)));
    metrics.flatMap(ModelOps.Metrics::merged).ifPresent(h -> j.put("histogram", histogramJson(h)));
    metrics.filter(m -> !m.importance().isEmpty())
        .ifPresent(m -> j.put("importance", new JsonObject(new java.util.LinkedHashMap<>(m.importance()))));
    return j.put("seconds", seconds).put("model_sha256", modelSha256);
  }

  /** @throws IllegalArgumentException when {@code j} is not a round record */
  public static RoundRecord fromJson(JsonObject j) {
    try {
      JsonArray detail = j.getJsonArray("dropped_detail", new JsonArray());
      List<Dropout> dropouts = detail.stream().map(o -> Dropout.fromJson((JsonObject) o)).toList();
      Optional<ModelOps.Metrics> metrics = j.getJsonObject("regression") != null
          ? Optional.of(ModelOps.Metrics.ofRegression(regression(j.getJsonObject("regression"))))
          : j.getValue("auc") == null ? Optional.empty()
          : Optional.of(new ModelOps.Metrics(j.getDouble("auc"), j.getDouble("accuracy"), j.getDouble("loss"),
              j.getLong("examples", 0L), Optional.ofNullable(j.getJsonObject("histogram")).map(RoundRecord::histogram),
              Release.doubles(j.getJsonObject("importance"))));
      return new RoundRecord(j.getInteger("round"), j.getBoolean("secure_aggregation", false),
          "completed".equals(j.getString("status")), Optional.ofNullable(j.getString("reason")),
          Release.strings(j.getJsonArray("participants")), dropouts, Release.strings(j.getJsonArray("declined")),
          j.getValue("quantisation_error_bound_l2") == null ? OptionalDouble.empty()
              : OptionalDouble.of(j.getDouble("quantisation_error_bound_l2")),
          Optional.ofNullable(j.getJsonObject("bank_noise")).map(BankNoise::fromJson),
          j.getValue("ledger_entry") == null ? Optional.empty() : Optional.of(Release.fromJson(j)), metrics,
          j.getDouble("seconds", 0.0), j.getString("model_sha256", ""),
          j.getInteger("evaluated_in_round", j.getInteger("round")));
    } catch (ClassCastException | NullPointerException e) {
      throw new IllegalArgumentException("not a round record: " + e.getMessage(), e);
    }
  }

  /** The merged evaluation histogram: per-bin counts of each class, summed log-loss and correct count. */
  private static JsonObject histogramJson(io.consort.model.eval.ScoreHistogram h) {
    return new JsonObject().put("positives", new JsonArray(java.util.Arrays.stream(h.positives()).boxed().toList()))
        .put("negatives", new JsonArray(java.util.Arrays.stream(h.negatives()).boxed().toList()))
        .put("log_loss_sum", h.logLossSum()).put("correct", h.correct());
  }

  /** A regression evaluation's pooled sums (labels and predictions clipped to the bound). */
  private static JsonObject regressionJson(io.consort.model.eval.RegressionTotals t) {
    return new JsonObject().put("label_bound", t.bound()).put("rows", t.rows())
        .put("squared_error_sum", t.squaredErrorSum()).put("absolute_error_sum", t.absoluteErrorSum())
        .put("label_sum", t.labelSum()).put("squared_label_sum", t.squaredLabelSum());
  }

  private static io.consort.model.eval.RegressionTotals regression(JsonObject j) {
    return new io.consort.model.eval.RegressionTotals(j.getDouble("label_bound"), j.getLong("rows"),
        j.getDouble("squared_error_sum"), j.getDouble("absolute_error_sum"), j.getDouble("label_sum"),
        j.getDouble("squared_label_sum"));
  }

  private static io.consort.model.eval.ScoreHistogram histogram(JsonObject j) {
    long[] positives = j.getJsonArray("positives").stream().mapToLong(v -> ((Number) v).longValue()).toArray();
    long[] negatives = j.getJsonArray("negatives").stream().mapToLong(v -> ((Number) v).longValue()).toArray();
    return new io.consort.model.eval.ScoreHistogram(positives, negatives, j.getDouble("log_loss_sum"),
        j.getLong("correct"), java.util.Arrays.stream(positives).sum() + java.util.Arrays.stream(negatives).sum());
  }
}
