package io.consort.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CSV reader on its own (fields, missing values, the line each record starts on) and, through
 * {@link DatasetLoader}, the exact message for each kind of bad CSV.
 */
class CsvRecordReaderTest {
  @TempDir Path dir;

  private static final DataSchema LOANS = DatasetLoaderTest.LOANS;
  private static final String HEADER = "age,amount,purpose,region,default\n";

  /** One record as the reader returned it, with the line it starts on. */
  private record Read(long line, List<String> fields) {}

  private Path write(String name, String content) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }

  private List<Read> readAll(Path file) throws Exception {
    List<Read> out = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        CsvRecordReader reader = new CsvRecordReader(file, in)) {
      String[] record;
      while ((record = reader.next()) != null) {
        out.add(new Read(reader.line(), Arrays.asList(record)));
      }
    }
    return out;
  }

  private static Read read(long line, String... fields) {
    return new Read(line, Arrays.asList(fields));
  }

  /**
   * Writes {@code content} as {@code name}, loads it with the LOANS schema and checks the whole
   * message: the file's path, then {@code afterPath}. Returns the failure for further checks.
   */
  private DataFormatException assertLoadFails(String name, String content, String afterPath)
      throws Exception {
    Path file = write(name, content);
    DataFormatException e =
        assertThrows(DataFormatException.class, () -> DatasetLoader.load(file, LOANS));
    assertEquals(file + afterPath, e.getMessage());
    return e;
  }

  @Test
  void reportsTheLineEachRecordStartsOn_whenAQuotedFieldSpansLines() throws Exception {
    Path file = write("multi.csv", "id,note,n\n1,\"first\nsecond, \"\"third\"\"\n\",3\n2,plain,4\n");
    assertEquals(List.of(read(2, "1", "first\nsecond, \"third\"\n", "3"), read(5, "2", "plain", "4")),
        readAll(file));
  }

  @Test
  void skipsTheByteOrderMark_whenTheFileStartsWithOne() throws Exception {
    Path file = write("bom.csv", "\uFEFF" + HEADER + "30,100,car,N,yes\n");
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        CsvRecordReader reader = new CsvRecordReader(file, in)) {
      assertEquals(List.of("age", "amount", "purpose", "region", "default"), reader.columns());
    }
    assertEquals(30.0, DatasetLoader.load(file, LOANS).numeric(0, 0));
  }

  @Test
  void readsCrlfAndCrLineEndings_withoutKeepingTheCarriageReturn() throws Exception {
    Path file = write("crlf.csv", "a,b\r\n1,2\r\n\r\n3,\"x\r\ny\"\r\n4,5\r6,7\r\n");
    assertEquals(List.of(read(2, "1", "2"), read(4, "3", "x\r\ny"), read(6, "4", "5"),
        read(7, "6", "7")), readAll(file));
  }

  @Test
  void skipsBlankAndWhitespaceOnlyLines_andStillCountsThem() throws Exception {
    Path file = write("blank.csv", "a,b\n\n1,2\n  \t\n\n3,4\n\n\n");
    assertEquals(List.of(read(3, "1", "2"), read(6, "3", "4")), readAll(file));
  }

  @Test
  void readsTheLastRecord_whenTheFileHasNoTrailingNewline() throws Exception {
    assertEquals(List.of(read(2, "1", "2"), read(3, "3", "4")),
        readAll(write("open.csv", "a,b\n1,2\n3,4")));
    assertEquals(List.of(read(2, "1", "multi\nline")),
        readAll(write("openquote.csv", "a,b\n1,\"multi\nline\"")));
  }

  @Test
  void tellsAMissingValueFromAQuotedEmptyText_andKeepsQuotedSpaces() throws Exception {
    Path file = write("empty.csv", "a,b,c,d,e\n, \"\" ,  x  ,\"  y  \",\n");
    List<Read> records = readAll(file);
    assertEquals(List.of(read(2, null, "", "x", "  y  ", null)), records);
  }

  @Test
  void keepsCommasAndDoubledQuotes_whenAFieldIsQuoted() throws Exception {
    Path file = write("quoted.csv", "a,b\n\"North, upper\",\"say \"\"hi\"\"\"\n");
    assertEquals(List.of(read(2, "North, upper", "say \"hi\"")), readAll(file));
  }

  @Test
  void keepsAQuoteInsideAnUnquotedField_asAnOrdinaryCharacter() throws Exception {
    // Commons CSV (like spreadsheet programs) reads a quote that does not open a field literally.
    Path file = write("inch.csv", "a,b\n15\" screen,1\n");
    assertEquals(List.of(read(2, "15\" screen", "1")), readAll(file));
  }

  @Test
  void splitsOnSemicolons_whenTheHeaderHasMoreOfThemOutsideQuotes() throws Exception {
    Path file = write("eu.csv", "\"a,b\";c;d\n1,5;x;\"y;z\"\n");
    assertEquals(List.of(read(2, "1,5", "x", "y;z")), readAll(file));
  }

  @Test
  void loadsEveryHappyPathTogether_whenTheFileHasBomCrlfBlankLinesAndQuotedNewlines()
      throws Exception {
    Path file = write("happy.csv", "\uFEFF" + HEADER.replace("\n", "\r\n")
        + "30,100,car,\"North,\r\nupper\",no\r\n\r\n"
        + "41,2.5,\"radio/tv\",\"say \"\"hi\"\"\",yes");
    Table table = DatasetLoader.load(file, LOANS);
    assertEquals(List.of("North,\r\nupper", "say \"hi\""), table.observedCategories(1));
    assertEquals(List.of(100.0, 2.5), List.of(table.numeric(1, 0), table.numeric(1, 1)));
    assertEquals(List.of(false, true), List.of(table.isPositive(0), table.isPositive(1)));
  }

  @Test
  void reportsTheLineTheRecordStarts_whenAQuoteIsNeverClosed() throws Exception {
    assertLoadFails("unclosed.csv",
        HEADER + "30,100,car,\"N\nS\",no\n31,1,car,\"S,yes\n32,1,car,S,no\n",
        " line 4: a quoted field is never closed");
  }

  @Test
  void reportsTheRecordAndTheLine_whenTextFollowsAClosingQuote() throws Exception {
    assertLoadFails("after.csv", HEADER + "30,100,car,\"N\"x,no\n",
        " line 2: unexpected text after a closing quote"
            + " (quote the whole field and double every quote inside it)");
    assertLoadFails("after2.csv", HEADER + "30,100,car,\"North\nupper\" x,no\n",
        " line 2: unexpected text after a closing quote on line 3"
            + " (quote the whole field and double every quote inside it)");
  }

  @Test
  void reportsTheLineTheRecordStarts_whenARecordAfterAMultiLineFieldHasTooFewFields()
      throws Exception {
    assertLoadFails("ragged.csv", HEADER + "30,100,car,\"North\nupper\",no\n\n31,1,car,yes\n",
        " line 5: the row has 4 fields but the header has 5 columns");
  }

  @Test
  void reportsTheFieldCount_whenARecordHasTooManyFields() throws Exception {
    assertLoadFails("wide.csv", HEADER + "30,100,car,N,yes,extra\n",
        " line 2: the row has 6 fields but the header has 5 columns");
  }

  @Test
  void namesTheColumnAndTheHeader_whenASchemaColumnIsMissing() throws Exception {
    assertLoadFails("nolabel.csv", "age,amount,purpose,region\n30,100,car,N\n",
        " line 1, column 'default': the label column is missing from the header;"
            + " the file has [age, amount, purpose, region]");
  }

  @Test
  void refusesTheFile_whenItIsEmptyOrHoldsOnlyAByteOrderMark() throws Exception {
    assertLoadFails("empty.csv", "", ": the file is empty (expected a header row)");
    assertLoadFails("bom-only.csv", "\uFEFF", ": the file is empty (expected a header row)");
  }

  @Test
  void refusesTheFile_whenTheFirstLineIsBlank() throws Exception {
    assertLoadFails("late-header.csv", "\n" + HEADER + "30,100,car,N,yes\n",
        " line 1: the first line is blank (expected the header row)");
    assertLoadFails("spaces.csv", "   \r\n",
        " line 1: the first line is blank (expected the header row)");
  }

  @Test
  void refusesTheFile_whenItHasAHeaderButNoRows() throws Exception {
    assertLoadFails("header-only.csv", HEADER + "\n\n", ": the file has a header but no data rows");
  }

  @Test
  void namesTheColumn_whenTheHeaderNamesItTwice() throws Exception {
    DataFormatException e = assertLoadFails("twice.csv",
        "age,amount,purpose,age,region,default\n1,2,car,3,N,yes\n",
        " line 1, column 'age': the header names this column twice");
    assertEquals(Optional.of(1L), e.line());
    assertEquals(Optional.of("age"), e.column());
  }

  @Test
  void numbersTheField_whenAHeaderNameIsEmptyOrBlank() throws Exception {
    assertLoadFails("noname.csv", "age,,purpose,region,default\n1,2,car,N,yes\n",
        " line 1: header field 2 is empty");
    assertLoadFails("blankname.csv", "age,amount,purpose,region,\"  \"\n1,2,car,N,yes\n",
        " line 1: header field 5 is empty");
    assertLoadFails("trailing.csv", "age,amount,purpose,region,default,\n1,2,car,N,yes,\n",
        " line 1: header field 6 is empty");
  }

  @Test
  void namesTheLineAndColumn_whenAnUnquotedFieldIsEmpty() throws Exception {
    assertLoadFails("missing.csv", HEADER + "30,100,car,N,no\n\n31,  ,car,N,yes\n",
        " line 4, column 'amount': missing value, and the job refuses missing values in this column (its"
            + " missing policy is refuse; mean, median, most_frequent or constant would fill it)");
  }

  @Test
  void saysTheFileIsNotUtf8_whenItHoldsAnotherEncoding() throws Exception {
    Path file = dir.resolve("latin1.csv");
    Files.write(file, (HEADER + "30,1,car,M\u00fcnchen,yes\n").getBytes(StandardCharsets.ISO_8859_1));
    DataFormatException e =
        assertThrows(DataFormatException.class, () -> DatasetLoader.load(file, LOANS));
    assertEquals(file + " line 1: cannot read the file: it is not valid UTF-8 at or after this line"
        + " (java.nio.charset.MalformedInputException: Input length = 1)", e.getMessage());
  }

  @Test
  void returnsNullAtTheEnd_andKeepsReturningIt() throws Exception {
    Path file = write("end.csv", "a,b\n1,2\n");
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        CsvRecordReader reader = new CsvRecordReader(file, in)) {
      assertArrayEquals(new String[] {"1", "2"}, reader.next());
      assertNull(reader.next());
      assertNull(reader.next());
      assertEquals(2, reader.line());
    }
  }
}
