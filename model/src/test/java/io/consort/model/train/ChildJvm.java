package io.consort.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class in a fresh JVM on this test JVM's class path and with none of its JVM options
 * (so without jdk.incubator.vector, and with ND4J and JavaCPP not yet loaded), for tests of what a
 * process does on its own. Also used by consort-model-dl4j's tests.
 */
public final class ChildJvm {
  private ChildJvm() {}

  /**
   * The child's standard output and error, after asserting that it exited with status 0 within 60
   * seconds; {@code environment} is added to this process's environment, from which the variables
   * that inject JVM options are removed.
   */
  public static String run(Class<?> main, Map<String, String> environment)
      throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder builder = new ProcessBuilder(List.of(java.toString(), "-cp",
        System.getProperty("java.class.path"), main.getName())).redirectErrorStream(true);
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().putAll(environment);
    Process process = builder.start();
    // Read before waiting: a child that fills the pipe would otherwise never exit.
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish in 60 s");
    assertEquals(0, process.exitValue(), output);
    return output;
  }
}
