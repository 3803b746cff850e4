package io.consort.privacy.accounting;

import io.consort.privacy.DpPreconditions;

/**
 * {@code steps} applications of the Poisson-subsampled Gaussian mechanism: each record (or bank) is
 * included independently with probability {@code samplingRate}, the contributions are clipped to L2
 * norm C and Gaussian noise of standard deviation {@code noiseMultiplier * C} is added. With
 * {@code samplingRate == 1} this is the plain Gaussian mechanism, RDP alpha / (2 z^2) per step.
 *
 * @param noiseMultiplier z, noise standard deviation over L2 sensitivity
 * @param samplingRate q in (0, 1]
 * @param steps number of composed steps, at least 1
 */
public record SampledGaussianEvent(double noiseMultiplier, double samplingRate, long steps) implements PrivacyEvent {

  public SampledGaussianEvent {
    DpPreconditions.checkNoiseMultiplier(noiseMultiplier);
    DpPreconditions.checkSamplingRate(samplingRate);
    DpPreconditions.checkSteps(steps);
  }

  @Override
  public double rdp(double order) {
    return steps * SampledGaussianRdp.perStep(samplingRate, noiseMultiplier, order);
  }
}
