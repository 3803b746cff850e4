package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

class BufferedSecureRandomTest {
  /** Counts up from 1 in every byte it fills, so no value it produces is 0. */
  private static final class CountingSource extends SecureRandom {
    private byte next = 1;

    @Override
    public void nextBytes(byte[] bytes) {
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = next;
        next = (byte) (next == 127 ? 1 : next + 1);
      }
    }
  }

  @Test
  void valuesAlreadyDrawn_areNotLeftInTheBuffer() throws Exception {
    BufferedSecureRandom random = new BufferedSecureRandom(new CountingSource());
    int draws = 1500;   // spans a refill of the 8 KiB block (1,024 longs)
    long last = 0;
    for (int i = 0; i < draws; i++) {
      last = random.nextLong();
      assertNotEquals(0L, last);
    }
    assertOnlyUndrawnBytesRemain(random);
  }

  /**
   * The same erasure seen through the production noise path, across a refill. A smoke test, not a separate
   * guarantee: every way into the buffer is {@code nextLong}, which the test above checks directly.
   */
  @Test
  void uniformsDrawnForGaussianNoise_areNotLeftInTheBuffer() throws Exception {
    BufferedSecureRandom random = new BufferedSecureRandom(new CountingSource());
    GaussianNoise noise = new ZigguratGaussianNoise(random);
    float[] values = new float[1500];   // about 1,500 longs: spans a refill
    noise.addOnGrid(values, values.length, 1.0, 0x1.0p-20);
    assertOnlyUndrawnBytesRemain(random);
  }

  private static void assertOnlyUndrawnBytesRemain(BufferedSecureRandom random) throws Exception {
    byte[] bytes = (byte[]) field(random, "block");
    int position = (int) field(random, "position");
    assertTrue(position > 0 && position < bytes.length, "position " + position + " is inside a block");
    for (int i = 0; i < position; i++) {
      assertEquals(0, bytes[i], "byte " + i + " of a value already drawn is still in the buffer");
    }
    for (int i = position; i < bytes.length; i++) {
      assertNotEquals(0, bytes[i], "byte " + i + " not yet drawn was erased");
    }
  }

  @Test
  void erasing_doesNotChangeTheValuesHandedOut() {
    BufferedSecureRandom random = new BufferedSecureRandom(new CountingSource());
    byte[] expected = new byte[8192];
    new CountingSource().nextBytes(expected);
    ByteBuffer reference = ByteBuffer.wrap(expected);
    for (int i = 0; i < 1024; i++) {
      assertEquals(reference.getLong(), random.nextLong(), "value " + i);
    }
  }

  private static Object field(BufferedSecureRandom random, String name) throws Exception {
    Field field = BufferedSecureRandom.class.getDeclaredField(name);
    field.setAccessible(true);
    return field.get(random);
  }
}
