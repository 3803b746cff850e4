package io.consort.model.data;

import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.random.ReproducibleRandom;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.random.RandomGenerator;

/**
 * SYNTHETIC loan data for scale tests: no row describes a real person or a real bank. It streams
 * CSV row by row, so millions of rows cost no memory, one file per simulated bank.
 *
 * <p>Banks differ on purpose: sizes follow a Zipf law ({@code size of bank b ∝ 1 / (b+1)^skew}),
 * default rates rise linearly from {@code minDefaultRate} at bank 0 to {@code maxDefaultRate} at
 * the last bank, and each bank's customers are somewhat richer or poorer than the others'.
 *
 * <p>Generative model, per row: age ~ N(42, 12) clipped to [21, 75]; annual income log-normal
 * (median 45,000 scaled by a bank factor, sigma 0.5, rising with age); credit score ~ N(680, 60)
 * clipped to [300, 850] and higher for richer applicants; debt-to-income uniform on [0, 0.6];
 * loan amount log-normal around 30% of income; term 12-60 months; employment, home ownership and
 * purpose categorical. Default happens with probability sigmoid(logit), logit = the bank's intercept
 * - 0.012 (score - 680) + 3 (dti - 0.3) + 0.8 ln(loan / (0.3 income)) + 0.015 (term - 36) + 1.2
 * [unemployed] + 0.3 [self-employed] - 0.3 [owns home] + 0.4 [business purpose] - 0.01 (age - 42).
 * A model that learns these effects reaches an AUC of about 0.8; the exact figure depends on the
 * realised data.
 */
public final class SyntheticBankData {
  private static final String[] EMPLOYMENT = {"employed", "self-employed", "unemployed", "retired"};
  private static final double[] EMPLOYMENT_WEIGHTS = {0.70, 0.12, 0.06, 0.12};
  private static final String[] HOME = {"rent", "mortgage", "own"};
  private static final double[] HOME_WEIGHTS = {0.40, 0.40, 0.20};
  private static final String[] PURPOSE =
      {"car", "home_improvement", "debt_consolidation", "education", "business", "other"};
  private static final double[] PURPOSE_WEIGHTS = {0.25, 0.15, 0.30, 0.08, 0.10, 0.12};
  private static final int[] TERMS = {12, 24, 36, 48, 60};

  private SyntheticBankData() {}

  /**
   * @param totalRows rows over all banks
   * @param banks number of banks (files)
   * @param sizeSkew Zipf exponent of bank sizes; 0 gives equal banks
   * @param minDefaultRate approximate default rate of bank 0
   * @param maxDefaultRate approximate default rate of the last bank
   * @param seed makes the data reproducible (it is synthetic, so a seed is the point)
   */
  public record Config(long totalRows, int banks, double sizeSkew, double minDefaultRate,
      double maxDefaultRate, long seed) {
    public Config {
      if (banks <= 0 || totalRows < banks) {
        throw new IllegalArgumentException(
            "need at least one row per bank: totalRows=" + totalRows + ", banks=" + banks);
      }
      if (!(sizeSkew >= 0) || !Double.isFinite(sizeSkew)) {
        throw new IllegalArgumentException("sizeSkew must be finite and >= 0, got " + sizeSkew);
      }
      if (!(minDefaultRate > 0 && minDefaultRate <= maxDefaultRate && maxDefaultRate < 1)) {
        throw new IllegalArgumentException("need 0 < minDefaultRate <= maxDefaultRate < 1, got "
            + minDefaultRate + " and " + maxDefaultRate);
      }
    }

    /** Sensible defaults: Zipf skew 1, default rates from 4% to 20%. */
    public static Config of(long totalRows, int banks, long seed) {
      return new Config(totalRows, banks, 1.0, 0.04, 0.20, seed);
    }
  }

  /** The schema of the generated files; label {@code default}, positive class {@code yes}. */
  public static DataSchema schema() {
    return new DataSchema(
        List.of("age", "income", "credit_score", "debt_to_income", "loan_amount", "term_months"),
        List.of(new CategoricalColumn("employment", List.of(EMPLOYMENT)),
            new CategoricalColumn("home_ownership", List.of(HOME)),
            new CategoricalColumn("purpose", List.of(PURPOSE))),
        "default", "yes");
  }

  /** Rows per bank: Zipf shares of the total, each at least 1, summing exactly to the total. */
  public static long[] bankSizes(Config config) {
    double[] weights = new double[config.banks()];
    double total = 0;
    for (int b = 0; b < weights.length; b++) {
      weights[b] = Math.pow(b + 1, -config.sizeSkew());
      total += weights[b];
    }
    long[] sizes = new long[weights.length];
    long assigned = 0;
    for (int b = 0; b < sizes.length; b++) {
      sizes[b] = Math.max(1, (long) Math.floor(config.totalRows() * weights[b] / total));
      assigned += sizes[b];
    }
    sizes[0] += config.totalRows() - assigned;
    return sizes;
  }

  /** Writes {@code bank-01.csv}, {@code bank-02.csv}, ... into {@code directory}. */
  public static List<Path> writeBanks(Path directory, Config config) throws IOException {
    Files.createDirectories(directory);
    long[] sizes = bankSizes(config);
    List<Path> files = new ArrayList<>();
    for (int b = 0; b < sizes.length; b++) {
      Path file = directory.resolve(String.format("bank-%02d.csv", b + 1));
      try (BufferedWriter out = Files.newBufferedWriter(file)) {
        writeBank(out, b, sizes[b], config);
      }
      files.add(file);
    }
    return files;
  }

  /** Streams one bank's CSV (header and {@code rows} rows) to {@code out}. */
  public static void writeBank(Writer out, int bank, long rows, Config config) throws IOException {
    writeBank(out, bank, rows, config, 0);
  }

  /** The names of the {@code extra} bureau columns of {@link #writeBank(Writer, int, long, Config, int)}. */
  public static List<String> bureauColumns(int extra) {
    List<String> names = new ArrayList<>();
    for (int k = 1; k <= extra; k++) {
      names.add(String.format("bureau_%02d", k));
    }
    return names;
  }

  /**
   * The schema of files written with {@code extra} bureau columns: {@link #schema()}'s columns, then
   * the bureau columns as numeric columns with the mean filling their missing values; income is
   * clipped at its 0.5% and 99.5% quantiles (so a job on it has both statistics stages).
   */
  public static DataSchema wideSchema(int extra) {
    DataSchema narrow = schema();
    List<String> numeric = new ArrayList<>(narrow.numericColumns());
    numeric.addAll(bureauColumns(extra));
    Map<String, NumericRules> rules = new LinkedHashMap<>();
    bureauColumns(extra).forEach(c -> rules.put(c, new NumericRules(Imputation.MEAN, OptionalDouble.empty(),
        false, List.of(), List.of(), Optional.empty())));
    rules.put("income", new NumericRules(Imputation.REFUSE, OptionalDouble.empty(), false, List.of(), List.of(),
        Optional.of(new QuantileClip(0.005, 0.995))));
    return new DataSchema(numeric, narrow.categoricalColumns(), narrow.labelColumn(), narrow.positiveClass(),
        new Preprocessing(rules, Map.of()));
  }

  /**
   * Streams one bank's CSV with {@code extra} further numeric "bureau" columns before the label, for
   * wide-table scale tests: each is a noisy reading of the applicant's credit score or debt ratio
   * (correlated with the outcome only through them; the default model above is unchanged), rounded to
   * two decimals, and missing (an empty field) in 2% of rows. The first nine columns and the label are
   * exactly those {@link #writeBank(Writer, int, long, Config)} writes; the bureau values come from a
   * random stream of their own.
   */
  public static void writeBank(Writer out, int bank, long rows, Config config, int extra) throws IOException {
    if (bank < 0 || bank >= config.banks()) {
      throw new IllegalArgumentException("bank " + bank + " of " + config.banks());
    }
    RandomGenerator random = ReproducibleRandom.of("synthetic-bank-data/rows/" + bank, config.seed());
    double position = config.banks() == 1 ? 0 : (double) bank / (config.banks() - 1);
    double targetRate = config.minDefaultRate()
        + position * (config.maxDefaultRate() - config.minDefaultRate());
    double intercept = Math.log(targetRate / (1 - targetRate));
    // Each bank serves a somewhat different clientele: income scale from 0.8x to 1.25x.
    double incomeScale = Math.exp(0.22 * (2 * ReproducibleRandom.of(
        "synthetic-bank-data/income-scale/" + bank, config.seed()).nextDouble() - 1));
    RandomGenerator bureauRandom = ReproducibleRandom.of("synthetic-bank-data/bureau/" + bank, config.seed());
    out.write("age,income,credit_score,debt_to_income,loan_amount,term_months,employment,home_ownership,purpose,");
    for (String column : bureauColumns(extra)) {
      out.write(column);
      out.write(',');
    }
    out.write("default\n");
    StringBuilder line = new StringBuilder(128);
    for (long r = 0; r < rows; r++) {
      double age = clamp(42 + 12 * random.nextGaussian(), 21, 75);
      double logIncome = Math.log(45_000 * incomeScale) + 0.008 * (age - 42)
          + 0.5 * random.nextGaussian();
      double income = Math.exp(logIncome);
      double score = clamp(680 + 40 * (logIncome - Math.log(45_000)) + 55 * random.nextGaussian(),
          300, 850);
      double dti = 0.6 * random.nextDouble();
      double loan = 0.3 * income * Math.exp(0.45 * random.nextGaussian());
      int term = TERMS[random.nextInt(TERMS.length)];
      int employment = pick(EMPLOYMENT_WEIGHTS, random);
      if (age > 65 && random.nextDouble() < 0.7) {
        employment = 3;
      }
      int home = pick(HOME_WEIGHTS, random);
      int purpose = pick(PURPOSE_WEIGHTS, random);
      double logit = intercept - 0.012 * (score - 680) + 3 * (dti - 0.3)
          + 0.8 * Math.log(loan / (0.3 * income)) + 0.015 * (term - 36)
          + (employment == 2 ? 1.2 : employment == 1 ? 0.3 : 0) + (home == 2 ? -0.3 : 0)
          + (purpose == 4 ? 0.4 : 0) - 0.01 * (age - 42);
      boolean defaulted = random.nextDouble() < 1 / (1 + Math.exp(-logit));
      line.setLength(0);
      line.append(Math.round(age)).append(',')
          .append(Math.round(income)).append(',')
          .append(Math.round(score)).append(',')
          .append(Math.round(dti * 1000) / 1000.0).append(',')
          .append(Math.round(loan)).append(',')
          .append(term).append(',')
          .append(EMPLOYMENT[employment]).append(',')
          .append(HOME[home]).append(',')
          .append(PURPOSE[purpose]).append(',');
      for (int k = 0; k < extra; k++) {
        if (bureauRandom.nextDouble() >= 0.02) {
          double signal = k % 2 == 0 ? (score - 680) / 60 : (dti - 0.3) / 0.17;
          line.append(Math.round(100 * ((k % 3 == 0 ? -1 : 1) * signal + bureauRandom.nextGaussian())) / 100.0);
        }
        line.append(',');
      }
      line.append(defaulted ? "yes" : "no").append('\n');
      out.append(line);
    }
  }

  private static double clamp(double v, double lo, double hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  private static int pick(double[] weights, RandomGenerator random) {
    double u = random.nextDouble();
    for (int i = 0; i < weights.length - 1; i++) {
      u -= weights[i];
      if (u < 0) {
        return i;
      }
    }
    return weights.length - 1;
  }
}
