package io.consort.secagg.message;

import java.util.List;

/**
 * Coordinator to bank, opening unmasking (Bonawitz et al. 2017, round 4): for each survivor the
 * bank reveals its share of b (self-mask seed); for each dropped bank its share of s^SK (masking
 * key). A bank must never be in both lists. {@code signatures} is empty unless the round runs the
 * consistency check.
 */
public record UnmaskingRequest(MessageHeader header, List<String> survivors, List<String> dropped,
                List<SurvivorSignature> signatures) implements SecAggMessage {
  public UnmaskingRequest {
    survivors = List.copyOf(survivors);
    dropped = List.copyOf(dropped);
    signatures = List.copyOf(signatures);
  }
}
