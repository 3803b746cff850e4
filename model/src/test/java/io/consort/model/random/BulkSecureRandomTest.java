package io.consort.model.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class BulkSecureRandomTest {
  private static final int BLOCK = BulkSecureRandom.BLOCK_BYTES;
  private static final int KEY = BulkSecureRandom.KEY_BYTES;

  /** A seed source that hands out the bytes 0, 1, 2, ... and counts how many it gave. */
  private static final class CountingSeeds extends SecureRandom {
    private static final long serialVersionUID = 1L;
    int next;
    int calls;

    CountingSeeds() {
      this(0);
    }

    CountingSeeds(int first) {
      next = first;
    }

    @Override
    public void nextBytes(byte[] bytes) {
      calls++;
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = (byte) next++;
      }
    }
  }

  private static byte[] keystream(byte[] key, int bytes) throws Exception {
    Cipher aes = Cipher.getInstance("AES/CTR/NoPadding");
    aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
    return aes.doFinal(new byte[bytes]);
  }

  /**
   * The construction, checked against AES-256-CTR computed here: the first block under the seed key
   * outputs its bytes before the last 32, which key the second block (fast key erasure).
   */
  @Test
  void output_isTheKeyChainedAesCtrKeystream_withKeysNeverOutput() throws Exception {
    CountingSeeds seeds = new CountingSeeds();
    BulkSecureRandom random = BulkSecureRandom.over(seeds, 1L << 40);
    byte[] firstKey = new byte[KEY];
    for (int i = 0; i < KEY; i++) {
      firstKey[i] = (byte) i;
    }
    byte[] first = keystream(firstKey, BLOCK);
    byte[] second = keystream(Arrays.copyOfRange(first, BLOCK - KEY, BLOCK), BLOCK);
    byte[] expected = new byte[2 * (BLOCK - KEY)];
    System.arraycopy(first, 0, expected, 0, BLOCK - KEY);
    System.arraycopy(second, 0, expected, BLOCK - KEY, BLOCK - KEY);

    byte[] out = new byte[expected.length];
    random.nextBytes(Arrays.copyOfRange(out, 0, 0)); // an empty request consumes nothing
    byte[] head = new byte[1000];
    byte[] tail = new byte[out.length - head.length];
    random.nextBytes(head);
    random.nextBytes(tail);
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(tail, 0, out, head.length, tail.length);
    assertArrayEquals(expected, out);
    assertEquals(1, seeds.calls, "one seeding for 2 blocks within the reseed interval");
  }

  @Test
  void nextLong_readsTheSameStreamAsNextBytes_andSkipsABlocksTailShorterThanALong() {
    BulkSecureRandom longs = BulkSecureRandom.over(new CountingSeeds(), 1L << 40);
    BulkSecureRandom bytes = BulkSecureRandom.over(new CountingSeeds(), 1L << 40);
    byte[] block = new byte[2 * (BLOCK - KEY)];
    bytes.nextBytes(block);
    longs.nextBytes(new byte[4]);
    ByteBuffer expected = ByteBuffer.wrap(block);
    expected.position(4);
    int fitting = (BLOCK - KEY - 4) / 8;
    for (int i = 0; i < fitting; i++) {
      assertEquals(expected.getLong(), longs.nextLong(), "long " + i);
    }
    // 4 bytes of the first block remain, too few for a long: they are dropped, and the next long is
    // the second block's first 8 bytes
    expected.position(BLOCK - KEY);
    assertEquals(expected.getLong(), longs.nextLong());
  }

  @Test
  void aFreshKeyComesFromTheSeedSource_afterEveryReseedInterval() {
    CountingSeeds seeds = new CountingSeeds();
    BulkSecureRandom random = BulkSecureRandom.over(seeds, 4L * BLOCK);
    assertEquals(1, random.seedings());
    byte[] buffer = new byte[BLOCK - KEY];
    for (int block = 1; block <= 4; block++) {
      random.nextBytes(buffer);
    }
    assertEquals(1, random.seedings(), "4 blocks of output fit in the interval");
    random.nextBytes(buffer);
    assertEquals(2, random.seedings(), "the fifth block is keyed from the seed source");
    assertEquals(2, seeds.calls);
    for (int block = 0; block < 40; block++) {
      random.nextBytes(buffer);
    }
    assertEquals(12, random.seedings(), "one reseed per 4 blocks");
  }

  @Test
  void reseed_takesAFreshKeyFromTheSeedSource_andDropsTheRestOfTheBlock() throws Exception {
    CountingSeeds seeds = new CountingSeeds();
    BulkSecureRandom random = BulkSecureRandom.over(seeds, 1L << 40);
    random.nextBytes(new byte[100]);

    random.reseed();

    assertEquals(2, random.seedings());
    byte[] secondKey = new byte[KEY];
    for (int i = 0; i < KEY; i++) {
      secondKey[i] = (byte) (KEY + i);   // the seed source's next 32 bytes
    }
    byte[] out = new byte[64];
    random.nextBytes(out);
    assertArrayEquals(Arrays.copyOf(keystream(secondKey, BLOCK), 64), out,
        "output continues at the start of the fresh key's first block");
    assertThrows(IllegalArgumentException.class,
        () -> random.reseed(java.security.DrbgParameters.instantiation(128,
            java.security.DrbgParameters.Capability.NONE, null)));
  }

  @Test
  void aReseedInterval_shorterThanABlock_isRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BulkSecureRandom.over(new CountingSeeds(), 1000));
    assertTrue(e.getMessage().contains("reseedIntervalBytes"), e.getMessage());
  }

  @Test
  void setSeed_mixesIntoTheKey_ratherThanReplacingIt() {
    BulkSecureRandom plain = BulkSecureRandom.over(new CountingSeeds(), 1L << 40);
    BulkSecureRandom mixed = BulkSecureRandom.over(new CountingSeeds(), 1L << 40);
    BulkSecureRandom otherKey = BulkSecureRandom.over(new CountingSeeds(7), 1L << 40);
    // each has output buffered when it is seeded: setSeed must drop it, not hand it out after
    for (BulkSecureRandom r : List.of(plain, mixed, otherKey)) {
      r.nextBytes(new byte[1]);
    }
    mixed.setSeed(new byte[] {1, 2, 3});
    otherKey.setSeed(new byte[] {1, 2, 3});
    long fromMixed = mixed.nextLong();
    assertTrue(plain.nextLong() != fromMixed, "setSeed changed the stream");
    assertTrue(otherKey.nextLong() != fromMixed, "the same seed over another key gives another stream");
  }

  /** Two production generators are keyed independently from the system DRBG. */
  @Test
  void productionGenerators_produceDifferentStreams() {
    byte[] a = new byte[64];
    byte[] b = new byte[64];
    BulkSecureRandom.create().nextBytes(a);
    BulkSecureRandom.create().nextBytes(b);
    assertFalse(Arrays.equals(a, b));
    assertFalse(BulkSecureRandom.create().toString().contains("key="), "no key material in toString");
  }

  /** A serialised copy would carry the key in clear and repeat the stream: serialisation is refused. */
  @Test
  void aGenerator_isNeverSerialised() {
    assertThrows(java.io.NotSerializableException.class, () -> new java.io.ObjectOutputStream(
        new java.io.ByteArrayOutputStream()).writeObject(BulkSecureRandom.create()));
  }

  /**
   * Byte values of 4 MiB of production output are uniform: chi-square with 255 degrees of freedom
   * below 400. Under uniform bytes P[chi2(255) > 400] is about 1.4e-8, the false-failure probability.
   */
  @Test
  void outputBytes_areUniform() {
    byte[] bytes = new byte[4 << 20];
    BulkSecureRandom.create().nextBytes(bytes);
    long[] counts = new long[256];
    for (byte b : bytes) {
      counts[b & 0xFF]++;
    }
    double expected = bytes.length / 256.0;
    double chiSquare = 0;
    for (long c : counts) {
      chiSquare += (c - expected) * (c - expected) / expected;
    }
    assertTrue(chiSquare < 400, "chi-square " + chiSquare);
  }

  /**
   * The attack fast key erasure answers: someone who reads the generator's whole state after it has
   * produced output (a heap dump, a memory disclosure) must not recover that output. The state is
   * the current key and the unread rest of the current block; the bytes already handed out are zeros
   * in the buffer, and the current key's keystream (the only one the attacker can compute; the key
   * that produced the output was replaced by bytes it never output) does not contain them.
   */
  @Test
  void aStolenState_doesNotRevealOutputAlreadyProduced() throws Exception {
    BulkSecureRandom random = BulkSecureRandom.over(new CountingSeeds(), 1L << 40);
    byte[] secret = new byte[1000];
    random.nextBytes(secret);

    Object keystream = field(random, "keystream");
    byte[] stolenKey = ((byte[]) field(keystream, "key")).clone();
    byte[] stolenBlock = ((byte[]) field(keystream, "block")).clone();

    assertFalse(contains(stolenBlock, Arrays.copyOf(secret, 16)), "output left in the buffer");
    byte[] fromStolenKey = keystream(stolenKey, 4 * BLOCK);
    for (int at = 0; at + 16 <= secret.length; at += 16) {
      assertFalse(contains(fromStolenKey, Arrays.copyOfRange(secret, at, at + 16)),
          "output at " + at + " derivable from the stolen key");
    }
    byte[] firstKey = new byte[KEY];
    for (int i = 0; i < KEY; i++) {
      firstKey[i] = (byte) i;
    }
    assertFalse(Arrays.equals(firstKey, stolenKey), "the key that produced the output is gone");
    // the JDK cipher object keeps its key and counter: it must be keyed with the state's next key at
    // counter 0, not still with the key that produced the output (whose keystream would give it back)
    javax.crypto.Cipher cipher = (javax.crypto.Cipher) field(keystream, "cipher");
    byte[] fromCipher = cipher.update(new byte[64]);
    assertArrayEquals(keystream(stolenKey, 64), fromCipher, "the cipher holds the next key, at counter 0");
    // and the stolen key does predict what comes next: the erasure protects the past, reseeding the future
    byte[] next = new byte[16];
    random.nextBytes(next);
    assertTrue(contains(stolenBlock, next));
  }

  private static Object field(Object owner, String name) throws ReflectiveOperationException {
    java.lang.reflect.Field f = owner.getClass().getDeclaredField(name);
    f.setAccessible(true);
    return f.get(owner);
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
