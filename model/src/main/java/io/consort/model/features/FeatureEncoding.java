package io.consort.model.features;

import io.consort.model.data.QuantileGrid;
import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSchema.CategoricalColumn;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Table;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The one feature encoding of a federated job: numeric columns standardised with the consortium's
 * pooled mean and population standard deviation, categorical columns one-hot over a fixed category
 * list, and the job's preprocessing ({@link io.consort.model.data.Preprocessing}) applied first with
 * values from the federated statistics: observed numeric values clipped to the consortium's quantiles,
 * missing values filled (mean, median, most frequent category, or the job's constant), unseen
 * categories sent to the column's "other" level, and a 0/1 missing indicator where the job asks.
 *
 * <p>Features are ordered: numeric columns, then each categorical column's categories (then its
 * "other" level, if it has one), then the missing indicators (numeric columns', then categorical
 * columns'), in schema order. A job without preprocessing gets exactly the features it always did.
 * The same encoding gives bit-identical vectors at every bank.
 */
public final class FeatureEncoding {
  /** A numeric column's preprocessing values: its fill (NaN: none) and clip bounds (infinite: none). */
  public record NumericTreatment(double fill, double clipLower, double clipUpper) {
    public static final NumericTreatment NONE =
        new NumericTreatment(Double.NaN, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);

    public boolean fills() {
      return !Double.isNaN(fill);
    }

    public boolean clips() {
      return Double.isFinite(clipLower);
    }

    double clip(double v) {
      return v < clipLower ? clipLower : v > clipUpper ? clipUpper : v;
    }
  }

  /**
   * Categories one column may have in an encoding: an encoding arrives from the coordinator, and a bank
   * allocates per category.
   */
  public static final int MAX_CATEGORIES = 10_000;

  /**
   * The name of a column's "other" level: the last of its categories when the column maps unseen values
   * to "other" (a bank value spelt so goes there too). Being a category like the others, it keeps the
   * encoded layout of every other category unchanged for a reader that knows only the category lists.
   */
  public static final String OTHER_LEVEL_NAME = "(other)";
  /** The index {@link #level} gives a value that sets no level of its (open) column. */
  public static final int NO_LEVEL = -1;

  private final DataSchema schema;
  private final double[] means;
  private final double[] stds;
  private final List<List<String>> categories;
  private final List<NumericTreatment> numericTreatments;
  private final List<String> categoryFills;
  private final List<Map<String, Integer>> indexOf = new ArrayList<>();
  /** Per categorical column, the offset of its first level in an encoded row. */
  private final int[] firstLevel;
  /** Per numeric column, the offset of its missing indicator, or -1. */
  private final int[] numericIndicator;
  /** Per categorical column, the offset of its missing indicator, or -1. */
  private final int[] categoricalIndicator;
  private final int featureCount;

  /**
   * Rebuilds an encoding from its parts without preprocessing values (a schema whose rules impute or
   * clip needs {@link #FeatureEncoding(DataSchema, double[], double[], List, List, List)}).
   *
   * @param means per numeric column, schema order
   * @param stds per numeric column, strictly positive
   * @param categories per categorical column, schema order, distinct values
   */
  public FeatureEncoding(DataSchema schema, double[] means, double[] stds, List<List<String>> categories) {
    this(schema, means, stds, categories,
        java.util.Collections.nCopies(schema.numericColumns().size(), NumericTreatment.NONE),
        java.util.Collections.nCopies(schema.categoricalColumns().size(), (String) null));
  }

  /**
   * Rebuilds an encoding from its parts (e.g. received from the coordinator, which makes every value
   * hostile): each must fit the schema's rules.
   *
   * @param numericTreatments per numeric column: a fill exactly when its missing policy is not refuse (the
   *     constant, for constant), clip bounds exactly when it clips (edges of the {@link QuantileGrid})
   * @param categoryFills per categorical column: the fill category exactly when its missing policy is not
   *     refuse (the constant, for constant; one of its categories), else null
   * @throws IllegalArgumentException naming the column and the value that does not fit
   */
  public FeatureEncoding(DataSchema schema, double[] means, double[] stds, List<List<String>> categories,
                         List<NumericTreatment> numericTreatments, List<String> categoryFills) {
    this.schema = Objects.requireNonNull(schema, "schema");
    this.means = means.clone();
    this.stds = stds.clone();
    int numeric = schema.numericColumns().size();
    if (means.length != numeric || stds.length != numeric || numericTreatments.size() != numeric) {
      throw new IllegalArgumentException("expected " + numeric + " means, stds and numeric treatments, got "
          + means.length + ", " + stds.length + " and " + numericTreatments.size());
    }
    for (int j = 0; j < numeric; j++) {
      if (!Double.isFinite(means[j]) || !(stds[j] > 0) || !Double.isFinite(stds[j])) {
        throw new IllegalArgumentException("column '" + schema.numericColumns().get(j)
            + "': mean " + means[j] + " must be finite and std " + stds[j] + " finite and > 0");
      }
      checkNumeric(schema.numericColumns().get(j), schema.numericRules(j), numericTreatments.get(j));
    }
    this.numericTreatments = List.copyOf(numericTreatments);
    if (categories.size() != schema.categoricalColumns().size() || categoryFills.size() != categories.size()) {
      throw new IllegalArgumentException("expected " + schema.categoricalColumns().size()
          + " category lists and fills, got " + categories.size() + " and " + categoryFills.size());
    }
    List<List<String>> copies = new ArrayList<>();
    firstLevel = new int[categories.size()];
    int count = numeric;
    for (int j = 0; j < categories.size(); j++) {
      String name = schema.categoricalColumns().get(j).name();
      if (categories.get(j).size() > MAX_CATEGORIES) {
        throw new IllegalArgumentException("column '" + name + "' has " + categories.get(j).size()
            + " categories, more than the " + MAX_CATEGORIES + " an encoding may have");
      }
      List<String> list = List.copyOf(categories.get(j));
      Map<String, Integer> index = new HashMap<>();
      for (String category : list) {
        if (index.put(category, index.size()) != null) {
          throw new IllegalArgumentException("column '" + name + "' lists category '" + category + "' twice");
        }
      }
      CategoricalRules rules = schema.categoricalRules(j);
      if (list.isEmpty()) {
        throw new IllegalArgumentException("column '" + name + "' has no categories");
      }
      if (rules.unseenToOther() != OTHER_LEVEL_NAME.equals(list.get(list.size() - 1))) {
        throw new IllegalArgumentException("column '" + name + "': " + (rules.unseenToOther()
            ? "it maps unseen values to other, so its last category must be " + OTHER_LEVEL_NAME
            : "it has no other level, so its last category must not be " + OTHER_LEVEL_NAME) + ", got " + list);
      }
      DataSchema.CategoricalColumn column = schema.categoricalColumns().get(j);
      if (column.isDeclared()) {
        // a declared column's levels are the schema's, not whatever the encoding's author lists
        List<String> declared = new ArrayList<>(column.allowedCategories());
        declared.remove(OTHER_LEVEL_NAME);
        if (rules.unseenToOther()) {
          declared.add(OTHER_LEVEL_NAME);
        }
        if (!declared.equals(list)) {
          throw new IllegalArgumentException("column '" + name + "' declares its categories " + declared
              + " but the encoding lists " + list);
        }
      }
      checkCategorical(name, rules, index, categoryFills.get(j));
      copies.add(list);
      indexOf.add(index);
      firstLevel[j] = count;
      count += list.size();
    }
    this.categories = List.copyOf(copies);
    this.categoryFills = java.util.Collections.unmodifiableList(new ArrayList<>(categoryFills));
    numericIndicator = new int[numeric];
    for (int j = 0; j < numeric; j++) {
      numericIndicator[j] = schema.numericRules(j).missingIndicator() ? count++ : -1;
    }
    categoricalIndicator = new int[categories.size()];
    for (int j = 0; j < categories.size(); j++) {
      categoricalIndicator[j] = schema.categoricalRules(j).missingIndicator() ? count++ : -1;
    }
    this.featureCount = count;
  }

  private static void checkNumeric(String column, NumericRules rules, NumericTreatment t) {
    Objects.requireNonNull(t, "treatment of column '" + column + "'");
    boolean fills = rules.imputation() != Imputation.REFUSE;
    if (fills != t.fills() || (t.fills() && !Double.isFinite(t.fill()))) {
      throw new IllegalArgumentException("column '" + column + "': " + (fills ? "missing policy "
          + rules.imputation().wireName() + " needs a finite fill value" : "its missing values are refused, so it "
          + "takes no fill value") + ", got " + t.fill());
    }
    if (rules.constant().isPresent() && t.fill() != rules.constant().getAsDouble()) {
      throw new IllegalArgumentException("column '" + column + "': the fill " + t.fill() + " is not the job's "
          + "constant " + rules.constant().getAsDouble());
    }
    if (rules.clip().isPresent()) {
      if (!QuantileGrid.isEdge(t.clipLower()) || !QuantileGrid.isEdge(t.clipUpper())
          || !(t.clipLower() < t.clipUpper())) {
        throw new IllegalArgumentException("column '" + column + "': clip bounds [" + t.clipLower() + ", "
            + t.clipUpper() + "] must be two increasing edges of the quantile grid");
      }
    } else if (t.clipLower() != Double.NEGATIVE_INFINITY || t.clipUpper() != Double.POSITIVE_INFINITY) {
      throw new IllegalArgumentException("column '" + column + "': the job does not clip it, but the encoding "
          + "clips it to [" + t.clipLower() + ", " + t.clipUpper() + "]");
    }
  }

  private static void checkCategorical(String column, CategoricalRules rules, Map<String, Integer> index,
                                       String fill) {
    boolean fills = rules.imputation() != Imputation.REFUSE;
    if (fills != (fill != null)) {
      throw new IllegalArgumentException("column '" + column + "': " + (fills ? "missing policy "
          + rules.imputation().wireName() + " needs a fill category" : "its missing values are refused, so it takes "
          + "no fill category, got '" + fill + "'"));
    }
    if (fill != null && !index.containsKey(fill)) {
      throw new IllegalArgumentException("column '" + column + "': the fill category '" + fill
          + "' is not one of its categories " + index.keySet());
    }
    if (rules.constant().isPresent() && !rules.constant().get().equals(fill)) {
      throw new IllegalArgumentException("column '" + column + "': the fill category '" + fill + "' is not the "
          + "job's constant '" + rules.constant().get() + "'");
    }
  }

  /**
   * The encoding from the consortium's first-stage statistics: pooled means and population standard
   * deviations of the columns as filled (a zero standard deviation becomes 1, so a constant column
   * encodes to 0), fills and clip bounds from the summed histograms, per categorical column the schema's
   * declared list or else the sorted union of the categories the banks named (plus a constant fill).
   * When {@link #needsSecondStage} the result is preliminary: {@link #refine} finishes it with the second
   * stage's statistics (clipped moments, category counts for the most frequent category).
   */
  public static FeatureEncoding fromStatistics(LocalFeatureStats total) {
    DataSchema schema = total.schema();
    int numeric = schema.numericColumns().size();
    double[] means = new double[numeric];
    double[] stds = new double[numeric];
    List<NumericTreatment> treatments = new ArrayList<>();
    for (int j = 0; j < numeric; j++) {
      LocalFeatureStats.NumericStats n = total.numeric().get(j);
      NumericRules rules = schema.numericRules(j);
      String column = schema.numericColumns().get(j);
      if (n.count() == 0) {
        throw new IllegalArgumentException("no bank has a value in column '" + column + "'");
      }
      double lower = Double.NEGATIVE_INFINITY;
      double upper = Double.POSITIVE_INFINITY;
      if (rules.clip().isPresent()) {
        long[] h = histogram(n, column);
        lower = QuantileGrid.lowerClip(h, rules.clip().get().lower());
        upper = QuantileGrid.upperClip(h, rules.clip().get().upper());
        if (!(lower < upper)) {
          throw new IllegalStateException("column '" + column + "': clip bounds " + lower + " and " + upper);
        }
      }
      double fill = switch (rules.imputation()) {
        case REFUSE -> Double.NaN;
        case MEAN -> n.sum() / n.count();
        case MEDIAN -> QuantileGrid.quantile(histogram(n, column), 0.5);
        case CONSTANT -> rules.constant().getAsDouble();
        case MOST_FREQUENT -> throw new IllegalStateException("most_frequent on numeric column " + column);
      };
      treatments.add(new NumericTreatment(fill, lower, upper));
      standardise(j, n.count(), n.sum(), n.sumOfSquares(), n.missing(), fill, means, stds);
    }
    List<List<String>> categories = new ArrayList<>();
    List<String> fills = new ArrayList<>();
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      CategoricalColumn column = schema.categoricalColumns().get(j);
      CategoricalRules rules = schema.categoricalRules(j);
      TreeSet<String> union = new TreeSet<>(total.categoryCounts(j).keySet());
      rules.constant().ifPresent(union::add);
      List<String> levels = new ArrayList<>(column.isDeclared() ? column.allowedCategories() : union);
      if (rules.unseenToOther()) {
        levels.remove(OTHER_LEVEL_NAME);
        levels.add(OTHER_LEVEL_NAME);
      }
      categories.add(levels);
      fills.add(switch (rules.imputation()) {
        case REFUSE -> null;
        case CONSTANT -> rules.constant().get();
        // preliminary: the second stage counts the categories and picks the most frequent
        case MOST_FREQUENT -> mostFrequent(column.name(), levels, total.categoryCounts(j), rules.unseenToOther());
        default -> throw new IllegalStateException(rules.imputation() + " on categorical column " + column.name());
      });
    }
    return new FeatureEncoding(schema, means, stds, categories, treatments, fills);
  }

  /**
   * The encoding from the banks' statistics merged directly (the first stage only; see {@link
   * #fromStatistics}).
   */
  public static FeatureEncoding merge(List<LocalFeatureStats> banks) {
    return fromStatistics(LocalFeatureStats.sum(banks));
  }

  /**
   * The width of every encoding of {@code schema}, when the schema alone fixes it (every categorical
   * column declares its categories: the levels are then the declared list, with the "other" level
   * last when the column maps unseen values to it, as {@link #fromStatistics} builds them); empty when
   * a column's levels are whatever the banks observe.
   */
  public static java.util.OptionalInt declaredFeatureCount(DataSchema schema) {
    int count = schema.numericColumns().size();
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      CategoricalColumn column = schema.categoricalColumns().get(j);
      if (!column.isDeclared()) {
        return java.util.OptionalInt.empty();
      }
      List<String> levels = new ArrayList<>(column.allowedCategories());
      if (schema.categoricalRules(j).unseenToOther()) {
        levels.remove(OTHER_LEVEL_NAME);
        levels.add(OTHER_LEVEL_NAME);
      }
      count += levels.size() + (schema.categoricalRules(j).missingIndicator() ? 1 : 0);
    }
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      count += schema.numericRules(j).missingIndicator() ? 1 : 0;
    }
    return java.util.OptionalInt.of(count);
  }

  /**
   * Whether the schema's preprocessing needs a second statistics stage: clipped moments when a column
   * clips, category counts when a column imputes the most frequent category or maps unseen categories
   * to "other" (those counts are over the category list the first stage agreed).
   */
  public static boolean needsSecondStage(DataSchema schema) {
    for (int j = 0; j < schema.numericColumns().size(); j++) {
      if (schema.numericRules(j).clip().isPresent()) {
        return true;
      }
    }
    for (int j = 0; j < schema.categoricalColumns().size(); j++) {
      if (schema.categoricalRules(j).needsCounts()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The final encoding from this preliminary one and the consortium's second-stage statistics: means,
   * standard deviations and mean fills of the clipped columns, the most frequent categories. Categories,
   * clip bounds and median fills stay this encoding's.
   */
  public FeatureEncoding refine(RefinedFeatureStats total) {
    if (!total.schema().equals(schema)) {
      throw new IllegalArgumentException("the second-stage statistics were computed with another schema");
    }
    int numeric = means.length;
    double[] newMeans = new double[numeric];
    double[] newStds = new double[numeric];
    List<NumericTreatment> treatments = new ArrayList<>();
    for (int j = 0; j < numeric; j++) {
      LocalFeatureStats.NumericStats n = total.numeric().get(j);
      NumericTreatment t = numericTreatments.get(j);
      if (n.count() == 0) {
        throw new IllegalArgumentException("no bank has a value in column '" + schema.numericColumns().get(j) + "'");
      }
      double fill = schema.numericRules(j).imputation() == Imputation.MEAN ? n.sum() / n.count() : t.fill();
      treatments.add(new NumericTreatment(fill, t.clipLower(), t.clipUpper()));
      standardise(j, n.count(), n.sum(), n.sumOfSquares(), n.missing(), fill, newMeans, newStds);
    }
    List<String> fills = new ArrayList<>(categoryFills);
    for (int j = 0; j < categories.size(); j++) {
      if (schema.categoricalRules(j).imputation() == Imputation.MOST_FREQUENT) {
        List<Long> counts = total.levelCounts().get(j).orElseThrow(() -> new IllegalArgumentException(
            "the second-stage statistics have no category counts of a most_frequent column"));
        int best = -1;
        for (int k = 0; k < categories.get(j).size(); k++) {
          if (k != otherLevel(j) && counts.get(k) > 0 && (best < 0 || counts.get(k) > counts.get(best))) {
            best = k;
          }
        }
        if (best < 0) {
          throw new IllegalArgumentException("column '" + schema.categoricalColumns().get(j).name() + "': no "
              + "training row has one of its categories " + categories.get(j) + ", so there is no most frequent "
              + "one to fill missing values with");
        }
        fills.set(j, categories.get(j).get(best));
      }
    }
    return new FeatureEncoding(schema, newMeans, newStds, categories, treatments, fills);
  }

  private static long[] histogram(LocalFeatureStats.NumericStats n, String column) {
    return n.histogram().orElseThrow(() -> new IllegalArgumentException("column '" + column
        + "' needs quantiles but its statistics carry no histogram")).counts();
  }

  /** The level with the most rows, not counting an "other" level unless it is the only one. */
  private static String mostFrequent(String column, List<String> levels, Map<String, Long> counts,
                                     boolean otherLast) {
    String best = null;
    int candidates = otherLast && levels.size() > 1 ? levels.size() - 1 : levels.size();
    for (String level : levels.subList(0, candidates)) {
      long n = counts.getOrDefault(level, 0L);
      if (best == null || n > counts.getOrDefault(best, 0L)) {
        best = level;
      }
    }
    if (best == null) {
      throw new IllegalArgumentException("column '" + column + "' has no categories to fill missing values with");
    }
    return best;
  }

  /**
   * The mean and population standard deviation of a column whose {@code missing} values are filled
   * with {@code fill} (NaN: none are missing), from its observed values' count, sum and sum of squares.
   */
  private static void standardise(int j, long count, double sum, double sumOfSquares, long missing, double fill,
                                  double[] means, double[] stds) {
    long rows = count + (Double.isNaN(fill) ? 0 : missing);
    double filledSum = sum + (rows > count ? missing * fill : 0);
    double filledSquares = sumOfSquares + (rows > count ? missing * fill * fill : 0);
    means[j] = filledSum / rows;
    // E[x^2] - E[x]^2 can come out slightly negative from rounding; clamp before the square root.
    double variance = Math.max(0, filledSquares / rows - means[j] * means[j]);
    double std = Math.sqrt(variance);
    stds[j] = std > 1e-12 * Math.max(1, Math.abs(means[j])) ? std : 1.0;
  }

  /**
   * The level of {@code value} in categorical column {@code column}: its index among the column's
   * categories, the "other" level's ({@link #otherLevel}) when the column maps unseen values there, or
   * {@link #NO_LEVEL} when an open column's value is too rare for any bank to have named it.
   *
   * @throws IllegalArgumentException when a declared column without an "other" level does not allow it
   */
  public int level(int column, String value) {
    Integer index = indexOf.get(column).get(value);
    if (index != null) {
      return index;
    }
    if (schema.categoricalRules(column).unseenToOther()) {
      return categories.get(column).size() - 1;
    }
    if (schema.categoricalColumns().get(column).isDeclared()) {
      throw new IllegalArgumentException("column '" + schema.categoricalColumns().get(column).name()
          + "': category '" + value + "' is not in the job's feature encoding " + categories.get(column));
    }
    return NO_LEVEL;
  }

  /** Encodes every row of {@code table}, which must have been loaded with this job's schema. */
  public EncodedData encode(Table table) {
    if (!table.schema().equals(schema)) {
      throw new IllegalArgumentException(
          table.source() + " was loaded with a different schema than this feature encoding's");
    }
    int rows = table.rows();
    float[] x = new float[Math.multiplyExact(rows, featureCount)];
    float[] y = new float[rows];
    int numeric = means.length;
    double[] values = new double[numeric];
    String[] row = new String[categories.size()];
    // each distinct category of the table is looked up once, not once per row
    int[][] levelOfCode = new int[categories.size()][];
    for (int j = 0; j < categories.size(); j++) {
      List<String> observed = table.observedCategories(j);
      levelOfCode[j] = new int[observed.size()];
      for (int code = 0; code < observed.size(); code++) {
        try {
          levelOfCode[j][code] = level(j, observed.get(code));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(e.getMessage() + " (in " + table.source() + ")", e);
        }
      }
    }
    int[] levels = new int[categories.size()];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < numeric; j++) {
        values[j] = table.numeric(j, r);
      }
      for (int j = 0; j < row.length; j++) {
        int code = table.categoryCode(j, r);
        levels[j] = code == Table.MISSING ? MISSING_LEVEL : levelOfCode[j][code];
      }
      encodeLevels(values, levels, x, r * featureCount);
      y[r] = (float) table.label(r);
    }
    return new EncodedData(rows, featureCount, x, y);
  }

  /** A level index standing for a missing value in {@link #encodeLevels}. */
  private static final int MISSING_LEVEL = Integer.MIN_VALUE;

  /**
   * Encodes one row into {@code x} at {@code offset} ({@link #featureCount()} values, all written): the
   * numeric values in schema order (NaN: missing) and the categories (null: missing). This is the whole
   * encoding, preprocessing included; a bank streaming millions of rows and a scorer encoding one row
   * both use it.
   *
   * @throws IllegalArgumentException naming the column when a value is missing and the job refuses
   *     missing values there, or a declared column's category is not in the encoding
   */
  public void encodeRow(double[] numeric, String[] categories, float[] x, int offset) {
    int[] levels = new int[categories.length];
    for (int j = 0; j < categories.length; j++) {
      levels[j] = categories[j] == null ? MISSING_LEVEL : level(j, categories[j]);
    }
    encodeLevels(numeric, levels, x, offset);
  }

  private void encodeLevels(double[] numeric, int[] levels, float[] x, int offset) {
    Arrays.fill(x, offset, offset + featureCount, 0f);
    for (int j = 0; j < means.length; j++) {
      NumericTreatment t = numericTreatments.get(j);
      double v = numeric[j];
      if (Double.isNaN(v)) {
        if (!t.fills()) {
          throw new IllegalArgumentException("column '" + schema.numericColumns().get(j) + "': a missing value, "
              + "and the job refuses missing values in this column");
        }
        v = t.fill();
        if (numericIndicator[j] >= 0) {
          x[offset + numericIndicator[j]] = 1f;
        }
      } else {
        v = t.clip(v);
      }
      x[offset + j] = (float) ((v - means[j]) / stds[j]);
    }
    for (int j = 0; j < levels.length; j++) {
      int level = levels[j];
      if (level == MISSING_LEVEL) {
        String fill = categoryFills.get(j);
        if (fill == null) {
          throw new IllegalArgumentException("column '" + schema.categoricalColumns().get(j).name() + "': a missing "
              + "value, and the job refuses missing values in this column");
        }
        level = indexOf.get(j).get(fill);
        if (categoricalIndicator[j] >= 0) {
          x[offset + categoricalIndicator[j]] = 1f;
        }
      }
      if (level >= 0) {
        x[offset + firstLevel[j] + level] = 1f;
      }
      // NO_LEVEL: an open column's category too rare for any bank to name it sets no bit of that column
    }
  }

  public DataSchema schema() {
    return schema;
  }

  public int featureCount() {
    return featureCount;
  }

  public double[] means() {
    return means.clone();
  }

  public double[] stds() {
    return stds.clone();
  }

  /** Per categorical column, its levels: its categories, then {@value #OTHER_LEVEL_NAME} if it has that level. */
  public List<List<String>> categories() {
    return categories;
  }

  /** Per numeric column, its fill and clip bounds. */
  public List<NumericTreatment> numericTreatments() {
    return numericTreatments;
  }

  /** Per categorical column, the category a missing value becomes, or null when it is refused. */
  public List<String> categoryFills() {
    return categoryFills;
  }

  /** Whether categorical column {@code column} has an "other" level (after its categories). */
  public boolean hasOtherLevel(int column) {
    return schema.categoricalRules(column).unseenToOther();
  }

  /** The encoded feature of numeric column {@code column}'s missing indicator, or -1 if it has none. */
  public int numericIndicatorFeature(int column) {
    return numericIndicator[column];
  }

  /** The encoded feature of categorical column {@code column}'s missing indicator, or -1 if it has none. */
  public int categoricalIndicatorFeature(int column) {
    return categoricalIndicator[column];
  }

  /** The index of categorical column {@code column}'s "other" level among its categories, or -1. */
  public int otherLevel(int column) {
    return hasOtherLevel(column) ? categories.get(column).size() - 1 : -1;
  }

  /**
   * Names of the encoded features: numeric column names, then {@code column=category} (the "other" level
   * is {@code column=(other)}), then {@code column:missing} for each missing indicator.
   */
  public List<String> featureNames() {
    List<String> names = new ArrayList<>(schema.numericColumns());
    for (int j = 0; j < categories.size(); j++) {
      String column = schema.categoricalColumns().get(j).name();
      categories.get(j).forEach(c -> names.add(column + "=" + c));
    }
    for (int j = 0; j < numericIndicator.length; j++) {
      if (numericIndicator[j] >= 0) {
        names.add(schema.numericColumns().get(j) + ":missing");
      }
    }
    for (int j = 0; j < categoricalIndicator.length; j++) {
      if (categoricalIndicator[j] >= 0) {
        names.add(schema.categoricalColumns().get(j).name() + ":missing");
      }
    }
    return names;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FeatureEncoding other && schema.equals(other.schema)
        && Arrays.equals(means, other.means) && Arrays.equals(stds, other.stds)
        && categories.equals(other.categories) && numericTreatments.equals(other.numericTreatments)
        && categoryFills.equals(other.categoryFills);
  }

  @Override
  public int hashCode() {
    return Objects.hash(schema, Arrays.hashCode(means), Arrays.hashCode(stds), categories, numericTreatments,
        categoryFills);
  }

  @Override
  public String toString() {
    return "FeatureEncoding[" + featureCount + " features from " + schema.featureColumns() + "]";
  }
}
