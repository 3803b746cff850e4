package io.consort.model.random;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A pseudorandom stream fixed by a purpose and a seed: the same two always give the same values,
 * on every JDK and machine. For public, reproducible randomness only: the initial global model,
 * demo and experiment data splits, synthetic benchmark data.
 *
 * <p>Security guarantees: none against anyone who knows the seed, which is the point. Never use it
 * for keys, masks, DP noise, DP-SGD's sampling or anything a bank must keep unpredictable; those
 * draw from {@link java.security.SecureRandom} (see {@code io.consort.model.train.GaussianNoise}).
 *
 * <p>Construction: key = SHA-256({@value #DOMAIN}, 0x00, UTF-8 purpose, 0x00, seed as 8 bytes
 * big-endian); the stream is the AES-256-CTR keystream under that key from an all-zero initial
 * counter, read as big-endian 64-bit words. Built from two standard JDK primitives rather than a
 * JDK generator ({@code java.util.SplittableRandom} and friends), which the project does not allow
 * in production code and whose algorithms a JDK may change. The purpose separates streams that
 * share a seed (a demo's {@code --seed} drives both the data split and the initial model). The
 * format is fixed by a known-answer test; changing it changes every seeded result.
 *
 * <p>Keystream is produced in 4 KiB chunks, so a value costs a few nanoseconds. Not thread-safe.
 */
public final class ReproducibleRandom implements RandomGenerator {
  static final String DOMAIN = "io.consort.model.random.ReproducibleRandom/v1";
  private static final int CHUNK_BYTES = 4096;
  private final Cipher cipher;
  private final byte[] zeros = new byte[CHUNK_BYTES];
  private final ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES);

  private ReproducibleRandom(byte[] key) {
    try {
      cipher = Cipher.getInstance("AES/CTR/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"),
          new IvParameterSpec(new byte[16]));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/CTR/NoPadding is required of every JDK", e);
    }
    chunk.position(CHUNK_BYTES);
  }

  /**
   * The stream for {@code purpose} (a short fixed label such as {@code "initial-parameters"}) and
   * {@code seed}.
   */
  public static ReproducibleRandom of(String purpose, long seed) {
    Objects.requireNonNull(purpose, "purpose");
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
    sha256.update(DOMAIN.getBytes(StandardCharsets.UTF_8));
    sha256.update((byte) 0);
    sha256.update(purpose.getBytes(StandardCharsets.UTF_8));
    sha256.update((byte) 0);
    sha256.update(ByteBuffer.allocate(Long.BYTES).putLong(seed).array());
    byte[] key = sha256.digest();
    try {
      return new ReproducibleRandom(key);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  @Override
  public long nextLong() {
    if (chunk.remaining() < Long.BYTES) {
      try {
        cipher.update(zeros, 0, CHUNK_BYTES, chunk.array(), 0);
      } catch (ShortBufferException e) {
        throw new IllegalStateException("the keystream chunk has room for its input", e);
      }
      chunk.clear();
    }
    return chunk.getLong();
  }
}
