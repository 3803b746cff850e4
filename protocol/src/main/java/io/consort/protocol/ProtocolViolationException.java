package io.consort.protocol;

/**
 * A peer sent something the protocol does not allow: wrong version, wrong job, round or stage,
 * an oversized or malformed message. The receiver refuses the message, logs it and goes on.
 */
public class ProtocolViolationException extends RuntimeException {
  public ProtocolViolationException(String message) {
    super(message);
  }

  public ProtocolViolationException(String message, Throwable cause) {
    super(message, cause);
  }
}
