package io.consort.scoring.rows;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.scoring.Scorer;
import io.consort.scoring.TestRows;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoringRunTest {
  @TempDir
  Path dir;

  private final Scorer scorer = TestRows.scorer();

  @Test
  void aCsvFile_isScoredLineByLine_andBadRowsAreReportedWithFileLineAndColumn() throws Exception {
    List<Map<String, String>> rows = TestRows.rows(6);
    rows.get(1).put("duration", "");          // an empty unquoted field: a missing value
    rows.get(3).put("purpose", "boat");
    rows.get(3).put("age", "old");
    Path csv = TestRows.writeCsv(dir.resolve("applicants.csv"), rows, List.of("id"), true);
    // a record with a field too few, then a blank line, which is skipped
    Files.writeString(csv, Files.readString(csv) + "x,1\n\n", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
    StringWriter out = new StringWriter();
    List<ScoringRun.Rejection> rejected = new ArrayList<>();
    ScoringRun.Summary summary;
    try (RowSource source = CsvRowSource.open(csv)) {
      summary = ScoringRun.run(scorer, source, List.of("id"), out, rejected::add);
    }
    assertEquals(7, summary.rows());
    assertEquals(4, summary.scored());
    assertEquals(3, summary.refused());
    List<String> messages = rejected.stream().map(ScoringRun.Rejection::toString).toList();
    assertEquals(csv + " line 3, column 'duration': missing value (Consort does not impute: fill or drop this "
        + "row before scoring)", messages.get(0));
    assertEquals(csv + " line 5, column 'age': value 'old' is not a finite number but the column is numeric",
        messages.get(1));
    assertTrue(messages.get(2).startsWith(csv + " line 5, column 'purpose': unknown category 'boat'"), messages.get(2));
    assertEquals(csv + " line 8: the row has 2 fields but the header has " + (TestRows.columns().size() + 2)
        + " columns", messages.get(3));
    String[] lines = out.toString().split("\n");
    assertEquals("line,id,probability,decision,reason_1,contribution_1,reason_2,contribution_2,reason_3,contribution_3",
        lines[0]);
    assertEquals(5, lines.length);
    assertTrue(lines[1].startsWith("2,row-0,"), lines[1]);
    assertTrue(lines[2].startsWith("4,row-2,"), lines[2]);
    assertTrue(lines[3].startsWith("6,row-4,"), lines[3]);
    String[] fields = lines[1].split(",");
    assertEquals(scorer.score(TestRows.rows(1).get(0)).probability(), Double.parseDouble(fields[2]), 1e-6);
    assertTrue(fields[3].equals("approve") || fields[3].equals("decline"));
  }

  @Test
  void theLabelColumn_whenPresent_givesTheRowsExactMetrics() throws Exception {
    List<Map<String, String>> rows = TestRows.rows(300);
    Path csv = TestRows.writeCsv(dir.resolve("labelled.csv"), rows, List.of(), true);
    ScoringRun.Summary summary;
    try (RowSource source = CsvRowSource.open(csv)) {
      summary = ScoringRun.run(scorer, source, List.of(), new StringWriter(), r -> {
        throw new AssertionError(r.toString());
      });
    }
    ScoringRun.Labelled l = summary.labelled().orElseThrow();
    assertEquals(300, l.rows());
    assertTrue(l.auc() > 0.6 && l.auc() < 1, "AUC " + l.auc());
    assertTrue(l.logLoss() > 0 && l.brier() > 0 && l.brier() < 0.25);
    assertTrue(l.expectedCost().isPresent());
    assertEquals(summary.columns().size(), summary.meanAbsoluteContribution().length);
  }

  @Test
  void aSourceWithoutAFeatureColumn_isRefusedBeforeAnyRowNamingTheColumns() throws Exception {
    List<Map<String, String>> rows = TestRows.rows(2);
    rows.forEach(r -> r.remove("age"));
    Path csv = TestRows.writeCsv(dir.resolve("no-age.csv"), rows, List.of(), false);
    try (RowSource source = CsvRowSource.open(csv)) {
      IOException e = assertThrows(IOException.class,
          () -> ScoringRun.run(scorer, source, List.of("customer"), new StringWriter(), r -> { }));
      assertTrue(e.getMessage().contains("the feature column [age] is missing"), e.getMessage());
    }
  }

  @Test
  void aMalformedFile_stopsTheRunNamingTheLine() throws Exception {
    Path csv = dir.resolve("broken.csv");
    Files.writeString(csv, String.join(",", TestRows.columns()) + "\n\"unclosed\n");
    try (RowSource source = CsvRowSource.open(csv)) {
      IOException e = assertThrows(IOException.class,
          () -> ScoringRun.run(scorer, source, List.of(), new StringWriter(), r -> { }));
      assertTrue(e.getMessage().contains("line 2: a quoted field is never closed"), e.getMessage());
    }
  }

  @Test
  void aJdbcQuery_isScoredLikeTheSameRowsInAFile_andSqlNullIsAMissingValue() throws Exception {
    List<Map<String, String>> rows = TestRows.rows(20);
    List<String> columns = TestRows.columns();
    String url = "jdbc:h2:mem:scoring" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url)) {
      StringBuilder create = new StringBuilder("CREATE TABLE applicants (id VARCHAR(20)");
      for (String column : columns) {
        boolean numeric = scorer.model().spec().schema().numericColumns().contains(column);
        create.append(", \"").append(column).append("\" ").append(numeric ? "DOUBLE PRECISION" : "VARCHAR(100)");
      }
      c.createStatement().execute(create.append(")").toString());
      String insert = "INSERT INTO applicants VALUES (?" + ", ?".repeat(columns.size()) + ")";
      try (PreparedStatement s = c.prepareStatement(insert)) {
        for (int r = 0; r < rows.size(); r++) {
          s.setString(1, "row-" + r);
          for (int i = 0; i < columns.size(); i++) {
            String v = r == 4 && columns.get(i).equals("duration") ? null : rows.get(r).get(columns.get(i));
            s.setString(i + 2, v);
          }
          s.addBatch();
        }
        s.executeBatch();
      }
      StringWriter fromDb = new StringWriter();
      List<ScoringRun.Rejection> rejected = new ArrayList<>();
      try (RowSource source = JdbcRowSource.open(url, "SELECT * FROM applicants ORDER BY id")) {
        ScoringRun.run(scorer, source, List.of("ID"), fromDb, rejected::add);
      }
      assertEquals(1, rejected.size());
      assertTrue(rejected.get(0).toString().startsWith("query on jdbc:h2:mem:scoring"), rejected.get(0).toString());
      assertTrue(rejected.get(0).toString().contains(" row 15, column 'duration': missing value"),
          rejected.get(0).toString());
      // the same probabilities as scoring the rows directly (ids sort as row-0, row-1, row-10, ...)
      for (String line : fromDb.toString().split("\n")) {
        if (line.startsWith("row,")) {
          assertEquals("row,ID,probability,decision", line.substring(0, 27));
          continue;
        }
        String[] f = line.split(",");
        int r = Integer.parseInt(f[1].substring(4));
        assertEquals(scorer.score(rows.get(r)).probability(), Double.parseDouble(f[2]), 1e-6);
      }
    }
  }

  @Test
  void aFailingQuery_namesTheDataSourceButNotItsParameters() {
    IOException e = assertThrows(IOException.class,
        () -> JdbcRowSource.open("jdbc:h2:mem:x;PASSWORD=secret", "SELECT * FROM nowhere"));
    assertTrue(e.getMessage().startsWith("query on jdbc:h2:mem:x: "), e.getMessage());
    assertTrue(!e.getMessage().contains("secret"), e.getMessage());
  }
}
