package io.consort.model.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.commons.csv.CSVException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.QuoteMode;

/**
 * RFC 4180 CSV, parsed by Apache Commons CSV: a header row on the first line, fields separated by
 * commas (or semicolons, chosen by whichever occurs more often outside quotes in the header line),
 * fields optionally quoted with {@code "} and quotes inside doubled; quoted fields may span lines.
 * Unquoted fields are trimmed and an empty one is a missing value ({@code null}); a quoted field is
 * kept exactly, so {@code ""} is an empty text. A UTF-8 byte-order mark is skipped; lines end in
 * LF, CRLF or CR; blank (or whitespace-only) lines are skipped. Header names must be non-blank and
 * distinct.
 */
final class CsvRecordReader implements RecordReader {
  /** How far the header line is read ahead, and then re-read, to choose the delimiter. */
  private static final int HEADER_READ_AHEAD = 1 << 16;

  private final Path file;
  private final CSVParser parser;
  private final Iterator<CSVRecord> records;
  private final List<String> columns;
  private long recordLine;

  CsvRecordReader(Path file, BufferedReader in) throws DataFormatException {
    this.file = file;
    char delimiter = skipByteOrderMarkAndChooseDelimiter(in);
    try {
      this.parser = CSVParser.builder().setReader(in).setFormat(format(delimiter)).get();
    } catch (IOException e) {
      throw unreadable(1, e);
    }
    this.records = parser.iterator();
    this.columns = readHeader();
  }

  private static CSVFormat format(char delimiter) {
    return CSVFormat.RFC4180.builder()
        .setDelimiter(delimiter)
        // Trims unquoted fields only; a quoted field keeps its spaces.
        .setIgnoreSurroundingSpaces(true)
        // Blank lines come back as records (one missing field) so that every physical line is
        // counted by the parser and a record's first line is known; next() skips them.
        .setIgnoreEmptyLines(false)
        // In this mode the parser tells an empty unquoted field (null, a missing value) from a
        // quoted empty one ("").
        .setQuoteMode(QuoteMode.ALL_NON_NULL)
        .get();
  }

  /** Skips a byte-order mark, then peeks at the header line and leaves the reader before it. */
  private char skipByteOrderMarkAndChooseDelimiter(BufferedReader in) throws DataFormatException {
    try {
      in.mark(HEADER_READ_AHEAD);
      if (in.read() != '\uFEFF') {
        in.reset();
      }
      in.mark(HEADER_READ_AHEAD);
      String headerLine = in.readLine();
      in.reset();
      return headerLine == null ? ',' : chooseDelimiter(headerLine);
    } catch (IOException e) {
      throw unreadable(1, e);
    }
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

  private List<String> readHeader() throws DataFormatException {
    String[] header = nextRecord();
    if (header == null) {
      throw DataFormatException.ofFile(file, "the file is empty (expected a header row)", null);
    }
    // The loader reports header problems at line 1, so the header must be there.
    if (isBlankLine(header)) {
      throw new DataFormatException(file, 1, null, "the first line is blank (expected the header row)");
    }
    List<String> names = new ArrayList<>(header.length);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < header.length; i++) {
      String name = header[i];
      if (name == null || name.isBlank()) {
        throw new DataFormatException(file, 1, null, "header field " + (i + 1) + " is empty");
      }
      if (!seen.add(name)) {
        throw new DataFormatException(file, 1, name, "the header names this column twice");
      }
      names.add(name);
    }
    return List.copyOf(names);
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
    String[] fields;
    do {
      fields = nextRecord();
    } while (fields != null && isBlankLine(fields));
    return fields;
  }

  /** A blank or whitespace-only line, which the parser returns as one missing field. */
  private static boolean isBlankLine(String[] fields) {
    return fields.length == 1 && fields[0] == null;
  }

  /** The next record, blank lines included, with {@link #recordLine} set to its first line. */
  private String[] nextRecord() throws DataFormatException {
    // The parser has consumed whole lines so far (blank ones too), so the record starts on the next.
    long start = parser.getCurrentLineNumber() + 1;
    try {
      if (!records.hasNext()) {
        return null;
      }
      String[] fields = records.next().values();
      recordLine = start;
      return fields;
    } catch (UncheckedIOException e) {
      throw malformed(start, e.getCause());
    }
  }

  /** Translates the parser's failure into a message about the record starting on {@code start}. */
  private DataFormatException malformed(long start, IOException e) {
    if (!(e instanceof CSVException)) {
      return unreadable(start, e);
    }
    // Commons CSV signals every kind of bad input with one exception type; its message says which.
    String message = String.valueOf(e.getMessage());
    if (message.contains("EOF reached before encapsulated token finished")) {
      return new DataFormatException(file, start, null, "a quoted field is never closed", e);
    }
    if (message.contains("Invalid character between encapsulated token and delimiter")) {
      long found = parser.getCurrentLineNumber();
      return new DataFormatException(file, start, null, "unexpected text after a closing quote"
          + (found != start ? " on line " + found : "")
          + " (quote the whole field and double every quote inside it)", e);
    }
    return new DataFormatException(file, start, null, "malformed CSV: " + message, e);
  }

  private DataFormatException unreadable(long line, IOException e) {
    // The decoder runs ahead of the parser, so a bad byte lies at or after the line being parsed.
    String problem = e instanceof CharacterCodingException
        ? "cannot read the file: it is not valid UTF-8 at or after this line (" + e + ")"
        : "cannot read the file: " + e;
    return new DataFormatException(file, line, null, problem, e);
  }

  @Override
  public DataFormatException error(long position, String column, String problem) {
    return new DataFormatException(file, position, column, problem);
  }

  @Override
  public void close() throws IOException {
    parser.close();
  }
}
