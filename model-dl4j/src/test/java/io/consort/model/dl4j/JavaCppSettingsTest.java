package io.consort.model.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import io.consort.model.train.LocalTrainer;
import io.consort.model.train.ModelSpec;
import io.consort.model.train.TrainingEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A process whose first ND4J use is a DL4J trainer runs with JavaCPP's resident-memory polling off
 * ({@link JavaCppSettings}). In a child JVM: JavaCPP reads the setting once per process, and this
 * test JVM may have loaded ND4J already.
 */
class JavaCppSettingsTest {

  @Test
  void dl4jTrainerTurnsOffJavaCppResidentMemoryPolling_whenTheCommandLineSetsNoLimit()
      throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder builder = new ProcessBuilder(List.of(java.toString(), "-cp",
        System.getProperty("java.class.path"), FirstNd4jUse.class.getName()))
        .redirectErrorStream(true);
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().put("OMP_NUM_THREADS", "1");
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
    assertEquals(0, process.exitValue(), output);
    assertTrue(output.contains("maxPhysicalBytes=0\n"), output);
  }

  /** Opens a DL4J trainer first thing, then reports JavaCPP's limit. */
  static final class FirstNd4jUse {
    public static void main(String[] args) {
      new LocalTrainer(ModelSpec.defaultMlp(1),
          new EncodedData(4, 3, new float[12], new float[] {0, 1, 0, 1}), TrainingEngine.DL4J);
      System.out.print("maxPhysicalBytes=" + org.bytedeco.javacpp.Pointer.maxPhysicalBytes()
          + "\n");
    }
  }
}
