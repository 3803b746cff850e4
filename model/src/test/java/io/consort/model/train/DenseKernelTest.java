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
