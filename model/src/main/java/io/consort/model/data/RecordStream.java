package io.consort.model.data;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The records of a CSV or ARFF file, one at a time, read with exactly the rules {@link
 * DatasetLoader} applies (header, delimiter, quoting, byte-order mark, blank lines, missing values as
 * {@code null}), for a reader that judges each record itself, such as scoring, which reports a bad
 * row and goes on instead of stopping at it.
 */
public final class RecordStream implements Closeable {
  private final RecordReader reader;

  private RecordStream(RecordReader reader) {
    this.reader = reader;
  }

  /**
   * Opens {@code file} (by extension: {@code .csv} or {@code .arff}, UTF-8) and reads its header.
   *
   * @throws DataFormatException naming the file (and line) when it cannot be opened or its header is bad
   */
  public static RecordStream open(Path file) throws DataFormatException {
    return new RecordStream(DatasetLoader.open(file));
  }

  /** The header's column names, in file order. */
  public List<String> columns() {
    return reader.columns();
  }

  /**
   * The next record's fields in header order (a missing value is {@code null}; the count is not
   * checked), or {@code null} at the end of the file.
   *
   * @throws DataFormatException when the file cannot be parsed from here on (an unclosed quote, say)
   */
  public String[] next() throws DataFormatException {
    return reader.next();
  }

  /** The 1-based physical line on which the record last returned by {@link #next()} starts. */
  public long line() {
    return reader.line();
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
