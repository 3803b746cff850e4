package io.consort.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 of a parameter vector (little-endian IEEE-754 floats): the model's identity in ledgers. */
public final class ModelChecksum {
  private ModelChecksum() {}

  /** The label of {@link #boundModelSha256Hex}: no parameter checksum is ever computed over it. */
  private static final byte[] BINDING_LABEL = "consort/v8 model bound into the masks".getBytes(
      java.nio.charset.StandardCharsets.UTF_8);

  public static String sha256Hex(float[] values) {
    MessageDigest digest = sha256();
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

  /**
   * What a secure sum's pairwise masks are bound to (protocol version 8, docs/SECURE_AGGREGATION.md, "The model is
   * bound into the masks"): SHA-256 over a label, the parameters' checksum {@code parametersSha256Hex} and the feature
   * encoding the bank encodes its rows with, so that neither other parameters nor another encoding of the same
   * parameters (inputs scaled to nothing, say) can be sent to some banks of one sum. The encoding is hashed in its
   * protobuf encoding (no map fields: deterministic).
   */
  public static String boundModelSha256Hex(String parametersSha256Hex,
                                           io.consort.protocol.v1.FeatureEncoding encoding) {
    MessageDigest digest = sha256();
    digest.update(BINDING_LABEL);
    byte[] parameters = parametersSha256Hex.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    digest.update(ByteBuffer.allocate(4).putInt(parameters.length).array());
    digest.update(parameters);
    digest.update(encoding.toByteArray());
    return HexFormat.of().formatHex(digest.digest());
  }

  /**
   * What a second-stage statistics sum's masks are bound to: {@link #boundModelSha256Hex} of the preliminary encoding
   * the bank computed its vector with, under a label in place of a parameter checksum (no checksum is 27 characters
   * long, and the lengths are hashed), so that banks of one sum answering different encodings (clip bounds that leave
   * the others' sums known, the victim's alone in the total) derive different seeds.
   */
  public static String secondStageStatisticsSha256Hex(io.consort.protocol.v1.FeatureEncoding preliminary) {
    return boundModelSha256Hex("second-stage statistics v8", preliminary);
  }

  /** {@link #boundModelSha256Hex} of {@code model}, whose {@code sha256} field the caller has checked or set. */
  public static String boundModelSha256Hex(io.consort.protocol.v1.ModelParameters model) {
    return boundModelSha256Hex(model.getSha256(), model.getEncoding());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
  }
}
