package io.consort.coordinator.job;

import io.consort.coordinator.transport.Members;
import io.consort.protocol.v1.JobPlan;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.util.Objects;

/**
 * What every part of a running job shares: its specification (and the plan the banks receive), its
 * stage collector, the banks, and the workers that take blocking work off the event loop.
 */
public record JobContext(JobSpec spec, JobPlan plan, StageCollector stages, Members members, Workers workers) {
  public JobContext {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(stages, "stages");
    Objects.requireNonNull(members, "members");
    Objects.requireNonNull(workers, "workers");
  }

  public static JobContext of(JobSpec spec, StageCollector stages, Members members, Workers workers) {
    return new JobContext(spec, JobSpecWire.toProto(spec), stages, members, workers);
  }
}
