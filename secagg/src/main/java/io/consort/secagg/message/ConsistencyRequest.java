package io.consort.secagg.message;

import java.util.List;

/** Coordinator to bank (Bonawitz et al. 2017, round 3): the banks whose masked inputs it holds. */
public record ConsistencyRequest(MessageHeader header, List<String> survivors) implements SecAggMessage {
  public ConsistencyRequest {
    survivors = List.copyOf(survivors);
  }
}
