package io.consort.model.data;

import java.io.Closeable;
import java.util.List;

/** A streaming reader of a delimited data file's records; package-private plumbing. */
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

  /** The physical line on which the record last returned by {@link #next()} starts. */
  long line();
}
