package io.consort.coordinator.model;

import io.consort.coordinator.job.ModelOps;
import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.NumericRules;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.features.RefinedFeatureStats;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.model.sums.HistogramVector;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.FeatureStats;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.protocol.v1.ModelParameters;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** {@link ModelOps} backed by the model module: federated encoding, initial model, histogram metrics. */
public final class FederatedModelOps implements ModelOps {

  @Override
  public io.consort.protocol.v1.FeatureEncoding mergeFeatureStats(JobSpec spec, List<FeatureStats> stats) {
    DataSchema schema = spec.schema();
    List<LocalFeatureStats> banks = new ArrayList<>();
    for (FeatureStats s : stats) {
      banks.add(ModelWire.stats(schema, s));
    }
    return ModelWire.encoding(FeatureEncoding.merge(banks));
  }

  @Override
  public MergedStatistics mergeFirstStage(JobSpec spec, int[] sum, int banks, List<FeatureStats> names) {
    DataSchema schema = spec.schema();
    List<java.util.TreeSet<String>> union = new ArrayList<>();
    schema.categoricalColumns().forEach(c -> union.add(new java.util.TreeSet<>()));
    for (FeatureStats s : names) {
      if (s.getCategoricalCount() != union.size()) {
        throw new IllegalArgumentException("a bank named categories of " + s.getCategoricalCount()
            + " columns, the schema has " + union.size() + " categorical columns");
      }
      for (int j = 0; j < union.size(); j++) {
        io.consort.protocol.v1.CategoricalColumnStats column = s.getCategorical(j);
        if (!column.getName().equals(schema.categoricalColumns().get(j).name())) {
          throw new IllegalArgumentException("categorical column " + j + " is '" + column.getName()
              + "', the schema has '" + schema.categoricalColumns().get(j).name() + "'");
        }
        for (io.consort.protocol.v1.CategoryCount c : column.getCountsList()) {
          union.get(j).add(c.getValue());
        }
      }
    }
    List<List<String>> categories = new ArrayList<>();
    for (int j = 0; j < union.size(); j++) {
      DataSchema.CategoricalColumn column = schema.categoricalColumns().get(j);
      categories.add(column.isDeclared() ? column.allowedCategories() : List.copyOf(union.get(j)));
    }
    LocalFeatureStats total = FeatureStatsVector.decode(schema, sum, banks, categories);
    FeatureEncoding encoding = FeatureEncoding.fromStatistics(total);
    JsonObject columns = new JsonObject();
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      NumericRules rules = schema.numericRules(j);
      if (!rules.isDefault()) {
        JsonObject c = numericSummary(encoding, j).put("missing_rows", total.numeric().get(j).missing());
        if (!rules.sentinels().isEmpty() || !rules.textSentinels().isEmpty()) {
          c.put("sentinels", new JsonArray(rules.writtenSentinels()));
        }
        columns.put(schema.numericColumns().get(j), c);
      }
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      CategoricalRules rules = schema.categoricalRules(j);
      if (!rules.isDefault()) {
        JsonObject c = categoricalSummary(encoding, j).put("missing_rows", total.categoricalMissing().get(j));
        if (!rules.sentinels().isEmpty()) {
          c.put("sentinels", new JsonArray(rules.sentinels()));
        }
        columns.put(schema.categoricalColumns().get(j).name(), c);
      }
    }
    JsonObject summary = columns.isEmpty() ? new JsonObject() : new JsonObject().put("training_rows", total.rows())
        .put("statistics_stages", FeatureEncoding.needsSecondStage(schema) ? 2 : 1).put("columns", columns);
    return new MergedStatistics(ModelWire.encoding(encoding), summary);
  }

  @Override
  public MergedStatistics mergeSecondStage(JobSpec spec, io.consort.protocol.v1.FeatureEncoding preliminary,
                                           int[] sum, int banks) {
    DataSchema schema = spec.schema();
    FeatureEncoding first = ModelWire.encoding(schema, preliminary);
    RefinedFeatureStats total = FeatureStatsVector.decodeRefined(first, sum, banks);
    FeatureEncoding encoding = first.refine(total);
    JsonObject columns = new JsonObject();
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      if (!schema.numericRules(j).isDefault()) {
        columns.put(schema.numericColumns().get(j), numericSummary(encoding, j));
      }
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      if (!schema.categoricalRules(j).isDefault()) {
        JsonObject c = categoricalSummary(encoding, j);
        if (encoding.hasOtherLevel(j)) {
          c.put("mapped_to_other", total.mappedToOther(j, encoding));
        }
        columns.put(schema.categoricalColumns().get(j).name(), c);
      }
    }
    return new MergedStatistics(ModelWire.encoding(encoding), new JsonObject().put("training_rows", total.rows())
        .put("columns", columns));
  }

  /** What the encoding does with a numeric column's missing and extreme values. */
  private static JsonObject numericSummary(FeatureEncoding encoding, int j) {
    NumericRules rules = encoding.schema().numericRules(j);
    FeatureEncoding.NumericTreatment t = encoding.numericTreatments().get(j);
    JsonObject c = new JsonObject().put("type", "numeric").put("missing_policy", rules.imputation().wireName())
        .put("missing_indicator", rules.missingIndicator());
    if (t.fills()) {
      c.put("fill", t.fill());
    }
    if (t.clips()) {
      c.put("clip_quantiles", new JsonArray().add(rules.clip().get().lower()).add(rules.clip().get().upper()))
          .put("clip", new JsonArray().add(t.clipLower()).add(t.clipUpper()));
    }
    return c;
  }

  /** What the encoding does with a categorical column's missing and unseen values. */
  private static JsonObject categoricalSummary(FeatureEncoding encoding, int j) {
    CategoricalRules rules = encoding.schema().categoricalRules(j);
    JsonObject c = new JsonObject().put("type", "categorical").put("missing_policy", rules.imputation().wireName())
        .put("missing_indicator", rules.missingIndicator()).put("unseen", rules.unseenToOther() ? "other" : "refuse")
        .put("levels", encoding.categories().get(j).size());
    if (encoding.categoryFills().get(j) != null) {
      c.put("fill", encoding.categoryFills().get(j));
    }
    return c;
  }

  @Override
  public Metrics metricsFromSum(int bins, List<String> importanceColumns, int[] sum, int banks) {
    HistogramVector.Total total = HistogramVector.decode(bins, importanceColumns.size(), sum, banks);
    return metrics(total.histogram(), importanceColumns, total.importance());
  }

  @Override
  public ModelParameters initialModel(JobSpec spec, io.consort.protocol.v1.FeatureEncoding encoding) {
    int inputs = ModelWire.encoding(spec.schema(), encoding).featureCount();
    ModelParameters template = ModelParameters.newBuilder()
        .setSpec(JobSpecWire.model(spec).toBuilder().setInputFeatures(inputs)).setEncoding(encoding).build();
    return ModelWire.withValues(template, spec.initialModel(inputs), 0);
  }

  @Override
  public Metrics mergeEvaluations(List<EvaluationResult> evaluations, List<String> importanceColumns) {
    List<ScoreHistogram> histograms = new ArrayList<>();
    double[] importance = new double[importanceColumns.size()];
    for (EvaluationResult e : evaluations) {
      histograms.add(histogram(e));
      if (!importanceColumns.isEmpty()) {
        if (e.getImportanceCount() != importance.length) {
          throw new IllegalArgumentException("an evaluation carries " + e.getImportanceCount()
              + " importance values for " + importance.length + " columns");
        }
        for (int c = 0; c < importance.length; c++) {
          importance[c] += e.getImportance(c);
        }
      }
    }
    return metrics(ScoreHistogram.merge(histograms), importanceColumns, importance);
  }

  private static Metrics metrics(ScoreHistogram merged, List<String> columns, double[] importanceSums) {
    GlobalMetrics m = GlobalMetrics.from(merged);
    java.util.Map<String, Double> importance = new java.util.LinkedHashMap<>();
    for (int c = 0; c < columns.size() && merged.count() > 0; c++) {
      importance.put(columns.get(c), importanceSums[c] / merged.count());
    }
    return new Metrics(m.auc(), m.accuracy(), m.logLoss(), m.count(), java.util.Optional.of(merged), importance);
  }

  static ScoreHistogram histogram(EvaluationResult e) {
    long[] pos = new long[e.getPositiveHistogramCount()];
    long[] neg = new long[e.getNegativeHistogramCount()];
    for (int i = 0; i < pos.length; i++) {
      pos[i] = e.getPositiveHistogram(i);
    }
    for (int i = 0; i < neg.length; i++) {
      neg[i] = e.getNegativeHistogram(i);
    }
    return new ScoreHistogram(pos, neg, e.getLogLossSum(), e.getCorrect(), e.getExamples());
  }
}
