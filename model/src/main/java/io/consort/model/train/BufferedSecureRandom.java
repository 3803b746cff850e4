package io.consort.model.train;

import io.consort.model.random.BulkSecureRandom;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.random.RandomGenerator;

/**
 * Uniform random values drawn from a {@link SecureRandom} in 8 KiB blocks. A DRBG's cost is mostly
 * per call, so DP-SGD's thousands of draws per step (Poisson sampling, noise for every parameter)
 * would be dominated by call overhead if each value were a separate {@code nextLong()}. The bytes
 * are the SecureRandom's own; buffering changes nothing about their quality. Each value's bytes are
 * zeroed in the buffer as it is handed out, so the buffer holds only values not yet drawn: a copy of
 * this object's memory reveals no noise or sample already used (the backtracking resistance
 * {@link BulkSecureRandom} gives its own state, kept through the buffer). Not thread-safe.
 */
final class BufferedSecureRandom implements RandomGenerator {
  private static final int BLOCK_BYTES = 8192;
  private final SecureRandom source;
  private final ByteBuffer block = ByteBuffer.allocate(BLOCK_BYTES);

  BufferedSecureRandom(SecureRandom source) {
    this.source = source;
    block.position(BLOCK_BYTES);
  }

  /**
   * Over a {@link BulkSecureRandom} (AES-256-CTR with fast key erasure, keyed from the JDK's
   * SP 800-90A DRBG): DP-SGD draws megabytes a step for a large model, where the DRBG itself cost
   * seconds a round.
   */
  static BufferedSecureRandom create() {
    return new BufferedSecureRandom(BulkSecureRandom.create());
  }

  @Override
  public long nextLong() {
    if (block.remaining() < Long.BYTES) {
      source.nextBytes(block.array());
      block.clear();
    }
    int at = block.position();
    long value = block.getLong();
    block.putLong(at, 0L);
    return value;
  }
}
