package io.consort.model.data;

import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.data.RecordReader.DeclaredType;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Loads a bank's data (a CSV or ARFF file, or a SQL query over JDBC) against a {@link DataSchema}.
 *
 * <p>Records are streamed: each is validated and handed on (to a {@link Table}, or to whatever a
 * {@link RowConsumer} does with it), so memory is what the consumer keeps plus one record. A missing
 * value ({@code ?} in ARFF, an empty unquoted field in CSV, SQL NULL) or a value equal to one of the
 * column's declared sentinels is missing; the column's {@link Preprocessing} rules say whether that
 * is allowed (the fill itself comes later, from the federated statistics) or refused. Every error
 * names the source, the line (a query: the row) and the column.
 */
public final class DatasetLoader {
  private DatasetLoader() {}

  /**
   * One validated row, handed to a consumer. The arrays are reused for the next row: copy what you keep.
   */
  @FunctionalInterface
  public interface RowConsumer {
    /**
     * @param row the row's 0-based index in the source
     * @param numeric per numeric column (schema order), the value, or NaN when it is missing (or a sentinel)
     * @param categories per categorical column (schema order), the value, or null when it is missing (or a
     *     sentinel); a value outside a declared list arrives only when the column maps unseen values to "other"
     * @param label the row's label: 1 for the positive class and 0 otherwise, or for a numeric label
     *     ({@link DataSchema#isNumericLabel()}) its value clipped to the schema's bound
     */
    void accept(long row, double[] numeric, String[] categories, double label) throws DataFormatException;
  }

  /**
   * What one pass over a source found.
   *
   * @param digest SHA-256 over the rows' values, in order: equal for equal data, so a second pass can
   *     tell that the data changed, and a query's result has a version like a file's bytes
   * @param numericMissing per numeric column, the rows where it is missing
   * @param categoricalMissing per categorical column, the rows where it is missing
   */
  public record Scan(long rows, long positives, byte[] digest, long[] numericMissing, long[] categoricalMissing) {}

  /** Loads the rows of {@code file}, validating every schema column in every record. */
  public static Table load(Path file, DataSchema schema) throws DataFormatException {
    return load(DataSource.file(file), schema);
  }

  /** Loads the rows of {@code source}, validating every schema column in every record. */
  public static Table load(DataSource source, DataSchema schema) throws DataFormatException {
    String name = source instanceof DataSource.File f ? f.path().getFileName().toString() : source.name();
    Table.Builder table = new Table.Builder(schema, name);
    scan(source, schema, (row, numeric, categories, label) -> table.add(numeric, categories, label));
    return table.build();
  }

  /**
   * Reads {@code source} once, validating every record against {@code schema} and handing each to
   * {@code consumer}. After the last row: a source without rows, without a positive row (a class label),
   * or with a column missing in every row is refused.
   */
  public static Scan scan(DataSource source, DataSchema schema, RowConsumer consumer) throws DataFormatException {
    try (RecordReader reader = open(source)) {
      return new Scanner(source, schema, reader).run(consumer);
    } catch (IOException e) {
      throw source instanceof DataSource.File f
          ? DataFormatException.ofFile(f.path(), "cannot close the file: " + e.getMessage(), e)
          : DataFormatException.ofQuery(source.name(), 0, null, "cannot close the query: " + e.getMessage(), e);
    }
  }

  /** One pass: the columns found in the header, then every record. */
  private static final class Scanner {
    private final DataSource source;
    private final DataSchema schema;
    private final RecordReader reader;
    private final List<String> columns;
    private final int labelIndex;
    private final int[] numericIndex;
    private final int[] categoricalIndex;
    private final NumericRules[] numericRules;
    private final CategoricalRules[] categoricalRules;
    private final List<Set<String>> allowed = new ArrayList<>();
    private final List<List<String>> allowedLists = new ArrayList<>();

    Scanner(DataSource source, DataSchema schema, RecordReader reader) throws DataFormatException {
      this.source = source;
      this.schema = schema;
      this.reader = reader;
      this.columns = reader.columns();
      this.labelIndex = requireColumn(reader, source, schema.labelColumn(), "label column");
      numericIndex = new int[schema.numericColumns().size()];
      numericRules = new NumericRules[numericIndex.length];
      for (int j = 0; j < numericIndex.length; j++) {
        String name = schema.numericColumns().get(j);
        numericIndex[j] = requireColumn(reader, source, name, "numeric column");
        numericRules[j] = schema.numericRules(j);
        DeclaredType type = reader.declaredType(numericIndex[j]);
        if (type.kind() == DeclaredType.Kind.NOMINAL || type.kind() == DeclaredType.Kind.TEXT) {
          throw reader.error(0, name, "the schema declares this column numeric but the file declares it "
              + type.kind().name().toLowerCase(Locale.ROOT));
        }
      }
      List<CategoricalColumn> categorical = schema.categoricalColumns();
      categoricalIndex = new int[categorical.size()];
      categoricalRules = new CategoricalRules[categoricalIndex.length];
      for (int j = 0; j < categoricalIndex.length; j++) {
        CategoricalColumn column = categorical.get(j);
        categoricalIndex[j] = requireColumn(reader, source, column.name(), "categorical column");
        categoricalRules[j] = schema.categoricalRules(j);
        DeclaredType type = reader.declaredType(categoricalIndex[j]);
        // A declared list in the schema wins; otherwise an ARFF nominal list still constrains values.
        List<String> list = column.isDeclared() ? column.allowedCategories()
            : type.kind() == DeclaredType.Kind.NOMINAL ? type.nominalValues() : List.of();
        allowed.add(list.isEmpty() ? null : new HashSet<>(list));
        allowedLists.add(list);
      }
    }

    Scan run(RowConsumer consumer) throws DataFormatException {
      MessageDigest digest = sha256();
      ByteBuffer rowHashes = ByteBuffer.allocate(8 * 1024);
      double[] numbers = new double[numericIndex.length];
      String[] categories = new String[categoricalIndex.length];
      long[] numericMissing = new long[numericIndex.length];
      long[] categoricalMissing = new long[categoricalIndex.length];
      long rows = 0;
      long positives = 0;
      String[] record;
      while ((record = reader.next()) != null) {
        long line = reader.line();
        if (record.length != columns.size()) {
          throw reader.error(line, null, "the row has " + record.length + " fields but the header has "
              + columns.size() + " columns");
        }
        for (int j = 0; j < numericIndex.length; j++) {
          numbers[j] = number(line, j, record[numericIndex[j]]);
          if (Double.isNaN(numbers[j])) {
            numericMissing[j]++;
          }
        }
        for (int j = 0; j < categoricalIndex.length; j++) {
          categories[j] = category(line, j, record[categoricalIndex[j]]);
          if (categories[j] == null) {
            categoricalMissing[j]++;
          }
        }
        String label = record[labelIndex];
        if (label == null) {
          throw reader.error(line, schema.labelColumn(), "the label is missing (every row needs one; a row without "
              + "its outcome cannot be trained or evaluated on)");
        }
        double value;
        if (schema.isNumericLabel()) {
          value = parse(label);
          if (Double.isNaN(value)) {
            throw reader.error(line, schema.labelColumn(), "the label '" + label + "' is not a finite number, but the "
                + "job's label is numeric (it declares label_bound)");
          }
          value = schema.clipLabel(value);
        } else {
          value = label.equals(schema.positiveClass()) ? 1 : 0;
          positives += (long) value;
        }
        consumer.accept(rows, numbers, categories, value);
        rows++;
        if (!rowHashes.hasRemaining()) {
          digest.update(rowHashes.flip());
          rowHashes.clear();
        }
        rowHashes.putLong(rowHash(record));
      }
      digest.update(rowHashes.flip());
      if (rows == 0) {
        throw reader.error(0, null, source instanceof DataSource.Query ? "the query returned no rows"
            : "the file has a header but no data rows");
      }
      if (positives == 0 && !schema.isNumericLabel()) {
        throw reader.error(0, schema.labelColumn(), "no row has the positive class '" + schema.positiveClass()
            + "' (check the job's positive class and the label spelling)");
      }
      for (int j = 0; j < numericMissing.length; j++) {
        requireSomeValue(numericMissing[j], rows, schema.numericColumns().get(j));
      }
      for (int j = 0; j < categoricalMissing.length; j++) {
        requireSomeValue(categoricalMissing[j], rows, schema.categoricalColumns().get(j).name());
      }
      return new Scan(rows, positives, digest.digest(), numericMissing, categoricalMissing);
    }

    private void requireSomeValue(long missing, long rows, String column) throws DataFormatException {
      if (missing == rows) {
        throw reader.error(0, column, "the column is missing (empty, NULL or a sentinel) in every one of the "
            + rows + " rows; a bank cannot take part with a column it does not have");
      }
    }

    /** The value, or NaN when missing (a sentinel included) and the column's policy allows it. */
    private double number(long line, int j, String value) throws DataFormatException {
      String column = schema.numericColumns().get(j);
      if (value == null) {
        return missing(line, column, numericRules[j].imputation(), "missing value");
      }
      if (numericRules[j].textSentinels().contains(value)) {
        return missing(line, column, numericRules[j].imputation(), "value '" + value + "' is a sentinel for a "
            + "missing value");
      }
      double d = parse(value);
      if (Double.isNaN(d)) {
        throw reader.error(line, column, "value '" + value + "' is not a finite number but the column is numeric");
      }
      if (numericRules[j].isSentinel(d)) {
        return missing(line, column, numericRules[j].imputation(), "value '" + value + "' is a sentinel for a "
            + "missing value");
      }
      return d;
    }

    private String category(long line, int j, String value) throws DataFormatException {
      String column = schema.categoricalColumns().get(j).name();
      CategoricalRules rules = categoricalRules[j];
      if (value == null) {
        missing(line, column, rules.imputation(), "missing value");
        return null;
      }
      if (rules.sentinels().contains(value)) {
        missing(line, column, rules.imputation(), "value '" + value + "' is a sentinel for a missing value");
        return null;
      }
      if (allowed.get(j) != null && !allowed.get(j).contains(value) && !rules.unseenToOther()) {
        throw reader.error(line, column, "unknown category '" + value + "'; allowed: " + allowedLists.get(j)
            + " (or let the column map unseen categories to other)");
      }
      return value;
    }

    private double missing(long line, String column, Imputation policy, String what) throws DataFormatException {
      if (policy == Imputation.REFUSE) {
        throw reader.error(line, column, what + ", and the job refuses missing values in this column (its "
            + "missing policy is refuse; mean, median, most_frequent or constant would fill it)");
      }
      return Double.NaN;
    }
  }

  /**
   * A 64-bit hash of one record's fields, null and empty told apart; SHA-256 over these per-row hashes
   * is the scan's digest (hashing the row hashes instead of every field keeps a pass over millions of
   * rows cheap; the digest detects changed data, it is not a commitment against an adversary).
   */
  private static long rowHash(String[] record) {
    long h = 0x9E3779B97F4A7C15L;
    for (String field : record) {
      h = (h ^ (field == null ? 0x5bd1e995L : field.hashCode() + ((long) field.length() << 32))) * 0xBF58476D1CE4E5B9L;
      h ^= h >>> 31;
    }
    return h;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }

  /**
   * Infers a schema for a demo or a first look: every column except the label is a feature, typed as
   * {@link DataProfile} types it (ARFF columns take their declared type, a CSV column is numeric when
   * every present value is a finite number). No preprocessing rules: {@link DataProfile#proposedSchema}
   * proposes those.
   */
  public static DataSchema inferSchema(Path file, String labelColumn, String positiveClass)
      throws DataFormatException {
    DataProfile profile = DataProfile.of(DataSource.file(file), labelColumn, positiveClass);
    return profile.proposedSchema(DataProfile.Proposal.TYPES_ONLY);
  }

  static RecordReader open(Path file) throws DataFormatException {
    return open(DataSource.file(file));
  }

  static RecordReader open(DataSource source) throws DataFormatException {
    if (source instanceof DataSource.Query query) {
      return JdbcRecordReader.open(query);
    }
    Path file = ((DataSource.File) source).path();
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

  /**
   * The index of {@code name} among the source's columns: an exact match, or for a source that folds
   * case (SQL) the one column whose name matches regardless of case.
   */
  static int requireColumn(RecordReader reader, DataSource source, String name, String role)
      throws DataFormatException {
    List<String> columns = reader.columns();
    int index = columns.indexOf(name);
    if (index >= 0) {
      return index;
    }
    if (reader.foldsCase()) {
      for (int i = 0; i < columns.size(); i++) {
        if (columns.get(i).equalsIgnoreCase(name)) {
          if (index >= 0) {
            throw reader.error(1, name, "the " + role + " matches more than one column of the query regardless of "
                + "case: " + columns);
          }
          index = i;
        }
      }
      if (index >= 0) {
        return index;
      }
    }
    throw reader.error(source instanceof DataSource.Query ? 0 : 1, name, "the " + role + " is missing from the "
        + (source instanceof DataSource.Query ? "query's result; it returns " : "header; the file has ") + columns);
  }

  /** The value as a finite double, or NaN; the loader's parse ({@link Double#parseDouble}). */
  static double parse(String value) {
    try {
      double d = Double.parseDouble(value);
      return Double.isFinite(d) ? d : Double.NaN;
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }
}
