package io.consort.secagg.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ParallelMaskExpanderTest {
  private static final ExecutorService POOL = Executors.newFixedThreadPool(3);
  private static final int CHUNK = MaskExpander.CHUNK_BYTES / 4;

  @AfterAll
  static void stop() {
    POOL.shutdownNow();
  }

  @Test
  void parallelUnmasking_isByteIdenticalToSequential_forEverySplit() throws Exception {
    SplittableRandom random = new SplittableRandom(11); // seeded: test data only
    for (int words : new int[] {1, 4 * CHUNK - 1, 4 * CHUNK, 7 * CHUNK + 3, 1_000_000}) {
      for (int ranges : new int[] {1, 2, 3, 4, 7}) {
        List<SecretBytes> seeds = new ArrayList<>();
        boolean[] subtract = new boolean[6];
        for (int j = 0; j < subtract.length; j++) {
          byte[] seed = new byte[32];
          random.nextBytes(seed);
          seeds.add(SecretBytes.copyOf(seed));
          subtract[j] = j % 3 != 0;
        }
        int[] expected = random.ints(words).toArray();
        int[] target = expected.clone();
        new MaskExpander().applyMasks(seeds, subtract, expected);

        new ParallelMaskExpander(POOL, ranges).applyMasks(seeds, subtract, target);

        assertArrayEquals(expected, target, words + " words in " + ranges + " ranges");
      }
    }
  }

  @Test
  void rangeOfAVector_readsTheStreamFromItsOwnCounter() throws Exception {
    byte[] seed = new byte[32];
    seed[3] = 9;
    int[] whole = new int[3 * CHUNK + 8];
    new MaskExpander().addMask(SecretBytes.copyOf(seed), whole);
    int[] pieces = new int[whole.length];
    MaskExpander expander = new MaskExpander();
    // a split inside a chunk, at an AES block boundary, and the rest
    expander.applyMasks(List.of(SecretBytes.copyOf(seed)), new boolean[1], pieces, CHUNK + 4, whole.length);
    expander.applyMasks(List.of(SecretBytes.copyOf(seed)), new boolean[1], pieces, 0, CHUNK + 4);
    assertArrayEquals(whole, pieces);
  }

  /**
   * The caller's own range fails with an unchecked exception (a seed of the wrong length): the call still returns
   * only after the other ranges ran, since the caller destroys the seeds they read. The held range is released
   * only after waiting 300 ms for the call to return early; the wait is bounded, not a synchronisation sleep.
   */
  @Test
  void aRangeFailingUnchecked_isReportedOnlyAfterEveryOtherRangeRan() throws Exception {
    java.util.concurrent.BlockingQueue<Runnable> held = new java.util.concurrent.LinkedBlockingQueue<>();
    ParallelMaskExpander expander = new ParallelMaskExpander(held::add, 2);
    int[] target = new int[2 * ParallelMaskExpander.MIN_RANGE_WORDS];
    java.util.concurrent.CompletableFuture<Throwable> call = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        expander.applyMasks(List.of(SecretBytes.copyOf(new byte[16])), new boolean[1], target);
        return null;
      } catch (Throwable t) {
        return t;
      }
    }, POOL);
    Runnable otherRange = held.take();

    assertThrows(java.util.concurrent.TimeoutException.class,
        () -> call.get(300, java.util.concurrent.TimeUnit.MILLISECONDS), "returned while a range still ran");
    otherRange.run();
    Throwable failure = call.get(30, java.util.concurrent.TimeUnit.SECONDS);
    org.junit.jupiter.api.Assertions.assertInstanceOf(IllegalArgumentException.class, failure);
  }

  @Test
  void rangeNotStartingOnABlock_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MaskExpander()
        .applyMasks(List.of(SecretBytes.copyOf(new byte[32])), new boolean[1], new int[16], 2, 16));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
  }
}
