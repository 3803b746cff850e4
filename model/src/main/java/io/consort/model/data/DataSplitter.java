package io.consort.model.data;

import io.consort.model.random.ReproducibleRandom;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Splits one data set among simulated banks and into train/test parts, deterministically from a
 * seed. This is tooling for demos and experiments on public data, where reproducibility is the
 * point; it never touches a real bank's rows, so seeded randomness ({@link ReproducibleRandom}) is
 * right.
 */
public final class DataSplitter {
  private DataSplitter() {}

  /** A bank's rows divided for training and held-out evaluation. */
  public record TrainTest(Table train, Table test) {}

  /** Divides {@code table} among {@code banks} by {@code strategy}; each bank gets at least a row. */
  public static List<Table> split(Table table, int banks, SplitStrategy strategy, long seed) {
    List<int[]> assignment = assign(table, banks, strategy, seed);
    List<Table> out = new ArrayList<>();
    for (int b = 0; b < banks; b++) {
      out.add(table.select(assignment.get(b), table.source() + " bank " + (b + 1) + " of " + banks));
    }
    return out;
  }

  /**
   * Which rows of {@code table} {@link #split} gives each bank, in the order it gives them: for writing
   * each bank's share of a source file as it is, raw values and all.
   */
  public static List<int[]> assign(Table table, int banks, SplitStrategy strategy, long seed) {
    if (banks <= 0 || banks > table.rows()) {
      throw new IllegalArgumentException("cannot split " + table.rows() + " rows of "
          + table.source() + " among " + banks + " banks");
    }
    RandomGenerator random = ReproducibleRandom.of("bank-split", seed);
    List<List<Integer>> assignment;
    if (strategy instanceof SplitStrategy.Iid) {
      assignment = iid(table, banks, random);
    } else if (strategy instanceof SplitStrategy.LabelSkew) {
      assignment = labelSkew(table, banks, random);
    } else if (strategy instanceof SplitStrategy.Dirichlet dirichlet) {
      assignment = dirichlet(table, banks, dirichlet.alpha(), random);
    } else {
      assignment = byColumn(table, banks, ((SplitStrategy.ByColumn) strategy).column());
    }
    List<int[]> out = new ArrayList<>();
    for (int b = 0; b < banks; b++) {
      if (assignment.get(b).isEmpty()) {
        throw new IllegalArgumentException("split " + strategy + " leaves bank " + b
            + " of " + banks + " without rows");
      }
      out.add(toArray(assignment.get(b)));
    }
    return out;
  }

  /** Parses the strategy ({@code iid}, {@code label-skew}, {@code by-column:COL}) and splits. */
  public static List<Table> split(Table table, int banks, String strategy, long seed) {
    return split(table, banks, SplitStrategy.parse(strategy), seed);
  }

  /**
   * A stratified split: {@code round(testFraction * n)} rows of each class go to the test part, so
   * both parts keep the table's positive rate.
   */
  public static TrainTest trainTest(Table table, double testFraction, long seed) {
    RandomGenerator random = ReproducibleRandom.of("train-test-split", seed);
    List<Integer> train = new ArrayList<>();
    List<Integer> test = new ArrayList<>();
    for (List<Integer> rows : byClass(table, random)) {
      int testRows = testRows(testFraction, rows.size());
      test.addAll(rows.subList(0, testRows));
      train.addAll(rows.subList(testRows, rows.size()));
    }
    requireBothParts(testFraction, table.rows(), train.size(), test.size());
    return new TrainTest(table.select(toArray(train), table.source() + " (train)"),
        table.select(toArray(test), table.source() + " (test)"));
  }

  /**
   * The same rows {@link #trainTest} holds out, from the labels alone: a bank with millions of rows
   * decides its split while streaming them, without a table.
   *
   * @param positives which of the {@code rows} rows are of the positive class
   * @return the held-out rows
   */
  public static BitSet testRows(BitSet positives, int rows, double testFraction, long seed) {
    RandomGenerator random = ReproducibleRandom.of("train-test-split", seed);
    int positiveCount = positives.cardinality();
    int[] positive = new int[positiveCount];
    int[] negative = new int[rows - positiveCount];
    int p = 0;
    int n = 0;
    for (int r = 0; r < rows; r++) {
      if (positives.get(r)) {
        positive[p++] = r;
      } else {
        negative[n++] = r;
      }
    }
    // the shuffles trainTest makes, in its order: positives, then negatives
    shuffle(positive, random);
    shuffle(negative, random);
    BitSet test = new BitSet(rows);
    int held = 0;
    for (int[] part : new int[][] {positive, negative}) {
      int testRows = testRows(testFraction, part.length);
      for (int i = 0; i < testRows; i++) {
        test.set(part[i]);
      }
      held += testRows;
    }
    requireBothParts(testFraction, rows, rows - held, held);
    return test;
  }

  private static int testRows(double testFraction, int classRows) {
    if (!(testFraction > 0 && testFraction < 1)) {
      throw new IllegalArgumentException("testFraction must be in (0, 1), got " + testFraction);
    }
    return (int) Math.round(testFraction * classRows);
  }

  private static void requireBothParts(double testFraction, long rows, long train, long test) {
    if (train == 0 || test == 0) {
      throw new IllegalArgumentException("test fraction " + testFraction + " of " + rows
          + " rows leaves an empty train or test part");
    }
  }

  private static List<List<Integer>> iid(Table table, int banks, RandomGenerator random) {
    List<Integer> rows = new ArrayList<>();
    for (int r = 0; r < table.rows(); r++) {
      rows.add(r);
    }
    shuffle(rows, random);
    return deal(rows, banks, equalShares(banks));
  }

  private static List<List<Integer>> labelSkew(Table table, int banks, RandomGenerator random) {
    List<List<Integer>> classes = byClass(table, random);
    double[] positiveShares = new double[banks];
    double[] negativeShares = new double[banks];
    double total = banks * (banks + 1) / 2.0;
    for (int b = 0; b < banks; b++) {
      positiveShares[b] = (b + 1) / total;
      negativeShares[b] = (banks - b) / total;
    }
    List<List<Integer>> positives = deal(classes.get(0), banks, positiveShares);
    List<List<Integer>> negatives = deal(classes.get(1), banks, negativeShares);
    for (int b = 0; b < banks; b++) {
      positives.get(b).addAll(negatives.get(b));
      shuffle(positives.get(b), random);
    }
    return positives;
  }

  private static List<List<Integer>> byColumn(Table table, int banks, String column) {
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int r = 0; r < table.rows(); r++) {
      groups.computeIfAbsent(table.value(column, r), v -> new ArrayList<>()).add(r);
    }
    if (groups.size() < banks) {
      throw new IllegalArgumentException("column '" + column + "' has " + groups.size()
          + " distinct values, fewer than the " + banks + " banks to fill");
    }
    List<Map.Entry<String, List<Integer>>> ordered = new ArrayList<>(groups.entrySet());
    ordered.sort(Comparator.comparing((Map.Entry<String, List<Integer>> e) -> -e.getValue().size())
        .thenComparing(Map.Entry::getKey));
    List<List<Integer>> out = emptyLists(banks);
    for (Map.Entry<String, List<Integer>> group : ordered) {
      List<Integer> smallest = out.get(0);
      for (List<Integer> bank : out) {
        if (bank.size() < smallest.size()) {
          smallest = bank;
        }
      }
      smallest.addAll(group.getValue());
    }
    return out;
  }

  /** Draws that may be redrawn before a Dirichlet split gives up. */
  private static final int DIRICHLET_ATTEMPTS = 10_000;

  /**
   * Each class's rows dealt by shares drawn from Dirichlet(alpha): independent Gamma(alpha, 1) draws,
   * normalised. Redrawn while a bank would get fewer than {@link SplitStrategy.Dirichlet#MIN_ROWS_PER_CLASS}
   * rows of a class.
   */
  private static List<List<Integer>> dirichlet(Table table, int banks, double alpha, RandomGenerator random) {
    List<List<Integer>> classes = byClass(table, random);
    int minimum = SplitStrategy.Dirichlet.MIN_ROWS_PER_CLASS;
    for (List<Integer> rows : classes) {
      if (rows.size() < minimum * banks) {
        throw new IllegalArgumentException("a Dirichlet split among " + banks + " banks needs at least " + minimum
            * banks + " rows of each class, but one class has " + rows.size());
      }
    }
    for (int attempt = 0; attempt < DIRICHLET_ATTEMPTS; attempt++) {
      List<List<Integer>> out = emptyLists(banks);
      boolean enough = true;
      for (List<Integer> rows : classes) {
        double[] shares = new double[banks];
        double total = 0;
        for (int b = 0; b < banks; b++) {
          shares[b] = gamma(alpha, random);
          total += shares[b];
        }
        for (int b = 0; b < banks; b++) {
          shares[b] /= total;
        }
        List<List<Integer>> dealt = deal(rows, banks, shares);
        for (int b = 0; b < banks; b++) {
          enough &= dealt.get(b).size() >= minimum;
          out.get(b).addAll(dealt.get(b));
        }
      }
      if (enough) {
        for (List<Integer> bank : out) {
          shuffle(bank, random);
        }
        return out;
      }
    }
    throw new IllegalArgumentException("no Dirichlet(" + alpha + ") draw in " + DIRICHLET_ATTEMPTS + " gave each of "
        + banks + " banks at least " + minimum + " rows of each class; use a larger alpha or fewer banks");
  }

  /**
   * Gamma(shape, 1) by Marsaglia and Tsang 2000 ("A Simple Method for Generating Gamma Variables"); a
   * shape below 1 is boosted: Gamma(a) = Gamma(a + 1) U^(1/a).
   */
  static double gamma(double shape, RandomGenerator random) {
    if (shape < 1) {
      double u = 1.0 - random.nextDouble();
      return gamma(shape + 1, random) * Math.pow(u, 1 / shape);
    }
    double d = shape - 1.0 / 3;
    double c = 1 / Math.sqrt(9 * d);
    while (true) {
      double x;
      double v;
      do {
        x = normal(random);
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      double u = 1.0 - random.nextDouble();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
        return d * v;
      }
    }
  }

  /** A standard normal by the Marsaglia polar method. */
  private static double normal(RandomGenerator random) {
    double u;
    double v;
    double s;
    do {
      u = 2 * random.nextDouble() - 1;
      v = 2 * random.nextDouble() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * Math.sqrt(-2 * Math.log(s) / s);
  }

  /** Positive rows then negative rows, each shuffled. */
  private static List<List<Integer>> byClass(Table table, RandomGenerator random) {
    List<Integer> positives = new ArrayList<>();
    List<Integer> negatives = new ArrayList<>();
    for (int r = 0; r < table.rows(); r++) {
      (table.label(r) == 1 && !table.schema().isNumericLabel() ? positives : negatives).add(r);
    }
    shuffle(positives, random);
    shuffle(negatives, random);
    return List.of(positives, negatives);
  }

  /** Consecutive slices of {@code rows} with sizes proportional to {@code shares}. */
  private static List<List<Integer>> deal(List<Integer> rows, int banks, double[] shares) {
    List<List<Integer>> out = emptyLists(banks);
    double cumulative = 0;
    int start = 0;
    for (int b = 0; b < banks; b++) {
      cumulative += shares[b];
      int end = b == banks - 1 ? rows.size() : (int) Math.round(cumulative * rows.size());
      out.get(b).addAll(rows.subList(start, end));
      start = end;
    }
    return out;
  }

  private static double[] equalShares(int banks) {
    double[] shares = new double[banks];
    java.util.Arrays.fill(shares, 1.0 / banks);
    return shares;
  }

  private static List<List<Integer>> emptyLists(int n) {
    List<List<Integer>> lists = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      lists.add(new ArrayList<>());
    }
    return lists;
  }

  /** The permutation {@link #shuffle(List, RandomGenerator)} makes, on an array. */
  private static void shuffle(int[] array, RandomGenerator random) {
    for (int i = array.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
  }

  private static void shuffle(List<Integer> list, RandomGenerator random) {
    for (int i = list.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      list.set(i, list.set(j, list.get(i)));
    }
  }

  private static int[] toArray(List<Integer> list) {
    return list.stream().mapToInt(Integer::intValue).toArray();
  }
}
