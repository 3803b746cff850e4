package io.consort.privacy.accounting;

import io.consort.privacy.DpPreconditions;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Finds the smallest noise multiplier z whose sampled-Gaussian release meets a target epsilon, by
 * bracketing (doubling / halving) then bisection. Epsilon is non-increasing in z for every order, so
 * bisection is sound.
 *
 * <p>Tolerance: the returned z always meets the target (it is the upper end of the final bracket), and
 * z * (1 - relativeTolerance) does not; so it overstates the minimal noise by at most a factor
 * 1 / (1 - relativeTolerance).
 *
 * <p>Thread-safe; each instance remembers its last {@value #REMEMBERED} results (keyed by every argument,
 * so a remembered answer is the answer the search gives), and callers asking for a calibration another
 * thread is searching for wait for that search instead of repeating it (banks sharing a JVM, as in the
 * demo and the round bench, all calibrate the same job at its offer: 0.6 s each in a cold JVM).
 */
public final class NoiseCalibration {

  /** Relative bracket width at which bisection stops: 1e-6 is far below any effect on utility. */
  public static final double DEFAULT_RELATIVE_TOLERANCE = 1e-6;

  /** Above this the target is unreachable in practice (noise a million times the signal). */
  private static final double MAX_NOISE_MULTIPLIER = 1e6;
  private static final double MIN_NOISE_MULTIPLIER = 1e-6;

  /** How many calibrations an instance remembers (least recently used first out). */
  static final int REMEMBERED = 256;

  private static final NoiseCalibration DEFAULT = new NoiseCalibration(RdpAccountant.defaults(),
      DEFAULT_RELATIVE_TOLERANCE);

  private final RdpAccountant accountant;
  private final double relativeTolerance;
  /**
   * The result is a pure function of its four arguments (the accountant and tolerance are fixed), and a
   * bank asks for the same job's noise every round: a search costs some fifty RDP epsilons.
   */
  private final Map<Key, Double> remembered = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, Double> eldest) {
      return size() > REMEMBERED;
    }
  };

  /** Searches under way, by their arguments; guarded by {@link #remembered}. */
  private final Map<Key, CompletableFuture<Double>> searching = new HashMap<>();
  private final AtomicLong searches = new AtomicLong();

  private record Key(double targetEpsilon, double samplingRate, long steps, double delta) {}

  public NoiseCalibration(RdpAccountant accountant, double relativeTolerance) {
    this.accountant = Objects.requireNonNull(accountant, "accountant");
    DpPreconditions.checkFinitePositive("relative tolerance", relativeTolerance);
    if (relativeTolerance >= 0.5) {
      throw new IllegalArgumentException("relative tolerance must be < 0.5, got " + relativeTolerance);
    }
    this.relativeTolerance = relativeTolerance;
  }

  /** Default accountant (improved conversion, default orders) and tolerance. */
  public static NoiseCalibration defaults() {
    return DEFAULT;
  }

  /**
   * The smallest z (to the tolerance) such that {@code steps} steps at sampling rate q cost at most
   * {@code targetEpsilon} at {@code delta}.
   *
   * @throws IllegalArgumentException if a parameter is invalid or the target needs z above 1e6
   */
  public double noiseMultiplier(double targetEpsilon, double samplingRate, long steps, double delta) {
    DpPreconditions.checkEpsilon(targetEpsilon);
    DpPreconditions.checkSamplingRate(samplingRate);
    DpPreconditions.checkSteps(steps);
    DpPreconditions.checkDelta(delta);
    Key key = new Key(targetEpsilon, samplingRate, steps, delta);
    CompletableFuture<Double> underway;
    CompletableFuture<Double> mine = null;
    synchronized (remembered) {
      Double known = remembered.get(key);
      if (known != null) {
        return known;
      }
      underway = searching.get(key);
      if (underway == null) {
        mine = new CompletableFuture<>();
        searching.put(key, mine);
      }
    }
    if (mine == null) {
      return awaitSearch(underway);
    }
    try {
      searches.incrementAndGet();
      double z = search(targetEpsilon, samplingRate, steps, delta);
      synchronized (remembered) {
        remembered.put(key, z);
        searching.remove(key);
      }
      mine.complete(z);
      return z;
    } catch (RuntimeException | Error e) {
      synchronized (remembered) {
        searching.remove(key);
      }
      mine.completeExceptionally(e);
      throw e;
    }
  }

  /** Another thread's search for the same arguments: its result, or its failure (an unreachable target). */
  private static double awaitSearch(CompletableFuture<Double> search) {
    try {
      return search.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof IllegalArgumentException failed) {
        throw new IllegalArgumentException(failed.getMessage(), failed);
      }
      throw e;
    }
  }

  /** How many searches this instance has run (calls answered from memory or by another's search excluded). */
  long searches() {
    return searches.get();
  }

  private double search(double targetEpsilon, double samplingRate, long steps, double delta) {
    double hi = 1.0;
    while (!meets(hi, targetEpsilon, samplingRate, steps, delta)) {
      hi *= 2.0;
      if (hi > MAX_NOISE_MULTIPLIER) {
        throw new IllegalArgumentException("target epsilon " + targetEpsilon + " is unreachable with noise multiplier"
            + " <= " + MAX_NOISE_MULTIPLIER + " (sampling rate " + samplingRate + ", steps " + steps + ", delta "
            + delta + ")");
      }
    }
    double lo = hi / 2.0;
    while (meets(lo, targetEpsilon, samplingRate, steps, delta)) {
      hi = lo;
      lo /= 2.0;
      if (lo < MIN_NOISE_MULTIPLIER) {
        return hi;
      }
    }
    // Invariant: lo fails the target, hi meets it.
    while (hi - lo > relativeTolerance * hi) {
      double mid = 0.5 * (lo + hi);
      if (meets(mid, targetEpsilon, samplingRate, steps, delta)) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    return hi;
  }

  private boolean meets(double z, double targetEpsilon, double q, long steps, double delta) {
    return accountant.epsilon(new SampledGaussianEvent(z, q, steps), delta) <= targetEpsilon;
  }
}
