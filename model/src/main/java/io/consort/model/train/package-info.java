/**
 * Models and local training.
 *
 * <p>A model is a {@link io.consort.model.train.ModelSpec} plus a flat {@code float[]} of
 * parameters in DL4J's {@code MultiLayerNetwork} order (per layer: the weight matrix {@code nIn x
 * nOut} flattened column-major, then the bias), so parameters move between banks and the
 * coordinator as one array and load into a DL4J network with
 * {@link io.consort.model.train.ModelFactory#network}.
 *
 * <p>Why the trainer does not call DL4J's {@code fit}: for these small dense networks DL4J's cost
 * is per-op overhead (tens of microseconds per ND4J op, dozens of ops per step), not arithmetic. The
 * trainer therefore runs the dense stack's forward and backward passes itself on reused float
 * buffers; a step at batch 32 costs a small fraction of DL4J's (see docs/BENCHMARKS.md). The same
 * pass yields per-example gradient norms cheaply, which DP-SGD needs. Tests check gradients and
 * predictions against DL4J's own.
 */
package io.consort.model.train;
