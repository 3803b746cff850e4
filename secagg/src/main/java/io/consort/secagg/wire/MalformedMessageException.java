package io.consort.secagg.wire;

/** The bytes are not a well-formed secure-aggregation message; the message names the field and offset. */
public final class MalformedMessageException extends Exception {
  public MalformedMessageException(String message) {
    super(message);
  }
}
