package io.consort.cli.demo;

import io.consort.model.data.DataFormatException;
import io.consort.model.data.DataSchema;
import io.consort.model.data.RecordStream;
import io.consort.model.data.Table;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes simulated banks' rows as the CSV files their daemons read: each bank's share of the source file
 * as it is (every column, missing values, sentinels and markers included, as a bank exports its data), or
 * a table's rows (header row, the schema's feature columns, then the label column).
 */
public final class BankDataFiles {
  private BankDataFiles() {}

  /**
   * Writes bank {@code b}'s rows of {@code source} (its {@code rows[b]}, in that order; row indexes count
   * the source's records) to {@code files.get(b)}, every field as the source has it: an empty or missing
   * field stays empty, a quoted empty text stays {@code ""}.
   */
  static void writeShares(Path source, List<int[]> rows, List<Path> files) throws IOException, DataFormatException {
    int records = 0;
    for (int[] share : rows) {
      records += share.length;
    }
    int[] bankOf = new int[records];
    int[] positionOf = new int[records];
    for (int b = 0; b < rows.size(); b++) {
      for (int i = 0; i < rows.get(b).length; i++) {
        bankOf[rows.get(b)[i]] = b;
        positionOf[rows.get(b)[i]] = i;
      }
    }
    // each bank's lines in its share's order: kept in memory per bank (a demo's data set is small)
    List<String[]> lines = new ArrayList<>();
    rows.forEach(share -> lines.add(new String[share.length]));
    List<String> header;
    try (RecordStream in = RecordStream.open(source)) {
      header = in.columns();
      String[] record;
      int r = 0;
      while ((record = in.next()) != null) {
        if (r >= records) {
          throw new IllegalStateException(source + " has more records than the table read from it");
        }
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < record.length; c++) {
          if (c > 0) {
            line.append(',');
          }
          line.append(record[c] == null ? "" : record[c].isEmpty() ? "\"\"" : quote(record[c]));
        }
        lines.get(bankOf[r])[positionOf[r]] = line.toString();
        r++;
      }
    }
    for (int b = 0; b < rows.size(); b++) {
      try (BufferedWriter out = Files.newBufferedWriter(files.get(b))) {
        out.write(String.join(",", header.stream().map(BankDataFiles::quote).toList()));
        out.newLine();
        for (String line : lines.get(b)) {
          out.write(line);
          out.newLine();
        }
      }
    }
  }

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
        // a missing value is an empty field
        for (int j = 0; j < numeric; j++) {
          double v = table.numeric(j, r);
          line.append(Double.isNaN(v) ? "" : formatNumber(v)).append(',');
        }
        for (int j = 0; j < categorical; j++) {
          String c = table.category(j, r);
          line.append(c == null ? "" : c.isEmpty() ? "\"\"" : quote(c)).append(',');
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

  /** RFC 4180 quoting: only when the value holds a comma, quote or line break, or would lose spaces at its ends. */
  static String quote(String value) {
    if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0
        && value.equals(value.strip())) {
      return value;
    }
    return '"' + value.replace("\"", "\"\"") + '"';
  }
}
