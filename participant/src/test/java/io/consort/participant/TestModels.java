package io.consort.participant;

import io.consort.model.data.DatasetLoader;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.nio.file.Path;
import java.util.List;

/** A job's initial global model for bank tests (the plan's initial parameters, else Xavier), with an encoding taken from the bank's whole data file. */
final class TestModels {
  private TestModels() {}

  static ModelParameters initialModel(JobSpec spec, Path data) throws Exception {
    FeatureEncoding encoding = FeatureEncoding.merge(
        List.of(LocalFeatureStats.compute(DatasetLoader.load(data, spec.schema()))));
    ModelParameters template = ModelParameters.newBuilder().setSpec(JobSpecWire.model(spec).toBuilder()
        .setInputFeatures(encoding.featureCount())).setEncoding(ModelWire.encoding(encoding)).build();
    return ModelWire.withValues(template, spec.initialModel(encoding.featureCount()), 0);
  }

  /** The training rows of the bank holding {@code config}'s data under {@code spec}: what its feature statistics report. */
  static long trainRows(ParticipantConfig config, JobSpec spec) throws Exception {
    return BankData.open(config, spec.schema()).trainRows();
  }

  /** 80 rows of income, region (north or south) and default (yes or no), written to {@code data.csv} in {@code dir}. */
  static Path regionLoans(Path dir) throws java.io.IOException {
    StringBuilder csv = new StringBuilder("income,region,default\n");
    for (int i = 0; i < 80; i++) {
      csv.append(i * 13 % 97).append(',').append(i % 2 == 0 ? "north" : "south").append(',')
          .append(i % 3 == 0 ? "yes" : "no").append('\n');
    }
    return java.nio.file.Files.writeString(dir.resolve("data.csv"), csv);
  }

  /** bank-1 of a demo PKI under {@code dir}, holding {@code data}, with a cap of epsilon 3. */
  static BankTaskHandler bank1(Path dir, Path data) throws Exception {
    io.consort.certs.TlsMaterial t = io.consort.certs.DemoPki.create(dir.resolve("pki"), "coordinator",
        List.of("bank-1")).bank("bank-1");
    return new BankTaskHandler(new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data,
        dir.resolve("local"), 3.0, 1e-5, 1 << 20, null, false));
  }
}
