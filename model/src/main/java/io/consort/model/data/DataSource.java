package io.consort.model.data;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a bank's rows are: a CSV or ARFF file, or a SQL query on a database reached over JDBC (any
 * driver on the class path; PostgreSQL's ships with Consort). Both are read with the same schema
 * checks and the same error messages, which name the file and line or the query and row.
 */
public sealed interface DataSource permits DataSource.File, DataSource.Query {

  /** A file, by its extension: {@code .csv} or {@code .arff}, UTF-8. */
  static File file(Path path) {
    return new File(path);
  }

  /** A read-only query; credentials, if the database needs them, in the URL or the driver's own configuration. */
  static Query query(String url, String query) {
    return new Query(url, query, Optional.empty(), Optional.empty());
  }

  /** What error messages call the source. */
  String name();

  /** A CSV or ARFF file. */
  record File(Path path) implements DataSource {
    public File {
      Objects.requireNonNull(path, "path");
    }

    @Override
    public String name() {
      return path.toString();
    }
  }

  /**
   * A query's result. The query runs read-only; a row is one record, a column label one column (SQL
   * folds unquoted names, so a schema name matches a label regardless of case when no label matches
   * exactly); SQL NULL is a missing value. The rows must come in the same order every time the query
   * runs (say {@code ORDER BY} a key): a bank reads them more than once and refuses data that changed.
   *
   * @param user the database user, if not in the URL
   * @param password the user's password, if any; never in {@link #toString()} or a message
   */
  record Query(String url, String query, Optional<String> user, Optional<String> password) implements DataSource {
    /** How much of the query a message quotes. */
    private static final int QUOTED_CHARACTERS = 80;

    public Query {
      if (url == null || !url.startsWith("jdbc:")) {
        throw new IllegalArgumentException("a JDBC URL starts with 'jdbc:', got '" + url + "'");
      }
      if (query == null || query.isBlank()) {
        throw new IllegalArgumentException("the query must not be empty");
      }
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(password, "password");
    }

    /** The query (shortened) and the database without the URL's parameters, where drivers put passwords. */
    @Override
    public String name() {
      String oneLine = query.strip().replaceAll("\\s+", " ");
      String quoted = oneLine.length() > QUOTED_CHARACTERS ? oneLine.substring(0, QUOTED_CHARACTERS - 3) + "..."
          : oneLine;
      return "query \"" + quoted + "\" on " + database();
    }

    /** The URL up to its first ';' or '?'. */
    public String database() {
      int cut = url.length();
      for (char c : new char[] {';', '?'}) {
        int i = url.indexOf(c);
        if (i >= 0) {
          cut = Math.min(cut, i);
        }
      }
      return url.substring(0, cut);
    }

    @Override
    public String toString() {
      return "Query[" + name() + (user.isPresent() ? ", user " + user.get() : "") + "]";
    }
  }
}
