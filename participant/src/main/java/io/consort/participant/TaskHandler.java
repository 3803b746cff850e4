package io.consort.participant;

import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;

/** Runs one task for the bank. May block (it runs on a worker thread). */
public interface TaskHandler {
  /**
   * @return the result to send back (its header is set by the caller), or {@code null} when the
   *     task needs no answer (a job-finished notice)
   */
  TaskResult.Builder handle(Task task) throws Exception;
}
