package io.consort.model.data;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A messy loan CSV as a bank exports it (SYNTHETIC: no real person): an identifier column; about 9% of
 * incomes missing (empty) and a few coded 99999999; a few very large incomes; assets missing as {@code NA};
 * debt sometimes empty; a home category sometimes empty or {@code unknown}; a job sometimes empty; a
 * purpose with a rare level ({@code boat}, 3 rows) that a three-bank split leaves at one bank only. The
 * label {@code Status} ({@code bad}/{@code good}) follows a logistic model of income, debt, age, home
 * and job, so a model can learn it.
 */
public final class MessyLoans {
  public static final String HEADER = "id,age,income,assets,debt,home,job,purpose,Status";

  private MessyLoans() {}

  public static Path write(Path file, int rows, long seed) throws IOException {
    Random random = new Random(seed);
    String[] homes = {"rent", "own", "mortgage"};
    String[] jobs = {"salaried", "self-employed", "unemployed", "retired"};
    String[] purposes = {"car", "tv", "business", "education", "home"};
    try (BufferedWriter out = Files.newBufferedWriter(file)) {
      out.write(HEADER);
      out.newLine();
      for (int r = 0; r < rows; r++) {
        int age = 21 + random.nextInt(50);
        double income = Math.round(Math.exp(10.6 + 0.5 * random.nextGaussian()));
        if (r % 251 == 5) {
          income *= 40; // a few very large incomes
        }
        double assets = Math.round(Math.max(0, income * (0.5 + random.nextGaussian())));
        double debt = Math.round(Math.max(0, income * (0.35 + 0.25 * random.nextGaussian())));
        String home = homes[random.nextInt(homes.length)];
        String job = jobs[Math.min(jobs.length - 1, (int) Math.floor(Math.abs(random.nextGaussian()) * 1.5))];
        String purpose = r == 17 || r == 42 || r == 77 ? "boat" : purposes[random.nextInt(purposes.length)];
        double logit = -1.2 - 1.1 * (Math.log(income) - 10.6) + 2.2 * (debt / income - 0.35) - 0.02 * (age - 45)
            + (home.equals("rent") ? 0.5 : 0) + (job.equals("unemployed") ? 1.3 : 0);
        boolean bad = random.nextDouble() < 1 / (1 + Math.exp(-logit));
        String incomeText = random.nextDouble() < 0.09 ? "" : r % 151 == 3 ? "99999999" : fmt(income);
        String assetsText = random.nextDouble() < 0.05 ? "NA" : fmt(assets);
        String debtText = random.nextDouble() < 0.04 ? "" : fmt(debt);
        double h = random.nextDouble();
        String homeText = h < 0.02 ? "" : h < 0.03 ? "unknown" : home;
        String jobText = random.nextDouble() < 0.02 ? "" : job;
        out.write((100000 + r) + "," + age + "," + incomeText + "," + assetsText + "," + debtText + "," + homeText
            + "," + jobText + "," + purpose + "," + (bad ? "bad" : "good"));
        out.newLine();
      }
    }
    return file;
  }

  private static String fmt(double v) {
    return Long.toString((long) v);
  }
}
