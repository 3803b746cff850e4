package io.consort.scoring.rows;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * Rows to score, one at a time, with their column names and where each row is (a file's line, a
 * query result's row number), so that a refused row can be named.
 */
public interface RowSource extends Closeable {
  /** What the rows come from, as error messages name it (a file path, or the query's data source). */
  String name();

  /** How a row's position is named: {@code line} for a file, {@code row} for a query result. */
  String positionName();

  List<String> columns();

  /**
   * Whether column names match regardless of case when no name matches exactly: SQL folds unquoted
   * identifiers (H2 and Oracle to upper case, PostgreSQL to lower), a file's header does not.
   */
  default boolean foldsCase() {
    return false;
  }

  /**
   * The next row's values in {@link #columns()} order (null for a missing value), or null at the end.
   *
   * @throws IOException when the source cannot be read further (a malformed file, a failed query);
   *     no later row can be trusted then
   */
  String[] next() throws IOException;

  /** The position of the row last returned by {@link #next()} (1-based). */
  long position();
}
