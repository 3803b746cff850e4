package io.consort.secagg.crypto;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * HKDF-SHA256 (RFC 5869). Every use in the protocol passes a distinct {@code info} label so that keys
 * derived from the same Diffie-Hellman secret for different purposes are independent (Bonawitz et
 * al. 2017, section 3: the authenticated-encryption key and the mask seed come from different key
 * pairs; we additionally separate directions and purposes by label).
 */
public final class KeyDerivation {
  /** Output length used for AES-256 keys and PRG seeds. */
  public static final int KEY_BYTES = 32;

  private KeyDerivation() {
  }

  /** Derives {@link #KEY_BYTES} bytes from {@code inputKeyMaterial}. */
  public static SecretBytes hkdfSha256(SecretBytes inputKeyMaterial, byte[] salt, byte[] info) {
    byte[] ikm = inputKeyMaterial.toByteArray();
    try {
      HKDFBytesGenerator generator = new HKDFBytesGenerator(new SHA256Digest());
      generator.init(new HKDFParameters(ikm, salt, info));
      byte[] out = new byte[KEY_BYTES];
      generator.generateBytes(out, 0, out.length);
      return SecretBytes.adopt(out);
    } finally {
      java.util.Arrays.fill(ikm, (byte) 0);
    }
  }
}
