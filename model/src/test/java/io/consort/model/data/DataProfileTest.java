package io.consort.model.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataProfileTest {
  @TempDir
  Path dir;

  @Test
  void aMessyCsv_isProfiledAndItsProposedSchemaLoadsIt() throws Exception {
    Path file = MessyLoans.write(dir.resolve("messy.csv"), 2000, 3);
    DataProfile profile = DataProfile.of(DataSource.file(file), "Status", "bad");

    assertEquals(2000, profile.rows());
    Map<String, DataProfile.ColumnProfile> byName = new java.util.HashMap<>();
    profile.columns().forEach(c -> byName.put(c.name(), c));
    assertEquals(List.of("id", "age", "income", "assets", "debt", "home", "job", "purpose"),
        profile.columns().stream().map(DataProfile.ColumnProfile::name).toList());
    DataProfile.ColumnProfile income = byName.get("income");
    assertTrue(income.numeric());
    assertEquals(List.of(99999999.0), income.suspectedSentinels());
    assertTrue(income.missing() > 100 && income.missingRate() > 0.08, "about 9% missing: " + income.missingRate());
    assertTrue(income.heavyTailed(), "a few incomes are forty times the usual");
    assertEquals(List.of("NA"), byName.get("assets").suspectedTextSentinels());
    assertTrue(byName.get("assets").numeric(), "NA is a marker, not a reason to call the column text");
    assertEquals(List.of("unknown"), byName.get("home").suspectedTextSentinels());
    assertEquals(3L, byName.get("purpose").levels().get("boat"));
    assertEquals(Map.of("id", "its name says it is an identifier"), profile.leftOut());

    DataSchema schema = profile.proposedSchema(DataProfile.Proposal.WITH_PREPROCESSING);
    assertEquals(List.of("age", "income", "assets", "debt"), schema.numericColumns());
    assertEquals(NumericRules.DEFAULT, schema.numericRules(0), "age has no missing values");
    NumericRules incomeRules = schema.numericRules(1);
    assertEquals(Imputation.MEDIAN, incomeRules.imputation());
    assertTrue(incomeRules.missingIndicator());
    assertEquals(Optional.of(new QuantileClip(0.01, 0.99)), incomeRules.clip());
    assertEquals(List.of("NA"), schema.numericRules(2).textSentinels());
    CategoricalRules home = schema.categoricalRules(0);
    assertEquals(Imputation.MOST_FREQUENT, home.imputation());
    assertTrue(home.unseenToOther());
    assertEquals(List.of("unknown"), home.sentinels());
    Table table = DatasetLoader.load(file, schema);
    assertEquals(2000, table.rows());
  }

  @Test
  void aProfile_refusesAPositiveClassNoRowHas_listingTheLabelsValues() throws Exception {
    Path file = MessyLoans.write(dir.resolve("messy.csv"), 50, 3);
    DataFormatException e = assertThrows(DataFormatException.class,
        () -> DataProfile.of(DataSource.file(file), "Status", "Bad"));
    assertTrue(e.getMessage().startsWith(file + " column 'Status': no row has the positive class 'Bad'; the label's "
        + "values are ["), e.getMessage());
  }

  @Test
  void typesOnly_proposesNoRules() throws Exception {
    Path file = MessyLoans.write(dir.resolve("messy.csv"), 200, 3);
    DataSchema schema = DataProfile.of(DataSource.file(file), "Status", "bad")
        .proposedSchema(DataProfile.Proposal.TYPES_ONLY);
    assertTrue(schema.preprocessing().isEmpty());
    assertFalse(schema.featureColumns().contains("id"));
  }
}
