package io.consort.scoring.rows;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The rows of a SQL query on a bank's database, through JDBC (any driver on the class path). Each
 * column is read as text, as a file's would be ({@link ResultSet#getString}); SQL NULL is a missing
 * value. Columns are named by their labels ({@code SELECT amount AS credit_amount} renames one), matched
 * to the schema's names regardless of case when no name matches exactly, since SQL folds unquoted names.
 * Positions are the 1-based row numbers of the result.
 */
public final class JdbcRowSource implements RowSource {
  private final String name;
  private final Connection connection;
  private final Statement statement;
  private final ResultSet rows;
  private final List<String> columns;
  private long position;

  private JdbcRowSource(String name, Connection connection, Statement statement, ResultSet rows, List<String> columns) {
    this.name = name;
    this.connection = connection;
    this.statement = statement;
    this.rows = rows;
    this.columns = columns;
  }

  /**
   * Runs {@code query} read-only on {@code url}; credentials, if the database needs them, go in the
   * URL or the driver's own configuration.
   *
   * @throws IOException naming the data source (the URL without its parameters) when the connection
   *     or the query fails
   */
  public static JdbcRowSource open(String url, String query) throws IOException {
    String name = "query on " + withoutParameters(url);
    Connection connection = null;
    try {
      connection = DriverManager.getConnection(url);
      connection.setReadOnly(true);
      Statement statement = connection.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
      statement.setFetchSize(1024);
      ResultSet rows = statement.executeQuery(query);
      ResultSetMetaData meta = rows.getMetaData();
      List<String> columns = new ArrayList<>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        columns.add(meta.getColumnLabel(i));
      }
      return new JdbcRowSource(name, connection, statement, rows, List.copyOf(columns));
    } catch (SQLException e) {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw new IOException(name + ": " + e.getMessage(), e);
    }
  }

  /** The URL up to its first ';' or '?', where drivers put options and, often, passwords. */
  static String withoutParameters(String url) {
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
  public String name() {
    return name;
  }

  @Override
  public String positionName() {
    return "row";
  }

  @Override
  public List<String> columns() {
    return columns;
  }

  @Override
  public boolean foldsCase() {
    return true;
  }

  @Override
  public String[] next() throws IOException {
    try {
      if (!rows.next()) {
        return null;
      }
      position++;
      String[] values = new String[columns.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = rows.getString(i + 1);
      }
      return values;
    } catch (SQLException e) {
      throw new IOException(name + " row " + (position + 1) + ": " + e.getMessage(), e);
    }
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public void close() throws IOException {
    try (connection; statement; rows) {
      // closed in reverse order by try-with-resources
    } catch (SQLException e) {
      throw new IOException(name + ": " + e.getMessage(), e);
    }
  }
}
