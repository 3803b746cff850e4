package io.consort.scoring.card;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.consort.model.data.DataSchema;
import io.consort.model.train.HiddenActivation;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.calibration.Calibration;
import io.consort.scoring.explain.Attributor;
import io.consort.scoring.v1.BankGuarantee;
import io.consort.scoring.v1.CalibrationMetrics;
import io.consort.scoring.v1.CostReport;
import io.consort.scoring.v1.Evaluation;
import io.consort.scoring.v1.Provenance;
import io.consort.scoring.v1.ReliabilityBin;
import io.consort.scoring.v1.ThresholdCost;
import io.consort.spec.JobSpec;
import io.consort.spec.SecureAggregationSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The model card of a published model (after Mitchell et al. 2019, "Model cards for model
 * reporting"), in JSON and Markdown, built from the published model file alone so that a bank can
 * rebuild it from its own copy: intended use, data (consortium aggregates only: banks, rows, label
 * rate; no bank's own row counts), performance on the banks' pooled held-out rows, calibration,
 * decision rule and costs, reason codes, privacy guarantee per bank, secure-aggregation parameters,
 * strategy and rounds, provenance and checksums.
 *
 * <p>Global feature importance is not in the card: computed federatedly it needs each bank's
 * permutation importance summed through secure aggregation, which the federation does not run yet,
 * and a per-bank release of it is not made. The card says so.
 */
public final class ModelCard {
  public static final int CARD_VERSION = 1;
  static final String NO_GLOBAL_IMPORTANCE = "not measured: no bank evaluated the final model in the job's last "
      + "round; a bank can rank columns on its own rows with `consort score` (mean reason-code contribution)";
  static final String IMPORTANCE_METHOD = "permutation importance (Breiman 2001; Fisher, Rudin, Dominici 2019) per "
      + "original column: the mean increase in log-loss per held-out row when the column's values are shuffled among "
      + "each bank's held-out rows, from the banks' summed increases (inside the secure sum under secure "
      + "aggregation), in the final round";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ModelCard() {}

  /** Writes {@code <base>.md} and {@code <base>.json} next to each other; returns the Markdown file. */
  public static Path write(Path directory, String base, PublishedModel model) throws IOException {
    Files.createDirectories(directory);
    Path md = directory.resolve(base + ".md");
    writeAtomically(directory.resolve(base + ".json"), json(model));
    writeAtomically(md, markdown(model));
    return md;
  }

  private static void writeAtomically(Path target, String text) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  // ------------------------------------------------------------------ JSON

  public static String json(PublishedModel model) {
    try {
      return JSON.writeValueAsString(tree(model)) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the model card cannot be written as JSON", e);
    }
  }

  /** How the scorer explains a decision of this model. */
  private static String reasonCodeMethod(io.consort.model.train.ModelSpec model) {
    if (model.type().isSequence()) {
      return "integrated gradients (Sundararajan et al. 2017) over every time step from the reference sequence "
          + "(each step at the reference applicant), by checked Gauss-Legendre quadrature between the path's ReLU and "
          + "pooling switches; one reason per channel (its steps summed), naming the step that contributed most";
    }
    if (model.hiddenLayers().isEmpty()) {
      return "exact: coefficient times deviation from the reference applicant";
    }
    return "integrated gradients (Sundararajan et al. 2017) from the reference applicant, "
        + (model.activation() == io.consort.model.train.HiddenActivation.RELU
        ? "exact along the path's linear pieces" : "by checked Gauss-Legendre quadrature");
  }

  private static boolean hasHiddenOrSequenceLayer(io.consort.model.train.ModelSpec model) {
    return !model.hiddenLayers().isEmpty() || model.type().isSequence();
  }

  static ObjectNode tree(PublishedModel model) {
    JobSpec spec = model.spec();
    Provenance p = model.provenance();
    ObjectNode card = JSON.createObjectNode().put("model_card_version", CARD_VERSION).put("job_id", spec.id());
    ObjectNode m = card.putObject("model").put("type", modelType(spec))
        .put("encoded_features", model.encoding().featureCount()).put("parameters", model.parameters().length);
    spec.model().hiddenLayers().forEach(m.putArray("hidden_layers")::add);
    if (hasHiddenOrSequenceLayer(spec.model())) {
      // the architecture, whichever engine trained it (logistic regression has no layer to activate)
      m.put("activation", spec.model().activation().wireName()).put("dropout", spec.model().dropout());
    }
    spec.model().sequence().ifPresent(q -> m.putObject("sequence").put("window", q.window()).put("units", q.units())
        .put("kernel_size", q.kernelSize()).put("heads", q.heads()));
    card.put("intended_use", intendedUse(spec));
    ArrayNode outOfScope = card.putArray("out_of_scope");
    outOfScope(spec).forEach(outOfScope::add);

    DataSchema schema = spec.schema();
    ObjectNode data = card.putObject("data").put("banks", p.getBanksCount()).put("training_rows", p.getTrainingRows())
        .put("held_out_rows", p.getHeldOutRows()).put("label_column", schema.labelColumn());
    if (model.regression()) {
      data.put("label_bound", schema.labelBound().getAsDouble());
    } else {
      data.put("positive_class", schema.positiveClass());
      model.evaluation().ifPresent(e -> data.put("held_out_positive_rate", (double) e.getPositives() / e.getExamples()));
    }
    schema.numericColumns().forEach(data.putArray("numeric_columns")::add);
    ArrayNode categorical = data.putArray("categorical_columns");
    schema.categoricalColumns().forEach(c -> categorical.add(c.name()));

    ObjectNode performance = card.putObject("performance");
    if (model.regression()) {
      regression(model, card, performance);
      return common(model, card);
    }
    model.evaluation().ifPresentOrElse(e -> performance.put("evaluated", true).put("round", e.getRound())
            .put("examples", e.getExamples()).put("auc", e.getAuc()).put("accuracy_at_0_5", e.getAccuracy())
            .put("log_loss", e.getLogLoss()).put("brier", e.getBefore().getBrier())
            .put("base_rate_log_loss", e.getBaseRateLogLoss())
            .put("note", "on the banks' pooled held-out rows, from the merged score histograms (" + e.getHistogramBins()
                + " bins); log-loss exact, Brier from bin midpoints"),
        () -> performance.put("evaluated", false).put("note", "no bank evaluated the final model"));

    Calibration c = model.calibration();
    ObjectNode calibration = card.putObject("calibration").put("method", c.method().name().toLowerCase(Locale.ROOT))
        .put("slope", c.slope()).put("intercept", c.intercept()).put("fitted_on_examples", c.fittedOnExamples());
    if (!c.note().isEmpty()) {
      calibration.put("note", c.note());
    }
    model.evaluation().ifPresent(e -> {
      calibration.set("before", metrics(e.getBefore()));
      calibration.set("after", metrics(e.getAfter()));
      calibration.put("base_rate_log_loss", e.getBaseRateLogLoss());
    });

    ObjectNode decision = card.putObject("decision").put("threshold", model.decisionThreshold())
        .put("rule", model.body().getDecision().getRule() == io.consort.scoring.v1.ThresholdRule.BAYES_COST
            ? "the job's cost matrix: Bayes threshold on the calibrated probability"
            : "0.5 on the calibrated probability (the job has no cost matrix)");
    spec.evaluation().costMatrix().ifPresent(cm -> decision.putObject("cost_matrix")
        .put("false_negative", cm.falseNegative()).put("false_positive", cm.falsePositive()));
    model.evaluation().filter(Evaluation::hasCost).ifPresent(e -> decision.set("expected_cost", costs(e.getCost())));

    card.putObject("reason_codes").put("method", reasonCodeMethod(spec.model()))
        .put("reference_applicant", spec.model().type().isSequence()
            ? "every time step of every channel at the consortium mean (0 once standardised)"
            : "every numeric column at the consortium mean; every categorical column at 1/K on "
            + "each of its K levels (banks release no category counts)")
        .put("per", spec.model().type().isSequence() ? "channel (its columns over the window summed)"
            : "original column (one-hot levels summed)").put("units", "calibrated logit of default")
        .put("completeness_tolerance_logits", spec.model().hiddenLayers().isEmpty()
            && !spec.model().type().isSequence() ? 0 : Attributor.COMPLETENESS_TOLERANCE);
    List<io.consort.scoring.v1.FeatureImportance> importance = model.evaluation()
        .map(Evaluation::getImportanceList).orElse(List.of());
    ObjectNode topFeatures = card.putObject("top_features").put("available", !importance.isEmpty());
    if (importance.isEmpty()) {
      topFeatures.put("reason", NO_GLOBAL_IMPORTANCE);
    } else {
      topFeatures.put("method", IMPORTANCE_METHOD).put("units", "log-loss increase per held-out row");
      var columns = topFeatures.putArray("columns");
      importance.forEach(i -> columns.addObject().put("column", i.getColumn())
          .put("log_loss_increase", i.getLogLossIncrease()));
    }
    return common(model, card);
  }

  /** A regression model's performance, and why it has no calibration, decision or reasons. */
  private static void regression(PublishedModel model, ObjectNode card, ObjectNode performance) {
    model.evaluation().ifPresentOrElse(e -> {
      io.consort.scoring.v1.RegressionMetrics r = e.getRegression();
      performance.put("evaluated", true).put("round", e.getRound()).put("examples", e.getExamples())
          .put("rmse", r.getRmse()).put("mae", r.getMae());
      if (r.hasRSquared()) {
        performance.put("r_squared", r.getRSquared());
      }
      performance.put("zero_prediction_rmse", r.getZeroPredictionRmse()).put("label_bound", r.getLabelBound())
          .put("note", "on the banks' pooled held-out rows, from their summed errors with labels and predictions "
              + "clipped to the label bound");
    }, () -> performance.put("evaluated", false).put("note", "no bank evaluated the final model"));
    card.putObject("calibration").put("method", "identity").put("note", model.calibration().note());
    card.putObject("decision").put("rule", NO_DECISION);
    card.putObject("reason_codes").put("available", false).put("reason", NO_REASON_CODES);
    card.putObject("top_features").put("available", false).put("reason", "not measured: permutation importance is "
        + "measured in log-loss, for binary models");
  }

  /** What a regression model's card says of decisions. */
  static final String NO_DECISION = "none: a regression model predicts a value of its label and makes no decision";
  static final String NO_REASON_CODES = "none: the scorer's reason codes explain a binary model's logit";

  /** The privacy, secure-aggregation, training, provenance and checksum parts every card has. */
  private static ObjectNode common(PublishedModel model, ObjectNode card) {
    JobSpec spec = model.spec();
    Provenance p = model.provenance();

    ObjectNode privacy = card.putObject("privacy").put("unit", spec.privacy().mode().wireName())
        .put("delta", spec.privacy().delta());
    spec.privacy().targetEpsilon().ifPresent(t -> privacy.put("target_epsilon", t));
    ArrayNode perBank = privacy.putArray("per_bank");
    for (BankGuarantee g : p.getBanksList()) {
      ObjectNode b = perBank.addObject().put("bank", g.getBank());
      if (g.hasRecordEpsilon()) {
        b.put("record_epsilon", g.getRecordEpsilon());
      }
      if (g.hasBankEpsilon()) {
        b.put("bank_epsilon", g.getBankEpsilon());
      }
      b.put("delta", g.getDelta()).put("mechanism", g.getMechanism());
      if (g.hasEpsilonCap()) {
        b.put("epsilon_cap", g.getEpsilonCap());
      }
      g.getDeclinedRoundsList().forEach(b.putArray("declined_rounds")::add);
    }

    SecureAggregationSpec a = spec.secureAggregation();
    ObjectNode secagg = card.putObject("secure_aggregation").put("enabled", a.enabled());
    if (a.enabled()) {
      secagg.put("protocol", a.neighbourDegree().isPresent() ? "SecAgg+ (Bell et al. 2020)"
          : "Bonawitz et al. 2017, complete graph");
      if (a.threshold().isPresent()) {
        secagg.put("threshold", a.threshold().getAsInt());
      } else {
        secagg.put("threshold", "majority of each neighbourhood, at least min_banks");
      }
      a.neighbourDegree().ifPresent(d -> secagg.put("neighbour_degree", d));
      secagg.put("modulus_bits", a.modulusBits()).put("clip_norm", a.clipNorm());
    }

    card.putObject("training").put("strategy", p.getStrategy()).put("rounds_planned", p.getRoundsPlanned())
        .put("rounds_completed", p.getRoundsCompleted()).put("rounds_aborted", p.getRoundsAborted())
        .put("local_epochs", spec.training().localEpochs()).put("min_banks", spec.training().minBanks())
        .put("batch_size", spec.model().batchSize()).put("learning_rate", spec.model().learningRate())
        .put("engine", spec.training().engine().wireName());
    card.putObject("provenance").put("model_round", p.getModelRound()).put("ledger_entry", p.getLedgerEntry())
        .put("ledger_entry_hash", p.getLedgerEntryHash()).put("code_version", p.getCodeVersion())
        .put("created_at", p.getCreatedAt());
    card.putObject("checksums").put("model_file_sha256", model.fileSha256())
        .put("parameters_sha256", model.parametersSha256());
    return card;
  }

  private static ObjectNode metrics(CalibrationMetrics m) {
    ObjectNode o = JSON.createObjectNode().put("log_loss", m.getLogLoss()).put("brier", m.getBrier())
        .put("ece", m.getEce());
    ArrayNode curve = o.putArray("reliability");
    for (ReliabilityBin b : m.getReliabilityList()) {
      ObjectNode bin = curve.addObject().put("lower", b.getLower()).put("upper", b.getUpper())
          .put("examples", b.getExamples());
      if (b.getExamples() > 0) {
        bin.put("mean_predicted", b.getMeanPredicted()).put("observed_rate", b.getObservedRate());
      }
    }
    return o;
  }

  private static ObjectNode costs(CostReport c) {
    ObjectNode o = JSON.createObjectNode();
    o.set("at_decision_threshold", cost(c.getAtDecisionThreshold()));
    o.set("at_0_5", cost(c.getAtHalf()));
    o.set("minimising", cost(c.getMinimising()));
    return o.put("approve_everyone", c.getApproveEveryone()).put("refuse_everyone", c.getRefuseEveryone());
  }

  private static ObjectNode cost(ThresholdCost t) {
    return JSON.createObjectNode().put("threshold", t.getThreshold()).put("expected_cost_per_applicant",
        t.getExpectedCost()).put("refused_fraction", t.getRefusedFraction());
  }

  private static String modelType(JobSpec spec) {
    return spec.model().type().wireName();
  }

  static String intendedUse(JobSpec spec) {
    if (spec.schema().isNumericLabel()) {
      return "Predicts the value of column '" + spec.schema().labelColumn() + "' (clipped to plus or minus "
          + fmt(spec.schema().labelBound().getAsDouble()) + ") for rows like those in the banks' data under the job's "
          + "schema, as one input that a person reviews; it makes no decision.";
    }
    return "Estimates the probability that a credit applicant of a member bank ends in the positive class '"
        + spec.schema().positiveClass() + "' of column '" + spec.schema().labelColumn() + "' (the bad outcome), "
        + "as one input to a credit decision that a person reviews, for applicants like those in the banks' data "
        + "under the job's schema.";
  }

  static java.util.List<String> outOfScope(JobSpec spec) {
    if (spec.schema().isNumericLabel()) {
      return java.util.List.of(
          "rows, products or periods unlike the banks' training data",
          "deciding on its predicted value alone: it makes no decision, and a rule built on its predictions needs "
              + "its own validation",
          "values beyond plus or minus " + fmt(spec.schema().labelBound().getAsDouble()) + ": the training labels were "
              + "clipped there, so the model has not learnt larger ones",
          "use where fairness across groups must be shown: the federation computed no per-group metrics",
          "any row that violates the schema: it is refused, never scored");
    }
    return java.util.List.of(
        "applicants, products or periods unlike the banks' training data",
        "fully automated decisions without human review",
        "use where fairness across groups must be shown: the federation computed no per-group metrics",
        "any row that violates the schema: it is refused, never scored");
  }

  // ------------------------------------------------------------------ Markdown

  public static String markdown(PublishedModel model) {
    ObjectNode t = tree(model);
    JobSpec spec = model.spec();
    StringBuilder md = new StringBuilder();
    md.append("# Model card: job `").append(spec.id()).append("`\n\n");
    ObjectNode m = (ObjectNode) t.get("model");
    String layers = m.has("activation") ? " (" + m.get("activation").asText() + ", dropout "
        + m.get("dropout").asText() + ")" : "";
    md.append(String.format(Locale.ROOT, "%s, %s encoded features, %d parameters; published by Consort %s on %s.%n%n",
        m.get("type").asText().equals("mlp") ? "Multilayer perceptron " + spec.model().hiddenLayers() + layers
            : m.get("type").asText().equals("logistic-regression") ? "Logistic regression"
            : spec.model().type().wireName() + " over a window of " + spec.model().sequence().get().window()
            + " steps, dense head " + spec.model().hiddenLayers() + layers, m.get("encoded_features").asText(),
        model.parameters().length,
        model.provenance().getCodeVersion(), model.provenance().getCreatedAt()));

    md.append("## Intended use\n\n").append(t.get("intended_use").asText()).append("\n\nNot for:\n\n");
    t.get("out_of_scope").forEach(o -> md.append("- ").append(o.asText()).append('\n'));

    ObjectNode data = (ObjectNode) t.get("data");
    md.append("\n## Data (consortium aggregates only)\n\n| | |\n|---|---|\n");
    row(md, "banks", data.get("banks").asText());
    row(md, "training rows", data.get("training_rows").asText());
    row(md, "held-out rows", data.get("held_out_rows").asText());
    if (model.regression()) {
      row(md, "label", "`" + spec.schema().labelColumn() + "`, numeric, clipped to plus or minus "
          + fmt(spec.schema().labelBound().getAsDouble()));
    } else if (data.has("held_out_positive_rate")) {
      row(md, "held-out rate of '" + spec.schema().positiveClass() + "'", fmt(data.get("held_out_positive_rate")
          .asDouble()));
    }
    if (!model.regression()) {
      row(md, "label", "`" + spec.schema().labelColumn() + "`, positive class `" + spec.schema().positiveClass() + "`");
    }
    row(md, "numeric columns", String.join(", ", spec.schema().numericColumns()));
    row(md, "categorical columns", String.join(", ", spec.schema().categoricalColumns().stream()
        .map(DataSchema.CategoricalColumn::name).toList()));

    md.append("\n## Performance\n\n");
    Evaluation e = model.evaluation().orElse(null);
    if (model.regression()) {
      regressionMarkdown(md, e);
      return commonMarkdown(model, t, md);
    }
    if (e == null) {
      md.append("Not evaluated: no bank evaluated the final model.\n");
    } else {
      md.append(String.format(Locale.ROOT, "Federated evaluation of round %d's model on the banks' pooled held-out "
          + "rows (%d rows, from the merged score histograms of %d bins).%n%n", e.getRound(), e.getExamples(),
          e.getHistogramBins()));
      md.append("| AUC | accuracy at 0.5 | log-loss | Brier | base-rate log-loss |\n|---:|---:|---:|---:|---:|\n");
      md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", fmt(e.getAuc()), fmt(e.getAccuracy()),
          fmt(e.getLogLoss()), fmt(e.getBefore().getBrier()), fmt(e.getBaseRateLogLoss())));
    }

    Calibration c = model.calibration();
    md.append("\n## Calibration\n\n");
    if (c.method() == Calibration.Method.PLATT) {
      md.append(String.format(Locale.ROOT, "Platt scaling, p = sigmoid(%s z + %s) on the model's logit z, fitted on "
          + "the merged histogram of %d held-out rows (no new release: a function of the counts already released).%n%n",
          fmt(c.slope()), fmt(c.intercept()), c.fittedOnExamples()));
    } else {
      md.append("None (identity): ").append(c.note()).append(".\n\n");
    }
    if (e != null) {
      md.append("| | log-loss | Brier | ECE |\n|---|---:|---:|---:|\n");
      md.append(String.format(Locale.ROOT, "| model's own probability | %s | %s | %s |%n", fmt(e.getBefore()
          .getLogLoss()), fmt(e.getBefore().getBrier()), fmt(e.getBefore().getEce())));
      md.append(String.format(Locale.ROOT, "| calibrated | %s | %s | %s |%n", fmt(e.getAfter().getLogLoss()),
          fmt(e.getAfter().getBrier()), fmt(e.getAfter().getEce())));
      md.append(String.format(Locale.ROOT, "| base rate | %s | | |%n%n", fmt(e.getBaseRateLogLoss())));
      md.append("Reliability of the calibrated probability (bins of 0.1):\n\n| bin | rows | mean predicted | observed |\n"
          + "|---|---:|---:|---:|\n");
      for (ReliabilityBin b : e.getAfter().getReliabilityList()) {
        if (b.getExamples() > 0) {
          md.append(String.format(Locale.ROOT, "| %.1f-%.1f | %d | %s | %s |%n", b.getLower(), b.getUpper(),
              b.getExamples(), fmt(b.getMeanPredicted()), fmt(b.getObservedRate())));
        }
      }
      md.append("\nFigures from bin midpoints, in sample (the calibration was fitted on these rows).\n");
    }

    md.append("\n## Decision\n\n");
    md.append(String.format(Locale.ROOT, "Decline at a calibrated probability of %s or more; rule: %s.%n",
        fmt(model.decisionThreshold()), t.get("decision").get("rule").asText()));
    if (e != null && e.hasCost()) {
      CostReport k = e.getCost();
      md.append(String.format(Locale.ROOT, "%nCost matrix: approving a '%s' applicant costs %s, refusing another "
          + "costs %s. Expected cost on the held-out rows, from the merged histograms:%n%n"
          + "| rule | threshold | expected cost per applicant | refused |%n|---|---:|---:|---:|%n",
          spec.schema().positiveClass(), fmt(k.getFalseNegativeCost()), fmt(k.getFalsePositiveCost())));
      costRow(md, "the decision threshold", k.getAtDecisionThreshold());
      costRow(md, "0.5", k.getAtHalf());
      costRow(md, "cost-minimising (chosen on these rows: optimistic)", k.getMinimising());
      md.append(String.format(Locale.ROOT, "| approve everyone | - | %s | 0 |%n| refuse everyone | - | %s | 1 |%n",
          fmt(k.getApproveEveryone()), fmt(k.getRefuseEveryone())));
    }

    ObjectNode reasons = (ObjectNode) t.get("reason_codes");
    md.append("\n## Reasons\n\nPer decision: ").append(reasons.get("method").asText()).append(", per ")
        .append(reasons.get("per").asText()).append(", in ").append(reasons.get("units").asText())
        .append(". Reference applicant: ").append(reasons.get("reference_applicant").asText()).append('.');
    if (spec.model().type().isSequence()
        || (!spec.model().hiddenLayers().isEmpty() && spec.model().activation() != HiddenActivation.RELU)) {
      md.append(String.format(Locale.ROOT, " The contributions add up to the logit difference within %s logits, "
          + "checked on every row; a row whose explanation cannot meet it gets none.",
          Attributor.COMPLETENESS_TOLERANCE));
    } else if (!spec.model().hiddenLayers().isEmpty()) {
      md.append(String.format(Locale.ROOT, " Computed exactly along the path (the network is piecewise linear), so "
          + "the contributions add up to the logit difference within %s logits.", Attributor.COMPLETENESS_TOLERANCE));
    }
    List<io.consort.scoring.v1.FeatureImportance> importance = e == null ? List.of() : e.getImportanceList();
    if (importance.isEmpty()) {
      md.append("\n\nTop features (global importance): ").append(NO_GLOBAL_IMPORTANCE).append(".\n");
    } else {
      md.append("\n\nTop features (global importance): ").append(IMPORTANCE_METHOD)
          .append(".\n\n| column | log-loss increase per row |\n|---|---:|\n");
      importance.forEach(i -> md.append(String.format(Locale.ROOT, "| %s | %.4f |%n", i.getColumn(),
          i.getLogLossIncrease())));
    }

    return commonMarkdown(model, t, md);
  }

  private static void regressionMarkdown(StringBuilder md, Evaluation e) {
    if (e == null) {
      md.append("Not evaluated: no bank evaluated the final model.\n");
    } else {
      io.consort.scoring.v1.RegressionMetrics r = e.getRegression();
      md.append(String.format(Locale.ROOT, "Federated evaluation of round %d's model on the banks' pooled held-out "
          + "rows (%d rows, from their summed errors, labels and predictions clipped to plus or minus %s).%n%n",
          e.getRound(), e.getExamples(), fmt(r.getLabelBound())));
      md.append("| RMSE | MAE | R^2 | RMSE of predicting 0 |\n|---:|---:|---:|---:|\n");
      md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", fmt(r.getRmse()), fmt(r.getMae()),
          r.hasRSquared() ? fmt(r.getRSquared()) : "-", fmt(r.getZeroPredictionRmse())));
    }
    md.append("\n## Calibration, decision and reasons\n\nNone: a regression model predicts a value of its label; it "
        + "has no probability to calibrate, makes no decision and gets no reason codes.\n");
  }

  private static String commonMarkdown(PublishedModel model, ObjectNode t, StringBuilder md) {
    JobSpec spec = model.spec();
    md.append("\n## Privacy\n\n").append(String.format(Locale.ROOT, "Unit: %s, delta %s.%n%n",
        spec.privacy().mode().wireName(), spec.privacy().delta()));
    md.append("| bank | record-level epsilon | bank-level epsilon | cap | declined rounds | mechanism |\n"
        + "|---|---:|---:|---:|---|---|\n");
    for (BankGuarantee g : model.provenance().getBanksList()) {
      md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |%n", g.getBank(),
          g.hasRecordEpsilon() ? fmt(g.getRecordEpsilon()) : "-", g.hasBankEpsilon() ? fmt(g.getBankEpsilon()) : "-",
          g.hasEpsilonCap() ? fmt(g.getEpsilonCap()) : "-", g.getDeclinedRoundsList().isEmpty() ? "none"
              : g.getDeclinedRoundsList().toString(), g.getMechanism()));
    }

    SecureAggregationSpec a = spec.secureAggregation();
    md.append("\n## Secure aggregation\n\n");
    if (a.enabled()) {
      ObjectNode s = (ObjectNode) t.get("secure_aggregation");
      md.append(String.format(Locale.ROOT, "%s; threshold %s; %d-bit modulus; updates clipped to L2 norm %s.%n",
          s.get("protocol").asText(), s.get("threshold").asText(), a.modulusBits(), fmt(a.clipNorm())));
    } else {
      md.append("Off: the coordinator saw each bank's update.\n");
    }

    Provenance p = model.provenance();
    md.append("\n## Training and provenance\n\n| | |\n|---|---|\n");
    row(md, "strategy", p.getStrategy());
    row(md, "rounds", p.getRoundsCompleted() + " completed, " + p.getRoundsAborted() + " aborted, of "
        + p.getRoundsPlanned() + " planned; model from round " + p.getModelRound());
    row(md, "local training", spec.training().localEpochs() + " epoch(s) per round, batch " + spec.model().batchSize()
        + ", Adam " + spec.model().learningRate() + ", engine " + spec.training().engine().wireName());
    row(md, "ledger entry", p.getLedgerEntry() == 0 ? "none" : p.getLedgerEntry() + " (hash `" + p.getLedgerEntryHash()
        + "`)");
    row(md, "code version", p.getCodeVersion());
    row(md, "model file SHA-256", "`" + model.fileSha256() + "`");
    row(md, "parameters SHA-256", "`" + model.parametersSha256() + "`");
    return md.toString();
  }

  private static void costRow(StringBuilder md, String name, ThresholdCost c) {
    md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", name, fmt(c.getThreshold()),
        fmt(c.getExpectedCost()), fmt(c.getRefusedFraction())));
  }

  private static void row(StringBuilder md, String name, String value) {
    md.append("| ").append(name).append(" | ").append(value).append(" |\n");
  }

  static String fmt(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e9) {
      return Long.toString((long) v);
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 0.001 ? "%.4f" : "%.3g", v);
  }
}
