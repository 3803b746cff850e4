package io.consort.model.train;

import java.util.Arrays;

/**
 * Adam (Kingma and Ba 2015) on a flat parameter vector, in DL4J's formulation (bias correction
 * folded into the step size, epsilon added to the uncorrected second moment's root), so a step
 * matches DL4J's {@code AdamUpdater}.
 */
final class AdamOptimizer {
  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double EPSILON = 1e-8;
  private final double learningRate;
  private final float[] firstMoment;
  private final float[] secondMoment;
  private long iteration;

  AdamOptimizer(int parameters, double learningRate) {
    this.learningRate = learningRate;
    firstMoment = new float[parameters];
    secondMoment = new float[parameters];
  }

  void reset() {
    Arrays.fill(firstMoment, 0f);
    Arrays.fill(secondMoment, 0f);
    iteration = 0;
  }

  /** parameters -= Adam step for {@code gradient}. */
  void step(float[] parameters, float[] gradient) {
    iteration++;
    double alpha = learningRate * Math.sqrt(1 - Math.pow(BETA2, iteration))
        / (1 - Math.pow(BETA1, iteration));
    float b1 = (float) BETA1;
    float b2 = (float) BETA2;
    float a = (float) alpha;
    float eps = (float) EPSILON;
    for (int i = 0; i < parameters.length; i++) {
      float g = gradient[i];
      float m = b1 * firstMoment[i] + (1 - b1) * g;
      float v = b2 * secondMoment[i] + (1 - b2) * g * g;
      firstMoment[i] = m;
      secondMoment[i] = v;
      parameters[i] -= a * m / ((float) Math.sqrt(v) + eps);
    }
  }
}
