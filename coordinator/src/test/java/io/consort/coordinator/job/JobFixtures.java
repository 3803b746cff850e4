package io.consort.coordinator.job;

import io.consort.model.data.DataSchema;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.JobSpec;
import java.time.Duration;
import java.util.List;

/** A small job and its collaborators for unit tests of the job's parts. */
final class JobFixtures {
  static final Duration DEADLINE = Duration.ofSeconds(30);

  private JobFixtures() {}

  static JobSpecBuilder spec() {
    return JobSpec.builder().id("job").schema(new DataSchema(List.of("x"), List.of(), "y", "1")).minBanks(2)
        .secureAggregation(false);
  }

  static JobContext context(JobSpec spec, FakeBanks banks, FakeTimers timers) {
    return JobContext.of(spec, new StageCollector(spec.id(), banks, timers, DEADLINE), banks, new InlineWorkers());
  }

  static ModelParameters model(long version, float... values) {
    return ModelWire.withValues(ModelParameters.getDefaultInstance(), values, version);
  }
}
