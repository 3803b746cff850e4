package io.consort.model.data;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The rows of a SQL query through JDBC, one record per row: each column read as text ({@link
 * ResultSet#getString}), as a file's would be, SQL NULL as a missing value. The connection is
 * read-only and fetches rows in batches (with auto-commit off, so that PostgreSQL streams a large
 * result through a cursor instead of holding it all in memory).
 */
final class JdbcRecordReader implements RecordReader {
  private static final int FETCH_SIZE = 4096;

  private final DataSource.Query source;
  private final Connection connection;
  private final Statement statement;
  private final ResultSet rows;
  private final List<String> columns;
  private final List<DeclaredType> types;
  private long row;

  private JdbcRecordReader(DataSource.Query source, Connection connection, Statement statement, ResultSet rows,
                           List<String> columns, List<DeclaredType> types) {
    this.source = source;
    this.connection = connection;
    this.statement = statement;
    this.rows = rows;
    this.columns = columns;
    this.types = types;
  }

  static JdbcRecordReader open(DataSource.Query source) throws DataFormatException {
    Connection connection;
    try {
      connection = source.user().isPresent()
          ? DriverManager.getConnection(source.url(), source.user().get(), source.password().orElse(null))
          : DriverManager.getConnection(source.url());
    } catch (SQLException e) {
      throw DataFormatException.ofQuery(source.name(), 0, null, "cannot connect to the database: "
          + e.getMessage(), e);
    }
    try {
      connection.setReadOnly(true);
      connection.setAutoCommit(false);
      Statement statement = connection.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
      statement.setFetchSize(FETCH_SIZE);
      ResultSet rows;
      try {
        rows = statement.executeQuery(source.query());
      } catch (SQLException e) {
        throw DataFormatException.ofQuery(source.name(), 0, null, "the query failed: " + e.getMessage(), e);
      }
      ResultSetMetaData meta = rows.getMetaData();
      List<String> columns = new ArrayList<>();
      List<DeclaredType> types = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        String label = meta.getColumnLabel(i);
        if (!seen.add(label)) {
          throw DataFormatException.ofQuery(source.name(), 0, label,
              "the query returns this column twice (name one of them with AS)", null);
        }
        columns.add(label);
        types.add(numeric(meta.getColumnType(i)) ? new DeclaredType(DeclaredType.Kind.NUMERIC, List.of())
            : DeclaredType.UNDECLARED);
      }
      return new JdbcRecordReader(source, connection, statement, rows, List.copyOf(columns), List.copyOf(types));
    } catch (SQLException | DataFormatException | RuntimeException e) {
      try {
        connection.close();
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof DataFormatException d) {
        throw d;
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw DataFormatException.ofQuery(source.name(), 0, null, "cannot read the query's result: "
          + e.getMessage(), e);
    }
  }

  private static boolean numeric(int sqlType) {
    return switch (sqlType) {
      case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT, Types.REAL, Types.FLOAT, Types.DOUBLE,
           Types.DECIMAL, Types.NUMERIC -> true;
      default -> false;
    };
  }

  @Override
  public List<String> columns() {
    return columns;
  }

  @Override
  public DeclaredType declaredType(int column) {
    return types.get(column);
  }

  @Override
  public boolean foldsCase() {
    return true;
  }

  @Override
  public String[] next() throws DataFormatException {
    try {
      if (!rows.next()) {
        return null;
      }
      row++;
      String[] values = new String[columns.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = rows.getString(i + 1);
      }
      return values;
    } catch (SQLException e) {
      throw DataFormatException.ofQuery(source.name(), row + 1, null, "cannot read the row: " + e.getMessage(), e);
    }
  }

  @Override
  public long line() {
    return row;
  }

  @Override
  public DataFormatException error(long position, String column, String problem) {
    return DataFormatException.ofQuery(source.name(), position, column, problem, null);
  }

  @Override
  public void close() throws java.io.IOException {
    try (connection; statement; rows) {
      // a read-only transaction: nothing to commit
      connection.rollback();
    } catch (SQLException e) {
      throw new java.io.IOException(source.name() + ": " + e.getMessage(), e);
    }
  }
}
