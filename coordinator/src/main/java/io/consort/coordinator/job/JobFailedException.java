package io.consort.coordinator.job;

/** A job cannot go on (too few banks, no usable statistics); the message says why. */
public class JobFailedException extends RuntimeException {
  public JobFailedException(String message) {
    super(message);
  }
}
