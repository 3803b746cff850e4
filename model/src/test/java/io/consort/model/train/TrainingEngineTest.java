package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import org.junit.jupiter.api.Test;

class TrainingEngineTest {

  @Test
  void fromName_acceptsWireNames_andNamesTheBadValueAndTheAllowedOnes() {
    for (TrainingEngine engine : TrainingEngine.values()) {
      assertEquals(engine, TrainingEngine.fromName(engine.wireName()));
    }
    assertEquals(TrainingEngine.DL4J, TrainingEngine.fromName(" DL4J "));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingEngine.fromName("pytorch"));
    assertEquals("unknown training engine 'pytorch'; allowed: dl4j, native", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TrainingEngine.fromName(null));
  }

  /** This module's tests run without consort-model-dl4j, as the coordinator does. */
  @Test
  void dl4jTrainerFails_namingTheMissingModule_whenModelDl4jIsNotOnTheClassPath() {
    EncodedData rows = new EncodedData(2, 1, new float[] {0f, 1f}, new float[] {0f, 1f});
    ModelSpec spec = ModelSpec.logisticRegression(1);

    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new LocalTrainer(spec, rows, TrainingEngine.DL4J));
    assertEquals("the 'dl4j' training engine is not available: it is provided by the module"
        + " consort-model-dl4j (io.consort:consort-model-dl4j), which is not on this process's"
        + " class path", e.getMessage());
    assertTrue(new LocalTrainer(spec, rows, TrainingEngine.NATIVE).parameterCount() == 2);
  }
}
