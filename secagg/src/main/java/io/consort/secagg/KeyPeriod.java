package io.consort.secagg;

/**
 * A period of job rounds whose pipelined sums a bank masks with the same key pairs (docs/SECURE_AGGREGATION.md,
 * "Keys for a period of rounds"): job rounds 1..N are period 0, N+1..2N period 1, and so on. Only with
 * {@link RoundParameters#unmaskingWithInput}, where no honest bank ever reveals an s^SK-share: the pairwise seeds
 * and share keys stay fresh per sum because HKDF takes the (job, sum round) as salt.
 *
 * @param index the period, (job round - 1) / rounds, at least 0
 * @param rounds N, the job rounds a period spans, at least 2 (1 is a fresh key pair per sum: no period)
 */
public record KeyPeriod(long index, int rounds) {
  public KeyPeriod {
    if (index < 0) {
      throw new IllegalArgumentException("a key period's index must be >= 0, got " + index);
    }
    if (rounds < 2) {
      throw new IllegalArgumentException("a key period spans at least 2 rounds, got " + rounds);
    }
  }

  /** The period of job round {@code jobRound} (1-based) when periods span {@code rounds} rounds. */
  public static KeyPeriod of(long jobRound, int rounds) {
    if (jobRound < 1) {
      throw new IllegalArgumentException("job rounds start at 1, got " + jobRound);
    }
    if (rounds < 2) {
      throw new IllegalArgumentException("a key period spans at least 2 rounds, got " + rounds);
    }
    return new KeyPeriod((jobRound - 1) / rounds, rounds);
  }
}
