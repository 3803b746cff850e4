package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Without jdk.incubator.vector a process reads ring sums back in the plain loop, with the same result (the lanes
 * against the loop, bit for bit: {@code QuantizerTest}, whose JVM has the module).
 */
class VectorDecodingTest {

  @Test
  void withoutTheVectorModule_ringSumsAreDecodedInThePlainLoop() throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder builder = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
        WithoutVectorModule.class.getName())).redirectErrorStream(true);
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    Process process = builder.start();
    // read before waiting: a child that fills the pipe would otherwise never exit
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish in 60 s");
    assertEquals(0, process.exitValue(), output);
    assertTrue(output.contains("decoding: plain loop"), output);
    assertTrue(output.contains("equals the reference: true"), output);
  }

  /** The child JVM's main: how it decodes, and whether a sum past the lanes' threshold decodes as the loop does. */
  static final class WithoutVectorModule {
    public static void main(String[] args) {
      Quantizer quantizer = new Quantizer(1.0, 3, 24);
      int[] ring = new int[VectorDecoding.MIN_SLOTS + 5];
      SplittableRandom values = new SplittableRandom(5);
      for (int i = 0; i < ring.length; i++) {
        ring[i] = values.nextInt() & ((1 << 24) - 1);
      }
      double[] expected = new double[ring.length];
      Quantizer.decodeAllScalar(ring, 8, quantizer.scale(), expected);
      System.out.println("decoding: " + Quantizer.decodingPath());
      System.out.println("equals the reference: " + java.util.Arrays.equals(expected, quantizer.decodeSum(ring)));
    }
  }
}
