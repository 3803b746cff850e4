/**
 * The DL4J side of the model: {@link io.consort.model.dl4j.Dl4jNetworks} builds the DL4J network
 * of a {@link io.consort.model.train.ModelSpec} (same parameter layout as the native kernel), and
 * {@link io.consort.model.dl4j.Dl4jTrainingLoopProvider} plugs the {@code dl4j} training engine
 * into {@link io.consort.model.train.LocalTrainer}. Kept apart from consort-model so that only
 * processes that train with DL4J (the participant) load DL4J/ND4J and their native libraries.
 */
package io.consort.model.dl4j;
