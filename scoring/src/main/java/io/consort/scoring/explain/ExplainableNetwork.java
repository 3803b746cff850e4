package io.consort.scoring.explain;

/**
 * A scoring network whose logit can be explained by integrated gradients: the integral of its input
 * gradient along the straight path between two rows. Implementations are immutable and thread-safe.
 */
public interface ExplainableNetwork extends ScoringNetwork {
  /**
   * {@code integral_0^1 grad f(from + a (to - from)) da}, per input, whose contributions {@code (to_i -
   * from_i) * integral_i} add up to {@code f(to) - f(from)} in double precision within the method's
   * stated tolerance.
   *
   * @throws UnfaithfulExplanationException when they cannot be made to within the method's budget of gradients
   */
  InferenceNetwork.PathIntegral pathIntegral(float[] from, float[] to);
}
