package io.consort.secagg.crypto;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for the pairwise share ciphertexts of the share-keys stage (Bonawitz et al. 2017,
 * section 4, round 1: "e_{u,v} = AE.enc(KA.agree(c_u^SK, c_v^PK), u || v || s_{u,v}^SK || b_{u,v})").
 * The associated data binds job, round, sender and recipient, so a ciphertext cannot be replayed into
 * another round or redirected to another bank without the tag check failing.
 *
 * <p>Layout: 12-byte random nonce, then ciphertext with the 16-byte tag appended.
 */
public final class ShareCipher {
  public static final int NONCE_BYTES = 12;
  public static final int TAG_BYTES = 16;

  private ShareCipher() {
  }

  public static byte[] encrypt(SecretBytes key, byte[] associatedData, byte[] plaintext, SecureRandom random)
      throws GeneralSecurityException {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    Cipher cipher = cipher(Cipher.ENCRYPT_MODE, key, nonce);
    cipher.updateAAD(associatedData);
    byte[] sealed = cipher.doFinal(plaintext);
    byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + sealed.length);
    System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
    return out;
  }

  /** Decrypts and authenticates; throws {@link javax.crypto.AEADBadTagException} on any tampering. */
  public static SecretBytes decrypt(SecretBytes key, byte[] associatedData, byte[] ciphertext)
      throws GeneralSecurityException {
    if (ciphertext.length < NONCE_BYTES + TAG_BYTES) {
      throw new javax.crypto.AEADBadTagException("share ciphertext is " + ciphertext.length
          + " bytes, shorter than nonce plus tag (" + (NONCE_BYTES + TAG_BYTES) + ")");
    }
    Cipher cipher = cipher(Cipher.DECRYPT_MODE, key, Arrays.copyOf(ciphertext, NONCE_BYTES));
    cipher.updateAAD(associatedData);
    return SecretBytes.adopt(cipher.doFinal(ciphertext, NONCE_BYTES, ciphertext.length - NONCE_BYTES));
  }

  private static Cipher cipher(int mode, SecretBytes key, byte[] nonce) throws GeneralSecurityException {
    byte[] raw = key.toByteArray();
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(mode, new SecretKeySpec(raw, "AES"), new GCMParameterSpec(TAG_BYTES * 8, nonce));
      return cipher;
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }
}
