package io.consort.bench.model;

import io.consort.model.dl4j.Dl4jNetworks;
import io.consort.model.train.ModelSpec;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a DL4J training step's time goes: {@code MultiLayerNetwork.fit(features, labels)} of the
 * default MLP (23 inputs, as the DL4J engine builds it) on one reused batch, timed as CPU time of
 * the training thread, CPU time of the whole process (adds the garbage collector, the JIT and
 * ND4J's and JavaCPP's deallocator threads), garbage-collection pauses (mean: a pause falls in
 * few rounds) and wall time, each in ms per step, medians over rounds after a long warm-up.
 *
 * <p>Variants of the DL4J configuration are interleaved in one JVM, one round each in turn; a
 * variant is {@code CACHE[:WORKSPACE[:PROFILING[:ORDER[:RELU[:DENSE]]]]]} ({@link CacheMode},
 * training {@link WorkspaceMode}, ND4J {@link OpExecutioner.ProfilingMode}, ND4J's default array
 * order {@code c} or {@code f} while the variant runs, {@code nd4j} for ND4J's own ReLU in the hidden
 * layers instead of the engine's {@code StepReluActivation}, and {@code dl4j} for DL4J's own
 * {@code DenseLayer} instead of the engine's {@code RowMajorDenseLayer}; empty fields keep DL4J's
 * defaults: {@code NONE:ENABLED:SCOPE_PANIC:c} and the engine's ReLU and dense layer). Settings fixed per process
 * (JavaCPP's {@code maxPhysicalBytes}, the garbage collector, ND4J's native binary) are compared by running
 * this once per setting; it prints the JavaCPP limit and the libnd4jcpu it loaded.
 *
 * <p>Arguments: {@code BATCH ROUNDS VARIANT...}, e.g.
 * {@code 128 15 NONE NONE::DISABLED ::DISABLED::nd4j}. Run with {@code OMP_NUM_THREADS=1}.
 */
public final class Dl4jStepCost {
  private Dl4jStepCost() {}

  public static void main(String[] args) throws Exception {
    int batch = Integer.parseInt(args[0]);
    int rounds = Integer.parseInt(args[1]);
    String[] variants = Arrays.copyOfRange(args, 2, args.length);
    ModelSpec spec = ModelSpec.defaultMlp(1).withBatchSize(batch);
    List<MultiLayerNetwork> networks = new ArrayList<>();
    for (String variant : variants) {
      // Dl4jNetworks first: it applies the DL4J engine's JavaCPP settings before ND4J loads.
      String[] fields = variant.split(":", -1);
      boolean dl4jDense = fields.length > 5 && fields[5].equals("dl4j");
      System.setProperty("consort.dl4j.dl4jDenseLayer", Boolean.toString(dl4jDense));
      MultiLayerConfiguration conf = Dl4jNetworks.configuration(spec, 23);
      System.clearProperty("consort.dl4j.dl4jDenseLayer");
      if (!fields[0].isEmpty()) {
        conf.setCacheMode(CacheMode.valueOf(fields[0]));
      }
      if (fields.length > 1 && !fields[1].isEmpty()) {
        conf.setTrainingWorkspaceMode(WorkspaceMode.valueOf(fields[1]));
      }
      if (fields.length > 4 && fields[4].equals("nd4j")) {
        for (var layerConf : conf.getConfs()) {
          if (layerConf.getLayer() instanceof DenseLayer dense) {
            dense.setActivationFn(new ActivationReLU());
          }
        }
      }
      MultiLayerNetwork network = new MultiLayerNetwork(conf);
      network.init();
      networks.add(network);
    }
    Nd4j.getEnvironment().setMaxMasterThreads(1);
    Nd4j.getEnvironment().setMaxThreads(1);
    java.util.random.RandomGenerator random = io.consort.model.random.ReproducibleRandom.of("dl4j-step-cost", 1);
    INDArray x = Nd4j.create(DataType.FLOAT, new long[] {batch, 23}, 'c');
    INDArray y = Nd4j.create(DataType.FLOAT, new long[] {batch, 1}, 'c');
    for (int i = 0; i < batch * 23; i++) {
      x.data().asNioFloat().put(i, (float) random.nextGaussian());
    }
    for (int i = 0; i < batch; i++) {
      y.data().asNioFloat().put(i, random.nextBoolean() ? 1f : 0f);
    }
    int steps = Math.max(50, 12_000 / batch);
    for (int warmUp = 0; warmUp < 20; warmUp++) {
      for (int v = 0; v < variants.length; v++) {
        fit(networks.get(v), variants[v], x, y, steps);
      }
    }
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    double[][][] figures = new double[variants.length][4][rounds];
    for (int round = 0; round < rounds; round++) {
      for (int v = 0; v < variants.length; v++) {
        long wall = System.nanoTime();
        long thread = threads.getCurrentThreadCpuTime();
        long process = os.getProcessCpuTime();
        long gc = gcMillis();
        fit(networks.get(v), variants[v], x, y, steps);
        figures[v][0][round] = (threads.getCurrentThreadCpuTime() - thread) / 1e6 / steps;
        figures[v][1][round] = (os.getProcessCpuTime() - process) / 1e6 / steps;
        figures[v][2][round] = (double) (gcMillis() - gc) / steps;
        figures[v][3][round] = (System.nanoTime() - wall) / 1e6 / steps;
      }
    }
    System.out.printf(Locale.ROOT, "batch %d, %d rounds of %d steps; JavaCPP maxPhysicalBytes %d;"
        + " %s; GC %s%n", batch, rounds, steps, org.bytedeco.javacpp.Pointer.maxPhysicalBytes(),
        nativeLibrary(), ManagementFactory.getGarbageCollectorMXBeans().get(0).getName());
    System.out.printf(Locale.ROOT, "%-24s %12s %12s %10s %10s%n", "variant", "thread cpu",
        "process cpu", "gc", "wall");
    for (int v = 0; v < variants.length; v++) {
      System.out.printf(Locale.ROOT, "%-24s %12.3f %12.3f %10.3f %10.3f%n", variants[v],
          median(figures[v][0]), median(figures[v][1]), mean(figures[v][2]),
          median(figures[v][3]));
    }
  }

  private static void fit(MultiLayerNetwork network, String variant, INDArray x, INDArray y,
      int steps) {
    String[] fields = variant.split(":", -1);
    Nd4j.getExecutioner().setProfilingMode(fields.length > 2 && !fields[2].isEmpty()
        ? OpExecutioner.ProfilingMode.valueOf(fields[2])
        : OpExecutioner.ProfilingMode.SCOPE_PANIC);
    Nd4j.factory().setOrder(fields.length > 3 && !fields[3].isEmpty() ? fields[3].charAt(0) : 'c');
    for (int i = 0; i < steps; i++) {
      network.fit(x, y);
    }
  }

  private static long gcMillis() {
    long total = 0;
    for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
      total += Math.max(0, collector.getCollectionTime());
    }
    return total;
  }

  private static String nativeLibrary() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
      if (line.contains("libnd4jcpu")) {
        return line.substring(line.lastIndexOf('/') + 1) + " from "
            + line.substring(line.indexOf("nd4j-native"), line.indexOf(".jar") + 4);
      }
    }
    return "libnd4jcpu not found";
  }

  private static double mean(double[] values) {
    return Arrays.stream(values).average().orElse(Double.NaN);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}
