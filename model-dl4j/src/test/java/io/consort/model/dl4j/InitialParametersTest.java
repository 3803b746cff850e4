package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Predictor;
import java.util.List;
import java.util.function.LongFunction;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link ModelFactory#initialParameters}, written without DL4J, against DL4J's own
 * {@code WeightInit.XAVIER} initialisation of the same network: the same layout, and per layer the
 * same distribution.
 */
class InitialParametersTest {
  private static final ModelSpec SMALL =
      new ModelSpec(ModelType.MLP, List.of(4, 3), 8, 1e-3, 0, 7L);
  private static final int SMALL_INPUTS = 5;
  /** With the default MLP, layers of 23x64, 64x32 and 32x1 weights (the brief's network). */
  private static final int INPUTS = 23;
  private static final ModelSpec DEFAULT = ModelSpec.defaultMlp(0);
  private static final int SEEDS = 20;
  /**
   * Two-sided bound on each standard-normal statistic below: P(|Z| > 5) = 5.7e-7. The test makes 12
   * such checks (mean and variance of 3 layers, for the native initialiser and for DL4J's), so a
   * correct initialiser fails it with probability at most about 7e-6 (Bonferroni; the variance
   * statistics rest on the Wilson-Hilferty approximation, accurate to a few percent of that tail at
   * these sample sizes of 640 and more). The seeds are fixed, so the outcome is too: this is the
   * chance that a correct implementation had drawn a failing set of seeds.
   */
  private static final double Z_BOUND = 5.0;

  /** Layout: DL4J's parameter table reads the native vector as W (nIn x nOut) then b per layer. */
  @Test
  void dl4jNetworkReadsNativeInitialParameters_asWeightsThenZeroBiasesPerLayer() {
    float[] parameters = ModelFactory.initialParameters(SMALL, SMALL_INPUTS);
    MultiLayerNetwork network = Dl4jNetworks.network(SMALL, SMALL_INPUTS, parameters);
    int[] sizes = SMALL.layerSizes(SMALL_INPUTS);
    int offset = 0;
    for (int l = 1; l < sizes.length; l++) {
      int nIn = sizes[l - 1];
      int nOut = sizes[l];
      INDArray weights = network.getParam((l - 1) + "_W");
      INDArray biases = network.getParam((l - 1) + "_b");
      assertArrayEquals(new long[] {nIn, nOut}, weights.shape(), "layer " + l);
      for (int j = 0; j < nOut; j++) {
        for (int i = 0; i < nIn; i++) {
          assertEquals(parameters[offset + j * nIn + i], weights.getFloat(i, j),
              "layer " + l + " W[" + i + "][" + j + "]");
        }
      }
      offset += nIn * nOut;
      for (int j = 0; j < nOut; j++) {
        assertEquals(0f, biases.getFloat(j), "layer " + l + " b[" + j + "]");
        assertEquals(0f, parameters[offset + j], "layer " + l + " b[" + j + "]");
      }
      offset += nOut;
    }
    assertEquals(parameters.length, offset);
  }

  /** Layout end to end: DL4J loaded with the vector computes what the native forward pass does. */
  @Test
  void dl4jOutputEqualsNativeForwardPass_onNativeInitialParameters() {
    ModelSpec spec = ModelSpec.defaultMlp(11);
    float[] parameters = ModelFactory.initialParameters(spec, INPUTS);
    int rows = 50;
    float[] x = new float[rows * INPUTS];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(0.37 * i) * 2;
    }
    float[] nativeScores = Predictor.predict(spec, parameters,
        new EncodedData(rows, INPUTS, x, new float[rows]));
    float[] dl4jScores = Dl4jNetworks.network(spec, INPUTS, parameters)
        .output(Nd4j.createFromArray(x).reshape(rows, INPUTS)).toFloatVector();
    for (int r = 0; r < rows; r++) {
      assertEquals(dl4jScores[r], nativeScores[r], 1e-6, "row " + r);
    }
  }

  /** DL4J's own initialiser leaves exactly the bias positions at zero, as the native one does. */
  @Test
  void dl4jOwnInitialisationHasZerosExactlyWhereTheNativeOneHas() {
    float[] dl4j = dl4jInitialParameters(SMALL.seed(), SMALL, SMALL_INPUTS);
    float[] nativeParameters = ModelFactory.initialParameters(SMALL, SMALL_INPUTS);
    assertEquals(dl4j.length, nativeParameters.length);
    for (int i = 0; i < dl4j.length; i++) {
      assertEquals(dl4j[i] == 0f, nativeParameters[i] == 0f, "parameter " + i);
    }
  }

  /**
   * Distribution: per layer, the weights pooled over {@value #SEEDS} seeds have mean 0 and variance
   * 2 / (nIn + nOut), for the native initialiser and, as a check of that reading of DL4J's source,
   * for DL4J's own. With sigma^2 that variance and n weights, sum(w) / (sigma sqrt(n)) is N(0, 1)
   * and T = sum(w^2) / sigma^2 is chi-squared with n degrees of freedom, which Wilson-Hilferty maps
   * to N(0, 1): ((T / n)^(1/3) - (1 - 2 / (9n))) / sqrt(2 / (9n)).
   */
  @Test
  void perLayerMeanAndVarianceMatchXavier_forNativeAndForDl4jInitialisation() {
    assertXavierMoments("native",
        seed -> ModelFactory.initialParameters(withSeed(DEFAULT, seed), INPUTS));
    assertXavierMoments("DL4J", seed -> dl4jInitialParameters(seed, DEFAULT, INPUTS));
  }

  /** The variance statistic has power: He's 2 / nIn is rejected for the 23x64 and 64x32 layers. */
  @Test
  void varianceStatisticRejects_heInitialisationsVariance() {
    int[] sizes = DEFAULT.layerSizes(INPUTS);
    float[][] samples =
        samples(seed -> ModelFactory.initialParameters(withSeed(DEFAULT, seed), INPUTS));
    for (int layer = 1; layer <= 2; layer++) {
      double z = moments(samples, sizes, layer, 2.0 / sizes[layer - 1])[1];
      assertTrue(Math.abs(z) > Z_BOUND, "layer " + layer + ": variance statistic " + z);
    }
  }

  private static void assertXavierMoments(String name, LongFunction<float[]> initialiser) {
    int[] sizes = DEFAULT.layerSizes(INPUTS);
    float[][] samples = samples(initialiser);
    for (int layer = 1; layer < sizes.length; layer++) {
      double xavier = 2.0 / (sizes[layer - 1] + sizes[layer]);
      double[] z = moments(samples, sizes, layer, xavier);
      System.out.printf("%s layer %d (%dx%d): mean statistic %.3f, variance statistic %.3f%n",
          name, layer, sizes[layer - 1], sizes[layer], z[0], z[1]);
      assertTrue(Math.abs(z[0]) <= Z_BOUND, name + " layer " + layer + ": mean statistic " + z[0]);
      assertTrue(Math.abs(z[1]) <= Z_BOUND,
          name + " layer " + layer + ": variance statistic " + z[1]);
    }
  }

  private static float[][] samples(LongFunction<float[]> initialiser) {
    float[][] samples = new float[SEEDS][];
    for (int s = 0; s < SEEDS; s++) {
      samples[s] = initialiser.apply(1000L + s);
    }
    return samples;
  }

  /** {mean statistic, variance statistic} of layer {@code layer}'s weights over all samples. */
  private static double[] moments(float[][] samples, int[] sizes, int layer, double variance) {
    int offset = 0;
    for (int l = 1; l < layer; l++) {
      offset += sizes[l - 1] * sizes[l] + sizes[l];
    }
    int weights = sizes[layer - 1] * sizes[layer];
    double sum = 0;
    double sumOfSquares = 0;
    for (float[] sample : samples) {
      for (int i = offset; i < offset + weights; i++) {
        sum += sample[i];
        sumOfSquares += (double) sample[i] * sample[i];
      }
    }
    long n = (long) weights * samples.length;
    double meanZ = sum / Math.sqrt(variance * n);
    double v = 2.0 / (9.0 * n);
    double varianceZ = (Math.cbrt(sumOfSquares / variance / n) - (1 - v)) / Math.sqrt(v);
    return new double[] {meanZ, varianceZ};
  }

  private static ModelSpec withSeed(ModelSpec spec, long seed) {
    return new ModelSpec(spec.type(), spec.hiddenLayers(), spec.batchSize(), spec.learningRate(),
        spec.l2(), seed);
  }

  private static float[] dl4jInitialParameters(long seed, ModelSpec spec, int inputs) {
    MultiLayerNetwork network =
        new MultiLayerNetwork(Dl4jNetworks.configuration(withSeed(spec, seed), inputs));
    network.init();
    return network.params().toFloatVector();
  }
}
