package io.consort.scoring;

import io.consort.scoring.calibration.Calibration;
import io.consort.scoring.explain.Attribution;
import io.consort.scoring.explain.Attributor;
import io.consort.scoring.explain.ExplainableNetwork;
import io.consort.scoring.explain.InferenceNetwork;
import io.consort.scoring.explain.SequenceNetwork;
import io.consort.scoring.explain.UnfaithfulExplanationException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Scores a bank's applications with a published model: the calibrated probability of default, the
 * decision at the model's threshold and the reason codes, the columns that raised this applicant's
 * score most above the reference applicant's. For embedding in a decision service:
 *
 * <pre>{@code
 * Scorer scorer = Scorer.load(Path.of("jobs/loans-2026-model.consort"));   // checksum checked
 * Score s = scorer.score(Map.of("duration", "24", "purpose", "radio/tv", ...));
 * if (s.decision() == Decision.DECLINE) { ... s.reasons() ... }
 * }</pre>
 *
 * A row that violates the job's schema (a missing value, a non-number in a numeric column, a
 * category a declared column does not allow) is refused with every problem named, never scored.
 * Immutable: one instance serves any number of threads at once ({@link #withThreshold} and {@link
 * #withReasonCodes} return new ones).
 */
public final class Scorer {
  /** Reason codes per decision unless asked otherwise. */
  public static final int DEFAULT_REASON_CODES = 3;
  /** Rows per forward pass of a batch. */
  private static final int CHUNK_ROWS = 1024;

  private final PublishedModel model;
  private final RowEncoder encoder;
  private final ExplainableNetwork network;
  private final Attributor attributor;
  /**
   * For a sequence model whose columns are whole channels over its window, the window: its reasons are
   * per channel; 0 otherwise (one reason per column).
   */
  private final int channelWindow;
  private final Calibration calibration;
  private final double threshold;
  private final int reasonCodes;

  private Scorer(PublishedModel model, RowEncoder encoder, ExplainableNetwork network, Attributor attributor,
                 double threshold, int reasonCodes) {
    this.model = model;
    this.encoder = encoder;
    this.network = network;
    this.attributor = attributor;
    int window = model.spec().model().sequence().map(s -> s.window()).orElse(0);
    this.channelWindow = window > 1 && encoder.columns().size() % window == 0 ? window : 0;
    this.calibration = model.calibration();
    this.threshold = threshold;
    this.reasonCodes = reasonCodes;
  }

  /**
   * A scorer for {@code model} at its published threshold, with {@value #DEFAULT_REASON_CODES} reason
   * codes. A dense model (any depth, ReLU, tanh or sigmoid, dropout) is computed here in plain Java
   * ({@link InferenceNetwork}); a sequence model ({@link SequenceNetwork}) by the native engine (every
   * model type, any head, whichever engine trained it), its reason codes from its input gradient in
   * double precision, one per channel (its columns over the window), naming the time step that
   * contributed most.
   *
   * @throws IllegalArgumentException for a regression model (it makes no decision), or a sequence model
   *     whose network does not fit its parameters
   */
  public static Scorer of(PublishedModel model) {
    if (model.regression()) {
      throw new IllegalArgumentException("job '" + model.spec().id() + "' published a regression model: it predicts a "
          + "value of '" + model.spec().schema().labelColumn() + "' and makes no decision, so this scorer (a calibrated "
          + "probability, a decision and reason codes) does not apply; its card gives its RMSE, MAE and R^2");
    }
    io.consort.model.train.ModelSpec spec = model.spec().model();
    RowEncoder encoder = new RowEncoder(model.encoding());
    ExplainableNetwork network = spec.type().isSequence()
        ? SequenceNetwork.of(spec, model.encoding().featureCount(), model.parameters())
        : new InferenceNetwork(spec, model.encoding().featureCount(), model.parameters());
    return new Scorer(model, encoder, network, new Attributor(network, model.encoding()), model.decisionThreshold(),
        DEFAULT_REASON_CODES);
  }

  /** Reads a published model file (checking its version and checksum) and builds its scorer. */
  public static Scorer load(Path file) throws ModelFileException {
    return of(PublishedModelFile.read(file));
  }

  /** This scorer deciding at another calibrated probability, strictly between 0 and 1. */
  public Scorer withThreshold(double newThreshold) {
    if (!(newThreshold > 0 && newThreshold < 1)) {
      throw new IllegalArgumentException("the threshold must be strictly between 0 and 1, got " + newThreshold);
    }
    return new Scorer(model, encoder, network, attributor, newThreshold, reasonCodes);
  }

  /** This scorer giving up to {@code count} reason codes per score (0: none, and faster). */
  public Scorer withReasonCodes(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("the number of reason codes must be >= 0, got " + count);
    }
    return new Scorer(model, encoder, network, attributor, threshold, count);
  }

  public PublishedModel model() {
    return model;
  }

  public double threshold() {
    return threshold;
  }

  /** Whether this model's scores can carry reason codes: every model a job can publish (dense and sequence). */
  public boolean hasReasonCodes() {
    return true;
  }

  /** The most reason codes a score carries. */
  public int reasonCodes() {
    return reasonCodes;
  }

  /** The feature columns a row must have (the label column is not needed), schema order. */
  public List<String> columns() {
    return encoder.columns();
  }

  /** Scores one row, given as column name to value (extra columns are ignored). */
  public Score score(Map<String, String> row) throws RowRejectedException {
    RowOutcome outcome = scoreValues(java.util.Collections.singletonList(values(row))).get(0);
    if (!outcome.isScored()) {
      throw new RowRejectedException(outcome.problems());
    }
    return outcome.score().orElseThrow();
  }

  /** Scores a batch; one outcome per row, in order. */
  public List<RowOutcome> scoreAll(List<Map<String, String>> rows) {
    List<String[]> values = new ArrayList<>(rows.size());
    for (Map<String, String> row : rows) {
      values.add(values(row));
    }
    return scoreValues(values);
  }

  /**
   * Scores rows given as values in {@link #columns()} order (null for a missing value), in chunks of
   * up to {@value #CHUNK_ROWS} rows per forward pass.
   */
  public List<RowOutcome> scoreValues(List<String[]> rows) {
    List<RowOutcome> out = new ArrayList<>(rows.size());
    int features = encoder.features();
    for (int start = 0; start < rows.size(); start += CHUNK_ROWS) {
      int k = Math.min(CHUNK_ROWS, rows.size() - start);
      float[] x = new float[k * features];
      List<List<RowProblem>> problems = new ArrayList<>(k);
      for (int r = 0; r < k; r++) {
        problems.add(encoder.encode(rows.get(start + r), x, r * features));
      }
      float[] logits = new float[k];
      network.logits(x, k, logits);
      for (int r = 0; r < k; r++) {
        if (!problems.get(r).isEmpty()) {
          out.add(RowOutcome.refused(problems.get(r)));
          continue;
        }
        if (reasonCodes == 0) {
          out.add(RowOutcome.scored(score(logits[r], List.of(), new double[0])));
          continue;
        }
        double[] contributions;
        try {
          contributions = explained(java.util.Arrays.copyOfRange(x, r * features, (r + 1) * features), logits[r],
              start + r).perColumn();
        } catch (UnfaithfulExplanationException e) {
          // a decision needs its reasons: the row is refused (for a person to decide), the batch goes on
          out.add(RowOutcome.refused(List.of(new RowProblem(null, e.getMessage()))));
          continue;
        }
        for (int c = 0; c < contributions.length; c++) {
          contributions[c] *= calibration.slope();
        }
        out.add(RowOutcome.scored(score(logits[r], reasons(rows.get(start + r), contributions), contributions)));
      }
    }
    return out;
  }

  /**
   * Every column's contribution to one row's calibrated logit relative to the reference applicant's
   * (the model's attribution scaled by the calibration's slope), with the logits in the same units
   * ({@link Calibration#affine}), for audit and tests. For a sequence model one contribution per
   * column, i.e. per channel and time step (its reasons sum them per channel).
   *
   * @throws UnfaithfulExplanationException when the contributions cannot be made to add up to the logit
   *     difference within the method's tolerance (docs/DECISIONS.md, "Reason codes"): no unfaithful
   *     explanation is returned
   */
  public Attribution explain(Map<String, String> row) throws RowRejectedException {
    float[] x = new float[encoder.features()];
    List<RowProblem> problems = encoder.encode(values(row), x, 0);
    if (!problems.isEmpty()) {
      throw new RowRejectedException(problems);
    }
    Attribution a = explained(x, network.logit(x), 0);
    double[] scaled = a.perColumn();
    for (int i = 0; i < scaled.length; i++) {
      scaled[i] *= calibration.slope();
    }
    return new Attribution(scaled, calibration.affine(a.logit()), calibration.affine(a.referenceLogit()),
        a.residual() * calibration.slope(), a.pieces());
  }

  /**
   * The attribution of row {@code index} of a batch (0-based).
   *
   * @throws UnfaithfulExplanationException naming the row when its contributions cannot be made to add up to
   *     the logit difference: no unfaithful explanation is returned
   */
  private Attribution explained(float[] x, float logit, int index) {
    try {
      return attributor.explain(x, logit);
    } catch (UnfaithfulExplanationException e) {
      throw new UnfaithfulExplanationException("row " + (index + 1) + " of the batch cannot be explained "
          + "faithfully by job '" + model.spec().id() + "''s " + model.spec().model().type().wireName() + " model: "
          + e.getMessage(), e);
    }
  }

  private Score score(float logit, List<ReasonCode> reasons, double[] contributions) {
    double p = calibration.probability(logit);
    // the model's own probability as the banks' evaluation computed it
    double own = (float) (1.0 / (1.0 + Math.exp(-logit)));
    return new Score(p, own, p >= threshold ? Decision.DECLINE : Decision.APPROVE, reasons, contributions);
  }

  /**
   * The columns (a sequence model's channels) that raised the calibrated logit, largest first, at most
   * {@link #reasonCodes}.
   */
  private List<ReasonCode> reasons(String[] values, double[] contributions) {
    List<ReasonCode> all = new ArrayList<>();
    if (channelWindow > 0) {
      // a sequence model: one reason per channel, its time steps' contributions summed
      List<String> columns = encoder.columns();
      for (int first = 0; first < contributions.length; first += channelWindow) {
        double sum = 0;
        int most = first;
        for (int c = first; c < first + channelWindow; c++) {
          sum += contributions[c];
          if (contributions[c] > contributions[most]) {
            most = c;
          }
        }
        if (sum > 0) {
          all.add(new ReasonCode(columns.get(first) + ".." + columns.get(first + channelWindow - 1),
              values[most] == null ? ReasonCode.MISSING : values[most], sum, columns.get(most)));
        }
      }
    } else {
      for (int c = 0; c < contributions.length; c++) {
        if (contributions[c] > 0) {
          all.add(new ReasonCode(encoder.columns().get(c), values[c] == null ? ReasonCode.MISSING : values[c],
              contributions[c]));
        }
      }
    }
    all.sort(Comparator.comparingDouble(ReasonCode::contribution).reversed());
    return List.copyOf(all.subList(0, Math.min(reasonCodes, all.size())));
  }

  private String[] values(Map<String, String> row) {
    List<String> columns = encoder.columns();
    String[] values = new String[columns.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = row.get(columns.get(i));
    }
    return values;
  }
}
