package io.consort.model.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 4180 CSV: a header row, fields separated by commas (or semicolons, chosen by whichever occurs
 * more often outside quotes in the header line), fields optionally quoted with {@code "} and quotes
 * inside doubled; quoted fields may span lines. Unquoted fields are trimmed; an empty field is a
 * missing value. A UTF-8 byte-order mark is skipped.
 */
final class CsvRecordReader implements RecordReader {
  private final Path file;
  private final BufferedReader in;
  private final char delimiter;
  private final List<String> columns;
  private final StringBuilder field = new StringBuilder();
  private long physicalLine = 1;
  private long recordLine;

  CsvRecordReader(Path file, BufferedReader in) throws DataFormatException {
    this.file = file;
    this.in = in;
    try {
      in.mark(1 << 16);
      int first = in.read();
      if (first != '\uFEFF') {
        in.reset();
        in.mark(1 << 16);
      } else {
        in.mark(1 << 16);
      }
      String headerLine = in.readLine();
      in.reset();
      if (headerLine == null) {
        throw DataFormatException.ofFile(file, "the file is empty (expected a header row)", null);
      }
      this.delimiter = chooseDelimiter(headerLine);
    } catch (IOException e) {
      throw DataFormatException.ofFile(file, "cannot read the file: " + e.getMessage(), e);
    }
    String[] header = next();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < header.length; i++) {
      if (header[i] == null) {
        throw new DataFormatException(file, 1, null, "header field " + (i + 1) + " is empty");
      }
      if (names.contains(header[i])) {
        throw new DataFormatException(file, 1, header[i], "the header names this column twice");
      }
      names.add(header[i]);
    }
    this.columns = List.copyOf(names);
  }

  private static char chooseDelimiter(String line) {
    int commas = 0;
    int semicolons = 0;
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char ch = line.charAt(i);
      if (ch == '"') {
        quoted = !quoted;
      } else if (!quoted && ch == ',') {
        commas++;
      } else if (!quoted && ch == ';') {
        semicolons++;
      }
    }
    return semicolons > commas ? ';' : ',';
  }

  @Override
  public List<String> columns() {
    return columns;
  }

  @Override
  public DeclaredType declaredType(int column) {
    return DeclaredType.UNDECLARED;
  }

  @Override
  public long line() {
    return recordLine;
  }

  @Override
  public String[] next() throws DataFormatException {
    try {
      int ch = in.read();
      // Blank lines between records carry no data; skip them rather than report a ragged row.
      while (ch == '\n' || ch == '\r') {
        endLine(ch);
        ch = in.read();
      }
      if (ch < 0) {
        return null;
      }
      recordLine = physicalLine;
      List<String> fields = new ArrayList<>();
      while (true) {
        field.setLength(0);
        boolean wasQuoted = false;
        if (ch == '"') {
          wasQuoted = true;
          ch = readQuoted();
          // After the closing quote only a delimiter or the end of the record may follow.
          while (ch == ' ' || ch == '\t') {
            ch = in.read();
          }
          if (ch != delimiter && ch != '\n' && ch != '\r' && ch >= 0) {
            throw new DataFormatException(file, physicalLine, columnName(fields.size()),
                "unexpected character '" + (char) ch + "' after a closing quote");
          }
        } else {
          while (ch != delimiter && ch != '\n' && ch != '\r' && ch >= 0) {
            if (ch == '"') {
              throw new DataFormatException(file, physicalLine, columnName(fields.size()),
                  "a quote inside an unquoted field (quote the whole field and double the quote)");
            }
            field.append((char) ch);
            ch = in.read();
          }
        }
        String value = wasQuoted ? field.toString() : field.toString().trim();
        fields.add(value.isEmpty() && !wasQuoted ? null : value);
        if (ch == delimiter) {
          ch = in.read();
          continue;
        }
        if (ch == '\n' || ch == '\r') {
          endLine(ch);
        }
        return fields.toArray(new String[0]);
      }
    } catch (IOException e) {
      throw new DataFormatException(file, physicalLine, null, "cannot read the file: " + e, e);
    }
  }

  private int readQuoted() throws IOException, DataFormatException {
    long start = physicalLine;
    while (true) {
      int ch = in.read();
      if (ch < 0) {
        throw new DataFormatException(file, start, null, "a quoted field is never closed");
      }
      if (ch == '"') {
        int after = in.read();
        if (after != '"') {
          return after;
        }
      } else if (ch == '\n') {
        physicalLine++;
      }
      field.append((char) ch);
    }
  }

  /** Completes a line ending (\n, \r or \r\n) whose first character {@code ch} was read. */
  private void endLine(int ch) throws IOException {
    physicalLine++;
    if (ch == '\r') {
      in.mark(1);
      if (in.read() != '\n') {
        in.reset();
      }
    }
  }

  private String columnName(int index) {
    return columns != null && index < columns.size() ? columns.get(index) : "#" + (index + 1);
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
