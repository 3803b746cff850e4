package io.consort.model.dl4j;

import io.consort.model.features.EncodedData;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.spi.TrainingLoop;
import java.nio.FloatBuffer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The {@link io.consort.model.train.TrainingEngine#DL4J} engine's inner loop: one {@code MultiLayerNetwork} per trainer,
 * fed with {@code fit(features, labels)} on batch arrays allocated once and refilled in place.
 *
 * <p>Why this shape: a DL4J step at these sizes costs per-op overhead, not arithmetic, so anything
 * that adds ND4J ops per step (a {@code ListDataSetIterator}, building or slicing arrays per batch,
 * {@code putRow} per row) shows directly in the step time. Batch rows are therefore copied into
 * the arrays' native memory through a {@link FloatBuffer} view, which is a plain memory copy with
 * no ND4J op; the only ND4J work per step is DL4J's own {@code fit}. Every op of that
 * {@code fit} allocates a few small native buffers through JavaCPP, which by default polls the
 * process's resident memory on each allocation; {@link JavaCppSettings}, applied before ND4J
 * loads, turns that polling off (1.1x to 1.7x faster steps), and {@link Nd4jSettings} turns off
 * ND4J's per-op workspace checks. Measured alternatives (pre-sliced
 * batches, workspace and cache modes, ND4J's AVX2 and AVX-512 binaries, the garbage collector)
 * are in docs/BENCHMARKS.md. Not thread-safe, like the network it wraps.
 */
final class Dl4jTrainingLoop implements TrainingLoop {
  static {
    Nd4jSettings.apply();
  }

  private final MultiLayerNetwork network;
  private final EncodedData data;
  private final int batch;
  private final INDArray fullFeatures;
  private final INDArray fullLabels;
  private final FloatBuffer fullFeatureMemory;
  private final FloatBuffer fullLabelMemory;
  /** The last batch of an epoch when the rows do not divide evenly; null when they do. */
  private final INDArray tailFeatures;
  private final INDArray tailLabels;
  private final FloatBuffer tailFeatureMemory;
  private final FloatBuffer tailLabelMemory;
  /** DP-SGD's per-example clipping on the same network, built on first use. */
  private Dl4jPerExampleClipper clipper;
  private final ModelSpec spec;

  Dl4jTrainingLoop(ModelSpec spec, EncodedData data) {
    this.spec = spec;
    this.data = data;
    this.batch = Math.min(spec.batchSize(), data.rows());
    network = new MultiLayerNetwork(Dl4jNetworks.configuration(spec, data.features()));
    network.init();
    int features = data.features();
    fullFeatures = Nd4j.create(DataType.FLOAT, Dl4jNetworks.inputShape(spec, features, batch));
    fullLabels = Nd4j.create(DataType.FLOAT, batch, 1);
    fullFeatureMemory = fullFeatures.data().asNioFloat();
    fullLabelMemory = fullLabels.data().asNioFloat();
    int tail = data.rows() % batch;
    if (tail == 0) {
      tailFeatures = null;
      tailLabels = null;
      tailFeatureMemory = null;
      tailLabelMemory = null;
    } else {
      tailFeatures = Nd4j.create(DataType.FLOAT, Dl4jNetworks.inputShape(spec, features, tail));
      tailLabels = Nd4j.create(DataType.FLOAT, tail, 1);
      tailFeatureMemory = tailFeatures.data().asNioFloat();
      tailLabelMemory = tailLabels.data().asNioFloat();
    }
  }

  /**
   * Loads the round's starting parameters. With {@code resetOptimizer}, Adam restarts: both moment
   * estimates (DL4J's updater state view) are zeroed and the iteration count, which DL4J's Adam
   * uses for bias correction, goes back to 0, exactly as the native engine's Adam reset.
   */
  @Override
  public void start(float[] globalParameters, boolean resetOptimizer) {
    network.setParams(Nd4j.createFromArray(globalParameters).reshape(1, globalParameters.length));
    if (resetOptimizer) {
      network.getUpdater().getStateViewArray().assign(0);
      network.setIterationCount(0);
    }
  }

  @Override
  public int stepsPerEpoch() {
    return (data.rows() + batch - 1) / batch;
  }

  /**
   * One pass over the rows in {@code order}, one Adam step per batch; returns the sum over steps
   * of DL4J's score (the batch's mean loss before the step, plus DL4J's L2 penalty when l2 > 0).
   */
  @Override
  public double fitEpoch(int[] order) {
    double scoreSum = 0;
    for (int start = 0; start < order.length; start += batch) {
      int k = Math.min(batch, order.length - start);
      boolean full = k == batch;
      copyRows(order, start, k, full ? fullFeatureMemory : tailFeatureMemory,
          full ? fullLabelMemory : tailLabelMemory);
      network.fit(full ? fullFeatures : tailFeatures, full ? fullLabels : tailLabels);
      scoreSum += network.score();
    }
    return scoreSum;
  }

  @Override
  public void load(float[] parameters) {
    clipper().load(parameters);
  }

  @Override
  public double clippedGradientSum(int[] rows, int k, double clipNorm, float[] sum) {
    return clipper().clippedGradientSum(rows, k, clipNorm, sum);
  }

  private Dl4jPerExampleClipper clipper() {
    if (clipper == null) {
      clipper = new Dl4jPerExampleClipper(spec, network, data);
    }
    return clipper;
  }

  /** The network's current parameters, in DL4J order. */
  @Override
  public float[] parameters() {
    return network.params().toFloatVector();
  }

  private void copyRows(int[] order, int from, int k, FloatBuffer features, FloatBuffer labels) {
    int width = data.features();
    float[] x = data.x();
    float[] y = data.y();
    for (int r = 0; r < k; r++) {
      int row = order[from + r];
      features.put(r * width, x, row * width, width);
      labels.put(r, y[row]);
    }
  }
}
