package io.consort.privacy.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class NoiseCalibrationTest {

  private static final double DELTA = 1e-5;
  private final NoiseCalibration calibration = NoiseCalibration.defaults();
  private final RdpAccountant accountant = RdpAccountant.defaults();

  @Test
  void noiseMultiplier_invertsEpsilon_toTheStatedTolerance() {
    double[][] cases = {{2.0, 256.0 / 60000, 14063}, {1.0, 256.0 / 24000, 938}, {8.0, 1.0, 10}, {0.5, 0.01, 100}};
    for (double[] c : cases) {
      double target = c[0];
      double q = c[1];
      long steps = (long) c[2];
      double z = calibration.noiseMultiplier(target, q, steps, DELTA);
      assertTrue(accountant.epsilon(new SampledGaussianEvent(z, q, steps), DELTA) <= target, "meets target");
      double smaller = z * (1 - NoiseCalibration.DEFAULT_RELATIVE_TOLERANCE);
      assertTrue(accountant.epsilon(new SampledGaussianEvent(smaller, q, steps), DELTA) > target,
          "z is minimal to tolerance for target " + target);
    }
  }

  @Test
  void noiseMultiplier_roundTripsThroughEpsilon_forMnistSetting() {
    double eps = accountant.epsilon(new SampledGaussianEvent(1.12, 256.0 / 60000, 14063), DELTA);
    double z = calibration.noiseMultiplier(eps, 256.0 / 60000, 14063, DELTA);
    assertEquals(1.12, z, 1.12 * 1e-4);
  }

  @Test
  void noiseMultiplier_rejectsBadTarget() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> calibration.noiseMultiplier(Double.NaN, 0.01, 10, DELTA));
    assertEquals("epsilon must be finite and > 0, got NaN", e.getMessage());
  }

  @Test
  void aRememberedCalibration_isExactlyWhatAFreshSearchFinds() {
    double first = calibration.noiseMultiplier(1.5, 256.0 / 9000, 36, DELTA);
    double again = calibration.noiseMultiplier(1.5, 256.0 / 9000, 36, DELTA);
    NoiseCalibration fresh = new NoiseCalibration(RdpAccountant.defaults(), NoiseCalibration.DEFAULT_RELATIVE_TOLERANCE);
    assertEquals(first, again, 0.0);
    assertEquals(fresh.noiseMultiplier(1.5, 256.0 / 9000, 36, DELTA), again, 0.0);
    // any other argument is another search, not the remembered answer
    assertTrue(calibration.noiseMultiplier(1.5, 256.0 / 9000, 37, DELTA) > first);
    assertTrue(calibration.noiseMultiplier(1.6, 256.0 / 9000, 36, DELTA) < first);
  }

  @Test
  void concurrentCallersWithTheSameArguments_shareOneSearch_andGetItsExactResult() throws Exception {
    NoiseCalibration shared = new NoiseCalibration(RdpAccountant.defaults(), NoiseCalibration.DEFAULT_RELATIVE_TOLERANCE);
    double alone = new NoiseCalibration(RdpAccountant.defaults(), NoiseCalibration.DEFAULT_RELATIVE_TOLERANCE)
        .noiseMultiplier(3.0, 0.16, 120, DELTA);
    int callers = 6;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Double>> answers = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        answers.add(pool.submit(() -> {
          start.await();
          return shared.noiseMultiplier(3.0, 0.16, 120, DELTA);
        }));
      }
      start.countDown();
      for (Future<Double> answer : answers) {
        assertEquals(alone, answer.get(), 0.0);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, shared.searches());
  }

  @Test
  void aFailedSearch_isReportedToEveryCaller_andIsNotRemembered() {
    NoiseCalibration fresh = new NoiseCalibration(RdpAccountant.defaults(), NoiseCalibration.DEFAULT_RELATIVE_TOLERANCE);
    for (int i = 1; i <= 2; i++) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> fresh.noiseMultiplier(1e-9, 1.0, 1_000_000, DELTA));
      assertTrue(e.getMessage().startsWith("target epsilon 1.0E-9 is unreachable"), e.getMessage());
      assertEquals(i, fresh.searches());
    }
  }
}
