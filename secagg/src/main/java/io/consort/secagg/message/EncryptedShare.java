package io.consort.secagg.message;

/** An AES-GCM ciphertext of the shares that {@code senderId} made for {@code recipientId}. */
public record EncryptedShare(String senderId, String recipientId, byte[] ciphertext) {
  @Override
  public String toString() {
    return "EncryptedShare[" + senderId + " -> " + recipientId + ", " + ciphertext.length + " bytes]";
  }
}
