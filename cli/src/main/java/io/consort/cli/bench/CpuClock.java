package io.consort.cli.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * This JVM's CPU time while a job runs, sampled every 10 ms against {@link System#nanoTime()}, so that
 * the CPU any interval used (all threads: banks, coordinator, TLS) can be read off afterwards by linear
 * interpolation between samples. On a shared 2-core machine a round's wall time says little on its own:
 * CPU per round says whether a change removed work or only moved it, and CPU over wall whether the
 * round waited (below the core count) or was CPU-bound (at it).
 */
final class CpuClock {
  private static final long PERIOD_MILLIS = 10;
  private final OperatingSystemMXBean os =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private final List<long[]> samples = new ArrayList<>();
  private volatile boolean running;
  private Thread thread;

  void start() {
    sample();
    running = true;
    thread = new Thread(() -> {
      while (running) {
        try {
          Thread.sleep(PERIOD_MILLIS);
        } catch (InterruptedException e) {
          return;
        }
        sample();
      }
    }, "bench-cpu-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  void stop() throws InterruptedException {
    running = false;
    if (thread != null) {
      thread.join();
    }
    sample();
  }

  private void sample() {
    long cpu = os.getProcessCpuTime();
    record(System.nanoTime(), cpu);
  }

  /** Records that the JVM had used {@code cpu} nanoseconds of CPU (-1: unknown) at nanoTime {@code now}. */
  void record(long now, long cpu) {
    synchronized (samples) {
      samples.add(new long[] {now, cpu});
    }
  }

  /**
   * The CPU nanoseconds this JVM used in {@code [from, to)} (nanoTime), interpolated between samples;
   * -1 if the interval is not inside the sampled span or the JVM cannot tell its CPU time.
   */
  long cpuNanos(long from, long to) {
    double start = cpuAt(from);
    double end = cpuAt(to);
    return start < 0 || end < 0 ? -1 : Math.round(end - start);
  }

  private double cpuAt(long time) {
    synchronized (samples) {
      for (int i = 1; i < samples.size(); i++) {
        long[] a = samples.get(i - 1);
        long[] b = samples.get(i);
        if (a[1] < 0 || b[1] < 0) {
          return -1;
        }
        if (time >= a[0] && time <= b[0]) {
          return b[0] == a[0] ? a[1] : a[1] + (double) (b[1] - a[1]) * (time - a[0]) / (b[0] - a[0]);
        }
      }
    }
    return -1;
  }
}
