package io.consort.participant;

import io.consort.model.data.DataFormatException;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSource;
import io.consort.model.data.DatasetLoader;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.features.RefinedFeatureStats;
import java.io.IOException;
import java.util.Arrays;
import java.util.BitSet;

/**
 * A bank's rows for one job, never held as a table: every use streams them from the bank's file or
 * query again (validating each row as at the offer), so a bank with millions of rows keeps only what
 * each step needs: the labels and the split while it decides, the running sums while it computes
 * statistics, and then the rows encoded for training and evaluation (floats, the one copy).
 *
 * <p>The first reading fixes the data: its row digest ({@link DatasetLoader.Scan#digest}) is compared
 * on every later reading, and data that changed in between (a file rewritten, a query without a
 * stable order) is refused instead of being mixed with the split and statistics of the first.
 */
final class BankData {
  private final DataSource source;
  private final DataSchema schema;
  private final byte[] digest;
  private final int rows;
  private final BitSet test;

  private BankData(DataSource source, DataSchema schema, byte[] digest, int rows, BitSet test) {
    this.source = source;
    this.schema = schema;
    this.digest = digest;
    this.rows = rows;
    this.test = test;
  }

  /**
   * Reads the bank's data once against {@code schema} and decides which rows it holds out ({@link
   * BankSplit}).
   *
   * @throws DataFormatException naming the source, row and column of the first thing wrong with the data
   */
  static BankData open(ParticipantConfig config, DataSchema schema) throws DataFormatException, IOException {
    DataSource source = config.dataSource();
    BitSet positives = new BitSet();
    DatasetLoader.Scan scan = DatasetLoader.scan(source, schema, (row, numeric, categories, label) -> {
      if (row >= Integer.MAX_VALUE) {
        throw error(source, "more than " + Integer.MAX_VALUE + " rows; split the data");
      }
      // the split is stratified by class; a numeric label has none
      if (positive(schema, label)) {
        positives.set((int) row);
      }
    });
    int rows = (int) scan.rows();
    byte[] version = source instanceof DataSource.File f ? BankSplit.dataVersion(f.path()) : scan.digest();
    BitSet test;
    try {
      test = BankSplit.testRows(config, positives, rows, version);
    } catch (IllegalArgumentException e) {
      throw error(source, e.getMessage());
    }
    return new BankData(source, schema, scan.digest(), rows, test);
  }

  long trainRows() {
    return rows - test.cardinality();
  }

  long testRows() {
    return test.cardinality();
  }

  /** First-stage statistics of the training rows. */
  LocalFeatureStats firstStatistics() throws DataFormatException {
    LocalFeatureStats.Accumulator acc = new LocalFeatureStats.Accumulator(schema);
    pass((row, numeric, categories, label) -> {
      if (!test.get((int) row)) {
        acc.add(numeric, categories, positive(schema, label));
      }
    });
    return acc.result();
  }

  /** Second-stage statistics of the training rows against the first stage's encoding. */
  RefinedFeatureStats secondStatistics(FeatureEncoding preliminary) throws DataFormatException {
    RefinedFeatureStats.Accumulator acc = new RefinedFeatureStats.Accumulator(preliminary);
    pass((row, numeric, categories, label) -> {
      if (!test.get((int) row)) {
        acc.add(numeric, categories, positive(schema, label));
      }
    });
    return acc.result();
  }

  /** The training and held-out rows, encoded: the only copy of the rows the bank keeps for the job. */
  Encoded encode(FeatureEncoding encoding) throws DataFormatException {
    int features = encoding.featureCount();
    int trainRows = (int) trainRows();
    int testRows = (int) testRows();
    float[] trainX = new float[Math.multiplyExact(trainRows, features)];
    float[] trainY = new float[trainRows];
    float[] testX = new float[Math.multiplyExact(testRows, features)];
    float[] testY = new float[testRows];
    int[] next = new int[2];
    pass((row, numeric, categories, label) -> {
      boolean held = test.get((int) row);
      int i = next[held ? 1 : 0]++;
      try {
        encoding.encodeRow(numeric, categories, held ? testX : trainX, i * features);
      } catch (IllegalArgumentException e) {
        throw error(source, "row " + (row + 1) + ": " + e.getMessage());
      }
      (held ? testY : trainY)[i] = (float) label;
    });
    return new Encoded(new EncodedData(trainRows, features, trainX, trainY),
        new EncodedData(testRows, features, testX, testY));
  }

  /** The job's encoded rows. */
  record Encoded(EncodedData train, EncodedData test) {}

  /** One more reading of the same data: refused if it is not the data of the first. */
  private void pass(DatasetLoader.RowConsumer consumer) throws DataFormatException {
    DatasetLoader.Scan scan = DatasetLoader.scan(source, schema, (row, numeric, categories, label) -> {
      if (row < rows) {
        consumer.accept(row, numeric, categories, label);
      }
    });
    if (scan.rows() != rows || !Arrays.equals(scan.digest(), digest)) {
      throw error(source, "the data changed since this bank accepted the job (" + scan.rows() + " rows now, "
          + rows + " then" + (source instanceof DataSource.Query ? "; a query must return the same rows in the same "
          + "order every time, e.g. with ORDER BY a key" : "") + "); the bank does not mix two versions of its data");
    }
  }

  /** Whether a row's label (as {@link DatasetLoader.RowConsumer} gives it) is the positive class. */
  private static boolean positive(DataSchema schema, double label) {
    return !schema.isNumericLabel() && label == 1;
  }

  private static DataFormatException error(DataSource source, String problem) {
    return source instanceof DataSource.File f ? DataFormatException.ofFile(f.path(), problem, null)
        : DataFormatException.ofQuery(source.name(), 0, null, problem, null);
  }
}
