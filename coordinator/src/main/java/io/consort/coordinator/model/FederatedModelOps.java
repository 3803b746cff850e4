package io.consort.coordinator.model;

import io.consort.coordinator.job.ModelOps;
import io.consort.model.data.DataSchema;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.model.sums.HistogramVector;
import io.consort.model.train.ModelFactory;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.EvaluationResult;
import io.consort.protocol.v1.FeatureStats;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.protocol.v1.ModelParameters;
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
  public io.consort.protocol.v1.FeatureEncoding mergeSummedStatistics(JobSpec spec, int[] sum, int banks,
                                                                      List<FeatureStats> names) {
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
    return ModelWire.encoding(FeatureEncoding.merge(List.of(total)));
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
    return ModelWire.withValues(template, ModelFactory.initialParameters(spec.model(), inputs), 0);
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
