package io.consort.scoring;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** German credit held-out rows as a bank's file or query would hold them, for the rows package's tests. */
public final class TestRows {
  private TestRows() {}

  public static Scorer scorer() {
    return GermanCreditModels.mlp().scorer();
  }

  public static List<String> columns() {
    return GermanCreditModels.mlp().spec().schema().featureColumns();
  }

  /** The first {@code n} held-out rows (mutable copies), with their labels under the label column. */
  public static List<Map<String, String>> rows(int n) {
    GermanCreditModels.Fixture f = GermanCreditModels.mlp();
    List<Map<String, String>> rows = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      Map<String, String> row = new LinkedHashMap<>(f.row(r));
      row.put(f.spec().schema().labelColumn(), f.test().isPositive(r) ? "bad" : "good");
      rows.add(row);
    }
    return rows;
  }

  /** A CSV with an id column, the feature columns and, if asked, the label; values quoted as needed. */
  public static Path writeCsv(Path file, List<Map<String, String>> rows, List<String> extra, boolean label)
      throws IOException {
    List<String> header = new ArrayList<>(List.of("id"));
    header.addAll(rows.get(0).keySet().stream().filter(c -> !c.equals("class")).toList());
    if (label) {
      header.add("class");
    }
    StringBuilder csv = new StringBuilder(String.join(",", header.stream().map(TestRows::quote).toList()))
        .append('\n');
    for (int r = 0; r < rows.size(); r++) {
      List<String> fields = new ArrayList<>();
      for (String column : header) {
        fields.add(column.equals("id") ? "row-" + r : quote(rows.get(r).getOrDefault(column, "")));
      }
      csv.append(String.join(",", fields)).append('\n');
    }
    Files.writeString(file, csv);
    return file;
  }

  private static String quote(String v) {
    return v.contains(",") || v.contains("\"") || v.contains("'") ? '"' + v.replace("\"", "\"\"") + '"' : v;
  }
}
