package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The plain-Java initial model. Its agreement with DL4J (layout, and the per-layer variance as a
 * statistical test) is checked in consort-model-dl4j, which has DL4J.
 */
class ModelFactoryTest {
  private static final ModelSpec SPEC = new ModelSpec(ModelType.MLP, List.of(4, 3), 8, 1e-3, 0, 7L);
  private static final int INPUTS = 5;

  @Test
  void initialParametersAreReproducible_fromTheSpecsSeedAlone() {
    float[] first = ModelFactory.initialParameters(SPEC, INPUTS);
    assertArrayEquals(first, ModelFactory.initialParameters(SPEC, INPUTS));
    ModelSpec otherSettings = SPEC.withLearningRate(0.5).withBatchSize(3).withL2(1e-2);
    assertArrayEquals(first, ModelFactory.initialParameters(otherSettings, INPUTS));

    ModelSpec otherSeed = new ModelSpec(ModelType.MLP, List.of(4, 3), 8, 1e-3, 0, 8L);
    assertFalse(Arrays.equals(first, ModelFactory.initialParameters(otherSeed, INPUTS)));
  }

  /** Per layer: nIn * nOut weights, none zero, then nOut biases, all zero. */
  @Test
  void initialParametersHaveWeightsThenZeroBiases_perLayer() {
    float[] parameters = ModelFactory.initialParameters(SPEC, INPUTS);
    int[] sizes = SPEC.layerSizes(INPUTS);
    assertEquals(5 * 4 + 4 + 4 * 3 + 3 + 3 * 1 + 1, parameters.length);
    assertEquals(parameters.length, ModelFactory.parameterCount(SPEC, INPUTS));
    int offset = 0;
    for (int l = 1; l < sizes.length; l++) {
      for (int i = 0; i < sizes[l - 1] * sizes[l]; i++) {
        assertTrue(parameters[offset++] != 0f, "layer " + l + " weight " + i);
      }
      for (int j = 0; j < sizes[l]; j++) {
        assertEquals(0f, parameters[offset++], "layer " + l + " bias " + j);
      }
    }
  }
}
