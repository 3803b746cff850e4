package io.consort.model.train;

/**
 * The outcome of one round of local training.
 *
 * <p>Only {@code parameters} are meant to leave the bank (clipped, noised and masked by the
 * participant). {@code examplesSeen} and {@code meanLoss} are computed from raw rows without DP;
 * {@code steps} is what the participant's privacy accountant needs.
 *
 * @param parameters the updated flat parameters
 * @param examplesSeen rows used over all steps (with Poisson sampling, the realised batch sizes)
 * @param steps optimiser steps taken (with DP-SGD, noisy releases to account)
 * @param meanLoss mean over steps of the batch's mean binary cross-entropy, before each step (on
 *     the DL4J engine this is DL4J's score, which also adds the L2 penalty when {@code l2 > 0})
 */
public record TrainingResult(float[] parameters, long examplesSeen, int steps, double meanLoss) {}
