package io.consort.coordinator.model;

import io.consort.coordinator.job.ModelOps;
import io.consort.model.data.DataSchema;
import io.consort.model.eval.GlobalMetrics;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
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
  public ModelParameters initialModel(JobSpec spec, io.consort.protocol.v1.FeatureEncoding encoding) {
    int inputs = ModelWire.encoding(spec.schema(), encoding).featureCount();
    ModelParameters template = ModelParameters.newBuilder()
        .setSpec(JobSpecWire.model(spec).toBuilder().setInputFeatures(inputs)).setEncoding(encoding).build();
    return ModelWire.withValues(template, ModelFactory.initialParameters(spec.model(), inputs), 0);
  }

  @Override
  public Metrics mergeEvaluations(List<EvaluationResult> evaluations) {
    List<ScoreHistogram> histograms = new ArrayList<>();
    for (EvaluationResult e : evaluations) {
      histograms.add(histogram(e));
    }
    ScoreHistogram merged = ScoreHistogram.merge(histograms);
    GlobalMetrics m = GlobalMetrics.from(merged);
    return new Metrics(m.auc(), m.accuracy(), m.logLoss(), m.count(), java.util.Optional.of(merged));
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
