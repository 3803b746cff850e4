package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.random.ReproducibleRandom;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Attack: the global model is the coordinator's, so a hostile coordinator can put an infinite, NaN or
 * huge value in any parameter. Where that makes one example's gradient norm NaN, the comparison
 * {@code norm > C} is false and the example used to be added unclipped: its finite coordinates then
 * carried its gradient, data and all, past DP-SGD's sensitivity bound. Whatever the parameters, the
 * finite part of a clipped batch's summed gradient must stay within rows * C.
 */
class HostileParametersClippingTest {
  private static final int INPUTS = 12;
  private static final float[] HOSTILE = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3e38f, -3e38f};

  static Stream<ModelSpec> models() {
    return Stream.of(
        ModelSpec.sequence(ModelType.SIMPLE_RNN, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.BINARY, 1),
        ModelSpec.sequence(ModelType.LSTM, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.BINARY, 1),
        ModelSpec.sequence(ModelType.CNN1D, new SequenceSpec(6, 4, 3, 0), List.of(5), Objective.BINARY, 1),
        ModelSpec.sequence(ModelType.ATTENTION, new SequenceSpec(6, 4, 0, 2), List.of(5), Objective.BINARY, 1),
        ModelSpec.defaultMlp(1),
        // the other heads, training with dropout: each example's own masks
        ModelSpec.defaultMlp(1).withActivation(HiddenActivation.TANH, 0.3).withObjective(Objective.REGRESSION),
        ModelSpec.sequence(ModelType.LSTM, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.BINARY, 1)
            .withActivation(HiddenActivation.SIGMOID, 0.2),
        ModelSpec.sequence(ModelType.CNN1D, new SequenceSpec(6, 4, 3, 0), List.of(5), Objective.REGRESSION, 1)
            .withActivation(HiddenActivation.RELU, 0.5),
        ModelSpec.sequence(ModelType.ATTENTION, new SequenceSpec(6, 4, 0, 2), List.of(5), Objective.REGRESSION, 1)
            .withActivation(HiddenActivation.TANH, 0.3));
  }

  @ParameterizedTest
  @MethodSource("models")
  void aHostileParameter_neverLetsAnExampleThroughUnclipped(ModelSpec spec) {
    ReproducibleRandom random = ReproducibleRandom.of("hostile-parameters", 1);
    NativeNetwork network = NativeNetwork.of(spec, INPUTS);
    float[] base = new float[network.parameterCount()];
    for (int i = 0; i < base.length; i++) {
      base[i] = (float) (random.nextGaussian() * 0.5);
    }
    double clip = 1.0;
    for (float hostile : HOSTILE) {
      for (int rows : new int[] {1, 3}) {
        for (int p = 0; p < base.length; p++) {
          float[] parameters = base.clone();
          parameters[p] = hostile;
          float[] in = network.inputBuffer(rows);
          for (int i = 0; i < rows * INPUTS; i++) {
            // exact zeros in the data, so an infinite weight meets 0 * inf for some examples only
            in[i] = i % 5 == 0 ? 0f : (float) random.nextGaussian();
          }
          float[] labels = network.labelBuffer(rows);
          for (int r = 0; r < rows; r++) {
            labels[r] = r % 2;
          }
          float[] gradient = new float[parameters.length];
          network.forwardTraining(parameters, rows, random);
          network.backward(parameters, rows, clip, gradient);
          double squared = 0;
          for (float g : gradient) {
            if (Float.isFinite(g)) {
              squared += (double) g * g;
            }
          }
          assertTrue(Math.sqrt(squared) <= rows * clip, spec.type().wireName() + ": parameter " + p + " = " + hostile
              + " with " + rows + " rows: the finite part of the clipped gradient has norm " + Math.sqrt(squared)
              + " > " + rows + " * C");
        }
      }
    }
  }
}
