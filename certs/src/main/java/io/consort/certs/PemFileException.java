package io.consort.certs;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A PEM file is missing, unreadable, not PEM, holds the wrong kind of object, or is corrupt. The
 * message always starts with the file and says which of these it is.
 */
public final class PemFileException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  PemFileException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  PemFileException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The file that could not be used. */
  public Path file() {
    return file;
  }
}
