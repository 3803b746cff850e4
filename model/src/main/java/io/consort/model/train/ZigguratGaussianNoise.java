package io.consort.model.train;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Standard normals from the JDK's own {@link RandomGenerator#nextGaussian()}: McFarland's modified
 * ziggurat (McFarland 2016, "A modified ziggurat algorithm for generating exponentially and normally
 * distributed pseudorandom numbers", J. Stat. Comput. Simul. 86(7)), with Walker's alias method for
 * the overhangs and Marsaglia and Tsang's exact tail beyond the base layer (from exponentials, so the
 * tail is unbounded). More than 98% of samples cost one {@code nextLong()} and one multiplication by a
 * table entry; the polar method costs 4 / pi uniforms per normal and a logarithm, a square root and
 * a division per pair. No sampler is written here: this class only routes the JDK algorithm's draws.
 *
 * <p>The JDK's default method ({@code jdk.internal.util.random.RandomSupport.computeNextGaussian})
 * reads nothing but {@code nextLong()} of the generator it is called on. It is called here on a
 * generator whose only method is {@code uniforms.nextLong()}, so every bit comes from
 * {@code uniforms} even when its class overrides {@code nextGaussian} (as {@code java.util.Random}
 * and {@code SecureRandom} do with their legacy polar method). Exact in distribution from JDK 17.0.4:
 * 17.0.0 to 17.0.3 carried a ziggurat that did not sample the normal (JDK-8273056, fixed in 18 and
 * backported to 17u in March 2022), so {@link GaussianNoise#secure()} keeps the polar method on
 * those; {@code ZigguratGaussianNoiseTest} runs the chi-square test that exposed the bug on the JDK
 * that runs the build. The rounding at the far tail that JDK-8284493
 * improved (JDK 19) begins near 7.8 sigma, where it is one ulp of a sample that occurs less than
 * once in 10^14 draws and is then rounded to the noise grid, far coarser than an ulp.
 *
 * <p>Package-private: production code obtains it through {@link GaussianNoise#secure()} so that the
 * uniforms always come from SecureRandom; tests in this package may pass a seeded generator.
 */
final class ZigguratGaussianNoise implements GaussianNoise {
  /** The first JDK 17 update whose {@code nextGaussian} carries the fix for JDK-8273056. */
  static final Runtime.Version FIRST_EXACT = Runtime.Version.parse("17.0.4");
  private final RandomGenerator uniforms;
  /** {@code uniforms}' {@code nextLong()} alone, so the JDK's default {@code nextGaussian} runs on it. */
  private final RandomGenerator longs;

  ZigguratGaussianNoise(RandomGenerator uniforms) {
    this.uniforms = Objects.requireNonNull(uniforms, "uniforms");
    this.longs = uniforms::nextLong;
  }

  /** Where the bits come from (for tests of the production wiring). */
  RandomGenerator uniforms() {
    return uniforms;
  }

  /** Whether {@code version}'s {@code nextGaussian} samples the normal (see above). */
  static boolean exactOn(Runtime.Version version) {
    return version.compareToIgnoreOptional(FIRST_EXACT) >= 0;
  }

  @Override
  public double sample(double sigma) {
    return sigma * longs.nextGaussian();
  }
}
