package io.consort.model.train;

import io.consort.model.features.EncodedData;
import io.consort.model.train.spi.TrainingLoop;
import io.consort.model.train.spi.TrainingLoopProvider;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.random.RandomGenerator;

/**
 * Trains one bank's copy of the global model on that bank's rows. Create one per bank and job; call
 * {@link #train} once per round. Batch and gradient buffers are allocated once and reused.
 *
 * <p>Without DP: each epoch shuffles the rows and walks them in batches of
 * {@link ModelSpec#batchSize()}; each step's gradient is the batch mean. With DP-SGD
 * ({@link DpSgdConfig}): each step Poisson-samples its batch with CSPRNG uniforms, clips each
 * example's gradient, adds Gaussian noise to the sum and divides by the expected batch size;
 * {@code epochs} becomes {@code round(epochs / q)} steps.
 *
 * <p>Engines ({@link TrainingEngine}): {@code NATIVE} (the default) runs the passes of the models
 * {@link ModelSpec#nativeKernel()} names in plain Java ({@link NativeNetwork}); {@code DL4J} runs
 * the same standard training through DL4J's {@code MultiLayerNetwork.fit} and Adam updater, with the same shuffling, batches and {@link TrainingOptions.OptimizerState}
 * semantics. The DL4J engine lives in the consort-model-dl4j module and is found through
 * {@link ServiceLoader} ({@link TrainingLoopProvider}); asking for it without that module on the
 * class path fails with an {@link IllegalStateException} naming the module. DP-SGD runs on
 * either engine with the same Poisson sampling, noise, grid, L2 and Adam step here; only the
 * clipped sum of per-example gradients comes from the engine: the native networks' exact norms,
 * or the loop's {@link TrainingLoop#clippedGradientSum} (DL4J: one backward pass per example, so
 * every layer DL4J has clips exactly). The native kernel computes every model
 * ({@link ModelSpec#nativeKernel()}); the DL4J engine trains one only when it is asked for. Prediction uses {@link Predictor}.
 *
 * <p>Randomness: the default constructor draws from a {@code BulkSecureRandom} (shuffles, Poisson
 * sampling, the native engine's dropout masks, noise). Seeded generators are for tests and reproducible simulations only. Not
 * thread-safe; run one round at a time.
 */
public final class LocalTrainer {
  private final ModelSpec spec;
  private final EncodedData data;
  private final TrainingEngine engine;
  /**
   * The inner loop of an engine other than {@code NATIVE}, null for {@code NATIVE}: its network and
   * batch arrays live as long as the trainer.
   */
  private final TrainingLoop loop;
  /** The native engine's network; null on another engine. */
  private final NativeNetwork network;
  private final int parameterCount;
  /** Which parameters are weights (L2 applies), for DP-SGD steps on another engine's gradients. */
  private final boolean[] weightMask;
  private final AdamOptimizer adam;
  private final RandomGenerator randomness;
  private final GaussianNoise noise;
  private final float[] gradient;
  private final int[] order;
  /** FedProx: mu, and the round's global model the proximal term pulls towards (null: no term). */
  private float proximalMu;
  private float[] anchor;

  /**
   * A {@link TrainingEngine#NATIVE} trainer with production randomness: SecureRandom for sampling,
   * shuffling and noise.
   */
  public LocalTrainer(ModelSpec spec, EncodedData trainData) {
    this(spec, trainData, TrainingEngine.NATIVE);
  }

  /** A trainer on {@code engine} with production randomness (SecureRandom). */
  public LocalTrainer(ModelSpec spec, EncodedData trainData, TrainingEngine engine) {
    this(spec, trainData, engine, BufferedSecureRandom.create(), GaussianNoise.secure());
  }

  /** A {@link TrainingEngine#NATIVE} trainer with the given randomness (see below). */
  public LocalTrainer(ModelSpec spec, EncodedData trainData, RandomGenerator randomness,
      GaussianNoise noise) {
    this(spec, trainData, TrainingEngine.NATIVE, randomness, noise);
  }

  /**
   * A trainer with the given randomness. {@code randomness} draws each round's shuffles, Poisson
   * samples and (native engine) dropout masks; with DP-SGD in production it must be cryptographically secure, as must
   * {@code noise}.
   */
  public LocalTrainer(ModelSpec spec, EncodedData trainData, TrainingEngine engine,
      RandomGenerator randomness, GaussianNoise noise) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.data = Objects.requireNonNull(trainData, "trainData");
    this.engine = Objects.requireNonNull(engine, "engine");
    this.randomness = Objects.requireNonNull(randomness, "randomness");
    this.noise = Objects.requireNonNull(noise, "noise");
    if (trainData.rows() == 0) {
      throw new IllegalArgumentException("no training rows");
    }
    if (engine == TrainingEngine.NATIVE && !spec.nativeKernel()) {
      throw new IllegalArgumentException("the native engine computes dense, 1-D CNN, LSTM, SimpleRnn and "
          + "attention models; a " + spec.type().wireName() + " model trains on the dl4j engine");
    }
    ParameterLayout layout = ParameterLayout.of(spec, trainData.features());
    parameterCount = layout.parameterCount();
    network = engine == TrainingEngine.NATIVE ? NativeNetwork.of(spec, trainData.features()) : null;
    weightMask = engine == TrainingEngine.NATIVE ? null : layout.weightMask();
    adam = new AdamOptimizer(parameterCount, spec.learningRate());
    gradient = new float[parameterCount];
    order = new int[trainData.rows()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    loop = engine == TrainingEngine.NATIVE ? null : openLoop(engine, spec, trainData);
  }

  private static TrainingLoop openLoop(TrainingEngine engine, ModelSpec spec, EncodedData data) {
    return provider(engine).open(spec, data);
  }

  /** The provider of {@code engine}, found with {@link ServiceLoader}. */
  static TrainingLoopProvider provider(TrainingEngine engine) {
    for (TrainingLoopProvider provider : ServiceLoader.load(TrainingLoopProvider.class,
        TrainingLoopProvider.class.getClassLoader())) {
      if (provider.engine() == engine) {
        return provider;
      }
    }
    throw new IllegalStateException("the '" + engine.wireName() + "' training engine is not"
        + " available: it is provided by the module " + engine.module() + " (io.consort:"
        + engine.module() + "), which is not on this process's class path");
  }

  /**
   * The native engine's kernel in this process: the Vector API kernel when the JVM was started with
   * {@code --add-modules jdk.incubator.vector} (the launcher does), plain Java loops otherwise.
   */
  public static String nativeKernel() {
    return DenseKernel.preferred().description();
  }

  public ModelSpec spec() {
    return spec;
  }

  public TrainingEngine engine() {
    return engine;
  }

  public int parameterCount() {
    return parameterCount;
  }

  public int trainingRows() {
    return data.rows();
  }

  /**
   * One round: starts from {@code globalParameters} (not modified) and returns the bank's new
   * parameters after {@code epochs} passes (expected passes with DP-SGD).
   */
  public TrainingResult train(float[] globalParameters, int epochs, TrainingOptions options) {
    if (globalParameters.length != parameterCount) {
      throw new IllegalArgumentException("the model has " + parameterCount
          + " parameters, got " + globalParameters.length);
    }
    if (epochs <= 0) {
      throw new IllegalArgumentException("epochs must be positive, got " + epochs);
    }
    boolean reset = options.optimizerState() == TrainingOptions.OptimizerState.RESET_EACH_ROUND;
    if (loop != null && options.proximalMu() > 0) {
      throw new IllegalArgumentException("FedProx's proximal term runs on the native engine ('"
          + TrainingEngine.NATIVE.wireName() + "'), not " + engine.wireName());
    }
    if (loop != null && options.dp().isEmpty()) {
      return trainStandardOnLoop(globalParameters, epochs, reset);
    }
    if (reset) {
      adam.reset();
    }
    float[] parameters = globalParameters.clone();
    proximalMu = (float) options.proximalMu();
    anchor = proximalMu > 0 ? globalParameters.clone() : null;
    return options.dp().isPresent()
        ? trainDpSgd(parameters, options.dp().get().stepsFor(epochs), options.dp().get())
        : trainStandard(parameters, epochs);
  }

  private TrainingResult trainStandardOnLoop(float[] globalParameters, int epochs,
      boolean reset) {
    loop.start(globalParameters, reset);
    double scoreSum = 0;
    for (int epoch = 0; epoch < epochs; epoch++) {
      shuffle();
      scoreSum += loop.fitEpoch(order);
    }
    int steps = epochs * loop.stepsPerEpoch();
    return new TrainingResult(loop.parameters(), (long) epochs * data.rows(), steps,
        scoreSum / steps);
  }

  private TrainingResult trainStandard(float[] parameters, int epochs) {
    int rows = data.rows();
    int batch = Math.min(spec.batchSize(), rows);
    double lossSum = 0;
    int steps = 0;
    long examples = 0;
    for (int epoch = 0; epoch < epochs; epoch++) {
      shuffle();
      for (int start = 0; start < rows; start += batch) {
        int k = Math.min(batch, rows - start);
        gatherRows(order, start, k);
        network.forwardTraining(parameters, k, randomness);
        double loss = network.backward(parameters, k, 0, gradient);
        applyStep(parameters, 1.0 / k);
        lossSum += loss / k;
        examples += k;
        steps++;
      }
    }
    return new TrainingResult(parameters, examples, steps, lossSum / steps);
  }

  private TrainingResult trainDpSgd(float[] parameters, int steps, DpSgdConfig dp) {
    int rows = data.rows();
    double expectedBatch = dp.samplingRate() * rows;
    double sigma = dp.noiseMultiplier() * dp.clipNorm();
    double grid = GaussianNoise.gridFor(dp.clipNorm(), gradient.length);
    // Poisson sampling by geometric gaps: including each row independently with probability q is
    // the same as skipping Geometric(q) rows between inclusions, which needs about q * rows
    // uniforms per step instead of rows.
    double logMiss = Math.log1p(-dp.samplingRate());
    double lossSum = 0;
    int lossSteps = 0;
    long examples = 0;
    for (int s = 0; s < steps; s++) {
      int k = 0;
      int next = nextGap(logMiss);
      while (next < rows) {
        order[k++] = next;
        next += 1 + nextGap(logMiss);
      }
      double loss = 0;
      if (loop != null) {
        // Another engine's exact per-example clipping, from the same Poisson sample.
        loop.load(parameters);
        loss = k > 0 ? loop.clippedGradientSum(order, k, dp.clipNorm(), gradient) : 0;
        if (k == 0) {
          java.util.Arrays.fill(gradient, 0f);
        }
      } else if (k > 0) {
        gatherRows(order, 0, k);
        network.forwardTraining(parameters, k, randomness);
        loss = network.backward(parameters, k, dp.clipNorm(), gradient);
      } else {
        java.util.Arrays.fill(gradient, 0f);
      }
      // Noise goes on the sum even for an empty batch: the accountant counts every step. Sum and noise
      // are snapped to one grid so that the float result leaks nothing of the sum's low bits.
      if (sigma > 0) {
        noise.addOnGrid(gradient, gradient.length, sigma, grid);
      }
      applyStep(parameters, 1.0 / expectedBatch);
      if (k > 0) {
        lossSum += loss / k;
        lossSteps++;
      }
      examples += k;
    }
    return new TrainingResult(parameters, examples, steps, lossSteps == 0 ? Double.NaN
        : lossSum / lossSteps);
  }

  /**
   * Fisher-Yates over the row order, continuing from the previous epoch's permutation, with draws
   * from the trainer's randomness (buffered SecureRandom in production: one 8 KiB call per
   * 1,024 rows, far below the cost of the epoch it orders).
   */
  private void shuffle() {
    for (int i = order.length - 1; i > 0; i--) {
      int j = randomness.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }

  /** The number of rows to skip before the next Poisson-sampled row (0 when q = 1). */
  private int nextGap(double logMiss) {
    if (logMiss == Double.NEGATIVE_INFINITY) {
      return 0;
    }
    // 1 - U is in (0, 1], so the logarithm is finite.
    double u = 1.0 - (randomness.nextLong() >>> 11) * 0x1.0p-53;
    double gap = Math.floor(Math.log(u) / logMiss);
    return gap >= Integer.MAX_VALUE ? Integer.MAX_VALUE - 1 : (int) gap;
  }

  private void gatherRows(int[] indexes, int from, int k) {
    int features = data.features();
    float[] x = network.inputBuffer(k);
    float[] y = network.labelBuffer(k);
    float[] sourceX = data.x();
    float[] sourceY = data.y();
    for (int r = 0; r < k; r++) {
      int row = indexes[from + r];
      System.arraycopy(sourceX, row * features, x, r * features, features);
      y[r] = sourceY[row];
    }
  }

  /**
   * gradient *= scale, plus the L2 term on weights and FedProx's proximal term mu (w - w_global) (both
   * data-independent, so free under DP), then Adam.
   */
  private void applyStep(float[] parameters, double scale) {
    float s = (float) scale;
    for (int i = 0; i < gradient.length; i++) {
      gradient[i] *= s;
    }
    if (spec.l2() > 0) {
      if (network != null) {
        network.addL2(parameters, gradient, (float) spec.l2());
      } else {
        float l2 = (float) spec.l2();
        for (int i = 0; i < gradient.length; i++) {
          if (weightMask[i]) {
            gradient[i] += l2 * parameters[i];
          }
        }
      }
    }
    if (anchor != null) {
      for (int i = 0; i < gradient.length; i++) {
        gradient[i] += proximalMu * (parameters[i] - anchor[i]);
      }
    }
    adam.step(parameters, gradient);
  }

  /**
   * One federated DP-SGD step's contribution of this bank (distributed record-level noise): Poisson-samples
   * its rows at rate {@code samplingRate} with the trainer's randomness, and returns the sum of their
   * per-example gradients at {@code parameters}, each clipped to {@code clipNorm}. No noise: the bank adds
   * its share of the step's noise in the secure sum's integer domain.
   */
  public GradientSum clippedGradientSum(float[] parameters, double samplingRate, double clipNorm) {
    if (parameters.length != parameterCount) {
      throw new IllegalArgumentException("the model has " + parameterCount + " parameters, got "
          + parameters.length);
    }
    if (!(samplingRate > 0 && samplingRate <= 1)) {
      throw new IllegalArgumentException("sampling rate must be in (0, 1], got " + samplingRate);
    }
    if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
      throw new IllegalArgumentException("clip norm must be finite and > 0, got " + clipNorm);
    }
    int rows = data.rows();
    double logMiss = Math.log1p(-samplingRate);
    int k = 0;
    int next = nextGap(logMiss);
    while (next < rows) {
      order[k++] = next;
      next += 1 + nextGap(logMiss);
    }
    double loss = 0;
    if (k > 0 && loop != null) {
      // another engine's exact per-example clipping, as in its DP-SGD steps
      loop.load(parameters);
      loss = loop.clippedGradientSum(order, k, clipNorm, gradient);
    } else if (k > 0) {
      gatherRows(order, 0, k);
      network.forwardTraining(parameters, k, randomness);
      loss = network.backward(parameters, k, clipNorm, gradient);
    } else {
      java.util.Arrays.fill(gradient, 0f);
    }
    return new GradientSum(gradient.clone(), k, k == 0 ? Double.NaN : loss / k);
  }

  /**
   * A bank's clipped per-example gradient sum for one step.
   *
   * @param sum the sum, one value per parameter
   * @param examples how many rows the Poisson sample drew
   * @param meanLoss the sample's mean loss (NaN for an empty sample); stays in the bank
   */
  public record GradientSum(float[] sum, int examples, double meanLoss) {}

  /**
   * Scores of {@code data} under {@code parameters}, without dropout: sigmoid outputs in [0, 1], a
   * regression model's predicted values.
   */
  public float[] predict(float[] parameters, EncodedData rows) {
    return Predictor.predict(spec, parameters, rows);
  }
}
