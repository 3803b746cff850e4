/**
 * Models and local training.
 *
 * <p>A model is a {@link io.consort.model.train.ModelSpec} plus a flat {@code float[]} of
 * parameters in DL4J's {@code MultiLayerNetwork} order (per layer: the weight matrix {@code nIn x
 * nOut} flattened column-major, then the bias), so parameters move between banks and the
 * coordinator as one array and load into a DL4J network with
 * {@link io.consort.model.train.ModelFactory#network}.
 *
 * <p>Two training engines ({@link io.consort.model.train.TrainingEngine}). {@code dl4j} trains
 * with DL4J's own {@code MultiLayerNetwork.fit} and Adam updater. {@code native} (the default) runs
 * the dense stack's forward and backward passes in plain Java on reused float buffers, because for
 * these small dense networks DL4J's cost is per-op overhead (tens of microseconds per ND4J op,
 * dozens of ops per step), not arithmetic: a native step at batch 32 costs a small fraction of
 * DL4J's (see docs/BENCHMARKS.md). The native pass also yields per-example gradient norms cheaply,
 * which DP-SGD needs, so DP-SGD runs only on the native engine. Tests check the native gradients,
 * predictions and optimiser steps against DL4J's own.
 */
package io.consort.model.train;
