/**
 * Models and local training.
 *
 * <p>A model is a {@link io.consort.model.train.ModelSpec} plus a flat {@code float[]} of
 * parameters in DL4J's {@code MultiLayerNetwork} order (per layer: the weight matrix {@code nIn x
 * nOut} flattened column-major, then the bias), so parameters move between banks and the
 * coordinator as one array. {@link io.consort.model.train.ModelFactory} produces the initial global
 * model in plain Java (DL4J's Xavier distribution and layout, reproducible from the spec's seed);
 * the consort-model-dl4j module loads any vector into a DL4J network.
 *
 * <p>Two training engines ({@link io.consort.model.train.TrainingEngine}). {@code native} (the
 * default, in this package) runs the forward and backward passes of dense stacks, 1-D CNNs, LSTMs, SimpleRnns and self-attention, with
 * any head activation, objective and dropout ({@link io.consort.model.train.ModelSpec#nativeKernel()}) in plain Java on reused float buffers, because for these small dense networks DL4J's cost is per-op overhead (tens
 * of microseconds per ND4J op, dozens of ops per step), not arithmetic: a native step at batch 32
 * costs a small fraction of DL4J's (see docs/BENCHMARKS.md). The native pass also yields
 * per-example gradient norms cheaply, which DP-SGD needs; the dl4j engine clips by one pass per
 * example.
 * {@code dl4j} trains with DL4J's own {@code MultiLayerNetwork.fit} and Adam updater; it comes from
 * consort-model-dl4j through {@link io.consort.model.train.spi.TrainingLoopProvider}. Tests in
 * that module check the native gradients, predictions, optimiser steps and initial parameters
 * against DL4J's own.
 */
package io.consort.model.train;
