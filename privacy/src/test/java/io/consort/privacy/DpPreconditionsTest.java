package io.consort.privacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.SampledGaussianEvent;
import io.consort.privacy.budget.PrivacyBudget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DpPreconditionsTest {

  private static void assertRejected(String expectedMessage, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertEquals(expectedMessage, e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(doubles = {-1.0, 0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
  void epsilon_isRejected_whenNotFinitePositive(double epsilon) {
    assertRejected("epsilon must be finite and > 0, got " + epsilon, () -> DpPreconditions.checkEpsilon(epsilon));
    assertRejected("epsilon must be finite and > 0, got " + epsilon, () -> new PrivacyBudget(epsilon, 1e-5));
  }

  @Test
  void epsilon_messageNamesNaN_whenNaN() {
    assertRejected("epsilon must be finite and > 0, got NaN", () -> DpPreconditions.checkEpsilon(Double.NaN));
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.0, 1.0, 1.5, -1e-5, Double.NaN, Double.POSITIVE_INFINITY})
  void delta_isRejected_whenOutsideOpenUnitInterval(double delta) {
    assertRejected("delta must be in (0, 1), got " + delta, () -> DpPreconditions.checkDelta(delta));
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY})
  void noiseMultiplier_isRejected_whenNotFinitePositive(double z) {
    assertRejected("noise multiplier must be finite and > 0, got " + z, () -> new SampledGaussianEvent(z, 0.1, 10));
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.0, -2.0, Double.NaN, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY})
  void clipNorm_isRejected_whenNotFinitePositive(double clip) {
    assertRejected("clip norm must be finite and > 0, got " + clip, () -> DpPreconditions.checkClipNorm(clip));
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.0, -0.1, 1.0000001, 2.0, Double.NaN, Double.POSITIVE_INFINITY})
  void samplingRate_isRejected_whenOutsideZeroOne(double q) {
    assertRejected("sampling rate must be in (0, 1], got " + q, () -> new SampledGaussianEvent(1.0, q, 10));
  }

  @Test
  void samplingRateOne_isAccepted() {
    assertEquals(1.0, DpPreconditions.checkSamplingRate(1.0));
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Long.MIN_VALUE})
  void steps_areRejected_whenBelowOne(long steps) {
    assertRejected("steps must be >= 1, got " + steps, () -> new SampledGaussianEvent(1.0, 0.5, steps));
  }

  @Test
  void localTrainingPlan_isRejected_whenBatchExceedsRows() {
    assertRejected("batch size must be <= rows (sampling rate in (0, 1]), got batch size 300 for rows 200",
        () -> new LocalTrainingPlan(200, 300, 1, 1.0));
  }
}
