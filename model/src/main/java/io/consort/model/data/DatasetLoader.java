package io.consort.model.data;

import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.data.RecordReader.DeclaredType;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Loads a bank's CSV or ARFF file (chosen by extension, UTF-8) against a {@link DataSchema}.
 *
 * <p>Records are streamed: each is validated and appended to the table's columnar storage, so
 * memory is the table itself plus one record. Missing values ({@code ?} in ARFF, an empty unquoted
 * field in CSV) are refused, not imputed: a federated job has no shared place to decide an
 * imputation, so the bank cleans its file first. Every error names file, line and column.
 */
public final class DatasetLoader {
  private DatasetLoader() {}

  /** Loads the rows of {@code file}, validating every schema column in every record. */
  public static Table load(Path file, DataSchema schema) throws DataFormatException {
    try (RecordReader reader = open(file)) {
      List<String> columns = reader.columns();
      int labelIndex = requireColumn(file, columns, schema.labelColumn(), "label column");
      int[] numericIndex = new int[schema.numericColumns().size()];
      for (int j = 0; j < numericIndex.length; j++) {
        String name = schema.numericColumns().get(j);
        numericIndex[j] = requireColumn(file, columns, name, "numeric column");
        DeclaredType type = reader.declaredType(numericIndex[j]);
        if (type.kind() == DeclaredType.Kind.NOMINAL || type.kind() == DeclaredType.Kind.TEXT) {
          throw new DataFormatException(file, 0, name,
              "the schema declares this column numeric but the file declares it " + type.kind()
                  .name().toLowerCase(Locale.ROOT));
        }
      }
      List<CategoricalColumn> categorical = schema.categoricalColumns();
      int[] categoricalIndex = new int[categorical.size()];
      List<Set<String>> allowed = new ArrayList<>();
      for (int j = 0; j < categoricalIndex.length; j++) {
        CategoricalColumn column = categorical.get(j);
        categoricalIndex[j] = requireColumn(file, columns, column.name(), "categorical column");
        DeclaredType type = reader.declaredType(categoricalIndex[j]);
        // A declared list in the schema wins; otherwise an ARFF nominal list still constrains values.
        List<String> list = column.isDeclared() ? column.allowedCategories()
            : type.kind() == DeclaredType.Kind.NOMINAL ? type.nominalValues() : List.of();
        allowed.add(list.isEmpty() ? null : new HashSet<>(list));
      }

      Table.Builder table = new Table.Builder(schema, file.getFileName().toString());
      double[] numbers = new double[numericIndex.length];
      String[] categories = new String[categoricalIndex.length];
      boolean sawPositive = false;
      String[] record;
      while ((record = reader.next()) != null) {
        long line = reader.line();
        if (record.length != columns.size()) {
          throw new DataFormatException(file, line, null, "the row has " + record.length
              + " fields but the header has " + columns.size() + " columns");
        }
        for (int j = 0; j < numericIndex.length; j++) {
          numbers[j] = parseNumber(file, line, columns.get(numericIndex[j]), record[numericIndex[j]]);
        }
        for (int j = 0; j < categoricalIndex.length; j++) {
          String name = columns.get(categoricalIndex[j]);
          String value = requirePresent(file, line, name, record[categoricalIndex[j]]);
          if (allowed.get(j) != null && !allowed.get(j).contains(value)) {
            throw new DataFormatException(file, line, name, "unknown category '" + value
                + "'; allowed: " + (categorical.get(j).isDeclared()
                    ? categorical.get(j).allowedCategories()
                    : reader.declaredType(categoricalIndex[j]).nominalValues()));
          }
          categories[j] = value;
        }
        String label = requirePresent(file, line, schema.labelColumn(), record[labelIndex]);
        boolean positive = label.equals(schema.positiveClass());
        sawPositive |= positive;
        table.add(numbers, categories, positive);
      }
      if (table.rows() == 0) {
        throw DataFormatException.ofFile(file, "the file has a header but no data rows", null);
      }
      if (!sawPositive) {
        throw new DataFormatException(file, 0, schema.labelColumn(), "no row has the positive class '"
            + schema.positiveClass() + "' (check the job's positive class and the label spelling)");
      }
      return table.build();
    } catch (IOException e) {
      throw DataFormatException.ofFile(file, "cannot close the file: " + e.getMessage(), e);
    }
  }

  /**
   * Infers a schema for a demo or a first look: every column except the label is a feature. ARFF
   * columns take their declared type (nominal lists become declared category lists); a CSV column is
   * numeric when every value parses as a finite number, otherwise categorical with open categories.
   * Reads the whole file once, keeping only one flag per column.
   */
  public static DataSchema inferSchema(Path file, String labelColumn, String positiveClass)
      throws DataFormatException {
    try (RecordReader reader = open(file)) {
      List<String> columns = reader.columns();
      int labelIndex = requireColumn(file, columns, labelColumn, "label column");
      boolean[] numeric = new boolean[columns.size()];
      java.util.Arrays.fill(numeric, true);
      boolean sawPositive = false;
      long rows = 0;
      String[] record;
      while ((record = reader.next()) != null) {
        if (record.length != columns.size()) {
          throw new DataFormatException(file, reader.line(), null, "the row has " + record.length
              + " fields but the header has " + columns.size() + " columns");
        }
        for (int c = 0; c < record.length; c++) {
          String value = requirePresent(file, reader.line(), columns.get(c), record[c]);
          if (numeric[c] && !isFiniteNumber(value)) {
            numeric[c] = false;
          }
        }
        sawPositive |= record[labelIndex].equals(positiveClass);
        rows++;
      }
      if (rows == 0) {
        throw DataFormatException.ofFile(file, "the file has a header but no data rows", null);
      }
      if (!sawPositive) {
        throw new DataFormatException(file, 0, labelColumn,
            "no row has the positive class '" + positiveClass + "'");
      }
      List<String> numericColumns = new ArrayList<>();
      List<CategoricalColumn> categoricalColumns = new ArrayList<>();
      for (int c = 0; c < columns.size(); c++) {
        if (c == labelIndex) {
          continue;
        }
        DeclaredType type = reader.declaredType(c);
        switch (type.kind()) {
          case NUMERIC:
            numericColumns.add(columns.get(c));
            break;
          case NOMINAL:
            categoricalColumns.add(new CategoricalColumn(columns.get(c), type.nominalValues()));
            break;
          case TEXT:
            categoricalColumns.add(CategoricalColumn.open(columns.get(c)));
            break;
          default:
            if (numeric[c]) {
              numericColumns.add(columns.get(c));
            } else {
              categoricalColumns.add(CategoricalColumn.open(columns.get(c)));
            }
        }
      }
      return new DataSchema(numericColumns, categoricalColumns, labelColumn, positiveClass);
    } catch (IOException e) {
      throw DataFormatException.ofFile(file, "cannot close the file: " + e.getMessage(), e);
    }
  }

  static RecordReader open(Path file) throws DataFormatException {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean arff = name.endsWith(".arff");
    if (!arff && !name.endsWith(".csv")) {
      throw DataFormatException.ofFile(file, "unsupported file type (expected .csv or .arff)", null);
    }
    BufferedReader in;
    try {
      // A strict decoder: a file in another encoding fails loudly instead of loading mangled text.
      in = new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file),
          StandardCharsets.UTF_8.newDecoder()), 1 << 16);
    } catch (IOException e) {
      throw DataFormatException.ofFile(file, "cannot open the file: " + e, e);
    }
    try {
      return arff ? new ArffRecordReader(file, in) : new CsvRecordReader(file, in);
    } catch (DataFormatException | RuntimeException e) {
      closeQuietly(in, e);
      throw e;
    }
  }

  private static void closeQuietly(BufferedReader in, Exception primary) {
    try {
      in.close();
    } catch (IOException suppressed) {
      primary.addSuppressed(suppressed);
    }
  }

  private static int requireColumn(Path file, List<String> columns, String name, String role)
      throws DataFormatException {
    int index = columns.indexOf(name);
    if (index < 0) {
      throw new DataFormatException(file, 1, name,
          "the " + role + " is missing from the header; the file has " + columns);
    }
    return index;
  }

  private static String requirePresent(Path file, long line, String column, String value)
      throws DataFormatException {
    if (value == null) {
      throw new DataFormatException(file, line, column,
          "missing value (Consort does not impute: fill or drop this row before loading)");
    }
    return value;
  }

  private static double parseNumber(Path file, long line, String column, String value)
      throws DataFormatException {
    requirePresent(file, line, column, value);
    try {
      double d = Double.parseDouble(value);
      if (Double.isFinite(d)) {
        return d;
      }
    } catch (NumberFormatException e) {
      // reported below with the location
    }
    throw new DataFormatException(file, line, column,
        "value '" + value + "' is not a finite number but the column is numeric");
  }

  private static boolean isFiniteNumber(String value) {
    try {
      return Double.isFinite(Double.parseDouble(value));
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
