package io.consort.model.train.spi;

import io.consort.model.features.EncodedData;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.TrainingEngine;

/**
 * A {@link TrainingEngine} implemented outside this module, found with {@link
 * java.util.ServiceLoader}: a module that provides one lists its implementation in {@code
 * META-INF/services/io.consort.model.train.spi.TrainingLoopProvider} (consort-model-dl4j does so
 * for {@link TrainingEngine#DL4J}). Implementations need a public no-argument constructor that
 * does no heavy work: the lookup instantiates every provider on the class path.
 */
public interface TrainingLoopProvider {

  /** The engine this provider runs. */
  TrainingEngine engine();

  /** A loop with its own network and batch buffers, for {@code spec} on {@code data}'s rows. */
  TrainingLoop open(ModelSpec spec, EncodedData data);

  /**
   * The model's outputs for {@code data}'s rows under {@code parameters}: probabilities for a
   * binary objective, values for regression. Used by {@link io.consort.model.train.Predictor} for
   * models the native kernel does not compute (none since 2026-12-03).
   */
  float[] predict(ModelSpec spec, float[] parameters, EncodedData data);
}
