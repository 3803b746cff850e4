package io.consort.protocol;

import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.Stage;

/** Builds and checks message headers, so replayed and out-of-order messages are refused. */
public final class Headers {
  private Headers() {}

  public static Header of(String jobId, int round, Stage stage) {
    return Header.newBuilder().setJobId(jobId).setRound(round).setStage(stage).build();
  }

  /**
   * @throws ProtocolViolationException naming what was expected and what arrived, when the header
   *     is for another job, round or stage
   */
  public static void require(Header actual, String jobId, int round, Stage stage) {
    if (!actual.getJobId().equals(jobId) || actual.getRound() != round || actual.getStage() != stage) {
      throw new ProtocolViolationException("expected a message for " + describe(jobId, round, stage)
          + " but got one for " + describe(actual.getJobId(), actual.getRound(), actual.getStage()));
    }
  }

  public static String describe(Header header) {
    return describe(header.getJobId(), header.getRound(), header.getStage());
  }

  private static String describe(String jobId, int round, Stage stage) {
    return "job '" + jobId + "' round " + round + " stage " + stage;
  }
}
