package io.consort.model.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Weka's ARFF format, dense rows only: {@code @relation}, {@code @attribute name type} with types
 * {@code numeric}/{@code real}/{@code integer}, nominal {@code {a, 'b c'}}, {@code string} or
 * {@code date}; then {@code @data} with comma-separated values that may be quoted with single or
 * double quotes (backslash escapes inside quotes). {@code %} starts a comment line. {@code ?} is a
 * missing value. Sparse rows ({@code {0 x, 3 y}}) and instance weights are refused.
 */
final class ArffRecordReader implements RecordReader {
  private final Path file;
  private final BufferedReader in;
  private final List<String> columns = new ArrayList<>();
  private final List<DeclaredType> types = new ArrayList<>();
  private long physicalLine;
  private long recordLine;

  ArffRecordReader(Path file, BufferedReader in) throws DataFormatException {
    this.file = file;
    this.in = in;
    readHeader();
  }

  private void readHeader() throws DataFormatException {
    String line;
    while ((line = readLine()) != null) {
      String trimmed = line.trim();
      if (trimmed.isEmpty() || trimmed.startsWith("%")) {
        continue;
      }
      String lower = trimmed.toLowerCase(Locale.ROOT);
      if (lower.startsWith("@relation")) {
        continue;
      }
      if (lower.startsWith("@data")) {
        if (columns.isEmpty()) {
          throw new DataFormatException(file, physicalLine, null, "@data before any @attribute");
        }
        return;
      }
      if (!lower.startsWith("@attribute")) {
        throw new DataFormatException(file, physicalLine, null,
            "expected @relation, @attribute or @data, found '" + abbreviate(trimmed) + "'");
      }
      List<String> nameAndType = tokenize(trimmed.substring("@attribute".length()).trim(), ' ', 2);
      if (nameAndType.size() < 2 || nameAndType.get(0) == null) {
        throw new DataFormatException(file, physicalLine, null,
            "an @attribute line needs a name and a type: '" + abbreviate(trimmed) + "'");
      }
      String name = nameAndType.get(0);
      if (columns.contains(name)) {
        throw new DataFormatException(file, physicalLine, name, "attribute declared twice");
      }
      columns.add(name);
      types.add(parseType(name, nameAndType.get(1).trim()));
    }
    throw DataFormatException.ofFile(file, "no @data section", null);
  }

  private DeclaredType parseType(String name, String type) throws DataFormatException {
    String lower = type.toLowerCase(Locale.ROOT);
    if (lower.equals("numeric") || lower.equals("real") || lower.equals("integer")) {
      return new DeclaredType(DeclaredType.Kind.NUMERIC, List.of());
    }
    if (lower.startsWith("string") || lower.startsWith("date")) {
      return new DeclaredType(DeclaredType.Kind.TEXT, List.of());
    }
    if (type.startsWith("{") && type.endsWith("}")) {
      List<String> values = tokenize(type.substring(1, type.length() - 1), ',', Integer.MAX_VALUE);
      if (values.contains(null)) {
        throw new DataFormatException(file, physicalLine, name, "a nominal value is empty or '?'");
      }
      return new DeclaredType(DeclaredType.Kind.NOMINAL, List.copyOf(values));
    }
    throw new DataFormatException(file, physicalLine, name,
        "unsupported attribute type '" + abbreviate(type) + "' (relational attributes are not supported)");
  }

  @Override
  public List<String> columns() {
    return columns;
  }

  @Override
  public DeclaredType declaredType(int column) {
    return types.get(column);
  }

  @Override
  public long line() {
    return recordLine;
  }

  @Override
  public String[] next() throws DataFormatException {
    String line;
    while ((line = readLine()) != null) {
      String trimmed = line.trim();
      if (trimmed.isEmpty() || trimmed.startsWith("%")) {
        continue;
      }
      recordLine = physicalLine;
      if (trimmed.startsWith("{")) {
        throw new DataFormatException(file, physicalLine, null, "sparse ARFF rows are not supported");
      }
      return tokenize(trimmed, ',', Integer.MAX_VALUE).toArray(new String[0]);
    }
    return null;
  }

  /**
   * Splits on {@code separator} outside quotes, at most {@code limit} parts (the last part keeps
   * the rest verbatim). Quoted tokens are unquoted and unescaped; unquoted tokens are trimmed;
   * {@code ?} and empty unquoted tokens become {@code null} (missing).
   */
  private List<String> tokenize(String text, char separator, int limit) throws DataFormatException {
    List<String> out = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (i <= n) {
      while (i < n && Character.isWhitespace(text.charAt(i)) && text.charAt(i) != separator) {
        i++;
      }
      if (out.size() == limit - 1) {
        out.add(text.substring(i));
        return out;
      }
      if (i < n && (text.charAt(i) == '\'' || text.charAt(i) == '"')) {
        char quote = text.charAt(i++);
        StringBuilder token = new StringBuilder();
        while (true) {
          if (i >= n) {
            throw new DataFormatException(file, physicalLine, null,
                "a quoted value is never closed: '" + abbreviate(text) + "'");
          }
          char ch = text.charAt(i++);
          if (ch == '\\' && i < n) {
            token.append(unescape(text.charAt(i++)));
          } else if (ch == quote) {
            break;
          } else {
            token.append(ch);
          }
        }
        out.add(token.toString());
        while (i < n && Character.isWhitespace(text.charAt(i)) && text.charAt(i) != separator) {
          i++;
        }
        if (i < n && text.charAt(i) != separator) {
          throw new DataFormatException(file, physicalLine, null,
              "unexpected text after a quoted value in '" + abbreviate(text) + "'");
        }
      } else {
        int end = i;
        while (end < n && text.charAt(end) != separator) {
          end++;
        }
        String token = text.substring(i, end).trim();
        out.add(token.isEmpty() || token.equals("?") ? null : token);
        i = end;
      }
      if (i >= n) {
        return out;
      }
      i++; // the separator
      if (separator == ' ') {
        while (i < n && text.charAt(i) == ' ') {
          i++;
        }
      }
    }
    return out;
  }

  private static char unescape(char ch) {
    switch (ch) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      default:
        return ch;
    }
  }

  private String readLine() throws DataFormatException {
    try {
      String line = in.readLine();
      if (line != null) {
        physicalLine++;
      }
      return line;
    } catch (IOException e) {
      throw new DataFormatException(file, physicalLine + 1, null, "cannot read the file: " + e, e);
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 80 ? text : text.substring(0, 77) + "...";
  }

  @Override
  public DataFormatException error(long position, String column, String problem) {
    return new DataFormatException(file, position, column, problem);
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
