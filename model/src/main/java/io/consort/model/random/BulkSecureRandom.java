package io.consort.model.random;

import java.security.DrbgParameters;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.SecureRandomParameters;
import java.security.SecureRandomSpi;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A {@link SecureRandom} for secret randomness in bulk: DP-SGD's Gaussian noise (one or more per
 * parameter per step, megabytes a step for a large model), the secure-aggregation quantiser's
 * randomized rounding and the banks' noise shares. The JDK's SP 800-90A Hash_DRBG, which these drew
 * from before, costs a SHA-256 compression per 32 output bytes; this generator costs one AES block
 * per 16 bytes, on the AES-NI instructions the JDK's {@code AES/CTR} intrinsic uses.
 *
 * <p>Construction: the AES-256-CTR keystream, produced {@value #BLOCK_BYTES} bytes at a time, each
 * block under a fresh key with an all-zero initial counter. The last {@value #KEY_BYTES} bytes of a
 * block become the next block's key and are never output, and the cipher is keyed with it at once (so
 * the JDK cipher object, which keeps its key and its last counter block, holds only the state's next
 * key); the rest is output and erased from the buffer as it is handed out ("fast key erasure", Bernstein 2017, "Fast-key-erasure random-number
 * generators"; the same structure as SP 800-90A's CTR_DRBG, which updates its key after every
 * request). The first key comes from the seed source (the JDK's SP 800-90A DRBG, itself seeded from
 * the operating system's entropy), and a fresh key from it replaces the chained one after every
 * {@value #DEFAULT_RESEED_BYTES} bytes of keystream (1 GiB, about 100 DP-SGD steps of a 10^6-parameter
 * model), drawn with prediction resistance (the DRBG reseeds from the operating system for it), so a
 * compromised state, the DRBG's included, stops predicting output at the next reseed.
 *
 * <p>Security guarantees. Output is computationally indistinguishable from uniform random bytes to
 * anyone who does not hold the current key, assuming AES-256 is a pseudorandom permutation: each key
 * encrypts only {@value #BLOCK_BYTES} / 16 = 4,096 counter blocks, so the PRP/PRF switching term is
 * 2^24 / 2^129, and keys are 256 bits from a DRBG instantiated at 256-bit strength. That is what DP noise needs: the guarantee of the
 * Gaussian mechanism assumes the attacker cannot predict the noise, and an attacker who sees any
 * amount of released output (noised gradients, masked inputs) learns nothing about the bytes not yet
 * released or already consumed and erased (backtracking resistance: the key that produced them is
 * gone; erasure is as good as the JVM's, which may have copied arrays during garbage collection and
 * keeps each block's {@code SecretKeySpec}, a copy of its key, until it is collected).
 * Not a replacement for the seed source where an SP 800-90A-validated generator is required; keys and
 * certificates stay on the DRBG.
 *
 * <p>Thread-safe (every call is serialised, as for any {@code SecureRandom} without a provider);
 * {@link #setSeed} mixes the given bytes into the key (SHA-256 of key and seed), never replaces it;
 * {@link #reseed()} takes a fresh key from the seed source at once.
 * Never seeded for reproducibility: tests that need repeatable randomness inject a seeded
 * {@code SecureRandom} into the code under test instead.
 */
public final class BulkSecureRandom extends SecureRandom {
  private static final long serialVersionUID = 1L;
  static final int KEY_BYTES = 32;
  static final int BLOCK_BYTES = 64 * 1024;
  /** The output bytes of a block: all but the next key at its end. */
  static final int OUTPUT_BYTES = BLOCK_BYTES - KEY_BYTES;
  private static final int SLICE_BYTES = 2048;
  static final long DEFAULT_RESEED_BYTES = 1L << 30;

  private final transient Keystream keystream;

  private BulkSecureRandom(Keystream keystream) {
    super(keystream, null);
    this.keystream = keystream;
  }

  /** Never serialised: a copy would carry the key in clear and repeat the stream. */
  private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
    throw new java.io.NotSerializableException("a BulkSecureRandom (its key) is never serialised");
  }

  /** A generator keyed from the JDK's SP 800-90A DRBG (the platform default if a provider lacks it). */
  public static BulkSecureRandom create() {
    return new BulkSecureRandom(new Keystream(systemDrbg(), DEFAULT_RESEED_BYTES));
  }

  /**
   * A generator keyed from {@code seedSource}, which it asks for a fresh key after every
   * {@code reseedIntervalBytes} bytes of keystream (for tests of reseeding; production uses {@link #create}).
   */
  static BulkSecureRandom over(SecureRandom seedSource, long reseedIntervalBytes) {
    if (reseedIntervalBytes < BLOCK_BYTES) {
      throw new IllegalArgumentException("reseedIntervalBytes must be >= " + BLOCK_BYTES + ", got "
          + reseedIntervalBytes);
    }
    return new BulkSecureRandom(new Keystream(Objects.requireNonNull(seedSource, "seedSource"),
        reseedIntervalBytes));
  }

  /** How many keys have come from the seed source so far (the first one included). */
  synchronized long seedings() {
    return keystream.seedings;
  }

  /** Eight output bytes, big-endian, without the per-call array {@code SecureRandom.next} allocates. */
  @Override
  public synchronized long nextLong() {
    return keystream.nextLong();
  }

  @Override
  public int nextInt() {
    return (int) (nextLong() >>> 32);
  }

  @Override
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  private static SecureRandom systemDrbg() {
    try {
      return SecureRandom.getInstance("DRBG",
          DrbgParameters.instantiation(256, DrbgParameters.Capability.PR_AND_RESEED, null));
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }

  /** The generator's state; every method runs under the owning {@code SecureRandom}'s lock. */
  private static final class Keystream extends SecureRandomSpi {
    private static final long serialVersionUID = 1L;
    private static final IvParameterSpec ZERO_COUNTER = new IvParameterSpec(new byte[16]);
    private final transient SecureRandom seedSource;
    private final long reseedIntervalBytes;
    private final transient Cipher cipher;
    private final byte[] zeros = new byte[SLICE_BYTES];
    private final byte[] block = new byte[BLOCK_BYTES];
    private final byte[] key = new byte[KEY_BYTES];
    private int position = OUTPUT_BYTES;
    private long keystreamSinceSeed;
    private long seedings;

    Keystream(SecureRandom seedSource, long reseedIntervalBytes) {
      this.seedSource = seedSource;
      this.reseedIntervalBytes = reseedIntervalBytes;
      try {
        cipher = Cipher.getInstance("AES/CTR/NoPadding");
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("AES/CTR/NoPadding is required of every JDK", e);
      }
      seed();
    }

    private void seed() {
      if (seedSource.getParameters() instanceof DrbgParameters.Instantiation drbg
          && drbg.getCapability().supportsPredictionResistance()) {
        // prediction resistance: the DRBG reseeds from the operating system first, so a key that
        // replaces a compromised one is not predictable from the DRBG's state in the same process either
        seedSource.nextBytes(key, DrbgParameters.nextBytes(drbg.getStrength(), true, null));
      } else {
        seedSource.nextBytes(key);
      }
      keystreamSinceSeed = 0;
      seedings++;
      rekey();
      discardBlock();
    }

    /** Keys the cipher with {@link #key} at counter 0, replacing the key it held. */
    private void rekey() {
      try {
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), ZERO_COUNTER);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("AES-256-CTR failed on a valid key", e);
      }
    }

    private void discardBlock() {
      Arrays.fill(block, position, OUTPUT_BYTES, (byte) 0);
      position = OUTPUT_BYTES;
    }

    /** The next block of keystream: its last 32 bytes replace the key (and key the cipher), the rest is output. */
    private void refill() {
      if (keystreamSinceSeed >= reseedIntervalBytes) {
        seed();
      }
      try {
        // In slices: the JIT compiles the AES-NI counter-mode intrinsic only for a method called
        // often, and one call per block left it interpreted for the first hundreds of megabytes
        // (about 0.4 GB/s against 12 GB/s compiled, measured here).
        for (int offset = 0; offset < BLOCK_BYTES; offset += SLICE_BYTES) {
          cipher.update(zeros, 0, SLICE_BYTES, block, offset);
        }
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("AES-256-CTR failed on a valid key", e);
      }
      System.arraycopy(block, OUTPUT_BYTES, key, 0, KEY_BYTES);
      Arrays.fill(block, OUTPUT_BYTES, BLOCK_BYTES, (byte) 0);
      rekey();
      position = 0;
      keystreamSinceSeed += BLOCK_BYTES;
    }

    @Override
    protected void engineNextBytes(byte[] bytes) {
      int offset = 0;
      while (offset < bytes.length) {
        if (position == OUTPUT_BYTES) {
          refill();
        }
        int n = Math.min(bytes.length - offset, OUTPUT_BYTES - position);
        System.arraycopy(block, position, bytes, offset, n);
        Arrays.fill(block, position, position + n, (byte) 0);
        position += n;
        offset += n;
      }
    }

    long nextLong() {
      if (OUTPUT_BYTES - position < Long.BYTES) {
        discardBlock();
        refill();
      }
      long value = 0;
      for (int i = 0; i < Long.BYTES; i++) {
        value = (value << 8) | (block[position] & 0xFF);
        block[position++] = 0;
      }
      return value;
    }

    @Override
    protected void engineSetSeed(byte[] seed) {
      try {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        sha256.update(key);
        sha256.update(seed);
        sha256.digest(key, 0, KEY_BYTES);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("SHA-256 is required of every JDK", e);
      }
      rekey();
      discardBlock();
    }

    /**
     * {@link SecureRandom#reseed()}: a fresh key from the seed source now (with prediction resistance
     * where it has it), discarding the rest of the current block; additional input in a
     * {@link DrbgParameters.Reseed} is then mixed in as by {@link #engineSetSeed}.
     */
    @Override
    protected void engineReseed(SecureRandomParameters params) {
      if (params != null && !(params instanceof DrbgParameters.Reseed)) {
        throw new IllegalArgumentException("reseed takes DrbgParameters.Reseed or null, not "
            + params.getClass().getName());
      }
      seed();
      if (params instanceof DrbgParameters.Reseed reseed && reseed.getAdditionalInput() != null) {
        engineSetSeed(reseed.getAdditionalInput());
      }
    }

    @Override
    protected byte[] engineGenerateSeed(int numBytes) {
      return seedSource.generateSeed(numBytes);
    }

    /** Never serialised: a copy would carry the key in clear and repeat the stream. */
    private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
      throw new java.io.NotSerializableException("BulkSecureRandom's state (its key) is never serialised");
    }

    @Override
    public String toString() {
      return "BulkSecureRandom[AES-256-CTR, fast key erasure, reseed every " + reseedIntervalBytes + " bytes]";
    }
  }
}
