package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import io.consort.model.random.ReproducibleRandom;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Attack, on the DL4J engine's DP-SGD (per-example gradients): a hostile coordinator puts an infinite or
 * NaN value in one parameter of the global model. Where an example's gradient norm comes out NaN,
 * {@code norm > C} is false and the example used to be added unclipped. Whatever the parameters, the finite
 * part of the clipped sum must stay within rows * C.
 */
class HostileParametersDl4jClippingTest {
  private static final int INPUTS = 12;
  private static final int ROWS = 2;

  static Stream<ModelSpec> models() {
    return Stream.of(
        ModelSpec.sequence(ModelType.SIMPLE_RNN, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.BINARY, 1),
        ModelSpec.sequence(ModelType.LSTM, new SequenceSpec(6, 4, 0, 0), List.of(5), Objective.BINARY, 1),
        ModelSpec.defaultMlp(1));
  }

  // about 1,000 DL4J per-example passes per model: 17 s for each recurrent model at a load of 2 to 3, 81 s once under a
  // load of 9, so above the 60 s default
  @ParameterizedTest
  @MethodSource("models")
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void aHostileParameter_neverLetsAnExampleThroughUnclipped(ModelSpec spec) {
    ReproducibleRandom random = ReproducibleRandom.of("hostile-parameters-dl4j", 1);
    int count = ModelFactory.parameterCount(spec, INPUTS);
    float[] base = new float[count];
    for (int i = 0; i < count; i++) {
      base[i] = (float) (random.nextGaussian() * 0.5);
    }
    float[] x = new float[ROWS * INPUTS];
    for (int i = 0; i < x.length; i++) {
      // exact zeros in the data, so an infinite weight meets 0 * inf for some examples only
      x[i] = i % 5 == 0 ? 0f : (float) random.nextGaussian();
    }
    EncodedData data = new EncodedData(ROWS, INPUTS, x, new float[] {0, 1});
    Dl4jPerExampleClipper clipper = new Dl4jPerExampleClipper(spec, Dl4jNetworks.network(spec, INPUTS, base), data);
    double clip = 1.0;
    for (float hostile : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3e38f, -3e38f}) {
      for (int p = 0; p < count; p += 1 + count / 200) {
        float[] parameters = base.clone();
        parameters[p] = hostile;
        clipper.load(parameters);
        float[] sum = new float[count];
        clipper.clippedGradientSum(new int[] {0, 1}, ROWS, clip, sum);
        double squared = 0;
        for (float g : sum) {
          if (Float.isFinite(g)) {
            squared += (double) g * g;
          }
        }
        assertTrue(Math.sqrt(squared) <= ROWS * clip * (1 + 1e-6), spec.type().wireName() + ": parameter " + p + " = "
            + hostile + ": the finite part of the clipped sum has norm " + Math.sqrt(squared) + " > " + ROWS + " * C");
      }
    }
  }
}
