package io.consort.secagg;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Quantizer#decodeSum} on the JDK's Vector API (jdk.incubator.vector): L slots at a time (the platform's
 * preferred double vector; 4 with AVX2), the sign extension by shifts on int lanes, int-to-double (exact) and the
 * division (correctly rounded, as a scalar's) on double lanes, so the same doubles as {@link
 * Quantizer#decodeAllScalar}. No float vector is used: a float vector of another shape than the dense kernel's can
 * slow the kernel's float code in the same JVM (docs/BENCHMARKS.md).
 *
 * <p>Loaded by name ({@link Quantizer.Decoding#vectorOrNull}) only when the module is present, so nothing else links
 * against it.
 */
final class VectorDecoding implements Quantizer.Decoding {
  private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
  /** As many ints as {@link #DOUBLES} has lanes, in half its width. */
  private static final VectorSpecies<Integer> INTS =
      IntVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));
  private static final int LANES = DOUBLES.length();
  /**
   * Below this many slots the plain loop decodes: Vector API code runs hundreds of times slower until C2 has compiled
   * it, which a sum of a million slots reaches within one call (on-stack replacement) and sums of a few thousand only
   * after many rounds; the loop takes microseconds there.
   */
  static final int MIN_SLOTS = 1 << 16;

  private VectorDecoding() {
  }

  /** The lanes, or null where the preferred double vector has fewer than 4 (the API would be slower than loops). */
  static Quantizer.Decoding createIfUseful() {
    return LANES >= 4 ? new VectorDecoding() : null;
  }

  @Override
  public void decodeAll(int[] ringSum, int shift, double scale, double[] out) {
    int n = ringSum.length;
    if (n < MIN_SLOTS) {
      Quantizer.decodeAllScalar(ringSum, shift, scale, out);
      return;
    }
    int i = 0;
    for (int last = n - LANES; i <= last; i += LANES) {
      IntVector signed = IntVector.fromArray(INTS, ringSum, i).lanewise(VectorOperators.LSHL, shift)
          .lanewise(VectorOperators.ASHR, shift);
      ((DoubleVector) signed.castShape(DOUBLES, 0)).div(scale).intoArray(out, i);
    }
    for (; i < n; i++) {
      out[i] = ((ringSum[i] << shift) >> shift) / scale;
    }
  }

  @Override
  public String toString() {
    return "vector lanes (" + LANES + " doubles)";
  }
}
