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
}
