package io.consort.secagg.crypto;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The pseudorandom generator that expands a 32-byte seed into a mask vector (Bonawitz et al. 2017,
 * section 3, "PRG"): AES-256 in counter mode with the seed as key and an all-zero initial counter,
 * read as little-endian 32-bit words. Each seed is used for exactly one mask per round, so the fixed
 * counter start is safe; the sender and the server expand the same seed to the same stream on purpose.
 *
 * <p>Why the chunking: the JDK's AES-CTR intrinsic runs at several GB/s when fed at most 64 KiB per
 * {@code Cipher.update}, but throughput collapses by about 20x when one huge buffer is passed in one
 * call (measured on the development machine, see docs/BENCHMARKS.md). We therefore generate keystream
 * into a reusable 64 KiB buffer and add it into the target as we go, which also keeps memory flat.
 *
 * <p>A bank adds several masks into one vector ({@link #applyMasks}): each 64 KiB piece of the vector
 * gets every mask while it is in the cache, one cipher per seed, instead of one pass over the whole
 * vector per mask (at 10^6 coordinates a vector is 4 MB, past the cache; see docs/BENCHMARKS.md).
 *
 * <p>Not thread-safe: one instance per thread.
 */
public final class MaskExpander {
  /** Keystream bytes produced per {@code Cipher.update} call. */
  public static final int CHUNK_BYTES = 64 * 1024;
  private static final int CHUNK_WORDS = CHUNK_BYTES / Integer.BYTES;
  /** 32-bit words in one AES block. */
  static final int WORDS_PER_BLOCK = 16 / Integer.BYTES;
  private static final VarHandle LITTLE_ENDIAN_INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final byte[] ZERO_COUNTER = new byte[16];

  private final Cipher cipher;
  private final byte[] zeros = new byte[CHUNK_BYTES];
  private final byte[] keystream = new byte[CHUNK_BYTES];
  /** One cipher per seed of {@link #applyMasks}, kept for the next call. */
  private final List<Cipher> seedCiphers = new ArrayList<>();

  public MaskExpander() {
    this.cipher = newCipher();
  }

  private static Cipher newCipher() {
    try {
      return Cipher.getInstance("AES/CTR/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/CTR/NoPadding is not available in this JDK", e);
    }
  }

  /** {@code target[i] += PRG(seed)[i]} for every i, modulo 2^32. */
  public void addMask(SecretBytes seed, int[] target) throws GeneralSecurityException {
    apply(seed, target, false);
  }

  /** {@code target[i] -= PRG(seed)[i]} for every i, modulo 2^32. */
  public void subtractMask(SecretBytes seed, int[] target) throws GeneralSecurityException {
    apply(seed, target, true);
  }

  /**
   * {@code target[i] += sum_j (subtract[j] ? -1 : 1) * PRG(seeds[j])[i]} for every i, modulo 2^32: the same
   * result as {@link #addMask} and {@link #subtractMask} for each seed in turn, in one pass over
   * {@code target}.
   */
  public void applyMasks(List<SecretBytes> seeds, boolean[] subtract, int[] target) throws GeneralSecurityException {
    applyMasks(seeds, subtract, target, 0, target.length);
  }

  /**
   * As {@link #applyMasks(List, boolean[], int[])}, on {@code target[from, to)} only: each mask's stream is read
   * from word {@code from} on (the AES-CTR counter starts at block {@code from / 4}), so ranges expanded apart,
   * on different threads, give exactly the whole vector's result ({@link ParallelMaskExpander}).
   *
   * @param from a multiple of 4 (a whole AES block of 16 bytes)
   */
  public void applyMasks(List<SecretBytes> seeds, boolean[] subtract, int[] target, int from, int to)
      throws GeneralSecurityException {
    if (seeds.size() != subtract.length) {
      throw new IllegalArgumentException(seeds.size() + " seeds but " + subtract.length + " signs");
    }
    if (from < 0 || to > target.length || from > to || from % WORDS_PER_BLOCK != 0) {
      throw new IllegalArgumentException("range [" + from + ", " + to + ") of a vector of " + target.length
          + " words must lie inside it and start at a multiple of " + WORDS_PER_BLOCK);
    }
    while (seedCiphers.size() < seeds.size()) {
      seedCiphers.add(newCipher());
    }
    byte[] counter = counterAt(from / WORDS_PER_BLOCK);
    for (int j = 0; j < seeds.size(); j++) {
      init(seedCiphers.get(j), seeds.get(j), counter);
    }
    for (int offset = from; offset < to; offset += CHUNK_WORDS) {
      int words = Math.min(CHUNK_WORDS, to - offset);
      for (int j = 0; j < seeds.size(); j++) {
        addChunk(seedCiphers.get(j), target, offset, words, subtract[j]);
      }
    }
    Arrays.fill(keystream, (byte) 0);
  }

  private void apply(SecretBytes seed, int[] target, boolean subtract) throws GeneralSecurityException {
    init(cipher, seed);
    for (int offset = 0; offset < target.length; offset += CHUNK_WORDS) {
      addChunk(cipher, target, offset, Math.min(CHUNK_WORDS, target.length - offset), subtract);
    }
    Arrays.fill(keystream, (byte) 0);
  }

  /** The initial AES-CTR counter block of the stream's block {@code block}: the number, big-endian, in 16 bytes. */
  private static byte[] counterAt(long block) {
    byte[] counter = new byte[16];
    for (int i = 0; i < Long.BYTES; i++) {
      counter[15 - i] = (byte) (block >>> (8 * i));
    }
    return counter;
  }

  private static void init(Cipher cipher, SecretBytes seed) throws GeneralSecurityException {
    init(cipher, seed, ZERO_COUNTER);
  }

  private static void init(Cipher cipher, SecretBytes seed, byte[] counter) throws GeneralSecurityException {
    if (seed.length() != KeyDerivation.KEY_BYTES) {
      throw new IllegalArgumentException("mask seed must be " + KeyDerivation.KEY_BYTES
          + " bytes, got " + seed.length());
    }
    byte[] key = seed.toByteArray();
    try {
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(counter));
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  /** The next {@code words} words of {@code cipher}'s stream, added into (or subtracted from) the target. */
  private void addChunk(Cipher cipher, int[] target, int offset, int words, boolean subtract)
      throws GeneralSecurityException {
    cipher.update(zeros, 0, words * Integer.BYTES, keystream, 0);
    if (subtract) {
      for (int i = 0; i < words; i++) {
        target[offset + i] -= (int) LITTLE_ENDIAN_INT.get(keystream, i * Integer.BYTES);
      }
    } else {
      for (int i = 0; i < words; i++) {
        target[offset + i] += (int) LITTLE_ENDIAN_INT.get(keystream, i * Integer.BYTES);
      }
    }
  }
}
