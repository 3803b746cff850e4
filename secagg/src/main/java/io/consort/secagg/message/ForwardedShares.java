package io.consort.secagg.message;

import java.util.List;

/**
 * Coordinator to bank, opening masked-input: the ciphertexts addressed to the recipient by banks that
 * completed share-keys. Their senders are the banks the recipient must mask with.
 */
public record ForwardedShares(MessageHeader header, List<EncryptedShare> shares) implements SecAggMessage {
  public ForwardedShares {
    shares = List.copyOf(shares);
  }
}
