package io.consort.scoring.rows;

import io.consort.model.eval.ExactMetrics;
import io.consort.scoring.Decision;
import io.consort.scoring.ReasonCode;
import io.consort.scoring.RowOutcome;
import io.consort.scoring.RowProblem;
import io.consort.scoring.Score;
import io.consort.scoring.Scorer;
import io.consort.spec.CostMatrix;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Scores every row of a {@link RowSource} into a scores CSV: one output line per scored row with
 * its position ({@code line} or {@code row}), the chosen id columns, the calibrated probability, the
 * decision and the reason codes. A row that violates the schema is not scored and not written: each
 * of its problems goes to {@code rejections} with the source, the position and the column. Rows are
 * scored in batches of {@value #BATCH_ROWS}.
 *
 * <p>When the source also has the job's label column, the summary carries the scored rows' exact
 * metrics (AUC, log-loss and Brier score of the calibrated and of the model's own probability, and
 * the expected cost of the decisions when the job has a cost matrix): a bank's check of the model on
 * its own rows, which stays in the bank.
 */
public final class ScoringRun {
  static final int BATCH_ROWS = 1024;
  private static final double PROBABILITY_FLOOR = 1e-7;

  private ScoringRun() {}

  /** One problem of one refused row, where it is. */
  public record Rejection(String source, String positionName, long position, RowProblem problem) {
    @Override
    public String toString() {
      return source + " " + positionName + " " + position + (problem.column() == null ? "" : ", column '"
          + problem.column() + "'") + ": " + problem.problem();
    }
  }

  /** A row read but not yet scored: its position, its fields, and its feature values (null if mis-sized). */
  private record Pending(long position, String[] record, String[] values) {}

  /** Metrics of the scored rows against their labels. */
  public record Labelled(long rows, long positives, double auc, double logLoss, double modelLogLoss, double brier,
                         double modelBrier, double accuracy, Optional<Double> expectedCost) {}

  /**
   * What a run did.
   *
   * @param meanAbsoluteContribution per feature column (scorer order), the mean absolute reason-code
   *     contribution over the scored rows: this file's own ranking of the columns; empty without
   *     reason codes
   */
  public record Summary(long rows, long scored, long refused, long declined, Optional<Labelled> labelled,
                        List<String> columns, double[] meanAbsoluteContribution) {
    public Summary {
      meanAbsoluteContribution = meanAbsoluteContribution.clone();
    }

    @Override
    public double[] meanAbsoluteContribution() {
      return meanAbsoluteContribution.clone();
    }
  }

  /**
   * Scores {@code source} with {@code scorer} into {@code out}.
   *
   * @param idColumns source columns copied into each output line to identify the row
   * @param rejections receives every problem of every refused row, in order
   * @throws IOException when the source lacks a feature or id column, or cannot be read or written
   */
  public static Summary run(Scorer scorer, RowSource source, List<String> idColumns, Writer out,
                            Consumer<Rejection> rejections) throws IOException {
    List<String> columns = source.columns();
    List<String> features = scorer.columns();
    int[] featureIndex = indexes(source, features, "feature");
    int[] idIndex = indexes(source, idColumns, "id");
    int labelIndex = indexOf(source, scorer.model().spec().schema().labelColumn());
    String positive = scorer.model().spec().schema().positiveClass();
    int reasons = scorer.reasonCodes();
    header(out, source.positionName(), idColumns, reasons);

    long rows = 0;
    long refused = 0;
    long declined = 0;
    double[] absolute = new double[features.size()];
    FloatList probabilities = new FloatList();
    FloatList modelProbabilities = new FloatList();
    FloatList labels = new FloatList();
    List<Pending> batch = new ArrayList<>(BATCH_ROWS);
    boolean more = true;
    while (more) {
      String[] record = source.next();
      more = record != null;
      if (more) {
        rows++;
        String[] values = null;
        if (record.length == columns.size()) {
          values = new String[featureIndex.length];
          for (int i = 0; i < values.length; i++) {
            values[i] = record[featureIndex[i]];
          }
        }
        batch.add(new Pending(source.position(), record, values));
      }
      if (batch.size() == BATCH_ROWS || (!more && !batch.isEmpty())) {
        List<String[]> scorable = new ArrayList<>(batch.size());
        batch.stream().filter(p -> p.values() != null).forEach(p -> scorable.add(p.values()));
        java.util.Iterator<RowOutcome> outcomes = scorer.scoreValues(scorable).iterator();
        for (Pending p : batch) {
          List<RowProblem> problems = p.values() == null
              ? List.of(new RowProblem(null, "the row has " + p.record().length + " fields but the header has "
                  + columns.size() + " columns"))
              : null;
          RowOutcome outcome = problems == null ? outcomes.next() : null;
          if (outcome != null && outcome.isScored()) {
            Score s = outcome.score().orElseThrow();
            declined += s.decision() == Decision.DECLINE ? 1 : 0;
            double[] contributions = s.contributions();
            for (int c = 0; c < contributions.length; c++) {
              absolute[c] += Math.abs(contributions[c]);
            }
            String label = labelIndex < 0 ? null : p.record()[labelIndex];
            if (label != null) {
              probabilities.add((float) s.probability());
              modelProbabilities.add((float) s.modelProbability());
              labels.add(label.equals(positive) ? 1f : 0f);
            }
            line(out, p.position(), p.record(), idIndex, s, reasons);
            continue;
          }
          refused++;
          for (RowProblem problem : problems != null ? problems : outcome.problems()) {
            rejections.accept(new Rejection(source.name(), source.positionName(), p.position(), problem));
          }
        }
        batch.clear();
      }
    }
    long scored = rows - refused;
    double[] mean = new double[reasons == 0 ? 0 : absolute.length];
    for (int c = 0; c < mean.length && scored > 0; c++) {
      mean[c] = absolute[c] / scored;
    }
    Optional<Labelled> labelled = labels.size() == 0 ? Optional.empty()
        : Optional.of(labelled(probabilities.toArray(), modelProbabilities.toArray(), labels.toArray(),
            scorer.threshold(), scorer.model().spec().evaluation().costMatrix()));
    return new Summary(rows, scored, refused, declined, labelled, features, mean);
  }

  private static int[] indexes(RowSource source, List<String> wanted, String role) throws IOException {
    int[] index = new int[wanted.size()];
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < index.length; i++) {
      index[i] = indexOf(source, wanted.get(i));
      if (index[i] < 0) {
        missing.add(wanted.get(i));
      }
    }
    if (!missing.isEmpty()) {
      throw new IOException(source.name() + ": the " + role + " column" + (missing.size() == 1 ? " " : "s ")
          + missing + (missing.size() == 1 ? " is" : " are") + " missing; the source has " + source.columns());
    }
    return index;
  }

  /** The column's index: an exact match, or for a case-folding source the one match ignoring case; -1 if none. */
  private static int indexOf(RowSource source, String name) {
    int exact = source.columns().indexOf(name);
    if (exact >= 0 || !source.foldsCase()) {
      return exact;
    }
    int found = -1;
    for (int i = 0; i < source.columns().size(); i++) {
      if (source.columns().get(i).equalsIgnoreCase(name)) {
        if (found >= 0) {
          return -1;
        }
        found = i;
      }
    }
    return found;
  }

  static Labelled labelled(float[] p, float[] own, float[] y, double threshold, Optional<CostMatrix> costs) {
    double logLoss = 0;
    double brier = 0;
    double modelBrier = 0;
    long correct = 0;
    long positives = 0;
    double cost = 0;
    for (int i = 0; i < p.length; i++) {
      boolean positive = y[i] > 0.5f;
      positives += positive ? 1 : 0;
      double q = Math.min(Math.max(p[i], PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR);
      logLoss -= positive ? Math.log(q) : Math.log1p(-q);
      brier += (p[i] - y[i]) * (double) (p[i] - y[i]);
      modelBrier += (own[i] - y[i]) * (double) (own[i] - y[i]);
      boolean decline = p[i] >= threshold;
      correct += decline == positive ? 1 : 0;
      if (costs.isPresent()) {
        cost += positive && !decline ? costs.get().falseNegative() : !positive && decline ? costs.get().falsePositive()
            : 0;
      }
    }
    int n = p.length;
    double auc = positives == 0 || positives == n ? Double.NaN : ExactMetrics.auc(p, y);
    double modelLogLoss = ExactMetrics.logLoss(own, y);
    double expected = cost / n;
    return new Labelled(n, positives, auc, logLoss / n, modelLogLoss, brier / n, modelBrier / n, (double) correct / n,
        costs.map(c -> expected));
  }

  private static void header(Writer out, String positionName, List<String> ids, int reasons) throws IOException {
    List<String> names = new ArrayList<>();
    names.add(positionName);
    names.addAll(ids);
    names.add("probability");
    names.add("decision");
    for (int k = 1; k <= reasons; k++) {
      names.add("reason_" + k);
      names.add("contribution_" + k);
    }
    out.write(String.join(",", names.stream().map(ScoringRun::quote).toList()));
    out.write('\n');
  }

  private static void line(Writer out, long position, String[] record, int[] idIndex, Score s, int reasons)
      throws IOException {
    StringBuilder b = new StringBuilder().append(position);
    for (int i : idIndex) {
      b.append(',').append(quote(Objects.requireNonNullElse(record[i], "")));
    }
    b.append(',').append(String.format(Locale.ROOT, "%.6f", s.probability())).append(',').append(s.decision().label());
    List<ReasonCode> codes = s.reasons();
    for (int k = 0; k < reasons; k++) {
      if (k < codes.size()) {
        b.append(',').append(quote(codes.get(k).label())).append(',')
            .append(String.format(Locale.ROOT, "%.4f", codes.get(k).contribution()));
      } else {
        b.append(",,");
      }
    }
    out.write(b.append('\n').toString());
  }

  /** RFC 4180: quoted only when the value holds a comma, quote or line break. */
  static String quote(String value) {
    if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0) {
      return value;
    }
    return '"' + value.replace("\"", "\"\"") + '"';
  }

  /** A growable float array, so labelled metrics need no boxing. */
  private static final class FloatList {
    private float[] values = new float[1024];
    private int size;

    void add(float v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    int size() {
      return size;
    }

    float[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
