package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import io.consort.model.train.ChildJvm;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.TrainingEngine;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A process whose first ND4J use is a DL4J trainer runs with JavaCPP's resident-memory polling off
 * ({@link JavaCppSettings}) and ND4J's per-op workspace checks off ({@link Nd4jSettings}). In a
 * child JVM: JavaCPP reads the setting once per process, and this test JVM may have loaded ND4J
 * already.
 */
class JavaCppSettingsTest {

  @Test
  void dl4jTrainerTurnsOffJavaCppResidentMemoryPolling_andNd4jOpProfiling_whenTheCommandLineSetsNoLimit()
      throws Exception {
    String output = ChildJvm.run(FirstNd4jUse.class, Map.of("OMP_NUM_THREADS", "1"));
    assertTrue(output.contains("maxPhysicalBytes=0\n"), output);
    assertTrue(output.contains("profilingMode=DISABLED\n"), output);
  }

  /** Opens a DL4J trainer first thing, then reports JavaCPP's limit and ND4J's profiling mode. */
  static final class FirstNd4jUse {
    public static void main(String[] args) {
      new LocalTrainer(ModelSpec.defaultMlp(1),
          new EncodedData(4, 3, new float[12], new float[] {0, 1, 0, 1}), TrainingEngine.DL4J);
      System.out.print("maxPhysicalBytes=" + org.bytedeco.javacpp.Pointer.maxPhysicalBytes()
          + "\n");
      System.out.print("profilingMode=" + org.nd4j.linalg.factory.Nd4j.getExecutioner().getProfilingMode()
          + "\n");
    }
  }
}
