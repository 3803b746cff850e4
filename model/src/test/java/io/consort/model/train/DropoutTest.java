package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import io.consort.model.random.ReproducibleRandom;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * The native networks' dropout by its statistics, which DL4J cannot match draw for draw (the
 * gradient under a given mask is checked against DL4J in consort-model-dl4j's network tests): the
 * keep rate of the masks, the expectation of a dropped pass, dropout in training only, and masks
 * drawn from the trainer's randomness. The statistical checks draw from production randomness
 * ({@link BufferedSecureRandom#create()}); each states its false-failure probability.
 */
class DropoutTest {
  private static final int INPUTS = 12;

  /**
   * Masks keep each position with probability {@code keep}, as {@code 1 / keep}. Kept count of
   * n = 10^6 positions is Binomial(n, keep); the check allows 5 standard deviations (false-failure
   * probability below 6e-7 per rate, 3 rates).
   */
  @Test
  void masksKeepEachInputWithTheKeepProbability_scaledByItsInverse() {
    RandomGenerator source = BufferedSecureRandom.create();
    int n = 1_000_000;
    float[] mask = new float[n + 1];
    for (double keep : new double[] {0.5, 0.8, 0.05}) {
      // an odd length: the last position takes a draw of its own
      DenseNetwork.drawMask(source, keep, mask, n + 1);
      float scale = (float) (1 / keep);
      long kept = 0;
      for (float m : mask) {
        assertTrue(m == 0f || m == scale, "mask value " + m);
        if (m != 0f) {
          kept++;
        }
      }
      double sigma = Math.sqrt((n + 1) * keep * (1 - keep));
      assertEquals((n + 1) * keep, kept, 5 * sigma, "keep " + keep);
    }
  }

  /**
   * With dropout only on the output layer's input (one hidden layer, or a sequence model with no
   * dense head layer), the output is linear in the mask, so its expectation over masks is the pass
   * without dropout: per row, the mean of N = 4,000 dropped passes is within 5 standard errors
   * (the variance, {@code (1/keep - 1) sum_u (w_u a_u)^2}, estimated from the passes) plus float
   * rounding (false-failure probability below 6e-7 per row by the central limit theorem, 6 rows, 2 models).
   */
  @Test
  void theMeanOfManyDroppedPasses_isThePassWithoutDropout() {
    ModelSpec mlp = new ModelSpec(ModelType.MLP, List.of(10), 8, 1e-3, 0, 3)
        .withActivation(HiddenActivation.TANH, 0.4);
    ModelSpec lstm = ModelSpec.sequence(ModelType.LSTM, new SequenceSpec(6, 8, 0, 0), List.of(), Objective.REGRESSION, 4)
        .withActivation(HiddenActivation.RELU, 0.25);
    RandomGenerator source = BufferedSecureRandom.create();
    for (ModelSpec spec : List.of(mlp, lstm)) {
      int rows = 6;
      NativeNetwork network = NativeNetwork.of(spec, INPUTS);
      float[] parameters = perturbed(ModelFactory.initialParameters(spec, INPUTS));
      fill(network, rows);
      network.forward(parameters, rows);
      float[] expected = network.logits().clone();
      int passes = 4000;
      double[] sum = new double[rows];
      double[] sumOfSquares = new double[rows];
      for (int p = 0; p < passes; p++) {
        network.forwardTraining(parameters, rows, source);
        for (int r = 0; r < rows; r++) {
          double v = network.logits()[r] - expected[r];
          sum[r] += v;
          sumOfSquares[r] += v * v;
        }
      }
      for (int r = 0; r < rows; r++) {
        double mean = sum[r] / passes;
        double variance = sumOfSquares[r] / passes - mean * mean;
        assertTrue(variance > 0, "the dropped passes vary");
        double standardError = Math.sqrt(variance / passes);
        assertEquals(0, mean, 5 * standardError + 1e-5 * Math.abs(expected[r]),
            spec.type().wireName() + " row " + r);
      }
    }
  }

  /** Scoring never drops: the same parameters and rows score the same every time, as a pass without dropout. */
  @Test
  void scoringNeverDrops() {
    ModelSpec spec = ModelSpec.defaultMlp(2).withActivation(HiddenActivation.SIGMOID, 0.5);
    EncodedData data = rows(40, 9);
    float[] parameters = perturbed(ModelFactory.initialParameters(spec, INPUTS));
    float[] first = Predictor.predict(spec, parameters, data);
    assertArrayEquals(first, Predictor.predict(spec, parameters, data));
    float[] withoutDropout = Predictor.predict(spec.withActivation(HiddenActivation.SIGMOID, 0), parameters, data);
    assertArrayEquals(withoutDropout, first);
    assertArrayEquals(Predictor.logits(spec.withActivation(HiddenActivation.SIGMOID, 0), parameters, data),
        Predictor.logits(spec, parameters, data));
  }

  /**
   * Training draws its masks from the trainer's randomness (CSPRNG in production): per step of k rows of the
   * 64-32 MLP, (64 + 32) k / 2 draws (two 32-bit uniforms a draw) on top of the shuffle's. Without dropout, the
   * shuffle's alone.
   */
  @Test
  void trainingDrawsEachStepsMasksFromTheTrainersRandomness() {
    EncodedData data = rows(50, 3);
    long[] draws = new long[2];
    for (int dropout = 0; dropout < 2; dropout++) {
      ModelSpec spec = ModelSpec.defaultMlp(5).withBatchSize(16).withActivation(HiddenActivation.RELU, dropout * 0.3);
      int which = dropout;
      ReproducibleRandom random = ReproducibleRandom.of("dropout-draws", 1);
      RandomGenerator counting = () -> {
        draws[which]++;
        return random.nextLong();
      };
      LocalTrainer trainer = new LocalTrainer(spec, data, TrainingEngine.NATIVE, counting, sigma -> {
        throw new AssertionError("no noise");
      });
      trainer.train(ModelFactory.initialParameters(spec, INPUTS), 1, TrainingOptions.standard());
    }
    long shuffle = draws[0];
    assertTrue(shuffle > 0);
    assertEquals(shuffle + (64 + 32) * 50 / 2, draws[1]);
  }

  /**
   * Under DP-SGD each example's gradient goes through its own masks (its norm differs from its
   * norm without dropout) and is clipped to C, so the clipped sum stays within rows * C.
   */
  @Test
  void dpSgdWithDropout_clipsEachExampleWithItsOwnMask() {
    ModelSpec spec = ModelSpec.defaultMlp(5).withActivation(HiddenActivation.TANH, 0.5);
    NativeNetwork network = NativeNetwork.of(spec, INPUTS);
    float[] parameters = perturbed(ModelFactory.initialParameters(spec, INPUTS));
    int rows = 20;
    fill(network, rows);
    RandomGenerator source = ReproducibleRandom.of("dropout-clip", 2);
    double clip = 0.05;
    float[] gradient = new float[parameters.length];
    network.forwardTraining(parameters, rows, source);
    network.backward(parameters, rows, clip, gradient);
    // each example's own mask: the per-example norms differ from the same rows' norms without dropout
    double[] dropped = network.squaredNorms().clone();
    network.forward(parameters, rows);
    network.backward(parameters, rows, clip, new float[parameters.length]);
    int differing = 0;
    for (int r = 0; r < rows; r++) {
      assertTrue(Math.sqrt(dropped[r]) > clip, "the clip binds on row " + r);
      if (dropped[r] != network.squaredNorms()[r]) {
        differing++;
      }
    }
    assertEquals(rows, differing);
    double norm = 0;
    for (float g : gradient) {
      norm += (double) g * g;
    }
    assertTrue(Math.sqrt(norm) <= rows * clip, "summed clipped gradient " + Math.sqrt(norm));
  }

  private static float[] perturbed(float[] parameters) {
    ReproducibleRandom random = ReproducibleRandom.of("dropout-parameters", 1);
    for (int i = 0; i < parameters.length; i++) {
      parameters[i] += (float) (0.3 * random.nextGaussian());
    }
    return parameters;
  }

  private static void fill(NativeNetwork network, int rows) {
    ReproducibleRandom random = ReproducibleRandom.of("dropout-rows", 1);
    float[] in = network.inputBuffer(rows);
    for (int i = 0; i < rows * INPUTS; i++) {
      in[i] = (float) random.nextGaussian();
    }
    float[] labels = network.labelBuffer(rows);
    for (int r = 0; r < rows; r++) {
      labels[r] = r % 2;
    }
  }

  private static EncodedData rows(int count, long seed) {
    ReproducibleRandom random = ReproducibleRandom.of("dropout-data", seed);
    float[] x = new float[count * INPUTS];
    float[] y = new float[count];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    for (int r = 0; r < count; r++) {
      y[r] = x[r * INPUTS] > 0 ? 1f : 0f;
    }
    return new EncodedData(count, INPUTS, x, y);
  }
}
