package io.consort.secagg.crypto;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Secret key material (private scalars, seeds, Shamir shares) held behind a wrapper that never prints
 * its content and compares in constant time.
 *
 * <p>Security guarantees: {@link #toString()} reveals only the length; {@link #equals(Object)} uses
 * {@link MessageDigest#isEqual(byte[], byte[])}, whose running time does not depend on where the
 * first differing byte is; {@link #destroy()} overwrites the bytes so a finished round does not leave
 * secrets on the heap longer than needed. Callers who take a copy with {@link #toByteArray()} own it.
 */
public final class SecretBytes {
  private final byte[] bytes;
  private boolean destroyed;

  private SecretBytes(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Copies {@code bytes}; the caller may wipe its array afterwards. */
  public static SecretBytes copyOf(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      throw new IllegalArgumentException("secret bytes must be non-empty, got "
          + (bytes == null ? "null" : "0 bytes"));
    }
    return new SecretBytes(bytes.clone());
  }

  /** Takes ownership of {@code bytes} without copying (for freshly derived material). */
  static SecretBytes adopt(byte[] bytes) {
    return new SecretBytes(bytes);
  }

  public int length() {
    return bytes.length;
  }

  /** A copy of the secret; the caller must not log it and should wipe it when done. */
  public byte[] toByteArray() {
    checkNotDestroyed();
    return bytes.clone();
  }

  /** Constant-time comparison of the content. */
  public boolean equalsConstantTime(SecretBytes other) {
    checkNotDestroyed();
    other.checkNotDestroyed();
    return MessageDigest.isEqual(bytes, other.bytes);
  }

  /** Overwrites the content with zeros; later reads fail. */
  public void destroy() {
    Arrays.fill(bytes, (byte) 0);
    destroyed = true;
  }

  /** Whether {@link #destroy()} was called. */
  public boolean isDestroyed() {
    return destroyed;
  }

  private void checkNotDestroyed() {
    if (destroyed) {
      throw new IllegalStateException("secret bytes were destroyed and can no longer be read");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SecretBytes other && equalsConstantTime(other);
  }

  @Override
  public int hashCode() {
    // Deliberately content-independent: a hash of the secret would leak bits of it.
    return bytes.length;
  }

  @Override
  public String toString() {
    return "SecretBytes[" + bytes.length + " bytes, redacted]";
  }
}
