package io.consort.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 of a parameter vector (little-endian IEEE-754 floats): the model's identity in ledgers. */
public final class ModelChecksum {
  private ModelChecksum() {}

  public static String sha256Hex(float[] values) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
    ByteBuffer chunk = ByteBuffer.allocate(4096 * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i += 4096) {
      chunk.clear();
      int end = Math.min(values.length, i + 4096);
      for (int j = i; j < end; j++) {
        chunk.putFloat(values[j]);
      }
      chunk.flip();
      digest.update(chunk);
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
