package io.consort.coordinator.store;

/** The coordinator's database could not be read or written; the message names the operation. */
public class StoreException extends RuntimeException {
  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
