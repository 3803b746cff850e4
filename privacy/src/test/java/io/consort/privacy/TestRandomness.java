package io.consort.privacy;

import java.nio.ByteBuffer;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * The only place seeded randomness is made: a {@code SHA1PRNG} {@link SecureRandom} seeded before first
 * use, which the SUN provider makes deterministic. Tests inject it so statistical tests are repeatable;
 * production code never calls this.
 */
public final class TestRandomness {

  private TestRandomness() {}

  public static SecureRandom seeded(long seed) {
    try {
      SecureRandom random = SecureRandom.getInstance("SHA1PRNG", "SUN");
      random.setSeed(ByteBuffer.allocate(Long.BYTES).putLong(seed).array());
      return random;
    } catch (NoSuchAlgorithmException | java.security.NoSuchProviderException e) {
      throw new IllegalStateException("SHA1PRNG from SUN is required for seeded tests", e);
    }
  }
}
