package io.consort.cli;

import static java.util.Objects.requireNonNullElse;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.consort.cli.option.OptionValues;
import io.consort.coordinator.job.JobDefinition;
import io.consort.model.data.CategoricalRules;
import io.consort.model.data.DataSchema;
import io.consort.model.data.Imputation;
import io.consort.model.data.NumericRules;
import io.consort.model.data.Preprocessing;
import io.consort.model.data.QuantileClip;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.TrainingEngine;
import io.consort.spec.CostMatrix;
import io.consort.spec.InvalidJobSpecException;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.PrivacyMode;
import io.consort.spec.PrivacySpec;
import io.consort.spec.SecureAggregationSpec;
import io.consort.spec.StrategySpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * The {@code job:} section of {@code coordinator.yaml}: a {@link JobSpec} and the coordinator's
 * scheduling rules. A null value was left out of the file and keeps {@link JobSpecBuilder}'s default
 * (a section left out has every value null); the scheduling defaults are below.
 */
record JobYaml(String id, Integer rounds, Integer localEpochs, Integer minBanks, Integer expectedBanks,
               Integer startTimeoutSeconds, Integer stageTimeoutSeconds, Integer histogramBins, Schema schema, Model model, Privacy privacy,
               SecureAggregation secureAggregation, Costs costMatrix, Strategy strategy) {
  static final int DEFAULT_START_TIMEOUT_SECONDS = 300;
  static final int DEFAULT_STAGE_TIMEOUT_SECONDS = 120;

  JobYaml {
    model = requireNonNullElse(model, new Model(null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null));
    privacy = requireNonNullElse(privacy, new Privacy(null, null, null, null, null, null, null, null, null));
    secureAggregation = requireNonNullElse(secureAggregation, new SecureAggregation(null, null, null, null, null,
        null, null, null, null));
  }

  /**
   * The data: {@code label} is the label column; a class label names its positive class in {@code
   * positive}, a numeric label (a regression target) gives instead its {@code label_bound}, the range
   * every label is clipped to.
   */
  record Schema(String label, String positive, List<NumericColumn> numeric, List<Column> categorical,
                Double labelBound) {}

  /**
   * A numeric column: its name alone (missing values refused), or a mapping with its name and
   * preprocessing: {@code missing} (refuse, mean, median, constant), {@code fill} (the constant),
   * {@code missing_indicator}, {@code sentinels} (numbers, or texts such as NA, that mean missing) and
   * {@code clip} (two quantiles, e.g. [0.01, 0.99]).
   */
  @StrictYaml.Description("a column name or a mapping with name, missing, fill, missing_indicator, sentinels and clip")
  record NumericColumn(String name, String missing, Double fill, Boolean missingIndicator, List<Object> sentinels,
                       List<Double> clip) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    NumericColumn {}

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static NumericColumn named(String name) {
      return new NumericColumn(name, null, null, null, null, null);
    }

    NumericRules rules(String key) {
      Imputation imputation = imputation(key, missing);
      List<Double> numbers = new ArrayList<>();
      List<String> texts = new ArrayList<>();
      for (Object s : requireNonNullElse(sentinels, List.of())) {
        if (s instanceof Number n) {
          numbers.add(n.doubleValue());
        } else if (s instanceof String text) {
          texts.add(text);
        } else {
          throw new IllegalArgumentException(key + ".sentinels must list numbers or texts, got " + s);
        }
      }
      Optional<QuantileClip> quantiles = Optional.empty();
      if (clip != null) {
        if (clip.size() != 2) {
          throw new IllegalArgumentException(key + ".clip must be two quantiles [lower, upper], e.g. [0.01, 0.99], "
              + "got " + clip);
        }
        quantiles = Optional.of(new QuantileClip(clip.get(0), clip.get(1)));
      }
      return new NumericRules(imputation, fill == null ? OptionalDouble.empty() : OptionalDouble.of(fill),
          requireNonNullElse(missingIndicator, false), numbers, texts, quantiles);
    }

    static NumericColumn of(String name, NumericRules r) {
      if (r.isDefault()) {
        return named(name);
      }
      List<Object> sentinels = r.writtenSentinels();
      return new NumericColumn(name, r.imputation().wireName(), r.constant().isPresent() ? r.constant().getAsDouble()
          : null, r.missingIndicator() ? true : null, sentinels.isEmpty() ? null : sentinels,
          r.clip().map(c -> List.of(c.lower(), c.upper())).orElse(null));
    }
  }

  /**
   * A categorical column: its name alone (categories as the banks observe them), or a mapping with its
   * name, {@code values} (the complete list of categories), and preprocessing: {@code missing} (refuse,
   * most_frequent, constant), {@code fill} (the constant category), {@code missing_indicator}, {@code
   * sentinels} (texts that mean missing) and {@code unseen} (refuse, or other: categories outside the
   * list, or too rare for any bank to name, go to an "other" level).
   */
  @StrictYaml.Description("a column name or a mapping with name, values, missing, fill, missing_indicator, sentinels "
      + "and unseen")
  record Column(String name, List<String> values, String missing, String fill, Boolean missingIndicator,
                List<String> sentinels, String unseen) {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    Column {}

    Column(String name, List<String> values) {
      this(name, values, null, null, null, null, null);
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static Column named(String name) {
      return new Column(name, null);
    }

    CategoricalRules rules(String key) {
      boolean other = false;
      if (unseen != null) {
        if (!unseen.equals("other") && !unseen.equals("refuse")) {
          throw new IllegalArgumentException(key + ".unseen must be refuse or other, got '" + unseen + "'");
        }
        other = unseen.equals("other");
      }
      return new CategoricalRules(imputation(key, missing), Optional.ofNullable(fill),
          requireNonNullElse(missingIndicator, false), requireNonNullElse(sentinels, List.of()), other);
    }

    static Column of(DataSchema.CategoricalColumn c, CategoricalRules r) {
      List<String> values = c.isDeclared() ? c.allowedCategories() : null;
      if (r.isDefault()) {
        return new Column(c.name(), values);
      }
      return new Column(c.name(), values, r.imputation().wireName(), r.constant().orElse(null),
          r.missingIndicator() ? true : null, r.sentinels().isEmpty() ? null : r.sentinels(),
          r.unseenToOther() ? "other" : null);
    }
  }

  private static Imputation imputation(String key, String missing) {
    if (missing == null) {
      return Imputation.REFUSE;
    }
    try {
      return Imputation.fromName(missing);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ".missing " + e.getMessage(), e);
    }
  }

  /**
   * The model: {@code window}, {@code units}, {@code kernel_size} and {@code heads} only for sequence
   * models; {@code objective} binary (the default) or regression; {@code keras} a network brought from
   * Keras, which sets the type, layers, activation and initial parameters (and the learning rate,
   * unless given).
   */
  record Model(String type, List<Integer> hidden, Integer batchSize, Double learningRate, Long seed, Double l2,
               String engine, String activation, Double dropout, Integer window, Integer units, Integer kernelSize,
               Integer heads, String objective, Keras keras) {}

  /** A Keras HDF5 Sequential model: {@code file} (relative to the job file) and its pinned {@code sha256}. */
  record Keras(String file, String sha256) {}

  /**
   * {@code record_noise}: {@code local} (the default: each bank adds all of its DP-SGD noise) or
   * {@code distributed} (each round one federated DP-SGD step, the noise shared among the banks under
   * secure aggregation, with {@code colluding_banks} and {@code record_sampling_rate}).
   */
  record Privacy(String unit, Double delta, Double targetEpsilon, Double recordClipNorm,
                 Double recordNoiseMultiplier, Double bankNoiseMultiplier, String recordNoise, Integer colludingBanks,
                 Double recordSamplingRate) {}

  /**
   * {@code unmasking}: {@code after_inputs} (the default) or {@code with_input}; {@code key_rounds}: the rounds a
   * bank's keys serve, 1 by default, above 1 only with {@code with_input} (docs/SECURE_AGGREGATION.md); {@code
   * self_mask}: false by default with {@code with_input} (no self mask, no shares), true otherwise.
   */
  record SecureAggregation(Boolean enabled, Integer threshold, Integer neighbourDegree, Integer modulusBits,
                           Double clipNorm, Boolean consistencyCheck, String unmasking, Integer keyRounds,
                           Boolean selfMask) {}

  /**
   * The server update rule: {@code name} is required when the section is given; the other keys default
   * to the rule's (Reddi et al.'s) values, and a key the rule does not use is refused.
   */
  record Strategy(String name, Double serverLearningRate, Double beta1, Double beta2, Double tau, Double proximalMu) {}

  /** What wrong decisions cost: both keys are required when the section is given. */
  record Costs(Double falseNegative, Double falsePositive) {}

  /**
   * The job as the coordinator runs it.
   *
   * @throws IllegalArgumentException naming the key ({@code job.model.type}, ...) that is missing or wrong
   */
  JobDefinition toDefinition(Path file) {
    JobSpec spec = toSpec(file);
    try {
      return new JobDefinition(spec, requireNonNullElse(expectedBanks, spec.training().minBanks()),
          Duration.ofSeconds(requireNonNullElse(startTimeoutSeconds, DEFAULT_START_TIMEOUT_SECONDS)),
          Duration.ofSeconds(requireNonNullElse(stageTimeoutSeconds, DEFAULT_STAGE_TIMEOUT_SECONDS)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("job: " + e.getMessage(), e);
    }
  }

  /**
   * The validated specification; every key left out keeps {@link JobSpecBuilder}'s default.
   *
   * @param file the job file, against whose directory relative paths (the Keras file) resolve
   */
  JobSpec toSpec(Path file) {
    if (id == null) {
      throw new IllegalArgumentException("job.id is required");
    }
    JobSpecBuilder b = JobSpec.builder().id(id);
    DataSchema dataSchema = schema == null ? null : dataSchema();
    if (dataSchema != null) {
      b.schema(dataSchema);
    }
    if (model.type() != null) {
      OptionValues.ModelTypes types = new OptionValues.ModelTypes();
      b.modelType(types.find(model.type().toLowerCase(Locale.ROOT)).orElseThrow(() -> new IllegalArgumentException(
          "job.model.type must be one of " + String.join(", ", types.names()) + ", got '" + model.type() + "'")));
    }
    set(model.hidden(), b::hiddenLayers);
    set(model.batchSize(), b::batchSize);
    set(model.learningRate(), b::learningRate);
    set(model.seed(), b::modelSeed);
    set(model.l2(), b::l2);
    if (model.activation() != null) {
      try {
        b.activation(HiddenActivation.fromName(model.activation()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("job.model.activation: " + e.getMessage(), e);
      }
    }
    set(model.dropout(), b::dropout);
    if (model.objective() != null) {
      try {
        b.objective(Objective.fromName(model.objective()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("job.model.objective: " + e.getMessage(), e);
      }
    }
    set(model.window(), b::window);
    set(model.units(), b::units);
    set(model.kernelSize(), b::kernelSize);
    set(model.heads(), b::heads);
    if (model.engine() != null) {
      try {
        b.engine(TrainingEngine.fromName(model.engine()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("job.model.engine: " + e.getMessage(), e);
      }
    }
    if (model.keras() != null) {
      keras(file, dataSchema, b);
    }
    if (privacy.unit() != null) {
      try {
        b.privacy(PrivacyMode.fromName(privacy.unit()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("job.privacy.unit " + e.getMessage(), e);
      }
    }
    set(privacy.delta(), b::delta);
    set(privacy.targetEpsilon(), b::targetEpsilon);
    set(privacy.recordClipNorm(), b::recordClipNorm);
    set(privacy.recordNoiseMultiplier(), b::recordNoiseMultiplier);
    set(privacy.bankNoiseMultiplier(), b::bankNoiseMultiplier);
    if (privacy.recordNoise() != null) {
      switch (privacy.recordNoise().strip().toLowerCase(Locale.ROOT)) {
        case "local" -> b.distributedRecordNoise(false);
        case "distributed" -> b.distributedRecordNoise(true);
        default -> throw new IllegalArgumentException("job.privacy.record_noise must be local or distributed, got '"
            + privacy.recordNoise() + "'");
      }
    }
    set(privacy.colludingBanks(), b::colludingBanks);
    set(privacy.recordSamplingRate(), b::recordSamplingRate);
    set(secureAggregation.enabled(), b::secureAggregation);
    set(secureAggregation.threshold(), b::threshold);
    set(secureAggregation.neighbourDegree(), b::neighbourDegree);
    set(secureAggregation.modulusBits(), b::modulusBits);
    set(secureAggregation.clipNorm(), b::secureAggregationClipNorm);
    set(secureAggregation.consistencyCheck(), b::consistencyCheck);
    if (secureAggregation.unmasking() != null) {
      try {
        b.unmaskingWithInput(SecureAggregationSpec.parseUnmasking(secureAggregation.unmasking()));
      } catch (InvalidJobSpecException e) {
        throw new IllegalArgumentException("job." + e.getMessage(), e);
      }
    }
    set(secureAggregation.keyRounds(), b::keyRounds);
    if (secureAggregation.selfMask() != null) {
      b.selfMask(secureAggregation.selfMask());
    }
    set(rounds, b::rounds);
    set(localEpochs, b::localEpochs);
    set(minBanks, b::minBanks);
    set(histogramBins, b::histogramBins);
    if (costMatrix != null) {
      if (costMatrix.falseNegative() == null || costMatrix.falsePositive() == null) {
        throw new IllegalArgumentException("job.cost_matrix needs both false_negative (approving a bad applicant) and "
            + "false_positive (refusing a good one)");
      }
      try {
        b.costMatrix(new CostMatrix(costMatrix.falseNegative(), costMatrix.falsePositive()));
      } catch (InvalidJobSpecException e) {
        throw new IllegalArgumentException("job." + e.getMessage(), e);
      }
    }
    if (strategy != null) {
      b.strategy(strategySpec());
      set(strategy.proximalMu(), b::proximalMu);
    }
    try {
      return b.build();
    } catch (InvalidJobSpecException e) {
      throw new IllegalArgumentException("job." + e.getMessage(), e);
    }
  }

  /** The model brought from Keras; the keys it sets itself are refused beside it. */
  private void keras(Path file, DataSchema dataSchema, JobSpecBuilder b) {
    String stray = model.type() != null ? "type" : model.hidden() != null ? "hidden"
        : model.activation() != null ? "activation" : model.dropout() != null ? "dropout"
        : model.window() != null ? "window" : model.units() != null ? "units"
        : model.kernelSize() != null ? "kernel_size" : model.heads() != null ? "heads"
        // the file's sigmoid output makes the model binary
        : model.objective() != null && !"binary".equals(model.objective()) ? "objective" : null;
    if (stray != null) {
      throw new IllegalArgumentException("job.model." + stray + " is set by the Keras file (job.model.keras); "
          + "leave it out");
    }
    if (model.keras().file() == null) {
      throw new IllegalArgumentException("job.model.keras.file is required: a Keras HDF5 Sequential model");
    }
    KerasJobModel.apply(StrictYaml.resolve(file, "job.model.keras.file", model.keras().file()),
        model.keras().sha256(), requireNonNullElse(model.seed(), JobSpecBuilder.DEFAULT_MODEL_SEED),
        model.learningRate() != null, dataSchema, b);
  }

  private StrategySpec strategySpec() {
    if (strategy.name() == null) {
      throw new IllegalArgumentException("job.strategy.name is required: one of "
          + String.join(", ", new OptionValues.Strategies().names()));
    }
    StrategySpec.Name name = new OptionValues.Strategies().find(strategy.name().toLowerCase(Locale.ROOT))
        .orElseThrow(() -> new IllegalArgumentException("job.strategy.name must be one of "
            + String.join(", ", new OptionValues.Strategies().names()) + ", got '" + strategy.name() + "'"));
    StrategySpec defaults = StrategySpec.defaults(name);
    try {
      return new StrategySpec(name, requireNonNullElse(strategy.serverLearningRate(), defaults.serverLearningRate()),
          requireNonNullElse(strategy.beta1(), defaults.beta1()), requireNonNullElse(strategy.beta2(), defaults.beta2()),
          requireNonNullElse(strategy.tau(), defaults.tau()));
    } catch (InvalidJobSpecException e) {
      throw new IllegalArgumentException("job." + e.getMessage(), e);
    }
  }

  private DataSchema dataSchema() {
    if (schema.label() == null) {
      throw new IllegalArgumentException("job.schema.label is required");
    }
    if (schema.positive() == null && schema.labelBound() == null) {
      throw new IllegalArgumentException("job.schema.positive is required (the positive class of the label), or "
          + "job.schema.label_bound for a numeric label (a regression target)");
    }
    if (schema.positive() != null && schema.labelBound() != null) {
      throw new IllegalArgumentException("job.schema.positive and job.schema.label_bound exclude each other: a class "
          + "label names its positive class, a numeric label its bound");
    }
    List<NumericColumn> numeric = requireNonNullElse(schema.numeric(), List.of());
    List<Column> categorical = requireNonNullElse(schema.categorical(), List.of());
    Map<String, NumericRules> numericRules = new LinkedHashMap<>();
    Map<String, CategoricalRules> categoricalRules = new LinkedHashMap<>();
    for (int i = 0; i < numeric.size(); i++) {
      String key = "job.schema.numeric[" + i + "]";
      if (numeric.get(i).name() == null) {
        throw new IllegalArgumentException(key + ".name is required");
      }
      try {
        numericRules.put(numeric.get(i).name(), numeric.get(i).rules(key));
      } catch (IllegalArgumentException e) {
        throw e.getMessage().startsWith(key) ? e : new IllegalArgumentException(key + " (" + numeric.get(i).name()
            + "): " + e.getMessage(), e);
      }
    }
    for (int i = 0; i < categorical.size(); i++) {
      String key = "job.schema.categorical[" + i + "]";
      try {
        categoricalRules.put(categorical.get(i).name(), categorical.get(i).rules(key));
      } catch (IllegalArgumentException e) {
        throw e.getMessage().startsWith(key) ? e : new IllegalArgumentException(key + " ("
            + categorical.get(i).name() + "): " + e.getMessage(), e);
      }
    }
    try {
      return new DataSchema(numeric.stream().map(NumericColumn::name).toList(),
          categorical.stream()
              .map(c -> new DataSchema.CategoricalColumn(c.name(), requireNonNullElse(c.values(), List.of())))
              .toList(),
          schema.label(), requireNonNullElse(schema.positive(), ""), new Preprocessing(numericRules, categoricalRules),
          schema.labelBound() == null ? OptionalDouble.empty() : OptionalDouble.of(schema.labelBound()));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("job.schema: " + e.getMessage(), e);
    }
  }

  /** A key given in the file overrides the builder's default; one left out keeps it. */
  private static <T> void set(T value, Consumer<T> setter) {
    if (value != null) {
      setter.accept(value);
    }
  }

  // ------------------------------------------------------------------ writing (the demo's configs)

  /** The section for {@code spec}, with every value the job uses written out. */
  static JobYaml of(JobSpec spec, int expectedBanks, int startTimeoutSeconds, int stageTimeoutSeconds) {
    if (spec.initialParameters().isPresent()) {
      throw new IllegalArgumentException("job '" + spec.id() + "' brings its initial parameters, which a job file "
          + "carries only as job.model.keras (a Keras file and its SHA-256)");
    }
    DataSchema s = spec.schema();
    PrivacySpec p = spec.privacy();
    SecureAggregationSpec a = spec.secureAggregation();
    return new JobYaml(spec.id(), spec.training().rounds(), spec.training().localEpochs(), spec.training().minBanks(),
        expectedBanks, startTimeoutSeconds, stageTimeoutSeconds, spec.evaluation().histogramBins(),
        schema(s),
        new Model(new OptionValues.ModelTypes().name(spec.model().type()), spec.model().hiddenLayers(),
            spec.model().batchSize(), spec.model().learningRate(), spec.model().seed(), spec.model().l2(),
            spec.training().engine().wireName(), spec.model().activation().wireName(), spec.model().dropout(),
            spec.model().sequence().map(SequenceSpec::window).orElse(null),
            spec.model().sequence().map(SequenceSpec::units).orElse(null),
            spec.model().sequence().filter(q -> q.kernelSize() > 0).map(SequenceSpec::kernelSize).orElse(null),
            spec.model().sequence().filter(q -> q.heads() > 0).map(SequenceSpec::heads).orElse(null),
            spec.model().objective().wireName(), null),
        new Privacy(p.mode().wireName(), p.delta(), boxed(p.targetEpsilon()),
            p.record().map(PrivacySpec.RecordDp::clipNorm).orElse(null),
            p.record().map(r -> boxed(r.noiseMultiplier())).orElse(null),
            p.bank().map(k -> boxed(k.noiseMultiplier())).orElse(null),
            p.record().map(r -> r.distributed().isPresent() ? "distributed" : "local").orElse(null),
            p.distributedRecordNoise().map(PrivacySpec.DistributedNoise::colludingBanks).orElse(null),
            p.distributedRecordNoise().map(PrivacySpec.DistributedNoise::samplingRate).orElse(null)),
        new SecureAggregation(a.enabled(), boxed(a.threshold()), boxed(a.neighbourDegree()), a.modulusBits(),
            a.clipNorm(), a.consistencyCheck(), a.unmaskingWithInput() ? a.unmaskingName() : null,
            a.keyRounds() > 1 ? a.keyRounds() : null,
            a.selfMask() == SecureAggregationSpec.defaultSelfMask(a.unmaskingWithInput()) ? null : a.selfMask()),
        spec.evaluation().costMatrix().map(c -> new Costs(c.falseNegative(), c.falsePositive())).orElse(null),
        strategy(spec.training().strategy(), spec.training().proximalMu()));
  }

  /** The strategy's keys, those the rule does not use left out. */
  private static Strategy strategy(StrategySpec s, double proximalMu) {
    boolean momentum = s.name() != StrategySpec.Name.FEDAVG;
    return new Strategy(s.name().wireName(), momentum ? s.serverLearningRate() : null, momentum ? s.beta1() : null,
        s.usesBeta2() ? s.beta2() : null, s.name().adaptive() ? s.tau() : null, proximalMu > 0 ? proximalMu : null);
  }

  /** The {@code schema:} section for {@code s}, preprocessing rules written next to their columns. */
  static Schema schema(DataSchema s) {
    return new Schema(s.labelColumn(), s.isNumericLabel() ? null : s.positiveClass(),
        s.numericColumns().stream().map(c -> NumericColumn.of(c, s.preprocessing().numeric(c))).toList(),
        s.categoricalColumns().stream().map(c -> Column.of(c, s.preprocessing().categorical(c.name()))).toList(),
        s.isNumericLabel() ? s.labelBound().getAsDouble() : null);
  }

  private static Double boxed(OptionalDouble value) {
    return value.isPresent() ? value.getAsDouble() : null;
  }

  private static Integer boxed(OptionalInt value) {
    return value.isPresent() ? value.getAsInt() : null;
  }
}
