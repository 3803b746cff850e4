/**
 * The service interface through which engine modules plug into {@link
 * io.consort.model.train.LocalTrainer}: consort-model-dl4j provides the {@code dl4j} engine, so
 * that this module, and the coordinator that depends on it, carry no DL4J/ND4J.
 */
package io.consort.model.train.spi;
