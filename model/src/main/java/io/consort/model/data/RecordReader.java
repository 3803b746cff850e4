package io.consort.model.data;

import java.io.Closeable;
import java.util.List;

/** A streaming reader of a data source's records (a file's, a query's); package-private plumbing. */
interface RecordReader extends Closeable {

  /** Column type as declared by the file itself (ARFF does; CSV does not). */
  record DeclaredType(Kind kind, List<String> nominalValues) {
    enum Kind {
      UNDECLARED,
      NUMERIC,
      NOMINAL,
      TEXT
    }

    static final DeclaredType UNDECLARED = new DeclaredType(Kind.UNDECLARED, List.of());
  }

  List<String> columns();

  DeclaredType declaredType(int column);

  /**
   * The next record's fields (missing values as {@code null}), or {@code null} at end of file. Field
   * count is not checked here.
   */
  String[] next() throws DataFormatException;

  /** The physical line on which the record last returned by {@link #next()} starts (a query: its row). */
  long line();

  /** Whether column names match regardless of case when none matches exactly (SQL folds unquoted names). */
  default boolean foldsCase() {
    return false;
  }

  /** An error at {@code position} (a line or row; 0: none) and {@code column} (null: none) of this source. */
  DataFormatException error(long position, String column, String problem);
}
