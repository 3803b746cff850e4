package io.consort.secagg;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The base model a sum's inputs were computed from, bound into every pairwise mask seed of the sum (protocol version
 * 8, docs/SECURE_AGGREGATION.md, "The model is bound into the masks"): a SHA-256 over the model's parameters and
 * the feature encoding the bank encodes its rows with ({@code io.consort.protocol.ModelChecksum.boundModelSha256Hex}),
 * or {@link #NONE} for a sum that carries no model (feature statistics). Two banks that computed their inputs from
 * different models derive different seeds, so their masks do not cancel and the unmasked sum is uniformly random:
 * a coordinator that sends banks of one sum different models (Pasquini, Francati and Ateniese, "Eluding secure
 * aggregation via model inconsistency", CCS 2022) learns nothing from it. A bank takes the digest from the model it
 * itself trained on, never from a field the coordinator sends.
 */
public final class ModelDigest {
  /** SHA-256: the length of a model's digest. */
  public static final int BYTES = 32;
  /** A sum that carries no model: an empty digest, which no model's 32-byte digest equals in the seed's encoding. */
  public static final ModelDigest NONE = new ModelDigest(new byte[0]);

  private final byte[] digest;

  private ModelDigest(byte[] digest) {
    this.digest = digest;
  }

  /**
   * The digest {@code sha256Hex}, lowercase or uppercase hex of 32 bytes ({@code io.consort.protocol.ModelChecksum}).
   *
   * @throws IllegalArgumentException naming the value if it is not 64 hex digits
   */
  public static ModelDigest ofHex(String sha256Hex) {
    if (sha256Hex == null || sha256Hex.length() != 2 * BYTES) {
      throw new IllegalArgumentException("a model digest is " + 2 * BYTES + " hex digits (SHA-256), got "
          + (sha256Hex == null ? "null" : "'" + sha256Hex + "'"));
    }
    try {
      return new ModelDigest(HexFormat.of().parseHex(sha256Hex));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("a model digest is hex (SHA-256), got '" + sha256Hex + "'", e);
    }
  }

  /** The digest's bytes: 32, or none for {@link #NONE}. */
  byte[] bytes() {
    return digest.clone();
  }

  /** Whether this stands for a sum that carries no model. */
  public boolean isNone() {
    return digest.length == 0;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ModelDigest d && Arrays.equals(digest, d.digest);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(digest);
  }

  /** The hex digest (public: a model's digest is in the ledger), or "no model". */
  @Override
  public String toString() {
    return isNone() ? "no model" : HexFormat.of().formatHex(digest);
  }
}
