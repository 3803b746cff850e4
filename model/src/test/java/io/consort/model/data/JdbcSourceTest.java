package io.consort.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema.CategoricalColumn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bank's rows from a SQL query: the same rows, checks and messages as from a file, on embedded H2
 * and on a real PostgreSQL server. The PostgreSQL tests need a server: {@code .ci/run} installs and
 * starts one and sets {@value #POSTGRES_URL_VARIABLE}, and then (or with {@code CI=true}) they fail when the
 * server does not answer; outside CI they try {@value #DEFAULT_POSTGRES_URL} and are skipped, saying so, when
 * nothing answers there.
 */
class JdbcSourceTest {
  static final String POSTGRES_URL_VARIABLE = "CONSORT_TEST_POSTGRES_URL";
  static final String DEFAULT_POSTGRES_URL = "jdbc:postgresql://localhost:5432/consort_test?user=consort&password=consort";

  static final DataSchema LOANS = new DataSchema(List.of("age", "income"),
      List.of(CategoricalColumn.open("home")), "status", "bad", new Preprocessing(
          Map.of("income", new NumericRules(Imputation.MEAN, OptionalDouble.empty(), true, List.of(-1.0), List.of(),
              Optional.empty())),
          Map.of("home", new CategoricalRules(Imputation.MOST_FREQUENT, Optional.empty(), false, List.of(), true))));

  @TempDir
  Path dir;

  private static final String[] ROWS = {
      "(1, 34, 52000.5, 'rent', 'good')", "(2, 51, NULL, 'own', 'bad')", "(3, 29, -1, NULL, 'good')",
      "(4, 45, 61000, 'own', 'good')", "(5, 38, 47000, 'rent', 'bad')"};

  private static void createLoans(Connection c, String table) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + table);
      s.execute("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, age INTEGER, income DOUBLE PRECISION, "
          + "home VARCHAR(20), status VARCHAR(10))");
      s.execute("INSERT INTO " + table + " VALUES " + String.join(", ", ROWS));
    }
  }

  /** The same rows as a CSV file, to compare against. */
  private Path csv() throws Exception {
    return Files.writeString(dir.resolve("loans.csv"), "id,age,income,home,status\n1,34,52000.5,rent,good\n"
        + "2,51,,own,bad\n3,29,-1,,good\n4,45,61000,own,good\n5,38,47000,rent,bad\n");
  }

  private void assertSameRowsAsTheFile(DataSource query) throws Exception {
    Table fromQuery = DatasetLoader.load(query, LOANS);
    Table fromFile = DatasetLoader.load(csv(), LOANS);
    assertEquals(fromFile.rows(), fromQuery.rows());
    for (int r = 0; r < fromFile.rows(); r++) {
      assertEquals(fromFile.numeric(0, r), fromQuery.numeric(0, r));
      assertEquals(fromFile.numeric(1, r), fromQuery.numeric(1, r), "row " + r);
      assertEquals(fromFile.category(0, r), fromQuery.category(0, r));
      assertEquals(fromFile.isPositive(r), fromQuery.isPositive(r));
    }
    assertTrue(Double.isNaN(fromQuery.numeric(1, 1)), "NULL is missing");
    assertTrue(Double.isNaN(fromQuery.numeric(1, 2)), "-1 is a sentinel");
    DatasetLoader.Scan scan = DatasetLoader.scan(query, LOANS, (row, n, c, p) -> { });
    assertArrayEquals(scan.digest(), DatasetLoader.scan(query, LOANS, (row, n, c, p) -> { }).digest(),
        "a second reading of the same rows has the same digest");
  }

  @Test
  void anH2Query_givesTheRowsTheFileGives_nullAsMissing_andNamesMatchRegardlessOfCase() throws Exception {
    String url = "jdbc:h2:mem:loans-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url)) {
      createLoans(c, "loans");
      // H2 folds unquoted names to upper case: AGE, INCOME, ... still match the schema's age, income
      assertSameRowsAsTheFile(DataSource.query(url, "SELECT id, age, income, home, status FROM loans ORDER BY id"));
    }
  }

  @Test
  void aQueryThatFails_isRefusedNamingTheQueryAndTheDatabase_withoutTheUrlsParameters() {
    String url = "jdbc:h2:mem:empty-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1;PASSWORD=secret";
    DataSource query = DataSource.query(url, "SELECT * FROM no_such_table");
    DataFormatException e = assertThrows(DataFormatException.class, () -> DatasetLoader.load(query, LOANS));
    assertTrue(e.getMessage().startsWith("query \"SELECT * FROM no_such_table\" on jdbc:h2:mem:empty-"),
        e.getMessage());
    assertTrue(e.getMessage().contains(": the query failed: Table \"NO_SUCH_TABLE\" not found"), e.getMessage());
    assertTrue(!e.getMessage().contains("secret"), "no password in the message: " + e.getMessage());
  }

  @Test
  void aQueryWithoutRows_oraMissingColumn_orAMissingLabel_isRefusedNamingTheQueryRowAndColumn() throws Exception {
    String url = "jdbc:h2:mem:few-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url)) {
      createLoans(c, "loans");
      DataFormatException none = assertThrows(DataFormatException.class, () -> DatasetLoader.load(
          DataSource.query(url, "SELECT * FROM loans WHERE age > 100"), LOANS));
      assertEquals("query \"SELECT * FROM loans WHERE age > 100\" on " + url.substring(0, url.indexOf(';'))
          + ": the query returned no rows", none.getMessage());
      DataFormatException column = assertThrows(DataFormatException.class, () -> DatasetLoader.load(
          DataSource.query(url, "SELECT id, age, home, status FROM loans"), LOANS));
      assertTrue(column.getMessage().endsWith(" column 'income': the numeric column is missing from the query's "
          + "result; it returns [ID, AGE, HOME, STATUS]"), column.getMessage());
      try (Statement s = c.createStatement()) {
        s.execute("UPDATE loans SET status = NULL WHERE id = 4");
      }
      DataFormatException label = assertThrows(DataFormatException.class, () -> DatasetLoader.load(
          DataSource.query(url, "SELECT * FROM loans ORDER BY id"), LOANS));
      assertTrue(label.getMessage().endsWith(" row 4, column 'status': the label is missing (every row needs one; a "
          + "row without its outcome cannot be trained or evaluated on)"), label.getMessage());
      try (Statement s = c.createStatement()) {
        s.execute("UPDATE loans SET status = 'good' WHERE id = 4");
        s.execute("UPDATE loans SET age = NULL WHERE id = 3");
      }
      DataFormatException refused = assertThrows(DataFormatException.class, () -> DatasetLoader.load(
          DataSource.query(url, "SELECT * FROM loans ORDER BY id"), LOANS));
      assertTrue(refused.getMessage().endsWith(" row 3, column 'age': missing value, and the job refuses missing "
          + "values in this column (its missing policy is refuse; mean, median, most_frequent or constant would fill "
          + "it)"), refused.getMessage());
    }
  }

  /**
   * The test server's URL. Under CI ({@value #POSTGRES_URL_VARIABLE} set, as {@code .ci/run} sets it, or
   * {@code CI=true}) a server that does not answer fails the test; elsewhere the test is skipped, saying how
   * to get a server.
   */
  static String postgres() {
    String configured = System.getenv(POSTGRES_URL_VARIABLE);
    boolean underCi = configured != null || "true".equalsIgnoreCase(System.getenv("CI"));
    String url = configured != null ? configured : DEFAULT_POSTGRES_URL;
    String problem;
    try (Connection c = DriverManager.getConnection(url)) {
      if (c.isValid(5)) {
        return url;
      }
      problem = "the connection is not valid";
    } catch (SQLException e) {
      problem = e.getMessage();
    }
    String message = "no PostgreSQL server reachable at " + DataSource.query(url, "x").database() + " (" + problem
        + "); .ci/run installs and starts one, or set " + POSTGRES_URL_VARIABLE
        + " to a database this test may create tables in";
    if (underCi) {
      throw new AssertionError("under CI the PostgreSQL tests must run: " + message);
    }
    Assumptions.abort(message);
    return url;
  }

  @Test
  void aPostgresQuery_givesTheRowsTheFileGives_andARealServersErrorsNameTheQuery() throws Exception {
    String url = postgres();
    try (Connection c = DriverManager.getConnection(url)) {
      createLoans(c, "consort_loans");
      assertSameRowsAsTheFile(DataSource.query(url,
          "SELECT id, age, income, home, status FROM consort_loans ORDER BY id"));
      DataFormatException e = assertThrows(DataFormatException.class, () -> DatasetLoader.load(
          DataSource.query(url, "SELECT income FROM consort_loans WHERE"), LOANS));
      assertTrue(e.getMessage().startsWith("query \"SELECT income FROM consort_loans WHERE\" on "
          + "jdbc:postgresql://"), e.getMessage());
      assertTrue(e.getMessage().contains(": the query failed: ERROR: syntax error at end of input"), e.getMessage());
      assertTrue(!e.getMessage().contains("password"), e.getMessage());
      try (Statement s = c.createStatement()) {
        s.execute("DROP TABLE consort_loans");
      }
    }
  }

  @Test
  void aPostgresQueryOfManyRows_streamsThroughACursor() throws Exception {
    String url = postgres();
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS consort_many");
      s.execute("CREATE TABLE consort_many AS SELECT g AS id, 20 + g % 50 AS age, 1000.0 * (g % 97) AS income, "
          + "CASE WHEN g % 3 = 0 THEN 'rent' ELSE 'own' END AS home, CASE WHEN g % 7 = 0 THEN 'bad' ELSE 'good' END "
          + "AS status FROM generate_series(1, 50000) g");
      long[] seen = {0};
      DatasetLoader.Scan scan = DatasetLoader.scan(DataSource.query(url, "SELECT * FROM consort_many ORDER BY id"),
          LOANS, (row, n, cat, p) -> seen[0]++);
      assertEquals(50000, scan.rows());
      assertEquals(50000, seen[0]);
      assertEquals(50000 / 7, scan.positives());
      s.execute("DROP TABLE consort_many");
    }
  }
}
