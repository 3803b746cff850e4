package io.consort.coordinator.job;

/** A job ended before its rounds were done because an operator cancelled it or the service stopped. */
public final class JobCancelledException extends JobFailedException {
  public JobCancelledException(String message) {
    super(message);
  }
}
