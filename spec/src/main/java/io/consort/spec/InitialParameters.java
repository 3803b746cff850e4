package io.consort.spec;

import java.util.Arrays;

/**
 * A job's initial model parameters when the job brings its own (a network brought from Keras, say),
 * in the flat layout of {@link io.consort.model.train.ModelFactory}: part of the plan, so every bank
 * pins them when it accepts the job and evaluates a version-0 model only if it is exactly these
 * values. Immutable; equal when the values are bit for bit equal.
 */
public final class InitialParameters {
  /** Bounds the plan a bank accepts: 16 Mi floats, 64 MiB. */
  public static final int MAX_PARAMETERS = 1 << 24;

  private final float[] values;

  /**
   * @throws InvalidJobSpecException naming {@code model.initial_parameters} when the values are empty,
   *     too many or not finite
   */
  public InitialParameters(float[] values) {
    if (values.length == 0 || values.length > MAX_PARAMETERS) {
      throw new InvalidJobSpecException("model.initial_parameters", "must hold 1 to " + MAX_PARAMETERS
          + " values, got " + values.length);
    }
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new InvalidJobSpecException("model.initial_parameters", "must be finite, got " + values[i]
            + " at index " + i);
      }
    }
    this.values = values.clone();
  }

  /** A copy of the values. */
  public float[] values() {
    return values.clone();
  }

  public int count() {
    return values.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InitialParameters other && Arrays.equals(values, other.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return "InitialParameters[" + values.length + " values]";
  }
}
