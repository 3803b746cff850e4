package io.consort.model.data;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A data file that does not match its schema or cannot be read. The message is one sentence that
 * names the file and, where they are known, the line (1-based, counting the header) and the column,
 * so a bank's data engineer can fix the file without reading code.
 */
public final class DataFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long line;
  private final String column;

  /** An error located at a line and column; {@code line <= 0} or a null column means unknown. */
  public DataFormatException(Path file, long line, String column, String problem) {
    this(file, line, column, problem, null);
  }

  public DataFormatException(Path file, long line, String column, String problem, Throwable cause) {
    super(describe(file, line, column, problem), cause);
    this.file = file;
    this.line = line;
    this.column = column;
  }

  /** An error about the whole file (no rows, label never positive, unreadable). */
  public static DataFormatException ofFile(Path file, String problem, Throwable cause) {
    return new DataFormatException(file, 0, null, problem, cause);
  }

  public Path file() {
    return file;
  }

  /** The 1-based physical line where the offending record starts, if known. */
  public Optional<Long> line() {
    return line > 0 ? Optional.of(line) : Optional.empty();
  }

  public Optional<String> column() {
    return Optional.ofNullable(column);
  }

  private static String describe(Path file, long line, String column, String problem) {
    StringBuilder where = new StringBuilder(String.valueOf(file));
    if (line > 0) {
      where.append(" line ").append(line);
    }
    if (column != null) {
      where.append(line > 0 ? ", column '" : " column '").append(column).append('\'');
    }
    return where.append(": ").append(problem).toString();
  }
}
