package io.consort.secagg.crypto;

import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * {@link MaskExpander#applyMasks(List, boolean[], int[])} split into ranges of the vector, each expanded on its own
 * thread: every range reads each mask's AES-CTR stream from its own counter on ({@link MaskExpander#applyMasks(List,
 * boolean[], int[], int, int)}), so the result is bit for bit the sequential one. The coordinator's unmasking uses it:
 * it removes every survivor's self mask from the sum while all banks wait (docs/SECURE_AGGREGATION.md).
 *
 * <p>The calling thread expands the first range itself and waits for the others; never call it on a Vert.x event
 * loop. The seeds are only read, and must not be destroyed before the call returns.
 */
public final class ParallelMaskExpander {
  private static final int CHUNK_WORDS = MaskExpander.CHUNK_BYTES / Integer.BYTES;
  /** The fewest words a range gets: a smaller vector is split into fewer ranges, or none, as handing over costs. */
  static final int MIN_RANGE_WORDS = 2 * CHUNK_WORDS;

  private static volatile ParallelMaskExpander shared;

  private final Executor executor;
  private final int ranges;

  /**
   * @param executor runs all ranges but the first (which the caller expands)
   * @param ranges how many ranges a vector is split into at most, 1 or more
   */
  public ParallelMaskExpander(Executor executor, int ranges) {
    if (ranges < 1) {
      throw new IllegalArgumentException("ranges must be at least 1, got " + ranges);
    }
    this.executor = java.util.Objects.requireNonNull(executor, "executor");
    this.ranges = ranges;
  }

  /**
   * One expander for the process, sized to its cores: {@code cores - 1} daemon threads (they end after a minute
   * idle) beside the caller, made on first use.
   */
  public static ParallelMaskExpander shared() {
    ParallelMaskExpander current = shared;
    if (current == null) {
      synchronized (ParallelMaskExpander.class) {
        current = shared;
        if (current == null) {
          int cores = Runtime.getRuntime().availableProcessors();
          ThreadPoolExecutor pool = new ThreadPoolExecutor(Math.max(1, cores - 1), Math.max(1, cores - 1), 60,
              TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "consort-mask-expander");
                t.setDaemon(true);
                return t;
              });
          pool.allowCoreThreadTimeOut(true);
          current = new ParallelMaskExpander(pool, cores);
          shared = current;
        }
      }
    }
    return current;
  }

  /** {@code target[i] += sum_j (subtract[j] ? -1 : 1) * PRG(seeds[j])[i]} modulo 2^32, the ranges in parallel. */
  public void applyMasks(List<SecretBytes> seeds, boolean[] subtract, int[] target) throws GeneralSecurityException {
    int parts = Math.min(ranges, target.length / MIN_RANGE_WORDS);
    if (parts <= 1 || seeds.isEmpty()) {
      new MaskExpander().applyMasks(seeds, subtract, target);
      return;
    }
    // whole 64 KiB chunks per range, so each range makes the same cipher calls the sequential pass would
    int chunks = (target.length + CHUNK_WORDS - 1) / CHUNK_WORDS;
    int[] bounds = new int[parts + 1];
    for (int p = 1; p < parts; p++) {
      bounds[p] = (int) Math.min(target.length, (long) chunks * p / parts * CHUNK_WORDS);
    }
    bounds[parts] = target.length;
    List<CompletableFuture<Void>> others = new ArrayList<>(parts - 1);
    for (int p = 1; p < parts; p++) {
      int from = bounds[p];
      int to = bounds[p + 1];
      others.add(CompletableFuture.runAsync(() -> {
        try {
          new MaskExpander().applyMasks(seeds, subtract, target, from, to);
        } catch (GeneralSecurityException e) {
          throw new CompletionException(e);
        }
      }, executor));
    }
    GeneralSecurityException failure = null;
    try {
      new MaskExpander().applyMasks(seeds, subtract, target, bounds[0], bounds[1]);
    } catch (GeneralSecurityException e) {
      failure = e;
    } catch (RuntimeException | Error e) {
      // still wait for the other ranges: the caller destroys the seeds they read and reuses the target
      joinQuietly(others);
      throw e;
    }
    for (CompletableFuture<Void> other : others) {
      try {
        other.join(); // every range finishes before the caller goes on (and may destroy the seeds)
      } catch (CompletionException e) {
        if (failure == null) {
          failure = e.getCause() instanceof GeneralSecurityException g ? g
              : new GeneralSecurityException("mask expansion failed: " + e.getCause(), e.getCause());
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static void joinQuietly(List<CompletableFuture<Void>> ranges) {
    for (CompletableFuture<Void> range : ranges) {
      try {
        range.join();
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        // the first range's failure is the one reported
      }
    }
  }
}
