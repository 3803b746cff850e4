package io.consort.model.train;

import io.consort.model.random.ReproducibleRandom;

/**
 * A {@link ModelSpec}'s parameters: how many there are and the initial global model, in plain Java
 * so that the coordinator, which only initialises and averages models, runs without DL4J/ND4J.
 * DL4J networks for a spec (configuration, a network loaded with a parameter vector) are built by
 * {@code io.consort.model.dl4j.Dl4jNetworks} in the consort-model-dl4j module.
 */
public final class ModelFactory {
  /** The {@link ReproducibleRandom} purpose of the initial parameters' stream. */
  static final String INITIAL_PARAMETERS = "initial-parameters";

  private ModelFactory() {}

  /**
   * The initial global model, with the distribution and layout of DL4J's {@code WeightInit.XAVIER}
   * for this dense stack, so the vector loads into the DL4J network of the same spec.
   *
   * <p>Layout, as DL4J's {@code DefaultParamInitializer} for dense and output layers: per layer,
   * the {@code nIn x nOut} weights flattened column-major (the {@code nIn} weights into output unit
   * {@code j} are contiguous), then the {@code nOut} biases. Distribution, as DL4J's
   * {@code WeightInitXavier} (Glorot and Bengio 2010, in its Gaussian form): each weight
   * independent N(0, 2 / (nIn + nOut)); biases 0, DL4J's default {@code biasInit}.
   *
   * <p>Deterministic from {@code spec.seed()}: the normals come from Marsaglia's polar method on the
   * {@link ReproducibleRandom} stream for purpose {@value #INITIAL_PARAMETERS} and that seed,
   * weights drawn in layout order. Initialisation is public, not secret: every bank receives the
   * vector, and reproducing it from the job's seed is what makes a job repeatable. The values differ
   * from what DL4J itself draws for the same seed (ND4J's generator is not reproduced), not in
   * distribution or layout; tests in consort-model-dl4j check both against DL4J.
   *
   * <p>Sequence models follow their {@link ParameterLayout}: each weight block Xavier with its
   * own fans, each bias block its constant (0, or 1 for an LSTM's forget gate).
   */
  public static float[] initialParameters(ModelSpec spec, int inputs) {
    ParameterLayout layout = ParameterLayout.of(spec, inputs);
    float[] parameters = new float[layout.parameterCount()];
    GaussianNoise normals = new PolarGaussianNoise(
        ReproducibleRandom.of(INITIAL_PARAMETERS, spec.seed()));
    int offset = 0;
    for (ParameterLayout.Block block : layout.blocks()) {
      if (block.kind() == ParameterLayout.Kind.WEIGHT) {
        double sigma = Math.sqrt(2.0 / (block.fanIn() + block.fanOut()));
        for (int i = offset; i < offset + block.size(); i++) {
          parameters[i] = (float) normals.sample(sigma);
        }
      } else {
        java.util.Arrays.fill(parameters, offset, offset + block.size(), block.initialValue());
      }
      offset += block.size();
    }
    return parameters;
  }

  public static int parameterCount(ModelSpec spec, int inputs) {
    return ParameterLayout.of(spec, inputs).parameterCount();
  }
}
