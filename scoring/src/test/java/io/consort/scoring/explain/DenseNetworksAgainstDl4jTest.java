package io.consort.scoring.explain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.dl4j.Dl4jNetworks;
import io.consort.model.features.EncodedData;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.Predictor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The scorer's plain-Java network computes what DL4J computes for the same parameters, for every
 * dense network a job can define: ReLU, tanh or sigmoid hidden layers, with and without dropout
 * (identity at inference), one to three hidden layers, and logistic regression. The reference is
 * DL4J itself ({@link Dl4jNetworks}, the network the dl4j engine trains and the banks' evaluation
 * runs): the logits against the same network with an identity output, the probabilities against
 * {@link Predictor}, which computed the evaluation histograms the calibration was fitted on.
 * Parameters are the job's Xavier initialisation scaled by 3, so that hidden units saturate; nothing
 * is random.
 */
class DenseNetworksAgainstDl4jTest {
  private static final int INPUTS = 23;
  private static final int ROWS = 200;
  /**
   * Float tolerance, relative to {@code 1 + |logit|}: both sides sum in float, in different orders
   * (DL4J's matrix product blocks its sums), over at most 64 terms per unit, so each layer's
   * pre-activations differ by a few float epsilons (1.2e-7) of the magnitudes summed.
   */
  private static final double LOGIT_TOLERANCE = 2e-5;

  @BeforeAll
  static void oneThread() {
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
  }

  static Stream<Arguments> networks() {
    List<Arguments> all = new ArrayList<>();
    for (HiddenActivation activation : HiddenActivation.values()) {
      for (double dropout : new double[] {0, 0.3}) {
        for (List<Integer> hidden : List.of(List.of(64, 32), List.of(8), List.of(16, 8, 4))) {
          all.add(Arguments.of(activation, dropout, hidden));
        }
      }
    }
    return all.stream();
  }

  @ParameterizedTest(name = "{0}, dropout {1}, hidden {2}")
  @MethodSource("networks")
  void logitsAndProbabilities_equalDl4jsOutput_forTheSameParameters(HiddenActivation activation, double dropout,
                                                                     List<Integer> hidden) {
    ModelSpec spec = new ModelSpec(ModelType.MLP, hidden, 32, 0.01, 0, 5, activation, dropout, Objective.BINARY,
        Optional.empty());
    checkAgainstDl4j(spec);
  }

  @Test
  void logisticRegression_equalsDl4jsOutput() {
    checkAgainstDl4j(ModelSpec.logisticRegression(5));
  }

  private static void checkAgainstDl4j(ModelSpec spec) {
    float[] parameters = scaledParameters(spec, 3);
    EncodedData rows = rows(ROWS, 17);
    InferenceNetwork network = new InferenceNetwork(spec, INPUTS, parameters);
    float[] logits = new float[ROWS];
    network.logits(rows.x(), ROWS, logits);

    float[] dl4jLogits = Dl4jNetworks.network(spec.withObjective(Objective.REGRESSION), INPUTS, parameters)
        .output(Nd4j.createFromArray(rows.x()).reshape(ROWS, INPUTS), false).toFloatVector();
    float[] dl4jProbabilities = Predictor.predict(spec, parameters, rows);
    double worst = 0;
    for (int r = 0; r < ROWS; r++) {
      double gap = Math.abs(logits[r] - dl4jLogits[r]) / (1 + Math.abs(dl4jLogits[r]));
      worst = Math.max(worst, gap);
      assertTrue(gap <= LOGIT_TOLERANCE, "row " + r + ": logit " + logits[r] + ", DL4J's " + dl4jLogits[r]);
      // a probability moves by at most a quarter of its logit's change
      assertEquals(dl4jProbabilities[r], 1 / (1 + Math.exp(-logits[r])), 0.25 * LOGIT_TOLERANCE * (1 + Math.abs(logits[r])) + 1e-7,
          "row " + r + "'s probability");
      // the single-row path computes the batch's logit
      assertEquals(logits[r], network.logit(java.util.Arrays.copyOfRange(rows.x(), r * INPUTS, (r + 1) * INPUTS)));
    }
    System.out.printf("%s %s dropout %.1f: worst relative logit gap to DL4J %.2e%n", spec.activation(),
        spec.hiddenLayers(), spec.dropout(), worst);
  }

  /** The job's initial parameters (Xavier, from the spec's seed) times {@code scale}. */
  static float[] scaledParameters(ModelSpec spec, double scale) {
    float[] p = ModelFactory.initialParameters(spec, INPUTS);
    SplittableRandom random = new SplittableRandom(spec.seed());
    for (int i = 0; i < p.length; i++) {
      // biases start at 0: give them values too, so no unit sits at its activation's centre
      p[i] = (float) (scale * p[i] + 0.1 * random.nextGaussian());
    }
    return p;
  }

  /** Standard normal features times 1.5. */
  static EncodedData rows(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] x = new float[n * INPUTS];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (1.5 * random.nextGaussian());
    }
    return new EncodedData(n, INPUTS, x, new float[n]);
  }
}
