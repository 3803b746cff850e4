package io.consort.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small synthetic loan files for tests: numeric and categorical columns, a learnable label. */
final class TestData {
  private TestData() {}

  static final String[] REGIONS = {"north", "south", "east", "west"};
  static final String[] EMPLOYMENT = {"salaried", "self-employed", "unemployed"};

  /**
   * Rows where default risk rises with debt ratio and unemployment and falls with income, so a
   * model can reach a high AUC in a few rounds. Seeded: test data only.
   */
  static Path loanCsv(Path file, int rows, long seed) throws IOException {
    Random random = new Random(seed);
    List<String> lines = new ArrayList<>();
    lines.add("income,debt_ratio,region,employment,default");
    for (int i = 0; i < rows; i++) {
      double income = 20_000 + random.nextDouble() * 80_000;
      double debt = random.nextDouble();
      String region = REGIONS[random.nextInt(REGIONS.length)];
      String employment = EMPLOYMENT[random.nextInt(EMPLOYMENT.length)];
      double logit = -1.0 + 3.0 * (debt - 0.5) - 2.0 * (income - 60_000) / 40_000
          + ("unemployed".equals(employment) ? 1.5 : 0) + ("north".equals(region) ? 0.3 : 0);
      boolean defaulted = random.nextDouble() < 1 / (1 + Math.exp(-logit));
      lines.add(String.format(java.util.Locale.ROOT, "%.2f,%.4f,%s,%s,%s", income, debt, region, employment,
          defaulted ? "yes" : "no"));
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, lines);
    return file;
  }
}
