package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.random.ReproducibleRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DP-SGD's sensitivity is the clip norm C: the per-example gradient the kernel actually adds (in
 * float) must never exceed C, not even by float rounding, or the accountant's guarantee is off. On
 * both kernels (this module's tests run with the Vector API module).
 */
class ClippingTest {
  static Stream<DenseKernel> kernels() {
    return Stream.of(DenseKernel.scalar(), DenseKernel.vectorOrNull());
  }

  @ParameterizedTest
  @MethodSource("kernels")
  void everyClippedPerExampleGradient_asAccumulatedInFloat_hasNormAtMostTheClip(
      DenseKernel kernel) {
    int[] sizes = {23, 64, 32, 1};
    DenseNetwork network = new DenseNetwork(sizes, kernel);
    ReproducibleRandom random = ReproducibleRandom.of("clipping-test", 11);
    float[] parameters = new float[network.parameterCount()];
    float[] gradient = new float[network.parameterCount()];
    double worst = 0;
    for (int trial = 0; trial < 2_000; trial++) {
      for (int i = 0; i < parameters.length; i++) {
        parameters[i] = (float) (random.nextGaussian() * 0.5);
      }
      float[] in = network.inputBuffer(1);
      for (int i = 0; i < sizes[0]; i++) {
        in[i] = (float) (random.nextGaussian() * (1 + trial % 7));
      }
      network.labelBuffer(1)[0] = trial % 2;
      // clip norms from tiny to large so both the scaled and the unscaled case are exercised
      double clip = Math.pow(10, -3 + (trial % 6));
      network.forward(parameters, 1);
      network.backward(parameters, 1, clip, gradient);
      double squared = 0;
      for (float g : gradient) {
        squared += (double) g * g;
      }
      double ratio = Math.sqrt(squared) / clip;
      worst = Math.max(worst, ratio);
      assertTrue(ratio <= 1.0, "trial " + trial + ": the added gradient has norm " + Math.sqrt(squared)
          + " > clip " + clip + " (ratio - 1 = " + (ratio - 1) + ")");
    }
    assertTrue(worst > 0.99, "the test must reach the clip, got at most " + worst);
  }
}
