package io.consort.spec;

import io.consort.model.data.DataSchema;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.TrainingEngine;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Builds a {@link JobSpec}, and is the one place that holds the defaults of a job file: a field not
 * set here takes the value below, and nothing downstream substitutes another. {@link #build()}
 * validates and names the first bad field. Setting a field that the chosen mode does not use (a
 * record-level clip on a job without record-level DP, say) is an error, not silently ignored.
 */
public final class JobSpecBuilder {
  public static final int DEFAULT_ROUNDS = 10;
  public static final int DEFAULT_LOCAL_EPOCHS = 1;
  public static final int DEFAULT_MIN_BANKS = 2;
  public static final int DEFAULT_HISTOGRAM_BINS = 100;
  public static final long DEFAULT_MODEL_SEED = 7;
  public static final double DEFAULT_DELTA = 1e-5;
  public static final double DEFAULT_RECORD_CLIP_NORM = 1.0;
  /** Distributed record noise: every other bank holding the model knows its own share. */
  public static final int DEFAULT_COLLUDING_BANKS = 1;
  /** Distributed record noise: the Poisson rate of each step (a pooled batch of 5% of the rows). */
  public static final double DEFAULT_RECORD_SAMPLING_RATE = 0.05;
  public static final int DEFAULT_MODULUS_BITS = 32;
  /** Without bank-level DP the clip only bounds quantisation, so it is loose enough to rarely bite. */
  public static final double DEFAULT_SECURE_AGGREGATION_CLIP_NORM = 10.0;
  /** A sequence model's default width (LSTM/RNN units, filters, attention width) and dense head. */
  public static final int DEFAULT_SEQUENCE_UNITS = 16;
  public static final List<Integer> DEFAULT_SEQUENCE_HEAD = List.of(16);
  public static final int DEFAULT_KERNEL_SIZE = 3;
  public static final int DEFAULT_HEADS = 2;

  private String id;
  private DataSchema schema;
  private ModelType modelType = ModelType.MLP;
  private List<Integer> hiddenLayers;
  private int batchSize = ModelSpec.DEFAULT_BATCH_SIZE;
  private double learningRate = ModelSpec.DEFAULT_LEARNING_RATE;
  private double l2;
  private long modelSeed = DEFAULT_MODEL_SEED;
  private HiddenActivation activation = HiddenActivation.RELU;
  private double dropout;
  private Objective objective = Objective.BINARY;
  private Integer window;
  private Integer units;
  private Integer kernelSize;
  private Integer heads;
  private TrainingEngine engine;
  private int rounds = DEFAULT_ROUNDS;
  private int localEpochs = DEFAULT_LOCAL_EPOCHS;
  private int minBanks = DEFAULT_MIN_BANKS;
  private PrivacyMode privacy = PrivacyMode.OFF;
  private double delta = DEFAULT_DELTA;
  private Double targetEpsilon;
  private Double recordClipNorm;
  private Double recordNoiseMultiplier;
  private Double bankNoiseMultiplier;
  private boolean distributedRecordNoise;
  private Integer colludingBanks;
  private Double recordSamplingRate;
  private boolean secureAggregation = true;
  private Integer threshold;
  private Integer neighbourDegree;
  private int modulusBits = DEFAULT_MODULUS_BITS;
  private double secureAggregationClipNorm = DEFAULT_SECURE_AGGREGATION_CLIP_NORM;
  private boolean consistencyCheck = true;
  private boolean unmaskingWithInput;
  private int keyRounds = 1;
  private Boolean selfMask;
  private int histogramBins = DEFAULT_HISTOGRAM_BINS;
  private CostMatrix costMatrix;
  private StrategySpec strategy = StrategySpec.fedAvg();
  private double proximalMu;
  private InitialParameters initialParameters;

  JobSpecBuilder() {}

  static JobSpecBuilder from(JobSpec spec) {
    JobSpecBuilder b = new JobSpecBuilder().id(spec.id()).schema(spec.schema()).modelType(spec.model().type())
        .hiddenLayers(spec.model().hiddenLayers()).batchSize(spec.model().batchSize())
        .learningRate(spec.model().learningRate()).l2(spec.model().l2()).modelSeed(spec.model().seed())
        .activation(spec.model().activation()).dropout(spec.model().dropout()).objective(spec.model().objective())
        .engine(spec.training().engine()).rounds(spec.training().rounds()).localEpochs(spec.training().localEpochs())
        .minBanks(spec.training().minBanks()).strategy(spec.training().strategy())
        .proximalMu(spec.training().proximalMu()).privacy(spec.privacy().mode()).delta(spec.privacy().delta())
        .targetEpsilon(boxed(spec.privacy().targetEpsilon()))
        .secureAggregation(spec.secureAggregation().enabled())
        .threshold(boxed(spec.secureAggregation().threshold()))
        .neighbourDegree(boxed(spec.secureAggregation().neighbourDegree()))
        .modulusBits(spec.secureAggregation().modulusBits())
        .secureAggregationClipNorm(spec.secureAggregation().clipNorm())
        .consistencyCheck(spec.secureAggregation().consistencyCheck())
        .unmaskingWithInput(spec.secureAggregation().unmaskingWithInput())
        .keyRounds(spec.secureAggregation().keyRounds())
        .selfMask(spec.secureAggregation().selfMask() == SecureAggregationSpec.defaultSelfMask(
            spec.secureAggregation().unmaskingWithInput()) ? null : spec.secureAggregation().selfMask())
        .histogramBins(spec.evaluation().histogramBins())
        .costMatrix(spec.evaluation().costMatrix().orElse(null))
        .initialParameters(spec.initialParameters().orElse(null));
    spec.privacy().record().ifPresent(r -> b.recordClipNorm(r.clipNorm())
        .recordNoiseMultiplier(boxed(r.noiseMultiplier())));
    spec.privacy().distributedRecordNoise().ifPresent(d -> b.distributedRecordNoise(true)
        .colludingBanks(d.colludingBanks()).recordSamplingRate(d.samplingRate()));
    spec.privacy().bank().ifPresent(k -> b.bankNoiseMultiplier(boxed(k.noiseMultiplier())));
    spec.model().sequence().ifPresent(s -> b.window(s.window()).units(s.units())
        .kernelSize(s.kernelSize() > 0 ? s.kernelSize() : null).heads(s.heads() > 0 ? s.heads() : null));
    return b;
  }

  public JobSpecBuilder id(String id) {
    this.id = id;
    return this;
  }

  public JobSpecBuilder schema(DataSchema schema) {
    this.schema = schema;
    return this;
  }

  public JobSpecBuilder modelType(ModelType type) {
    this.modelType = type;
    return this;
  }

  /** Default: the brief's 64-32 network for an MLP, none for logistic regression. */
  public JobSpecBuilder hiddenLayers(List<Integer> hiddenLayers) {
    this.hiddenLayers = hiddenLayers;
    return this;
  }

  public JobSpecBuilder batchSize(int batchSize) {
    this.batchSize = batchSize;
    return this;
  }

  public JobSpecBuilder learningRate(double learningRate) {
    this.learningRate = learningRate;
    return this;
  }

  public JobSpecBuilder l2(double l2) {
    this.l2 = l2;
    return this;
  }

  /**
   * The model's initial parameters in {@link io.consort.model.train.ModelFactory}'s layout (a network
   * brought from Keras); default none: Xavier from the model seed.
   */
  public JobSpecBuilder initialParameters(InitialParameters parameters) {
    this.initialParameters = parameters;
    return this;
  }

  /** FedProx's client-side proximal term (Li et al. 2020); default 0, none. Needs the native engine. */
  public JobSpecBuilder proximalMu(double mu) {
    this.proximalMu = mu;
    return this;
  }

  /** Default relu. */
  public JobSpecBuilder activation(HiddenActivation activation) {
    this.activation = activation;
    return this;
  }

  /** Default 0 (none). */
  public JobSpecBuilder dropout(double dropout) {
    this.dropout = dropout;
    return this;
  }

  /**
   * Default binary (a classifier). Regression (identity output, mean squared error) needs a numeric
   * label with its bound in the schema, and trains on the dl4j engine.
   */
  public JobSpecBuilder objective(Objective objective) {
    this.objective = objective;
    return this;
  }

  /** Sequence models only, required: time steps per example. */
  public JobSpecBuilder window(Integer window) {
    this.window = window;
    return this;
  }

  /** Sequence models only; default {@value #DEFAULT_SEQUENCE_UNITS}. */
  public JobSpecBuilder units(Integer units) {
    this.units = units;
    return this;
  }

  /** cnn1d only; default {@value #DEFAULT_KERNEL_SIZE}. */
  public JobSpecBuilder kernelSize(Integer kernelSize) {
    this.kernelSize = kernelSize;
    return this;
  }

  /** attention only; default {@value #DEFAULT_HEADS}. */
  public JobSpecBuilder heads(Integer heads) {
    this.heads = heads;
    return this;
  }

  /** Default: plain federated averaging. */
  public JobSpecBuilder strategy(StrategySpec strategy) {
    this.strategy = strategy;
    return this;
  }

  public JobSpecBuilder modelSeed(long seed) {
    this.modelSeed = seed;
    return this;
  }

  /**
   * Default (null): native for the models it computes ({@link ModelSpec#nativeKernel()}: dense, 1-D CNN,
   * LSTM, SimpleRnn and attention models, any head activation, objective and dropout; several times faster than DL4J, with exact batched DP-SGD clipping); dl4j otherwise
   * (DP-SGD there clips by microbatches of one).
   */
  public JobSpecBuilder engine(TrainingEngine engine) {
    this.engine = engine;
    return this;
  }

  public JobSpecBuilder rounds(int rounds) {
    this.rounds = rounds;
    return this;
  }

  public JobSpecBuilder localEpochs(int localEpochs) {
    this.localEpochs = localEpochs;
    return this;
  }

  public JobSpecBuilder minBanks(int minBanks) {
    this.minBanks = minBanks;
    return this;
  }

  public JobSpecBuilder privacy(PrivacyMode mode) {
    this.privacy = mode;
    return this;
  }

  public JobSpecBuilder delta(double delta) {
    this.delta = delta;
    return this;
  }

  public JobSpecBuilder targetEpsilon(Double targetEpsilon) {
    this.targetEpsilon = targetEpsilon;
    return this;
  }

  /** Record level only; default {@value #DEFAULT_RECORD_CLIP_NORM}. */
  public JobSpecBuilder recordClipNorm(Double clipNorm) {
    this.recordClipNorm = clipNorm;
    return this;
  }

  /**
   * Record level only: share each DP-SGD step's noise among the banks under secure aggregation (every
   * round one federated DP-SGD step) instead of each bank adding all of it locally. Default false.
   */
  public JobSpecBuilder distributedRecordNoise(boolean distributed) {
    this.distributedRecordNoise = distributed;
    return this;
  }

  /** Distributed record noise only; default {@value #DEFAULT_COLLUDING_BANKS}. */
  public JobSpecBuilder colludingBanks(Integer k) {
    this.colludingBanks = k;
    return this;
  }

  /** Distributed record noise only; default {@value #DEFAULT_RECORD_SAMPLING_RATE}. */
  public JobSpecBuilder recordSamplingRate(Double q) {
    this.recordSamplingRate = q;
    return this;
  }

  /** Record level only; default (null): calibrated by each bank to the target epsilon. */
  public JobSpecBuilder recordNoiseMultiplier(Double z) {
    this.recordNoiseMultiplier = z;
    return this;
  }

  /** Bank level only; default (null): calibrated to the target epsilon over the job's rounds. */
  public JobSpecBuilder bankNoiseMultiplier(Double z) {
    this.bankNoiseMultiplier = z;
    return this;
  }

  public JobSpecBuilder secureAggregation(boolean enabled) {
    this.secureAggregation = enabled;
    return this;
  }

  /** Default (null): the smallest strict majority of each neighbourhood, raised to min_banks. */
  public JobSpecBuilder threshold(Integer threshold) {
    this.threshold = threshold;
    return this;
  }

  /** Default (null): the complete graph. */
  public JobSpecBuilder neighbourDegree(Integer degree) {
    this.neighbourDegree = degree;
    return this;
  }

  public JobSpecBuilder modulusBits(int bits) {
    this.modulusBits = bits;
    return this;
  }

  public JobSpecBuilder secureAggregationClipNorm(double clipNorm) {
    this.secureAggregationClipNorm = clipNorm;
    return this;
  }

  /**
   * Default true: the consistency check that secure aggregation needs against a coordinator that may
   * deviate from the protocol. False keeps only the honest-but-curious guarantee (one stage less).
   */
  public JobSpecBuilder consistencyCheck(boolean enabled) {
    this.consistencyCheck = enabled;
    return this;
  }

  /**
   * Default false ({@code after_inputs}): true, {@code with_input}, has each bank send its b-shares with its masked
   * input, so a clean round needs no unmasking stage; a sum with a missing input is then abandoned.
   */
  public JobSpecBuilder unmaskingWithInput(boolean enabled) {
    this.unmaskingWithInput = enabled;
    return this;
  }

  /**
   * Default 1 (fresh keys for every sum): N > 1 has a bank's keys serve the pipelined rounds of a period of N rounds
   * (docs/SECURE_AGGREGATION.md, "Keys for a period of rounds"); only with {@link #unmaskingWithInput}.
   */
  public JobSpecBuilder keyRounds(int rounds) {
    this.keyRounds = rounds;
    return this;
  }

  /**
   * Default (null): false with {@link #unmaskingWithInput}, true otherwise. False has no bank add a self mask or share
   * anything (docs/SECURE_AGGREGATION.md, "No self mask under with_input"); true with {@code with_input} keeps the
   * self mask and b-shares of protocol versions 5 and 6.
   */
  public JobSpecBuilder selfMask(Boolean enabled) {
    this.selfMask = enabled;
    return this;
  }

  public JobSpecBuilder histogramBins(int bins) {
    this.histogramBins = bins;
    return this;
  }

  /** What wrong decisions cost; null (the default) for none. */
  public JobSpecBuilder costMatrix(CostMatrix costs) {
    this.costMatrix = costs;
    return this;
  }

  /** @throws InvalidJobSpecException naming the first field that is missing or invalid */
  public JobSpec build() {
    if (schema == null) {
      throw new InvalidJobSpecException("schema", "is required");
    }
    if (modelType == null) {
      throw new InvalidJobSpecException("model.type", "is required");
    }
    if (privacy == null) {
      throw new InvalidJobSpecException("privacy.unit", "is required");
    }
    if (activation == null) {
      throw new InvalidJobSpecException("model.activation", "is required (relu by default)");
    }
    if (objective == null) {
      throw new InvalidJobSpecException("model.objective", "is required (binary by default)");
    }
    List<Integer> hidden = hiddenLayers != null ? hiddenLayers
        : modelType == ModelType.MLP ? ModelSpec.DEFAULT_HIDDEN_LAYERS
        : modelType.isSequence() ? DEFAULT_SEQUENCE_HEAD : List.of();
    Optional<SequenceSpec> sequence = sequenceLayer();
    ModelSpec model;
    try {
      model = new ModelSpec(modelType, hidden, batchSize, learningRate, l2, modelSeed, activation, dropout,
          objective, sequence);
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap("model", e);
    }
    if (strategy == null) {
      throw new InvalidJobSpecException("strategy", "is required (fedavg by default)");
    }
    // The native kernel wherever it computes the model (dense, 1-D CNN, LSTM, SimpleRnn, attention): it trains several times faster
    // than DL4J (docs/BENCHMARKS.md), and DP-SGD and FedProx run on it. A job may still name dl4j.
    TrainingEngine chosen = engine != null ? engine
        : model.nativeKernel() || proximalMu > 0 ? TrainingEngine.NATIVE : TrainingEngine.DL4J;
    if (!privacy.recordLevel() && (recordClipNorm != null || recordNoiseMultiplier != null)) {
      throw new InvalidJobSpecException(recordClipNorm != null ? "privacy.record_clip_norm"
          : "privacy.record_noise_multiplier", "applies only with privacy unit record or both, not "
          + privacy.wireName());
    }
    if (!privacy.bankLevel() && bankNoiseMultiplier != null) {
      throw new InvalidJobSpecException("privacy.bank_noise_multiplier", "applies only with privacy unit bank or "
          + "both, not " + privacy.wireName());
    }
    if (privacy == PrivacyMode.OFF && targetEpsilon != null) {
      throw new InvalidJobSpecException("privacy.target_epsilon", "applies only when privacy is on (unit record, "
          + "bank or both)");
    }
    if (!distributedRecordNoise && (colludingBanks != null || recordSamplingRate != null)) {
      throw new InvalidJobSpecException(colludingBanks != null ? "privacy.colluding_banks"
          : "privacy.record_sampling_rate", "applies only with record_noise distributed");
    }
    if (distributedRecordNoise && !privacy.recordLevel()) {
      throw new InvalidJobSpecException("privacy.record_noise", "distributed applies only with privacy unit record,"
          + " not " + privacy.wireName());
    }
    Optional<PrivacySpec.DistributedNoise> distributed = distributedRecordNoise
        ? Optional.of(new PrivacySpec.DistributedNoise(colludingBanks != null ? colludingBanks
            : DEFAULT_COLLUDING_BANKS, recordSamplingRate != null ? recordSamplingRate : DEFAULT_RECORD_SAMPLING_RATE))
        : Optional.empty();
    Optional<PrivacySpec.RecordDp> record = privacy.recordLevel()
        ? Optional.of(new PrivacySpec.RecordDp(recordClipNorm != null ? recordClipNorm : DEFAULT_RECORD_CLIP_NORM,
            optional(recordNoiseMultiplier), distributed))
        : Optional.empty();
    Optional<PrivacySpec.BankDp> bank = privacy.bankLevel()
        ? Optional.of(new PrivacySpec.BankDp(optional(bankNoiseMultiplier))) : Optional.empty();
    return new JobSpec(id, schema, model, new TrainingSpec(rounds, localEpochs, minBanks, chosen, strategy, proximalMu),
        new PrivacySpec(privacy, delta, optional(targetEpsilon), record, bank),
        new SecureAggregationSpec(secureAggregation, optionalInt(threshold), optionalInt(neighbourDegree), modulusBits,
            secureAggregationClipNorm, consistencyCheck, unmaskingWithInput, keyRounds,
            selfMask != null ? selfMask : SecureAggregationSpec.defaultSelfMask(unmaskingWithInput)),
        new EvaluationSpec(histogramBins, Optional.ofNullable(costMatrix)), Optional.ofNullable(initialParameters));
  }

  private Optional<SequenceSpec> sequenceLayer() {
    if (!modelType.isSequence()) {
      String stray = window != null ? "model.window" : units != null ? "model.units"
          : kernelSize != null ? "model.kernel_size" : heads != null ? "model.heads" : null;
      if (stray != null) {
        throw new InvalidJobSpecException(stray, "applies only to sequence models (lstm, simple-rnn, cnn1d, "
            + "attention), not " + modelType.wireName());
      }
      return Optional.empty();
    }
    if (window == null) {
      throw new InvalidJobSpecException("model.window", "is required for a " + modelType.wireName() + " model");
    }
    if (kernelSize != null && modelType != ModelType.CNN1D) {
      throw new InvalidJobSpecException("model.kernel_size", "applies only to cnn1d, not " + modelType.wireName());
    }
    if (heads != null && modelType != ModelType.ATTENTION) {
      throw new InvalidJobSpecException("model.heads", "applies only to attention, not " + modelType.wireName());
    }
    try {
      return Optional.of(new SequenceSpec(window, units != null ? units : DEFAULT_SEQUENCE_UNITS,
          modelType == ModelType.CNN1D ? (kernelSize != null ? kernelSize : Math.min(DEFAULT_KERNEL_SIZE, window)) : 0,
          modelType == ModelType.ATTENTION ? (heads != null ? heads : DEFAULT_HEADS) : 0));
    } catch (IllegalArgumentException e) {
      throw InvalidJobSpecException.wrap("model", e);
    }
  }

  private static OptionalDouble optional(Double value) {
    return value == null ? OptionalDouble.empty() : OptionalDouble.of(value);
  }

  private static OptionalInt optionalInt(Integer value) {
    return value == null ? OptionalInt.empty() : OptionalInt.of(value);
  }

  private static Double boxed(OptionalDouble value) {
    return value.isPresent() ? value.getAsDouble() : null;
  }

  private static Integer boxed(OptionalInt value) {
    return value.isPresent() ? value.getAsInt() : null;
  }
}
