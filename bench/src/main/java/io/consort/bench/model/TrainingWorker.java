package io.consort.bench.model;

import io.consort.model.features.EncodedData;
import io.consort.model.train.DpSgdConfig;
import io.consort.model.train.HiddenActivation;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.ModelType;
import io.consort.model.train.Objective;
import io.consort.model.train.SequenceSpec;
import io.consort.model.train.TrainingEngine;
import io.consort.model.train.TrainingOptions;
import io.consort.model.train.TrainingResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Java side of {@code bench/train-vs-torch}: a long-lived process that the script's driver
 * (which also runs PyTorch) asks for one timed measurement at a time, so that Consort's engines and
 * PyTorch are measured interleaved, each warm, in the same run. One request per line on stdin, one
 * reply per line on stdout ({@code ok ...} or {@code error ...}); everything else the JVM or ND4J
 * prints goes to stderr.
 *
 * <ul>
 *   <li>{@code data DIR}: writes the bench rows ({@link LocalTrainingBench#syntheticRows}) and the
 *       initial parameters of the default MLP as little-endian float32 files {@code x.f32},
 *       {@code y.f32} and {@code params.f32} in DIR (the parameters in DL4J's layout, which per
 *       layer is PyTorch's {@code Linear.weight} row-major, then the bias); replies
 *       {@code ok ROWS FEATURES PARAMETERS KERNEL...} (the native engine's kernel, see
 *       {@link LocalTrainer#nativeKernel()}).</li>
 *   <li>{@code seqdata DIR}: writes the sequence models' rows ({@link DpStepCostBench#syntheticRows},
 *       {@value #SEQUENCE_ROWS} rows of 2 channels over a 10-step window, channel-major as the DL4J
 *       engine reads them: {@code [channels, window]} per row) as {@code xs.f32} and {@code ys.f32};
 *       replies {@code ok ROWS FEATURES CHANNELS WINDOW UNITS KERNEL HEAD HEADS} (the LSTM's, SimpleRnn's and
 *       attention's units and the CNN's filters, the CNN's kernel width, the dense head's width, the
 *       attention heads: the architectures of
 *       {@link #sequenceSpec}).</li>
 *   <li>{@code javacpp}: opens a DL4J trainer (so that ND4J and JavaCPP load) and replies
 *       {@code ok maxPhysicalBytes=N}, JavaCPP's resident-memory limit in this process (0: not
 *       polled, the DL4J engine's setting unless the command line sets one) and
 *       {@code nd4j=PLATFORM}, the platform directory of the ND4J native library JavaCPP loaded
 *       ({@code linux-x86_64} for the generic x86-64 build, {@code linux-x86_64-avx2} for the
 *       AVX2 one).</li>
 *   <li>{@code time ENGINE plain|dp BATCH EPOCHS [MODEL]}: one {@link LocalTrainer} round (built
 *       untimed) of EPOCHS epochs from those parameters (MODEL {@code mlp}, the default; or
 *       {@code mlp-tanh}, its hidden layers tanh, or {@code mlp-dropout}, dropout 0.2 on the inputs
 *       of its second and output layers) or from the model's initial parameters on the sequence
 *       rows (MODEL {@code lstm}, {@code cnn1d}, {@code simple-rnn}, {@code attention}, or
 *       {@code lstm-regression} or {@code attention-regression}: the LSTM or self-attention with an
 *       identity output on squared error) at BATCH, plain
 *       or DP-SGD (noise multiplier 1, clip
 *       norm 1, expected batch BATCH); replies {@code ok MS_PER_STEP STEPS GC_MS_PER_STEP
 *       HEAP_BYTES_PER_STEP} (garbage-collection time of the whole JVM, and Java heap allocated
 *       by the training thread, during the round).</li>
 * </ul>
 *
 * Run with {@code OMP_NUM_THREADS=1}; ND4J is set to one thread here as well. With
 * {@code -Dbench.javacppDefaultLimit=true} the DL4J engine runs with JavaCPP's default
 * resident-memory polling instead of the engine's setting; with {@code -Dbench.nd4jDefaults=true}
 * ND4J's op executioner runs in its default profiling mode ({@code SCOPE_PANIC}: workspace checks on
 * every op) instead of the engine's {@code DISABLED} (io.consort.model.dl4j.Nd4jSettings).
 */
public final class TrainingWorker {
  static final int SEQUENCE_ROWS = 8192;
  static final int UNITS = 16;
  static final int KERNEL = 3;
  static final int HEAD = 16;
  static final int HEADS = 2;

  private TrainingWorker() {}

  /**
   * The sequence models of this bench, as the market experiment builds them: an LSTM or a
   * SimpleRnn of {@value #UNITS} units (last time step), a 1-D convolution of {@value #UNITS} filters of width
   * {@value #KERNEL} (same padding, ReLU, global max pooling) or self-attention of {@value #UNITS} units in
   * {@value #HEADS} heads (global average pooling), then a dense ReLU layer of
   * {@value #HEAD} and a sigmoid output, binary cross-entropy, Adam 3e-3.
   */
  static ModelSpec sequenceSpec(String model) {
    return switch (model) {
      case "lstm" -> DpStepCostBench.seq(ModelType.LSTM,
          new SequenceSpec(DpStepCostBench.WINDOW, UNITS, 0, 0));
      case "cnn1d" -> DpStepCostBench.seq(ModelType.CNN1D,
          new SequenceSpec(DpStepCostBench.WINDOW, UNITS, KERNEL, 0));
      case "simple-rnn" -> DpStepCostBench.seq(ModelType.SIMPLE_RNN,
          new SequenceSpec(DpStepCostBench.WINDOW, UNITS, 0, 0));
      case "attention" -> DpStepCostBench.seq(ModelType.ATTENTION,
          new SequenceSpec(DpStepCostBench.WINDOW, UNITS, 0, HEADS));
      case "lstm-regression" -> sequenceSpec("lstm").withObjective(Objective.REGRESSION);
      case "attention-regression" -> sequenceSpec("attention").withObjective(Objective.REGRESSION);
      default -> throw new IllegalArgumentException(
          "MODEL must be mlp, mlp-tanh, mlp-dropout, lstm, cnn1d, simple-rnn, attention, lstm-regression"
          + " or attention-regression: "
          + model);
    };
  }

  /** The dense models: the default MLP, with tanh hidden layers, or with dropout 0.2. */
  static ModelSpec denseSpec(ModelSpec base, String model) {
    return switch (model) {
      case "mlp" -> base;
      case "mlp-tanh" -> base.withActivation(HiddenActivation.TANH, 0);
      case "mlp-dropout" -> base.withActivation(HiddenActivation.RELU, 0.2);
      default -> null;
    };
  }

  /** The platform directory ND4J's native library was loaded from, or {@code unknown}. */
  private static String nd4jBuild() {
    for (String path : org.bytedeco.javacpp.Loader.getLoadedLibraries().values()) {
      Path file = path == null ? null : Path.of(path);
      if (file != null && file.getFileName().toString().equals("libnd4jcpu.so")) {
        return file.getParent().getFileName().toString();
      }
    }
    return "unknown";
  }

  public static void main(String[] args) throws IOException {
    if (Boolean.getBoolean("bench.javacppDefaultLimit")) {
      // JavaCPP's own default, set explicitly so that the DL4J engine keeps it (see
      // io.consort.model.dl4j.JavaCppSettings): polling the resident size, capped at 2 x heap.
      System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes",
          Long.toString(2 * Runtime.getRuntime().maxMemory()));
    }
    PrintStream replies = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    System.setOut(System.err);
    EncodedData data = LocalTrainingBench.syntheticRows();
    ModelSpec base = ModelSpec.defaultMlp(1);
    float[] initial = ModelFactory.initialParameters(base, data.features());
    EncodedData sequences = DpStepCostBench.syntheticRows(SEQUENCE_ROWS);
    boolean nd4jConfigured = false;
    BufferedReader requests = new BufferedReader(
        new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = requests.readLine()) != null; ) {
      String[] words = line.strip().split("\\s+");
      try {
        switch (words[0]) {
          case "data" -> {
            Path dir = Path.of(words[1]);
            write(dir.resolve("x.f32"), data.x());
            write(dir.resolve("y.f32"), data.y());
            write(dir.resolve("params.f32"), initial);
            replies.printf(Locale.ROOT, "ok %d %d %d %s%n", data.rows(), data.features(),
                initial.length, LocalTrainer.nativeKernel());
          }
          case "seqdata" -> {
            Path dir = Path.of(words[1]);
            write(dir.resolve("xs.f32"), sequences.x());
            write(dir.resolve("ys.f32"), sequences.y());
            replies.printf(Locale.ROOT, "ok %d %d %d %d %d %d %d %d%n", sequences.rows(),
                sequences.features(), DpStepCostBench.CHANNELS, DpStepCostBench.WINDOW, UNITS, KERNEL,
                HEAD, HEADS);
          }
          case "javacpp" -> {
            // JavaCPP reads its limits when ND4J first loads: open a DL4J trainer first.
            new LocalTrainer(base, data, TrainingEngine.DL4J);
            replies.printf(Locale.ROOT, "ok maxPhysicalBytes=%d nd4j=%s%n",
                org.bytedeco.javacpp.Pointer.maxPhysicalBytes(), nd4jBuild());
          }
          case "time" -> {
            TrainingEngine engine = TrainingEngine.fromName(words[1]);
            boolean dp = switch (words[2]) {
              case "plain" -> false;
              case "dp" -> true;
              default -> throw new IllegalArgumentException("mode must be plain or dp: " + words[2]);
            };
            int batch = Integer.parseInt(words[3]);
            int epochs = Integer.parseInt(words[4]);
            String model = words.length > 5 ? words[5] : "mlp";
            ModelSpec dense = denseSpec(base, model);
            boolean mlp = dense != null;
            ModelSpec spec = (mlp ? dense : sequenceSpec(model)).withBatchSize(batch);
            EncodedData rows = mlp ? data : sequences;
            float[] startParameters = mlp ? initial : ModelFactory.initialParameters(spec, rows.features());
            TrainingOptions options = dp
                ? TrainingOptions.withDpSgd(
                    DpSgdConfig.forExpectedBatch(1.0, 1.0, batch, rows.rows()))
                : TrainingOptions.standard();
            LocalTrainer trainer = new LocalTrainer(spec, rows, engine);
            // After the first DL4J trainer, so that ND4J starts with the engine's own settings.
            if (engine == TrainingEngine.DL4J && !nd4jConfigured) {
              Nd4j.getEnvironment().setMaxMasterThreads(1);
              Nd4j.getEnvironment().setMaxThreads(1);
              if (Boolean.getBoolean("bench.nd4jDefaults")) {
                // ND4J's own default, as before the engine's Nd4jSettings.
                Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.SCOPE_PANIC);
              }
              nd4jConfigured = true;
            }
            long gcBefore = gcMillis();
            long allocatedBefore = allocatedBytes();
            long start = System.nanoTime();
            TrainingResult result = trainer.train(startParameters, epochs, options);
            double millis = (System.nanoTime() - start) / 1e6;
            int steps = result.steps();
            replies.printf(Locale.ROOT, "ok %.6f %d %.6f %.1f%n", millis / steps, steps,
                (double) (gcMillis() - gcBefore) / steps,
                (double) (allocatedBytes() - allocatedBefore) / steps);
          }
          case "quit" -> {
            return;
          }
          default -> throw new IllegalArgumentException("unknown request '" + words[0] + "'");
        }
      } catch (RuntimeException | IOException e) {
        e.printStackTrace();
        replies.println("error " + e);
      }
    }
  }

  /** Garbage-collection time of this JVM so far (pauses, and concurrent work G1 reports). */
  private static long gcMillis() {
    long total = 0;
    for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
      total += Math.max(0, collector.getCollectionTime());
    }
    return total;
  }

  /** Java heap bytes this thread has allocated so far. */
  private static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  private static void write(Path file, float[] values) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    Files.write(file, bytes.array());
  }
}
