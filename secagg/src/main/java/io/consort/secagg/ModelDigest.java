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

  /** The label of {@link #withRoundRowTotal}: what the bound bytes are, apart from any model digest. */
  private static final byte[] ROW_TOTAL_LABEL = "consort/v9 round row total bound into the masks"
      .getBytes(java.nio.charset.StandardCharsets.UTF_8);

  /** What the seeds are bound to: the model's digest, or with a row total, SHA-256 over it and the total. */
  private final byte[] digest;
  /** The model's own digest (equal to {@link #digest} without a row total). */
  private final byte[] model;
  /** The round's row total bound with the model ({@link #withRoundRowTotal}), 0 for none. */
  private final long rowTotal;

  private ModelDigest(byte[] digest) {
    this(digest, digest, 0);
  }

  private ModelDigest(byte[] digest, byte[] model, long rowTotal) {
    this.digest = digest;
    this.model = model;
    this.rowTotal = rowTotal;
  }

  /**
   * This model's digest with the round's row total R bound beside it (protocol version 9, docs/SECURE_AGGREGATION.md,
   * "The FedAvg weight is the bank's own"): a training sum's banks weight their updates by their own rows / R, so
   * they must agree on R; banks given different R derive different seeds and their masks do not cancel. The bound
   * bytes are SHA-256 over a label, the model's 32-byte digest and R (8 bytes, big-endian).
   *
   * @throws IllegalArgumentException if R is not positive, or this is {@link #NONE} or has a row total already
   */
  public ModelDigest withRoundRowTotal(long rowTotal) {
    if (rowTotal <= 0) {
      throw new IllegalArgumentException("a round's row total is positive, got " + Long.toUnsignedString(rowTotal));
    }
    if (isNone() || this.rowTotal != 0) {
      throw new IllegalArgumentException("a row total is bound beside a model's digest only, not beside " + this);
    }
    try {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      sha.update(ROW_TOTAL_LABEL);
      sha.update(model);
      sha.update(java.nio.ByteBuffer.allocate(Long.BYTES).putLong(rowTotal).array());
      return new ModelDigest(sha.digest(), model, rowTotal);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
  }

  /** The round's row total bound beside the model ({@link #withRoundRowTotal}), 0 for none. */
  public long roundRowTotal() {
    return rowTotal;
  }

  /** This digest without its row total: the model's alone. */
  public ModelDigest model() {
    return rowTotal == 0 ? this : new ModelDigest(model);
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

  /** The model's hex digest (public: a model's digest is in the ledger) and any row total, or "no model". */
  @Override
  public String toString() {
    return isNone() ? "no model" : HexFormat.of().formatHex(model)
        + (rowTotal == 0 ? "" : " with round row total " + rowTotal);
  }
}
