package io.consort.scoring;

import java.io.IOException;

/**
 * A published model file that cannot be used: not such a file, a format version this Consort does
 * not read, a checksum that does not match (corrupt or altered), or contents that do not make one
 * consistent model. The message names the file and the problem.
 */
public final class ModelFileException extends IOException {
  private static final long serialVersionUID = 1L;

  public ModelFileException(String source, String problem) {
    super(source + ": " + problem);
  }

  public ModelFileException(String source, String problem, Throwable cause) {
    super(source + ": " + problem, cause);
  }
}
