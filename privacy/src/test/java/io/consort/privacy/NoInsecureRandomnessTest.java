package io.consort.privacy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Noise must come from {@link java.security.SecureRandom}. Scans production sources: in the privacy
 * module any non-cryptographic generator fails the build; in model, participant, coordinator and secagg
 * (when present) a file fails if it uses java.util.Random, ThreadLocalRandom or Math.random and mentions
 * noise, Gaussian, Laplace, DP-SGD or epsilon. (Those modules may shuffle data with a fast generator
 * seeded from SecureRandom, which is not noise; the check is textual and cannot follow data flow.)
 */
class NoInsecureRandomnessTest {

  /**
   * java.util.Random itself (not SecureRandom), ThreadLocalRandom and Math.random: never acceptable for
   * noise anywhere.
   */
  static final Pattern INSECURE = Pattern.compile(
      "java\\.util\\.Random(?![A-Za-z0-9_])|(?<![A-Za-z0-9_.])new\\s+Random\\s*\\("
          + "|\\bThreadLocalRandom\\b|Math\\.random\\s*\\(");
  /**
   * In the privacy module also any other non-cryptographic generator (SplittableRandom, the JDK 17
   * RandomGenerator factories). The RandomGenerator interface alone is fine: SecureRandom implements it.
   */
  static final Pattern INSECURE_IN_PRIVACY = Pattern.compile(INSECURE.pattern()
      + "|\\bSplittableRandom\\b|RandomGenerator\\s*\\.\\s*(of|getDefault)\\s*\\(|\\bRandomGeneratorFactory\\b");
  private static final Pattern NOISE_CONTEXT = Pattern.compile("noise|gaussian|laplace|dp-sgd|dpsgd|epsilon");
  private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
  private static final Pattern LINE_COMMENT = Pattern.compile("//[^\\n]*");

  @Test
  void productionSources_useSecureRandomForNoise() throws IOException {
    Path moduleRoot = Path.of("").toAbsolutePath();
    List<String> offenders = new ArrayList<>(scan(moduleRoot.resolve("src/main/java"), INSECURE_IN_PRIVACY, false));
    assertTrue(Files.isDirectory(moduleRoot.resolve("src/main/java/io/consort/privacy")), "scan root found");
    for (String other : new String[] {"model", "participant", "coordinator", "secagg"}) {
      offenders.addAll(scan(moduleRoot.resolveSibling(other).resolve("src/main/java"), INSECURE, true));
    }
    assertTrue(offenders.isEmpty(), "non-cryptographic randomness used for noise in: " + offenders);
  }

  @Test
  void scanner_flagsJavaUtilRandom_butNotSecureRandom() {
    assertTrue(INSECURE.matcher(code("import java.util.Random;")).find());
    assertTrue(INSECURE.matcher(code("double n = new Random(42).nextGaussian();")).find());
    assertTrue(INSECURE.matcher(code("ThreadLocalRandom.current()")).find());
    assertFalse(INSECURE.matcher(code("import java.security.SecureRandom; new SecureRandom();")).find());
    assertFalse(INSECURE.matcher(code("/* never java.util.Random */ // nor new Random(1)")).find());
    assertTrue(INSECURE_IN_PRIVACY.matcher(code("new SplittableRandom(7)")).find());
    assertFalse(INSECURE_IN_PRIVACY.matcher(code("import java.util.random.RandomGenerator;")).find());
  }

  private static String code(String source) {
    return LINE_COMMENT.matcher(BLOCK_COMMENT.matcher(source).replaceAll(" ")).replaceAll(" ");
  }

  private static List<String> scan(Path root, Pattern insecure, boolean onlyNoiseFiles) throws IOException {
    List<String> offenders = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return offenders;
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
        String source = code(Files.readString(file, StandardCharsets.UTF_8));
        if (!insecure.matcher(source).find()) {
          continue;
        }
        if (onlyNoiseFiles && !NOISE_CONTEXT.matcher(source.toLowerCase(Locale.ROOT)).find()) {
          continue;
        }
        offenders.add(root.relativize(file).toString());
      }
    }
    return offenders;
  }
}
