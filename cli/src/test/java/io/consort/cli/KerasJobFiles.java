package io.consort.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Job files that bring the Keras fixtures of model-dl4j (written by its make_fixtures.py with h5py):
 * the 23-64-32-1 loan-risk network and the same with a BatchNormalization layer.
 */
final class KerasJobFiles {
  static final Path FIXTURES = Path.of("../model-dl4j/src/test/resources/keras");
  static final String LOAN_RISK = "loan_risk_23_64_32_1.h5";
  static final String WITH_BATCH_NORM = "loan_risk_with_batch_norm.h5";

  private KerasJobFiles() {}

  /** Copies fixture {@code name} into {@code dir}. */
  static Path copy(String name, Path dir) throws IOException {
    return Files.copy(FIXTURES.resolve(name), dir.resolve(name));
  }

  static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  /** A schema of {@code columns} numeric columns x0.. and label default (positive yes). */
  static String schema(int columns) {
    return "schema:\n  label: default\n  positive: 'yes'\n  numeric: [" + IntStream.range(0, columns)
        .mapToObj(j -> "x" + j).collect(Collectors.joining(", ")) + "]\n";
  }

  /**
   * A bank's rows of 23 standard normal features and a label from a noisy logistic rule (weights fixed
   * by the seed 0, as in KerasImportTest), so the rows of all banks share one relation.
   */
  static Path rows(Path file, int n, long seed) throws IOException {
    Random rule = new Random(0);
    double[] w = new double[23];
    for (int j = 0; j < w.length; j++) {
      w[j] = rule.nextGaussian() * 0.8;
    }
    Random random = new Random(seed);
    StringBuilder csv = new StringBuilder(IntStream.range(0, 23).mapToObj(j -> "x" + j)
        .collect(Collectors.joining(",")) + ",default\n");
    for (int r = 0; r < n; r++) {
      double logit = -0.5;
      for (int j = 0; j < 23; j++) {
        double x = random.nextGaussian();
        logit += w[j] * x;
        csv.append(String.format(java.util.Locale.ROOT, "%.5f,", x));
      }
      csv.append(random.nextDouble() < 1 / (1 + Math.exp(-logit)) ? "yes" : "no").append('\n');
    }
    return Files.writeString(file, csv);
  }
}
