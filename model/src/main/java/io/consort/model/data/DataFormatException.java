package io.consort.model.data;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Data that does not match its schema or cannot be read. The message is one sentence that names the
 * source (a file, or a query and the database it runs on) and, where they are known, the position (a
 * file's 1-based line counting the header, a query result's 1-based row) and the column, so a bank's
 * data engineer can fix the data without reading code.
 */
public final class DataFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String source;
  private final long line;
  private final String column;

  /** An error located at a line and column of a file; {@code line <= 0} or a null column means unknown. */
  public DataFormatException(Path file, long line, String column, String problem) {
    this(file, line, column, problem, null);
  }

  public DataFormatException(Path file, long line, String column, String problem, Throwable cause) {
    super(describe(String.valueOf(file), "line", line, column, problem), cause);
    this.file = file;
    this.source = String.valueOf(file);
    this.line = line;
    this.column = column;
  }

  private DataFormatException(String source, String positionName, long position, String column, String problem,
                              Throwable cause) {
    super(describe(source, positionName, position, column, problem), cause);
    this.file = null;
    this.source = source;
    this.line = position;
    this.column = column;
  }

  /** An error about the whole file (no rows, label never positive, unreadable). */
  public static DataFormatException ofFile(Path file, String problem, Throwable cause) {
    return new DataFormatException(file, 0, null, problem, cause);
  }

  /**
   * An error in the result of a query: {@code source} names the query and its database (without the URL's
   * parameters, where drivers put passwords), {@code row} is the result's 1-based row or 0 for none.
   */
  public static DataFormatException ofQuery(String source, long row, String column, String problem,
                                            Throwable cause) {
    return new DataFormatException(source, "row", row, column, problem, cause);
  }

  /** The file, or null for a query's result. */
  public Path file() {
    return file;
  }

  /** What the data came from, as the message names it. */
  public String source() {
    return source;
  }

  /** The 1-based physical line where the offending record starts (a query: its row), if known. */
  public Optional<Long> line() {
    return line > 0 ? Optional.of(line) : Optional.empty();
  }

  public Optional<String> column() {
    return Optional.ofNullable(column);
  }

  private static String describe(String source, String positionName, long position, String column, String problem) {
    StringBuilder where = new StringBuilder(source);
    if (position > 0) {
      where.append(' ').append(positionName).append(' ').append(position);
    }
    if (column != null) {
      where.append(position > 0 ? ", column '" : " column '").append(column).append('\'');
    }
    return where.append(": ").append(problem).toString();
  }
}
