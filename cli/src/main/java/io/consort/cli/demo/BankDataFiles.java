package io.consort.cli.demo;

import io.consort.model.data.DataSchema;
import io.consort.model.data.Table;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one simulated bank's rows as the CSV file its daemon will read, exactly as a bank would
 * export its own data: header row, the schema's feature columns, then the label column.
 */
public final class BankDataFiles {
  private BankDataFiles() {}

  /**
   * @param negativeLabel the label value written for rows that are not of the positive class
   */
  public static void writeCsv(Table table, String negativeLabel, Path file) throws IOException {
    DataSchema schema = table.schema();
    List<String> header = new ArrayList<>(schema.featureColumns());
    header.add(schema.labelColumn());
    try (BufferedWriter out = Files.newBufferedWriter(file)) {
      out.write(String.join(",", header.stream().map(BankDataFiles::quote).toList()));
      out.newLine();
      int numeric = schema.numericColumns().size();
      int categorical = schema.categoricalColumns().size();
      StringBuilder line = new StringBuilder();
      for (int r = 0; r < table.rows(); r++) {
        line.setLength(0);
        for (int j = 0; j < numeric; j++) {
          line.append(formatNumber(table.numeric(j, r))).append(',');
        }
        for (int j = 0; j < categorical; j++) {
          line.append(quote(table.category(j, r))).append(',');
        }
        line.append(quote(table.isPositive(r) ? schema.positiveClass() : negativeLabel));
        out.write(line.toString());
        out.newLine();
      }
    }
  }

  private static String formatNumber(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  /** RFC 4180 quoting: only when the value holds a comma, quote or line break. */
  static String quote(String value) {
    if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0) {
      return value;
    }
    return '"' + value.replace("\"", "\"\"") + '"';
  }
}
