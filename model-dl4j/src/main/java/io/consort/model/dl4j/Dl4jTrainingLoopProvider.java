package io.consort.model.dl4j;

import io.consort.model.features.EncodedData;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.spi.TrainingLoop;
import io.consort.model.train.spi.TrainingLoopProvider;

/**
 * Provides {@link TrainingEngine#DL4J} to {@link io.consort.model.train.LocalTrainer}; registered in
 * {@code META-INF/services}. Constructing it touches no ND4J class, so looking providers up costs
 * nothing until a DL4J trainer is actually built.
 */
public final class Dl4jTrainingLoopProvider implements TrainingLoopProvider {

  @Override
  public TrainingEngine engine() {
    return TrainingEngine.DL4J;
  }

  @Override
  public TrainingLoop open(ModelSpec spec, EncodedData data) {
    return new Dl4jTrainingLoop(spec, data);
  }

  @Override
  public float[] predict(ModelSpec spec, float[] parameters, EncodedData data) {
    return Dl4jNetworks.predict(spec, Dl4jNetworks.network(spec, data.features(), parameters), data.x(),
        data.rows(), data.features());
  }
}
