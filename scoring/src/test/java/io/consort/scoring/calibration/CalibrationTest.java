package io.consort.scoring.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CalibrationTest {
  private static final Calibration PLATT = new Calibration(Calibration.Method.PLATT, 0.4, -0.2, 500, 100, "");

  @Test
  void withinTheFittedRange_theMapIsPlattsLine() {
    for (double z = -5.29; z <= 5.29; z += 0.1) {
      assertEquals(Calibration.sigmoid(0.4 * z - 0.2), PLATT.probability(z), 1e-15);
    }
    assertEquals(-Math.log(199), PLATT.lowestLogit(), 1e-15);
  }

  @Test
  void beyondTheOutermostMidpoints_theMapIsNearlyFlatButStillIncreasing() {
    double edge = PLATT.highestLogit();
    double atEdge = PLATT.logit(edge);
    double far = PLATT.logit(edge + 10);
    assertEquals(atEdge + Calibration.TAIL_SLOPE_FRACTION * 0.4 * 10, far, 1e-12);
    double previous = Double.NEGATIVE_INFINITY;
    for (double z = -30; z <= 30; z += 0.01) {
      double p = PLATT.logit(z);
      assertTrue(p > previous, "strictly increasing at " + z);
      previous = p;
    }
  }

  @Test
  void modelLogitAt_invertsTheMap_insideAndInTheTails() {
    for (double z : new double[] {-17, -6, -3, 0, 2.5, 5.2, 9, 16}) {
      assertEquals(z, PLATT.modelLogitAt(PLATT.probability(z)), 1e-6 * Math.max(1, Math.abs(z)) / 1e-3);
      assertEquals(PLATT.logit(z), PLATT.logit(PLATT.modelLogitAt(PLATT.probability(z))), 1e-9);
    }
  }

  @Test
  void theIdentity_isTheModelsOwnProbability_everywhere() {
    Calibration identity = Calibration.identity("not fitted");
    for (double z : new double[] {-40, -3, 0, 7, 40}) {
      assertEquals(z, identity.logit(z), 0);
    }
    for (double z : new double[] {-20, -3, 0, 7, 20}) {
      assertEquals(z, identity.modelLogitAt(identity.probability(z)), 1e-3);
    }
  }

  @Test
  void invalidParameters_areRefusedNamingThem() {
    assertThrows(IllegalArgumentException.class, () -> new Calibration(Calibration.Method.PLATT, 0, 0, 1, 10, ""));
    assertThrows(IllegalArgumentException.class, () -> new Calibration(Calibration.Method.PLATT, 1, Double.NaN, 1,
        10, ""));
    assertThrows(IllegalArgumentException.class, () -> new Calibration(Calibration.Method.PLATT, 1, 0, 1, 0, ""));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Calibration(Calibration.Method.IDENTITY, 2, 0, 0, 0, ""));
    assertTrue(e.getMessage().contains("slope 1 and intercept 0"), e.getMessage());
  }
}
