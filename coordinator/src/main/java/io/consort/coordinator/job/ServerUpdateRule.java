package io.consort.coordinator.job;

/**
 * How the coordinator turns a round's aggregate into the next global model. It sees only the
 * aggregate, so a rule can never depend on one bank's update. FedAvg today; adaptive server
 * optimisers (FedAdam, FedYogi; Reddi et al. 2021) keep their state between rounds behind the same
 * interface. Called on a worker thread, one round at a time.
 */
public interface ServerUpdateRule {
  /** @return the next global parameters, a new array the length of {@code global} */
  float[] apply(float[] global, AggregatedUpdate update);
}
