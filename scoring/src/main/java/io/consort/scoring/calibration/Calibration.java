package io.consort.scoring.calibration;

import io.consort.scoring.v1.CalibrationMethod;
import java.util.Objects;

/**
 * How the model's probability becomes the published probability of default: the identity, or Platt
 * scaling, {@code p = sigmoid(slope * z + intercept)} on the model's logit {@code z} (Platt 1999).
 * With a positive slope it is increasing, so it reverses no ranking and no reason code's order;
 * reason codes are scaled by the slope, so they add up in the calibrated logit.
 *
 * <p>Platt scaling is fitted on a histogram in which every row of a bin stands at the bin's
 * midpoint, so the fitted line holds only between the outermost midpoints ({@code logit(1/(2B))}
 * and {@code logit(1 - 1/(2B))} for B bins). Beyond them the map goes on with a slope
 * {@value #TAIL_SLOPE_FRACTION} times the fitted one: an overconfident model's scores far in the end
 * bins (logit -14 in a bin whose midpoint is -5.3, say) are not extrapolated into confident
 * mistakes, and the map stays strictly increasing, so no two scores tie that did not tie before and
 * the ranking (AUC) of the calibrated probabilities is the model's own.
 *
 * @param fittedOnExamples held-out rows it was fitted on (0 when not fitted)
 * @param histogramBins bins of the merged histogram it was fitted on (0 when not fitted)
 * @param note why it is the identity, when it is; empty otherwise
 */
public record Calibration(Method method, double slope, double intercept, long fittedOnExamples, int histogramBins,
                          String note) {
  /** The calibration maps. */
  public enum Method {
    IDENTITY,
    PLATT
  }

  public Calibration {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(note, "note");
    if (method == Method.IDENTITY && (slope != 1 || intercept != 0)) {
      throw new IllegalArgumentException("the identity calibration has slope 1 and intercept 0, got " + slope
          + " and " + intercept);
    }
    if (!(slope > 0) || !Double.isFinite(slope) || !Double.isFinite(intercept)) {
      throw new IllegalArgumentException("calibration slope must be finite and > 0 and intercept finite, got "
          + slope + " and " + intercept);
    }
    if (method == Method.PLATT && histogramBins < 2) {
      throw new IllegalArgumentException("a Platt calibration is fitted on a histogram of at least 2 bins, got "
          + histogramBins);
    }
    if (fittedOnExamples < 0 || histogramBins < 0) {
      throw new IllegalArgumentException("calibration counts must be >= 0, got " + fittedOnExamples + " examples and "
          + histogramBins + " bins");
    }
  }

  /** The model's own probability, with the reason it is left so. */
  public static Calibration identity(String note) {
    return new Calibration(Method.IDENTITY, 1, 0, 0, 0, note);
  }

  /** Beyond the fitted range, the map's slope is this fraction of the fitted slope. */
  public static final double TAIL_SLOPE_FRACTION = 1e-3;

  /** The calibrated logit of a model logit (the fitted line within its range, a near-flat tail beyond). */
  public double logit(double modelLogit) {
    double inRange = Math.min(Math.max(modelLogit, lowestLogit()), highestLogit());
    return affine(inRange) + TAIL_SLOPE_FRACTION * slope * (modelLogit - inRange);
  }

  /** {@code slope * z + intercept} without the range: the units reason codes are stated in. */
  public double affine(double modelLogit) {
    return slope * modelLogit + intercept;
  }

  /** The lowest model logit the map distinguishes: the first bin's midpoint (minus infinity for the identity). */
  public double lowestLogit() {
    return method == Method.IDENTITY || histogramBins == 0 ? Double.NEGATIVE_INFINITY
        : -Math.log(2.0 * histogramBins - 1);
  }

  /** The highest model logit the map distinguishes: the last bin's midpoint (infinity for the identity). */
  public double highestLogit() {
    return -lowestLogit();
  }

  /** The calibrated probability of a model logit. */
  public double probability(double modelLogit) {
    return sigmoid(logit(modelLogit));
  }

  /** The model logit whose calibrated probability is {@code p} (infinite at 0 and 1): the inverse of {@link #logit}. */
  public double modelLogitAt(double p) {
    double target = Math.log(p) - Math.log1p(-p);
    double z = (target - intercept) / slope;
    double bound = z > highestLogit() ? highestLogit() : z < lowestLogit() ? lowestLogit() : z;
    return bound + (z - bound) / TAIL_SLOPE_FRACTION;
  }

  /** {@code 1 / (1 + e^-z)} without overflow for large |z|. */
  public static double sigmoid(double z) {
    if (z >= 0) {
      return 1 / (1 + Math.exp(-z));
    }
    double e = Math.exp(z);
    return e / (1 + e);
  }

  public io.consort.scoring.v1.Calibration toProto() {
    return io.consort.scoring.v1.Calibration.newBuilder()
        .setMethod(method == Method.PLATT ? CalibrationMethod.PLATT : CalibrationMethod.IDENTITY)
        .setSlope(slope).setIntercept(intercept).setFittedOnExamples(fittedOnExamples).setHistogramBins(histogramBins)
        .setNote(note).build();
  }

  /** @throws IllegalArgumentException for an unknown method or invalid values */
  public static Calibration fromProto(io.consort.scoring.v1.Calibration p) {
    Method method = switch (p.getMethod()) {
      case IDENTITY -> Method.IDENTITY;
      case PLATT -> Method.PLATT;
      default -> throw new IllegalArgumentException("calibration method " + p.getMethod() + " is not one this "
          + "version knows (identity, platt)");
    };
    if (p.getFittedOnExamples() < 0 || p.getHistogramBins() < 0) {
      throw new IllegalArgumentException("calibration counts above the signed 64/32-bit range");
    }
    return new Calibration(method, p.getSlope(), p.getIntercept(), p.getFittedOnExamples(), p.getHistogramBins(),
        p.getNote());
  }
}
