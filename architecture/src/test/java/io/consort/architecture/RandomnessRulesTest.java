package io.consort.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import io.consort.architecture.fixtures.RandomnessFixtures;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No production class of any module uses a non-cryptographic random generator. DP noise, DP-SGD
 * sampling, shuffles of a bank's rows and key material come from {@link java.security.SecureRandom};
 * public randomness that must be reproducible (the initial model, demo splits, synthetic data)
 * comes from {@code io.consort.model.random.ReproducibleRandom}, built on SHA-256 and AES-CTR.
 * Tests may use seeded JDK generators. Checked on bytecode, so neither comments nor imports that
 * are not used count, and a use through a fully qualified name does.
 */
class RandomnessRulesTest {

  static final ArchRule NO_INSECURE_RANDOMNESS = noClasses().should()
      .dependOnClassesThat().haveFullyQualifiedName("java.util.Random")
      .orShould().dependOnClassesThat()
      .haveFullyQualifiedName("java.util.concurrent.ThreadLocalRandom")
      .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.SplittableRandom")
      .orShould().dependOnClassesThat()
      .haveFullyQualifiedName("java.util.random.RandomGeneratorFactory")
      .orShould().dependOnClassesThat().resideInAPackage("jdk.random..")
      .orShould().callMethod(Math.class, "random")
      .orShould().callMethod(StrictMath.class, "random")
      .orShould().callMethod(RandomGenerator.class, "of", String.class)
      .orShould().callMethod(RandomGenerator.class, "getDefault")
      .as("no production class uses java.util.Random, ThreadLocalRandom, SplittableRandom,"
          + " Math.random or the JDK's other non-cryptographic generators (RandomGenerator.of,"
          + " RandomGenerator.getDefault, RandomGeneratorFactory, jdk.random)")
      .because("noise, sampling, shuffles and keys must come from SecureRandom, and reproducible"
          + " public randomness from io.consort.model.random.ReproducibleRandom (SHA-256 and"
          + " AES-CTR); seeded JDK generators are for tests only");

  @Test
  void productionCodeOfEveryModule_usesNoInsecureRandomness() {
    NO_INSECURE_RANDOMNESS.check(ConsortModule.allProductionClasses());
  }

  /** The rule itself: each fixture uses one forbidden generator and must be reported by name. */
  @ParameterizedTest
  @ValueSource(classes = {
      RandomnessFixtures.NewJavaUtilRandom.class, RandomnessFixtures.JavaUtilRandomField.class,
      RandomnessFixtures.ThreadLocal.class, RandomnessFixtures.Splittable.class,
      RandomnessFixtures.MathRandom.class, RandomnessFixtures.DefaultGenerator.class,
      RandomnessFixtures.NamedGenerator.class})
  void ruleReportsTheClass_whenItUsesAnInsecureGenerator(Class<?> fixture) {
    AssertionError e = assertThrows(AssertionError.class,
        () -> NO_INSECURE_RANDOMNESS.check(new ClassFileImporter().importClasses(fixture)));
    assertTrue(e.getMessage().contains(fixture.getName()), e.getMessage());
  }

  @Test
  void rulePasses_whenAClassUsesOnlySecureRandom() {
    NO_INSECURE_RANDOMNESS.check(
        new ClassFileImporter().importClasses(RandomnessFixtures.Secure.class));
  }
}
