package io.consort.model.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema.CategoricalColumn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetLoaderTest {
  @TempDir Path dir;

  static final DataSchema LOANS = new DataSchema(
      List.of("age", "amount"),
      List.of(new CategoricalColumn("purpose", List.of("car", "home", "radio/tv")),
          CategoricalColumn.open("region")),
      "default", "yes");

  private Path write(String name, String content) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }

  private DataFormatException failure(String name, String content, DataSchema schema)
      throws Exception {
    Path file = write(name, content);
    DataFormatException e =
        assertThrows(DataFormatException.class, () -> DatasetLoader.load(file, schema));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    return e;
  }

  @Test
  void loadsQuotedFieldsAndIgnoresExtraColumns_whenCsvFollowsRfc4180() throws Exception {
    Path file = write("loans.csv", "id,age,amount,purpose,region,default\n"
        + "1,34,1000.5,car,\"North, upper\",no\r\n"
        + "2, 51 ,2e3,\"radio/tv\",\"say \"\"hi\"\"\",yes\n"
        + "\n"
        + "3,29,700,home,\"multi\nline\",no\n");
    Table table = DatasetLoader.load(file, LOANS);

    assertEquals(3, table.rows());
    assertEquals(1, table.positives());
    assertEquals(2000.0, table.numeric(1, 1));
    assertEquals("North, upper", table.category(1, 0));
    assertEquals("say \"hi\"", table.category(1, 1));
    assertEquals("multi\nline", table.category(1, 2));
    assertEquals("radio/tv", table.category(0, 1));
    assertTrue(table.isPositive(1));
  }

  @Test
  void detectsSemicolons_whenTheHeaderUsesThem() throws Exception {
    Path file = write("eu.csv", "age;amount;purpose;region;default\n40;1,5e3;car;South;yes\n");
    DataFormatException e =
        assertThrows(DataFormatException.class, () -> DatasetLoader.load(file, LOANS));
    // "1,5e3" is a decimal comma: not a number, and said so with its location.
    assertTrue(e.getMessage().contains("line 2, column 'amount'"), e.getMessage());

    Files.writeString(file, "age;amount;purpose;region;default\n40;1500;car;South;yes\n");
    assertEquals(1500.0, DatasetLoader.load(file, LOANS).numeric(1, 0));
  }

  @Test
  void reportsFileAndColumn_whenTheLabelColumnIsMissing() throws Exception {
    DataFormatException e = failure("nolabel.csv", "age,amount,purpose,region\n1,2,car,N\n", LOANS);
    assertEquals(Optional.of("default"), e.column());
    assertTrue(e.getMessage().contains("label column is missing"), e.getMessage());
  }

  @Test
  void reportsLineColumnAndValue_whenANumericColumnHoldsText() throws Exception {
    DataFormatException e = failure("text.csv",
        "age,amount,purpose,region,default\n30,100,car,N,no\n31,lots,car,N,yes\n", LOANS);
    assertEquals(Optional.of(3L), e.line());
    assertEquals(Optional.of("amount"), e.column());
    assertTrue(e.getMessage().contains("'lots'"), e.getMessage());
  }

  @Test
  void rejectsNonFiniteNumbers() throws Exception {
    DataFormatException e = failure("nan.csv",
        "age,amount,purpose,region,default\n30,NaN,car,N,yes\n", LOANS);
    assertTrue(e.getMessage().contains("line 2, column 'amount': value 'NaN'"), e.getMessage());
  }

  @Test
  void reportsTheValueAndAllowedList_whenACategoryIsNotDeclared() throws Exception {
    DataFormatException e = failure("cat.csv",
        "age,amount,purpose,region,default\n30,100,car,N,no\n30,100,boat,N,yes\n", LOANS);
    assertEquals(Optional.of(3L), e.line());
    assertEquals(Optional.of("purpose"), e.column());
    assertTrue(e.getMessage().contains("unknown category 'boat'"), e.getMessage());
    assertTrue(e.getMessage().contains("[car, home, radio/tv]"), e.getMessage());
  }

  @Test
  void refusesTheFile_whenThePositiveClassNeverOccurs() throws Exception {
    DataFormatException e = failure("nopos.csv",
        "age,amount,purpose,region,default\n30,100,car,N,no\n30,100,car,N,No\n", LOANS);
    assertEquals(Optional.of("default"), e.column());
    assertTrue(e.getMessage().contains("positive class 'yes'"), e.getMessage());
  }

  @Test
  void refusesTheFile_whenItHasNoRows() throws Exception {
    DataFormatException e = failure("empty.csv", "age,amount,purpose,region,default\n", LOANS);
    assertTrue(e.getMessage().contains("no data rows"), e.getMessage());
    DataFormatException nothing = failure("nothing.csv", "", LOANS);
    assertTrue(nothing.getMessage().contains("empty"), nothing.getMessage());
  }

  @Test
  void reportsTheLine_whenARowIsRagged() throws Exception {
    DataFormatException e = failure("ragged.csv",
        "age,amount,purpose,region,default\n30,100,car,N,no\n30,100,car,yes\n", LOANS);
    assertEquals(Optional.of(3L), e.line());
    assertTrue(e.getMessage().contains("4 fields but the header has 5"), e.getMessage());
  }

  @Test
  void reportsTheLine_whenAQuoteIsNeverClosed() throws Exception {
    DataFormatException e = failure("quote.csv",
        "age,amount,purpose,region,default\n30,100,car,\"N,no\n31,1,car,S,yes\n", LOANS);
    assertEquals(Optional.of(2L), e.line());
    assertTrue(e.getMessage().contains("never closed"), e.getMessage());
  }

  @Test
  void refusesMissingValues_whenACsvFieldIsEmpty() throws Exception {
    DataFormatException e = failure("missing.csv",
        "age,amount,purpose,region,default\n30,,car,N,yes\n", LOANS);
    assertTrue(e.getMessage().contains("line 2, column 'amount': missing value"), e.getMessage());
  }

  @Test
  void reportsAnUnreadableFile() {
    Path absent = dir.resolve("absent.csv");
    DataFormatException e =
        assertThrows(DataFormatException.class, () -> DatasetLoader.load(absent, LOANS));
    assertTrue(e.getMessage().startsWith(absent + ": cannot open"), e.getMessage());
  }

  @Test
  void reportsInvalidUtf8_asUnreadable() throws Exception {
    Path file = dir.resolve("latin1.csv");
    Files.write(file, "age,amount,purpose,region,default\n30,1,car,M\u00fcnchen,yes\n"
        .getBytes(StandardCharsets.ISO_8859_1));
    DataFormatException e =
        assertThrows(DataFormatException.class, () -> DatasetLoader.load(file, LOANS));
    assertTrue(e.getMessage().contains("cannot read"), e.getMessage());
  }

  @Test
  void refusesOtherFileTypes() throws Exception {
    DataFormatException e = failure("loans.xlsx", "whatever", LOANS);
    assertTrue(e.getMessage().contains("expected .csv or .arff"), e.getMessage());
  }

  private static final String ARFF = "% a comment\n@relation loans\n"
      + "@attribute age numeric\n@attribute 'amount' real\n"
      + "@attribute purpose {car, home, 'radio/tv'}\n@attribute region string\n"
      + "@attribute default {yes, no}\n@data\n";

  @Test
  void loadsArffWithQuotedValues() throws Exception {
    Path file = write("loans.arff", ARFF + "30, 100, 'radio/tv', 'North, upper', yes\n"
        + "% between rows\n41,2.5,car,\"say \\\"x\\\"\",no\n");
    Table table = DatasetLoader.load(file, LOANS);
    assertEquals(2, table.rows());
    assertEquals("North, upper", table.category(1, 0));
    assertEquals("say \"x\"", table.category(1, 1));
    assertEquals(2.5, table.numeric(1, 1));
  }

  @Test
  void refusesArffMissingValues_withLineAndColumn() throws Exception {
    DataFormatException e = failure("missing.arff", ARFF + "30,100,car,N,yes\n30,?,car,N,no\n",
        LOANS);
    assertEquals(Optional.of(10L), e.line());
    assertEquals(Optional.of("amount"), e.column());
    assertTrue(e.getMessage().contains("missing value"), e.getMessage());
  }

  @Test
  void refusesValuesOutsideTheArffNominalList_whenTheSchemaDeclaresNone() throws Exception {
    DataSchema open = new DataSchema(List.of("age"), List.of(CategoricalColumn.open("purpose")),
        "default", "yes");
    DataFormatException e = failure("nominal.arff", ARFF + "30,100,boat,N,yes\n", open);
    assertTrue(e.getMessage().contains("column 'purpose': unknown category 'boat'"),
        e.getMessage());
  }

  @Test
  void refusesANumericSchemaColumn_whenTheArffDeclaresItNominal() throws Exception {
    DataSchema wrong = new DataSchema(List.of("purpose"), List.of(), "default", "yes");
    DataFormatException e = failure("types.arff", ARFF + "30,100,car,N,yes\n", wrong);
    assertTrue(e.getMessage().contains("column 'purpose'"), e.getMessage());
  }

  @Test
  void infersNumericAndCategoricalColumnsFromCsv() throws Exception {
    Path file = write("infer.csv", "age,zip,grade,default\n30,01234,A,yes\n40,9,B,no\n");
    DataSchema schema = DatasetLoader.inferSchema(file, "default", "yes");
    assertEquals(List.of("age", "zip"), schema.numericColumns());
    assertEquals(List.of(CategoricalColumn.open("grade")), schema.categoricalColumns());
    DataFormatException e = assertThrows(DataFormatException.class,
        () -> DatasetLoader.inferSchema(file, "outcome", "yes"));
    assertTrue(e.getMessage().contains("column 'outcome'"), e.getMessage());
  }

  @Test
  void infersTypesFromTheArffHeader() throws Exception {
    Path file = write("infer.arff", ARFF + "30,100,car,N,yes\n");
    DataSchema schema = DatasetLoader.inferSchema(file, "default", "yes");
    assertEquals(List.of("age", "amount"), schema.numericColumns());
    assertEquals(new CategoricalColumn("purpose", List.of("car", "home", "radio/tv")),
        schema.categoricalColumns().get(0));
    assertFalse(schema.categoricalColumns().get(1).isDeclared());
  }

  @Test
  void loadsTheBundledGermanCredit() {
    Datasets.BundledDataset german = Datasets.germanCredit();
    assertEquals(7, german.schema().numericColumns().size());
    assertEquals(13, german.schema().categoricalColumns().size());
    Table table = assertDoesNotThrowLoad(german);
    assertEquals(1000, table.rows());
    assertEquals(300, table.positives());
  }

  private static final DataSchema RULES = LOANS.withPreprocessing(new Preprocessing(
      java.util.Map.of("amount", new NumericRules(Imputation.MEDIAN, java.util.OptionalDouble.empty(), true,
          List.of(-1.0, 99999999.0), List.of("NA"), Optional.empty())),
      java.util.Map.of("purpose", new CategoricalRules(Imputation.MOST_FREQUENT, Optional.empty(), false,
          List.of("unknown"), true))));

  @Test
  void sentinelsMarkersAndEmptyFields_loadAsMissing_whenTheColumnImputes() throws Exception {
    Path file = write("sentinels.csv", "age,amount,purpose,region,default\n30,-1,car,N,yes\n31,99999999,boat,N,no\n"
        + "32,NA,unknown,S,no\n33,,,S,no\n34,-1.0,home,S,yes\n35,250,car,N,no\n");
    Table table = DatasetLoader.load(file, RULES);
    for (int r = 0; r < 5; r++) {
      assertTrue(Double.isNaN(table.numeric(1, r)), "row " + r + " is missing its amount");
    }
    assertEquals(250.0, table.numeric(1, 5));
    assertEquals("boat", table.category(0, 1), "an undeclared purpose is kept, for the encoding's other level");
    assertEquals(null, table.category(0, 2), "'unknown' is a sentinel");
    assertEquals(null, table.category(0, 3));
    DatasetLoader.Scan scan = DatasetLoader.scan(DataSource.file(file), RULES, (row, n, c, p) -> { });
    assertEquals(6, scan.rows());
    assertEquals(5, scan.numericMissing()[1]);
    assertEquals(2, scan.categoricalMissing()[0]);
  }

  @Test
  void aSentinel_isRefusedWithItsLineAndColumn_whenTheColumnRefusesMissingValues() throws Exception {
    DataSchema refusing = LOANS.withPreprocessing(new Preprocessing(java.util.Map.of("amount", new NumericRules(
        Imputation.REFUSE, java.util.OptionalDouble.empty(), false, List.of(-1.0), List.of(), Optional.empty())),
        java.util.Map.of()));
    DataFormatException e = failure("refused.csv", "age,amount,purpose,region,default\n30,5,car,N,yes\n"
        + "31,-1,car,N,no\n", refusing);
    assertEquals(dir.resolve("refused.csv") + " line 3, column 'amount': value '-1' is a sentinel for a missing "
        + "value, and the job refuses missing values in this column (its missing policy is refuse; mean, median, "
        + "most_frequent or constant would fill it)", e.getMessage());
  }

  @Test
  void aMissingLabel_isRefusedWithItsLine_evenWhenEveryFeatureImputes() throws Exception {
    DataFormatException e = failure("nolabel.csv", "age,amount,purpose,region,default\n30,5,car,N,yes\n"
        + "31,6,car,N,\n", RULES);
    assertEquals(dir.resolve("nolabel.csv") + " line 3, column 'default': the label is missing (every row needs one; "
        + "a row without its outcome cannot be trained or evaluated on)", e.getMessage());
  }

  @Test
  void aColumnMissingInEveryRow_isRefusedNamingIt_evenWhenItImputes() throws Exception {
    DataFormatException e = failure("empty-column.csv", "age,amount,purpose,region,default\n30,,car,N,yes\n"
        + "31,NA,car,N,no\n32,-1,car,S,no\n", RULES);
    assertEquals(dir.resolve("empty-column.csv") + " column 'amount': the column is missing (empty, NULL or a "
        + "sentinel) in every one of the 3 rows; a bank cannot take part with a column it does not have",
        e.getMessage());
  }

  @Test
  void anUnknownDeclaredCategory_isRefused_unlessTheColumnMapsUnseenValuesToOther() throws Exception {
    DataFormatException e = failure("boat.csv", "age,amount,purpose,region,default\n30,5,boat,N,yes\n", LOANS);
    assertEquals(dir.resolve("boat.csv") + " line 2, column 'purpose': unknown category 'boat'; allowed: [car, home, "
        + "radio/tv] (or let the column map unseen categories to other)", e.getMessage());
  }

  @Test
  void textInANumericColumn_isRefusedWithItsValue_evenWhenTheColumnImputes() throws Exception {
    DataFormatException e = failure("text.csv", "age,amount,purpose,region,default\n30,lots,car,N,yes\n", RULES);
    assertEquals(dir.resolve("text.csv") + " line 2, column 'amount': value 'lots' is not a finite number but the "
        + "column is numeric", e.getMessage());
  }

  private static Table assertDoesNotThrowLoad(Datasets.BundledDataset dataset) {
    try {
      return dataset.load();
    } catch (DataFormatException e) {
      throw new AssertionError(e);
    }
  }
}
