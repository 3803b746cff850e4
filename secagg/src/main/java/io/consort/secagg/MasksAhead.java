package io.consort.secagg;

import io.consort.secagg.crypto.MaskExpander;
import io.consort.secagg.crypto.SecretBytes;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One bank's whole mask vector for one sum, expanded before its input exists (pipelined rounds,
 * {@link SecAggClient#expandMasksAhead}): M_u = PRG(b_u) + sum_{v > u} PRG(s_uv) - sum_{v < u} PRG(s_uv) mod 2^32 over
 * the verified peers the bank shared with (without self masks, {@link RoundParameters#selfMask} false: no PRG(b_u),
 * over every verified peer of the key roster). Its {@link SecAggClient} owns it and hands it to no one; the masking
 * then adds it to the input in one pass and corrects for the peers outside U2.
 *
 * <p>Secret like its seeds: the vector is zeroed once added, or when the round is discarded or aborted, never
 * logged ({@link #toString} names the round only), and {@link #take taken} once: a mask added to two inputs would
 * give the coordinator their difference. Expanded on one bank thread ({@link #expand}), taken on another: the state
 * is guarded by this object's lock.
 */
final class MasksAhead {
  private enum State { PENDING, EXPANDING, READY, FAILED, TAKEN, DESTROYED }

  private final String jobId;
  private final long round;
  private final String bankId;
  private final int dimension;
  private final Set<String> peers;
  private final List<SecretBytes> seeds;
  private final boolean[] subtract;
  private final Expansion expansion;
  private final CompletableFuture<Void> expanded = new CompletableFuture<>();
  /** Guarded by this. */
  private State state = State.PENDING;
  /** The vector once allocated, kept (zeroed, not dropped) so {@link #wiped} can tell. Guarded by this. */
  private int[] vector;
  /** Whether {@link #take} handed the vector out (for tests: the masking used it, not its fallback). */
  private boolean handedOut;

  /**
   * @param peers the peers whose pairwise masks {@code seeds} holds, after the self-mask seed
   * @param seeds b_u (unless the sum has no self mask) then one s_uv per peer, owned (destroyed) by this object from
   *     now on
   */
  MasksAhead(RoundParameters parameters, String bankId, Set<String> peers, List<SecretBytes> seeds,
             boolean[] subtract) {
    this(parameters, bankId, peers, seeds, subtract, (s, signs, target) -> new MaskExpander().applyMasks(s, signs, target));
  }

  /** How the vector is expanded: {@link MaskExpander#applyMasks}; a test may pass one that fails part way. */
  @FunctionalInterface
  interface Expansion {
    void apply(List<SecretBytes> seeds, boolean[] subtract, int[] target) throws GeneralSecurityException;
  }

  MasksAhead(RoundParameters parameters, String bankId, Set<String> peers, List<SecretBytes> seeds,
             boolean[] subtract, Expansion expansion) {
    this.expansion = expansion;
    this.jobId = parameters.jobId();
    this.round = parameters.round();
    this.bankId = bankId;
    this.dimension = parameters.dimension();
    this.peers = Set.copyOf(peers);
    this.seeds = List.copyOf(seeds);
    this.subtract = subtract.clone();
  }

  /** The peers whose pairwise masks the vector holds. */
  Set<String> peers() {
    return peers;
  }

  /** Expands the vector (on a bank thread); does nothing if it was destroyed first. */
  void expand() {
    synchronized (this) {
      if (state != State.PENDING) {
        return;
      }
      state = State.EXPANDING;
    }
    int[] expanding = null;
    boolean completed = false;
    try {
      expanding = new int[dimension];
      expansion.apply(seeds, subtract, expanding);
      completed = true;
    } catch (GeneralSecurityException | RuntimeException | OutOfMemoryError e) {
      // the masking expands its masks itself then (never from a partial vector)
    } finally {
      // READY only after the expansion returned: any other Error leaves a partial vector, which is wiped
      seeds.forEach(SecretBytes::destroy);
      synchronized (this) {
        vector = expanding;
        if (state == State.DESTROYED || !completed) {
          if (expanding != null) {
            Arrays.fill(expanding, 0);
          }
          if (state != State.DESTROYED) {
            state = State.FAILED;
          }
        } else {
          state = State.READY;
        }
      }
      expanded.complete(null);
    }
  }

  /**
   * The vector for the one input of exactly this (job, sum round, bank, dimension), waiting for its expansion if
   * it is still under way; null if the expansion failed (the caller masks the old way). The caller adds it and
   * then {@link #destroy destroys} it.
   *
   * @throws IllegalArgumentException if the vector was made for another job, round, bank or dimension
   * @throws IllegalStateException if it was taken before or destroyed
   */
  int[] take(RoundParameters parameters, String forBank) {
    if (!parameters.jobId().equals(jobId) || parameters.round() != round || !forBank.equals(bankId)
        || parameters.dimension() != dimension) {
      throw new IllegalArgumentException("masks expanded ahead for " + this + " cannot mask the input of bank '"
          + forBank + "' in round " + parameters.round() + " of job '" + parameters.jobId() + "' (dimension "
          + parameters.dimension() + ")");
    }
    expanded.join(); // the answer waits for the vector: never a partial one
    synchronized (this) {
      switch (state) {
        case READY:
          state = State.TAKEN;
          handedOut = true;
          return vector;
        case FAILED:
          return null;
        case TAKEN:
          throw new IllegalStateException("masks expanded ahead for " + this + " were already added to an input; "
              + "a mask is never added to two");
        default:
          throw new IllegalStateException("masks expanded ahead for " + this + " were destroyed");
      }
    }
  }

  /** Zeroes the vector and destroys the seeds, now or, if the expansion is under way, when it ends. */
  void destroy() {
    synchronized (this) {
      if (state == State.PENDING) {
        seeds.forEach(SecretBytes::destroy);
        expanded.complete(null);
      }
      if (vector != null) {
        Arrays.fill(vector, 0);
      }
      state = State.DESTROYED;
    }
  }

  /** Whether {@link #take} handed the vector out: the masking added it rather than expanding the masks itself. */
  synchronized boolean handedOut() {
    return handedOut;
  }

  /** Whether the vector and seeds are gone: destroyed, and the vector, if one was made, all zeros. */
  synchronized boolean wiped() {
    return state == State.DESTROYED && seeds.stream().allMatch(SecretBytes::isDestroyed)
        && (vector == null || Arrays.stream(vector).allMatch(x -> x == 0));
  }

  @Override
  public String toString() {
    return "MasksAhead[bank " + bankId + ", job " + jobId + ", sum round " + round + ", dimension " + dimension + "]";
  }
}
