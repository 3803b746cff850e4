package io.consort.secagg.message;

import java.util.List;

/** Share-keys (Bonawitz et al. 2017, round 1): one ciphertext per other bank in the sender's roster. */
public record ShareKeys(MessageHeader header, List<EncryptedShare> shares) implements SecAggMessage {
  public ShareKeys {
    shares = List.copyOf(shares);
  }
}
