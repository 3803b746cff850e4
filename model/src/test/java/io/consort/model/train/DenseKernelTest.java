package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Which kernel a process gets: the Vector API kernel when the JVM has jdk.incubator.vector (this
 * module's tests run with {@code --add-modules jdk.incubator.vector}, as the launcher does), and
 * the scalar kernel, without failing, when it does not. Gradients of both kernels are checked
 * against DL4J in consort-model-dl4j's DenseNetworkTest.
 */
class DenseKernelTest {

  @Test
  void vectorKernelIsPreferred_whenTheJvmHasTheVectorModule() {
    assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "this module's tests run with --add-modules jdk.incubator.vector (see its POM)");
    assertNotNull(DenseKernel.vectorOrNull());
    assertSame(DenseKernel.vectorOrNull(), DenseKernel.preferred());
    assertTrue(LocalTrainer.nativeKernel().startsWith("Vector API"), LocalTrainer.nativeKernel());
  }

  @Test
  void scalarKernelTrains_whenTheJvmLacksTheVectorModule() throws Exception {
    String output = ChildJvm.run(WithoutVectorModule.class, Map.of());
    assertTrue(output.contains("kernel: scalar (plain Java loops)"), output);
    assertTrue(output.contains("trained: finite"), output);
  }

  @Test
  void sigmoidAndTanhMatchMath_onBothKernels_fromTheRangeStartToItsEnd() {
    // 0, tiny, ordinary and saturating values; 37 = whole vectors and a scalar tail at any width
    float[] inputs = new float[37];
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = i == 0 ? 0f : (float) ((i % 2 == 0 ? 1 : -1) * Math.pow(10, (i % 8) - 6) * (1 + i / 8));
    }
    for (DenseKernel kernel : new DenseKernel[] {DenseKernel.scalar(), DenseKernel.vectorOrNull()}) {
      float[] sig = new float[inputs.length + 2];
      float[] tanh = new float[inputs.length + 2];
      System.arraycopy(inputs, 0, sig, 1, inputs.length);
      System.arraycopy(inputs, 0, tanh, 1, inputs.length);
      sig[0] = tanh[0] = sig[sig.length - 1] = tanh[tanh.length - 1] = 5f;
      kernel.sigmoid(sig, 1, inputs.length);
      kernel.tanh(tanh, 1, inputs.length);
      for (int i = 0; i < inputs.length; i++) {
        double x = inputs[i];
        double s = 1 / (1 + Math.exp(-x));
        double t = Math.tanh(x);
        // a few float ulps, relative; absolute 1e-7 where tanh passes through 0
        assertTrue(Math.abs(sig[i + 1] - s) <= 4e-7 * s, kernel.description() + " sigmoid(" + x + ")");
        assertTrue(Math.abs(tanh[i + 1] - t) <= 4e-7 * Math.abs(t) + 1e-7 * Math.min(1, Math.abs(x) * 1e7),
            kernel.description() + " tanh(" + x + ") = " + tanh[i + 1] + ", expected " + t);
      }
      assertTrue(sig[0] == 5f && tanh[0] == 5f && sig[sig.length - 1] == 5f && tanh[tanh.length - 1] == 5f,
          "values outside the range are left alone");
    }
  }

  @Test
  void vectorWeightGradientEqualsScalar_inEitherOrientation_withAndWithoutScalarTails() {
    // {nIn, nOut}: a recurrent layer's [x_t, h_{t-1}] (18 -> 16, 18 -> 64), the MLP's layers, tails
    // on either side, a tie, and a layer narrower than a vector
    int[][] shapes = {{18, 16}, {18, 64}, {23, 64}, {64, 32}, {32, 1}, {23, 8}, {9, 12}, {100, 50},
        {5, 3}};
    int rows = 37;
    java.util.SplittableRandom random = new java.util.SplittableRandom(3);
    for (int[] shape : shapes) {
      int nIn = shape[0];
      int nOut = shape[1];
      float[] in = new float[rows * nIn];
      float[] delta = new float[rows * nOut];
      for (int i = 0; i < in.length; i++) {
        in[i] = (float) random.nextGaussian();
      }
      for (int i = 0; i < delta.length; i++) {
        delta[i] = (float) random.nextGaussian();
      }
      // one value before and after the blocks, which must be left alone
      float[] expected = new float[nIn * nOut + nOut + 2];
      float[] actual = new float[expected.length];
      DenseKernel.scalar().weightGradient(in, delta, rows, nIn, nOut, expected, 1, 1 + nIn * nOut,
          new float[nIn * nOut]);
      DenseKernel.vectorOrNull().weightGradient(in, delta, rows, nIn, nOut, actual, 1,
          1 + nIn * nOut, new float[nIn * nOut]);
      for (int i = 0; i < expected.length; i++) {
        // float sums of 37 products in different orders
        assertTrue(Math.abs(expected[i] - actual[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])),
            nIn + " -> " + nOut + " at " + i + ": " + actual[i] + ", expected " + expected[i]);
      }
    }
  }

  /** Run in a JVM started without {@code --add-modules}: picks a kernel and trains one round. */
  static final class WithoutVectorModule {
    public static void main(String[] args) throws IOException {
      System.out.println("kernel: " + LocalTrainer.nativeKernel());
      int rows = 40;
      int features = 23;
      float[] x = new float[rows * features];
      float[] y = new float[rows];
      for (int i = 0; i < x.length; i++) {
        x[i] = (i * 7919 % 13) / 13f - 0.5f;
      }
      for (int r = 0; r < rows; r++) {
        y[r] = r % 2;
      }
      ModelSpec spec = ModelSpec.defaultMlp(3);
      TrainingResult result = new LocalTrainer(spec, new EncodedData(rows, features, x, y))
          .train(ModelFactory.initialParameters(spec, features), 2, TrainingOptions.standard());
      boolean finite = true;
      for (float p : result.parameters()) {
        finite &= Float.isFinite(p);
      }
      System.out.println("trained: " + (finite ? "finite" : "NOT FINITE"));
    }
  }
}
