package io.consort.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CpuClockTest {
  private static CpuClock clockWith(long[]... samples) {
    CpuClock clock = new CpuClock();
    for (long[] s : samples) {
      clock.record(s[0], s[1]);
    }
    return clock;
  }

  @Test
  void anIntervalBetweenSamples_getsTheLinearlyInterpolatedCpuTime() {
    CpuClock clock = clockWith(new long[] {0, 0}, new long[] {10, 5}, new long[] {20, 25});
    assertEquals(15, clock.cpuNanos(4, 16));
    assertEquals(25, clock.cpuNanos(0, 20));
    assertEquals(20, clock.cpuNanos(10, 20));
  }

  @Test
  void anIntervalReachingPastTheSamples_isUnknown() {
    CpuClock clock = clockWith(new long[] {10, 0}, new long[] {20, 10});
    assertEquals(-1, clock.cpuNanos(5, 15));
    assertEquals(-1, clock.cpuNanos(15, 25));
  }

  @Test
  void aJvmThatCannotTellItsCpuTime_givesUnknown() {
    CpuClock clock = clockWith(new long[] {0, -1}, new long[] {10, -1});
    assertEquals(-1, clock.cpuNanos(2, 8));
  }
}
