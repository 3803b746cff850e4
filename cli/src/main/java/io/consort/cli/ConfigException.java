package io.consort.cli;

/** A configuration file is missing, unreadable or wrong; the message names the file and the key. */
final class ConfigException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  ConfigException(String message) {
    super(message);
  }

  ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
