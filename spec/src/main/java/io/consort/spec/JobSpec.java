package io.consort.spec;

import io.consort.model.data.DataSchema;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.TrainingEngine;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One federated job, validated: the data every bank must have, the model, how it is trained, the
 * privacy it gives, how updates are aggregated and how it is evaluated. Immutable; what both the
 * coordinator and the banks reason about. Build one with {@link #builder()} (which holds every
 * default) or read one from the wire with {@link JobSpecWire#fromProto}.
 *
 * @param id the job's identifier: 1 to 64 characters from {@code [A-Za-z0-9._-]}, starting with a
 *     letter or digit (it names files, log lines and ledger entries, so it can carry no separator,
 *     control character or path)
 */
public record JobSpec(String id, DataSchema schema, ModelSpec model, TrainingSpec training, PrivacySpec privacy,
                      SecureAggregationSpec secureAggregation, EvaluationSpec evaluation,
                      java.util.Optional<InitialParameters> initialParameters) {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  /** Bounds that keep a plan from making a bank allocate without limit. */
  public static final int MAX_HIDDEN_LAYERS = 64;
  public static final int MAX_LAYER_WIDTH = 1 << 16;
  public static final int MAX_BATCH_SIZE = 1 << 20;
  /**
   * Columns whose preprocessing needs a quantile histogram (median fill, clipping): each adds {@value
   * io.consort.model.data.QuantileGrid#BINS} counts to the statistics' secure sum.
   */
  public static final int MAX_QUANTILE_COLUMNS = 64;

  public JobSpec {
    if (id == null || !ID.matcher(id).matches()) {
      throw new InvalidJobSpecException("id", "must be 1 to 64 characters of letters, digits, '.', '_' or '-', "
          + "starting with a letter or digit, got " + (id == null ? "nothing" : "'" + printable(id) + "'"));
    }
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(training, "training");
    Objects.requireNonNull(privacy, "privacy");
    Objects.requireNonNull(secureAggregation, "secureAggregation");
    Objects.requireNonNull(evaluation, "evaluation");
    Objects.requireNonNull(initialParameters, "initialParameters");
    if (model.hiddenLayers().size() > MAX_HIDDEN_LAYERS
        || model.hiddenLayers().stream().anyMatch(width -> width > MAX_LAYER_WIDTH)) {
      throw new InvalidJobSpecException("model.hidden", "must have at most " + MAX_HIDDEN_LAYERS + " layers of at most "
          + MAX_LAYER_WIDTH + " units, got " + model.hiddenLayers());
    }
    if (model.batchSize() > MAX_BATCH_SIZE) {
      throw new InvalidJobSpecException("model.batch_size", "must be at most " + MAX_BATCH_SIZE + ", got "
          + model.batchSize());
    }
    long quantileColumns = schema.numericColumns().stream()
        .filter(c -> schema.preprocessing().numeric(c).needsQuantiles()).count();
    if (quantileColumns > MAX_QUANTILE_COLUMNS) {
      throw new InvalidJobSpecException("schema.preprocessing", "may ask for the median or clipping of at most "
          + MAX_QUANTILE_COLUMNS + " columns (each adds a quantile histogram to the secure sum), got " + quantileColumns);
    }
    if (training.engine() == TrainingEngine.NATIVE && !model.nativeKernel()) {
      throw new InvalidJobSpecException("model.engine", "must be dl4j for a " + model.type().wireName()
          + " model: the native kernel computes dense, 1-D CNN, LSTM, SimpleRnn and attention models only");
    }
    if (model.objective() == Objective.REGRESSION && !schema.isNumericLabel()) {
      throw new InvalidJobSpecException("schema.label_bound", "is required with model.objective regression: the "
          + "label '" + schema.labelColumn() + "' must be declared numeric with a positive bound (it clips the labels "
          + "and scales the evaluation's secure sum), and schema.positive left out");
    }
    if (model.objective() == Objective.BINARY && schema.isNumericLabel()) {
      throw new InvalidJobSpecException("schema.label_bound", "applies only with model.objective regression; a "
          + "binary job's label '" + schema.labelColumn() + "' is a class named by schema.positive");
    }
    if (model.objective() == Objective.REGRESSION && evaluation.costMatrix().isPresent()) {
      throw new InvalidJobSpecException("cost_matrix", "applies only to binary jobs: a regression model predicts a "
          + "value, it makes no decision");
    }
    model.sequence().ifPresent(s -> requireWindowFits(s, schema));
    initialParameters.ifPresent(p -> requireInitialParametersFit(p, model, schema));
    if (privacy.bankLevel() && !secureAggregation.enabled()) {
      throw new InvalidJobSpecException("secure_aggregation.enabled", "must be true with privacy unit "
          + privacy.mode().wireName() + ": bank-level noise shares are added under secure aggregation");
    }
    if (privacy.distributedRecordNoise().isPresent()) {
      PrivacySpec.DistributedNoise d = privacy.distributedRecordNoise().get();
      if (!secureAggregation.enabled()) {
        throw new InvalidJobSpecException("secure_aggregation.enabled", "must be true with record_noise distributed:"
            + " each bank's share of the noise hides its gradient only inside the secure sum");
      }
      if (privacy.bankLevel()) {
        throw new InvalidJobSpecException("privacy.record_noise", "distributed applies with privacy unit record only,"
            + " not " + privacy.mode().wireName());
      }
      if (training.localEpochs() != 1) {
        throw new InvalidJobSpecException("local_epochs", "must be 1 with record_noise distributed: every round is"
            + " one DP-SGD step on the banks' summed gradients, got " + training.localEpochs());
      }
      int smallestThreshold = Math.max(2, training.minBanks());
      if (d.colludingBanks() >= smallestThreshold) {
        throw new InvalidJobSpecException("privacy.colluding_banks", "must be below the smallest threshold a round"
            + " may have (max(2, min_banks) = " + smallestThreshold + "), or the shares of the colluders could be"
            + " all the noise in a sum; got " + d.colludingBanks());
      }
    }
    if (secureAggregation.enabled() && secureAggregation.threshold().isPresent()
        && secureAggregation.threshold().getAsInt() < training.minBanks()) {
      throw new InvalidJobSpecException("secure_aggregation.threshold", "must be at least min_banks ("
          + training.minBanks() + ") so that no sum of fewer banks than the job allows is unmasked, got "
          + secureAggregation.threshold().getAsInt());
    }
    if (secureAggregation.enabled() && secureAggregation.neighbourDegree().isPresent()) {
      // SecAgg+: a bank's neighbourhood is degree + 1 banks, and a sum unmasks only with a threshold that a
      // neighbourhood can meet; a round has at least max(2, min_banks) banks and threshold at least that
      int neighbourhood = secureAggregation.neighbourDegree().getAsInt() + 1;
      int smallestThreshold = Math.max(Math.max(2, training.minBanks()), secureAggregation.threshold().orElse(0));
      if (smallestThreshold > neighbourhood) {
        throw new InvalidJobSpecException("secure_aggregation.neighbour_degree", "must be at least "
            + (smallestThreshold - 1) + ": every round's threshold (at least " + smallestThreshold + ", from min_banks"
            + " and threshold) must fit in a bank's neighbourhood of degree + 1 banks, or every bank refuses the"
            + " first sum; got " + (neighbourhood - 1));
      }
    }
  }

  /**
   * A sequence model reads each row as {@code channels x window} numeric values, so the schema must
   * have numeric columns only, a whole number of channels of {@code window} columns each.
   */
  private static void requireWindowFits(SequenceSpec s, DataSchema schema) {
    if (!schema.categoricalColumns().isEmpty()) {
      throw new InvalidJobSpecException("model.type", "sequence models read numeric columns only (channels x "
          + "window); the schema has categorical columns " + schema.categoricalColumns().stream()
          .map(DataSchema.CategoricalColumn::name).toList());
    }
    int columns = schema.numericColumns().size();
    if (columns % s.window() != 0 || columns < s.window()) {
      throw new InvalidJobSpecException("model.window", "must divide the " + columns + " numeric columns into "
          + "whole channels of window values each (input width " + columns + "), got " + s.window());
    }
    if (s.units() > MAX_LAYER_WIDTH) {
      throw new InvalidJobSpecException("model.units", "must be at most " + MAX_LAYER_WIDTH + ", got " + s.units());
    }
  }

  /**
   * Initial parameters must be exactly the model's parameters at the encoded input width, which the
   * schema must therefore fix (every categorical column declares its categories).
   */
  private static void requireInitialParametersFit(InitialParameters p, ModelSpec model, DataSchema schema) {
    java.util.OptionalInt width = io.consort.model.features.FeatureEncoding.declaredFeatureCount(schema);
    if (width.isEmpty()) {
      throw new InvalidJobSpecException("model.initial_parameters", "need an input width the schema fixes: declare "
          + "the values of every categorical column (open: " + schema.categoricalColumns().stream()
          .filter(c -> !c.isDeclared()).map(DataSchema.CategoricalColumn::name).toList() + ")");
    }
    int expected = ModelFactory.parameterCount(model, width.getAsInt());
    if (p.count() != expected) {
      throw new InvalidJobSpecException("model.initial_parameters", "must hold the model's " + expected
          + " parameters (at " + width.getAsInt() + " encoded features), got " + p.count());
    }
  }

  /**
   * The job's version-0 model at {@code inputs} encoded features: the plan's initial parameters when
   * it has them, else Xavier from the model's seed. The coordinator starts from it and a bank compares
   * a version-0 model with it.
   *
   * @throws IllegalArgumentException when the plan's initial parameters do not fit {@code inputs}
   */
  public float[] initialModel(int inputs) {
    if (initialParameters.isEmpty()) {
      return ModelFactory.initialParameters(model, inputs);
    }
    int expected = ModelFactory.parameterCount(model, inputs);
    if (initialParameters.get().count() != expected) {
      throw new IllegalArgumentException("job '" + id + "': the plan's " + initialParameters.get().count()
          + " initial parameters do not fit the model's " + expected + " at " + inputs + " encoded features");
    }
    return initialParameters.get().values();
  }

  /** A builder with every default of a job file. */
  public static JobSpecBuilder builder() {
    return new JobSpecBuilder();
  }

  /** A builder holding this specification's values, to derive a changed one. */
  public JobSpecBuilder toBuilder() {
    return JobSpecBuilder.from(this);
  }

  private static String printable(String s) {
    StringBuilder out = new StringBuilder();
    s.codePoints().limit(64).forEach(c -> {
      if (Character.isISOControl(c)) {
        out.append(String.format("\\u%04x", c));
      } else {
        out.appendCodePoint(c);
      }
    });
    return s.codePointCount(0, s.length()) > 64 ? out + "..." : out.toString();
  }
}
