package io.consort.coordinator.transport;

import io.consort.protocol.v1.TaskResult;

/** Where the endpoint delivers a bank's results: the job that opened the stage they answer. */
public interface ResultSink {
  /**
   * Accepts one result from an authenticated bank, on the event loop.
   *
   * @throws io.consort.protocol.ProtocolViolationException naming the problem when the result is
   *     for an unknown job, a closed or future stage, or from a bank not asked for it
   */
  void accept(String memberId, TaskResult result);
}
