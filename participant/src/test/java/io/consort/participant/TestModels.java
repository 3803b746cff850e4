package io.consort.participant;

import io.consort.model.data.DatasetLoader;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.train.ModelFactory;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.nio.file.Path;
import java.util.List;

/** A job's initial global model for bank tests, with an encoding taken from the bank's whole data file. */
final class TestModels {
  private TestModels() {}

  static ModelParameters initialModel(JobSpec spec, Path data) throws Exception {
    FeatureEncoding encoding = FeatureEncoding.merge(
        List.of(LocalFeatureStats.compute(DatasetLoader.load(data, spec.schema()))));
    ModelParameters template = ModelParameters.newBuilder().setSpec(JobSpecWire.model(spec).toBuilder()
        .setInputFeatures(encoding.featureCount())).setEncoding(ModelWire.encoding(encoding)).build();
    return ModelWire.withValues(template, ModelFactory.initialParameters(spec.model(), encoding.featureCount()), 0);
  }
}
