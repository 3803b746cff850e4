package io.consort.scoring.rows;

import io.consort.model.data.DataFormatException;
import io.consort.model.data.RecordStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The rows of a bank's CSV (or ARFF) file, parsed with exactly the rules a bank's training data is
 * loaded with ({@link RecordStream}); positions are the physical line a record starts on.
 */
public final class CsvRowSource implements RowSource {
  private final Path file;
  private final RecordStream records;

  private CsvRowSource(Path file, RecordStream records) {
    this.file = file;
    this.records = records;
  }

  /** @throws IOException naming the file when it cannot be opened or its header is bad */
  public static CsvRowSource open(Path file) throws IOException {
    try {
      return new CsvRowSource(file, RecordStream.open(file));
    } catch (DataFormatException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public String name() {
    return file.toString();
  }

  @Override
  public String positionName() {
    return "line";
  }

  @Override
  public List<String> columns() {
    return records.columns();
  }

  @Override
  public String[] next() throws IOException {
    try {
      return records.next();
    } catch (DataFormatException e) {
      throw new IOException(e.getMessage() + " (no later row of the file is read)", e);
    }
  }

  @Override
  public long position() {
    return records.line();
  }

  @Override
  public void close() throws IOException {
    records.close();
  }
}
