package io.consort.secagg.message;

import java.util.List;

/** Bank to coordinator: the shares requested by an {@link UnmaskingRequest}. */
public record UnmaskingResponse(MessageHeader header, List<RevealedShare> shares) implements SecAggMessage {
  public UnmaskingResponse {
    shares = List.copyOf(shares);
  }
}
