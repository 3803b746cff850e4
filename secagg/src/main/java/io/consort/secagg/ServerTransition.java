package io.consort.secagg;

import io.consort.secagg.message.SecAggMessage;
import java.util.List;
import java.util.Optional;

/**
 * What {@link SecAggServer#closeStage()} did: the messages to deliver for the next stage (one per
 * recipient bank), or the final result, or the reason the round was aborted.
 */
public record ServerTransition(Stage closedStage, List<SecAggMessage> outgoing, Optional<AggregationResult> result,
                Optional<String> abortReason) {
  public ServerTransition {
    outgoing = List.copyOf(outgoing);
  }

  static ServerTransition next(Stage closed, List<SecAggMessage> outgoing) {
    return new ServerTransition(closed, outgoing, Optional.empty(), Optional.empty());
  }

  static ServerTransition completed(Stage closed, AggregationResult result) {
    return new ServerTransition(closed, List.of(), Optional.of(result), Optional.empty());
  }

  static ServerTransition aborted(Stage closed, String reason) {
    return new ServerTransition(closed, List.of(), Optional.empty(), Optional.of(reason));
  }

  public boolean isAborted() {
    return abortReason.isPresent();
  }

  public boolean isCompleted() {
    return result.isPresent();
  }
}
