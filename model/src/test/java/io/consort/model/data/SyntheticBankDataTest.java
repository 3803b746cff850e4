package io.consort.model.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticBankDataTest {
  @TempDir Path dir;

  @Test
  void writesSkewedBanksThatLoadWithTheirSchema() throws Exception {
    SyntheticBankData.Config config = SyntheticBankData.Config.of(60_000, 4, 7);
    List<Path> files = SyntheticBankData.writeBanks(dir, config);
    long[] sizes = SyntheticBankData.bankSizes(config);
    assertEquals(60_000, java.util.Arrays.stream(sizes).sum());
    assertTrue(sizes[0] > 3 * sizes[3], "Zipf sizes");

    double firstRate = 0;
    double lastRate = 0;
    for (int b = 0; b < files.size(); b++) {
      Table bank = DatasetLoader.load(files.get(b), SyntheticBankData.schema());
      assertEquals(sizes[b], bank.rows());
      double rate = (double) bank.positives() / bank.rows();
      if (b == 0) {
        firstRate = rate;
      } else if (b == files.size() - 1) {
        lastRate = rate;
      }
    }
    assertTrue(firstRate < 0.12 && lastRate > 0.15 && lastRate > 2 * firstRate,
        "default rates " + firstRate + " -> " + lastRate);
    // Same seed, same bytes.
    Path again = dir.resolve("again");
    SyntheticBankData.writeBanks(again, config);
    assertEquals(-1L, Files.mismatch(files.get(2), again.resolve("bank-03.csv")));
  }

  @Test
  void wideFiles_addBureauColumnsWithMissingValues_andKeepTheNarrowColumnsAndLabels() throws Exception {
    SyntheticBankData.Config config = SyntheticBankData.Config.of(5_000, 1, 11);
    Path narrow = dir.resolve("narrow.csv");
    Path wide = dir.resolve("wide.csv");
    try (var out = Files.newBufferedWriter(narrow)) {
      SyntheticBankData.writeBank(out, 0, 5_000, config);
    }
    try (var out = Files.newBufferedWriter(wide)) {
      SyntheticBankData.writeBank(out, 0, 5_000, config, 51);
    }
    DataSchema schema = SyntheticBankData.wideSchema(51);
    assertEquals(60, schema.numericColumns().size() + schema.categoricalColumns().size(), "60 columns");
    Table n = DatasetLoader.load(narrow, SyntheticBankData.schema());
    Table w = DatasetLoader.load(wide, schema);
    assertEquals(n.rows(), w.rows());
    int missing = 0;
    for (int r = 0; r < w.rows(); r++) {
      assertEquals(n.isPositive(r), w.isPositive(r), "row " + r);
      assertEquals(n.numeric(2, r), w.numeric(2, r), "row " + r);
      assertEquals(n.category(2, r), w.category(2, r), "row " + r);
      for (int j = 6; j < 57; j++) {
        missing += Double.isNaN(w.numeric(j, r)) ? 1 : 0;
      }
    }
    // 255,000 bureau values, each missing with probability 0.02: mean 5,100, sd 71; the bounds are
    // 14 sd away (false-failure probability far below 1e-9)
    assertTrue(missing > 4_100 && missing < 6_100, missing + " missing bureau values");
    assertEquals(-1L, Files.mismatch(wide, rewrite(config)), "same seed, same bytes");
  }

  private Path rewrite(SyntheticBankData.Config config) throws Exception {
    Path again = dir.resolve("wide-again.csv");
    try (var out = Files.newBufferedWriter(again)) {
      SyntheticBankData.writeBank(out, 0, 5_000, config, 51);
    }
    return again;
  }
}
