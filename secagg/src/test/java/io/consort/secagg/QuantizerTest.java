package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantizerTest {

    @Test
    void sumOfBanksAtTheClipNorm_doesNotWrapTheRing() {
        int banks = 10;
        for (int ringBits : new int[] {8, 16, 32}) {
            Quantizer quantizer = new Quantizer(1.0, banks, ringBits);
            int mask = ringBits == 32 ? -1 : (1 << ringBits) - 1;
            for (double sign : new double[] {1, -1}) {
                int[] sum = new int[1];
                for (int b = 0; b < banks; b++) {
                    sum[0] += quantizer.encode(new double[] {sign * 5.0}, new SplittableRandom(b))[0]; // clipped to 1
                }
                sum[0] &= mask;
                double decoded = quantizer.decodeSum(sum)[0];
                assertEquals(sign * banks, decoded, quantizer.perCoordinateErrorBound(banks), "k=" + ringBits);
            }
        }
    }

    @Test
    void stochasticRounding_isUnbiased_within5StandardErrors() {
        // A value a quarter of a step above a grid point rounds up with probability 1/4. Over 200,000
        // draws the mean is 0.25 with standard error sqrt(0.25*0.75/200000) ~ 9.7e-4; a 5-sigma bound has a
        // false-failure probability below 6e-7.
        Quantizer quantizer = new Quantizer(1.0, 1, 32);
        double step = 1 / quantizer.scale();
        double value = 0.25 * step;
        int draws = 200_000;
        double[] update = new double[draws];
        java.util.Arrays.fill(update, value / Math.sqrt(draws)); // keep the L2 norm below C = 1
        double[] perCoordinate = new double[draws];
        java.util.Arrays.fill(perCoordinate, update[0] * quantizer.scale());
        int[] encoded = quantizer.encode(update, new SplittableRandom(42));
        double fraction = perCoordinate[0] - Math.floor(perCoordinate[0]);
        long ups = 0;
        for (int q : encoded) {
            ups += q - (long) Math.floor(perCoordinate[0]);
        }
        double mean = (double) ups / draws;
        double standardError = Math.sqrt(fraction * (1 - fraction) / draws);
        assertTrue(Math.abs(mean - fraction) < 5 * standardError, "mean " + mean + " vs " + fraction);
    }

    @Test
    void encode_clipsToTheConfiguredNorm() {
        Quantizer quantizer = new Quantizer(2.0, 3, 32);
        int[] encoded = quantizer.encode(new double[] {30, 40}, new SplittableRandom(1)); // norm 50 -> 2
        double[] decoded = quantizer.decodeSum(encoded);
        assertEquals(1.2, decoded[0], quantizer.perCoordinateErrorBound(1));
        assertEquals(1.6, decoded[1], quantizer.perCoordinateErrorBound(1));
    }

    @Test
    void invalidInputsAndParameters_areRefusedNamingTheValue() {
        Quantizer quantizer = new Quantizer(1.0, 3, 32);
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> quantizer.encode(new double[] {0, Double.NaN}, new SplittableRandom(1)));
        assertTrue(nan.getMessage().contains("update[1] must be finite, got NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Quantizer(0, 3, 32))
                .getMessage().contains("clipNorm must be finite and > 0, got 0.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Quantizer(1, 100, 8))
                .getMessage().contains("leave no room for 100 banks"));
    }

    /** A generator that hands out the given bytes, then zeros, and counts the bytes asked for. */
    private static class ScriptedBytes implements java.util.random.RandomGenerator {
        private final int[] script;
        private int next;
        long requested;

        ScriptedBytes(int... script) {
            this.script = script;
        }

        @Override
        public void nextBytes(byte[] bytes) {
            requested += bytes.length;
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (next < script.length ? script[next++] : 0);
            }
        }

        @Override
        public long nextLong() {
            throw new UnsupportedOperationException("the rounding reads bytes in bulk");
        }
    }

    /**
     * The rounding compares a uniform U, one base-256 digit per byte, with the fraction and stops at the
     * first digit that differs: 0.25 + 2^-20 has digits 64, 0, 16.
     */
    @Test
    void rounding_readsDigitsUntilTheyDiffer_andRoundsUpExactlyWhenUIsBelowTheFraction() {
        double fraction = 0.25 + 0x1.0p-20;
        assertTrue(new Quantizer.RoundingBits(new ScriptedBytes(63)).uniformBelow(fraction), "U = 63/256... < 64/256");
        assertTrue(!new Quantizer.RoundingBits(new ScriptedBytes(65)).uniformBelow(fraction), "U = 65/256... above");
        assertTrue(new Quantizer.RoundingBits(new ScriptedBytes(64, 0, 15, 255)).uniformBelow(fraction));
        assertTrue(!new Quantizer.RoundingBits(new ScriptedBytes(64, 0, 16)).uniformBelow(fraction),
                "U's digits equal all of the fraction's: U >= fraction");
        assertTrue(!new Quantizer.RoundingBits(new ScriptedBytes(64, 1)).uniformBelow(fraction));
        assertTrue(!new Quantizer.RoundingBits(new ScriptedBytes(0)).uniformBelow(0.0), "never up from an integer");
        // the decisions read consecutive bytes: 63 settles the first, 64, 0, 15 the second
        Quantizer.RoundingBits shared = new Quantizer.RoundingBits(new ScriptedBytes(63, 64, 0, 15, 65));
        assertTrue(shared.uniformBelow(fraction));
        assertTrue(shared.uniformBelow(fraction));
        assertTrue(!shared.uniformBelow(fraction));
    }

    /**
     * The branch-free first digit of the encoder's rounding decides exactly as the digit-by-digit
     * comparison, for every first byte, on fractions that end within a byte, span several, or are 0.
     */
    @Test
    void bitBelow_decidesLikeUniformBelow_forEveryFirstByte() {
        double[] fractions = {0.0, 0.25 + 0x1.0p-20, 1.0 / 3, 0.5, 255.5 / 256, 0x1.0p-60};
        for (double fraction : fractions) {
            for (int first = 0; first < 256; first++) {
                for (int second : new int[] {0, 85, 255}) {
                    boolean below = new Quantizer.RoundingBits(new ScriptedBytes(first, second, 7)).uniformBelow(fraction);

                    int bit = new Quantizer.RoundingBits(new ScriptedBytes(first, second, 7)).bitBelow(fraction);

                    assertEquals(below ? 1 : 0, bit, "fraction " + fraction + ", bytes " + first + ", " + second);
                }
            }
        }
    }

    /**
     * Just below 0 the fraction 1 + value is not exact in floating point: for -2^-60 it is 1.0, and a
     * comparison against it would round up whatever U is. The rounding instead goes down to -1 exactly
     * when U < |value| (probability |value|), and up to 0 otherwise.
     */
    @Test
    void aValueJustBelowZero_roundsDownWithProbabilityItsMagnitude_notNever() {
        double tiny = -0x1.0p-60;
        assertTrue(!Quantizer.roundsUp(tiny, -1, new Quantizer.RoundingBits(new ScriptedBytes(0))),
                "U = 0 < 2^-60: down to -1");
        assertTrue(Quantizer.roundsUp(tiny, -1, new Quantizer.RoundingBits(new ScriptedBytes(1))), "U >= 1/256: up to 0");
        // -0.25 rounds up to 0 with probability 3/4: U = 63/256... < 1/4 goes down, 64/256 goes up
        assertTrue(!Quantizer.roundsUp(-0.25, -1, new Quantizer.RoundingBits(new ScriptedBytes(63))));
        assertTrue(Quantizer.roundsUp(-0.25, -1, new Quantizer.RoundingBits(new ScriptedBytes(64))));
        // elsewhere the fraction is exact: -0.75 rounds up with probability 1/4
        assertTrue(Quantizer.roundsUp(-0.75, -1, new Quantizer.RoundingBits(new ScriptedBytes(63))));
        assertTrue(!Quantizer.roundsUp(-0.75, -1, new Quantizer.RoundingBits(new ScriptedBytes(64))));
    }

    /**
     * A fraction whose binary expansion never ends within a byte (1/3 as a double) still rounds up with
     * its probability: over 200,000 coordinates the share rounded up is within 5 standard errors of 1/3
     * (false-failure probability below 6e-7), and the coordinates cost at most 1.02 bytes each on
     * average (expected 256/255 = 1.0039; the bound is 26 standard deviations away for the geometric
     * count, so it cannot fail by chance), plus one 8 KiB chunk of slack.
     */
    @Test
    void rounding_isUnbiasedForAFractionSpanningManyBytes_atAboutOneByteACoordinate() {
        Quantizer quantizer = new Quantizer(1.0, 1, 32);
        int draws = 200_000;
        double[] update = new double[draws];
        double fraction = 1.0 / 3;
        java.util.Arrays.fill(update, (1000 + fraction) / quantizer.scale()); // norm far below C = 1
        double perCoordinate = update[0] * quantizer.scale();
        double exactFraction = perCoordinate - Math.floor(perCoordinate);
        ScriptedBytes counting = new ScriptedBytes() {
            private final SplittableRandom random = new SplittableRandom(7);

            @Override
            public void nextBytes(byte[] bytes) {
                requested += bytes.length;
                random.nextBytes(bytes);
            }
        };
        int[] encoded = quantizer.encode(update, counting);
        long ups = 0;
        for (int q : encoded) {
            ups += q - (long) Math.floor(perCoordinate);
        }
        double mean = (double) ups / draws;
        double standardError = Math.sqrt(exactFraction * (1 - exactFraction) / draws);
        assertTrue(Math.abs(mean - exactFraction) < 5 * standardError, "mean " + mean + " vs " + exactFraction);
        assertTrue(counting.requested <= 1.02 * draws + 8192, "bytes drawn " + counting.requested);
    }

    /**
     * The float path (no widened copy) is the old one, encoding the update widened to double, on the same
     * random bytes: clipped and unclipped updates, tiny negatives (the (-1/2, 0) case), ring sizes 8 to 32.
     */
    @Test
    void floatEncoding_equalsEncodingOfTheWidenedUpdate_onTheSameRandomBytes() {
        SplittableRandom values = new SplittableRandom(11);
        for (int ringBits : new int[] {8, 20, 32}) {
            Quantizer quantizer = new Quantizer(1.0, 5, ringBits);
            for (double spread : new double[] {1e-9, 1e-4, 0.01, 3.0}) { // 3.0 over 5,000 values: clipped
                float[] update = new float[50_000]; // several 8 KiB chunks of rounding bytes
                double[] widened = new double[update.length];
                for (int i = 0; i < update.length; i++) {
                    update[i] = (float) ((values.nextDouble() - 0.5) * spread);
                    widened[i] = update[i];
                }
                update[0] = -Float.MIN_VALUE;
                widened[0] = update[0];
                int[] fromFloat = quantizer.encode(update, new SplittableRandom(ringBits * 31L + (long) (spread * 1e9)));
                int[] fromDouble = quantizer.encode(widened, new SplittableRandom(ringBits * 31L + (long) (spread * 1e9)));
                org.junit.jupiter.api.Assertions.assertArrayEquals(fromDouble, fromFloat,
                    "k=" + ringBits + ", spread " + spread);
            }
        }
    }

    @Test
    void floatEncoding_refusesANonFiniteCoordinate_namingIt() {
        Quantizer quantizer = new Quantizer(1.0, 2, 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> quantizer.encode(new float[] {0, 1, Float.POSITIVE_INFINITY}, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("update[2]"), e.getMessage());
    }

    /**
     * decodeSum's sign extension by shifts reads every ring element as the long arithmetic before it did, and on
     * vector lanes (this JVM has jdk.incubator.vector, secagg/pom.xml) gives the plain loop's doubles bit for bit,
     * a length that is no multiple of the lanes included.
     */
    @Test
    void decodeSum_equalsTheUnsignedLongReading_forEveryRingSize_onLanesAsInTheLoop() {
        assertTrue(Quantizer.Decoding.vectorOrNull() != null, "this JVM has jdk.incubator.vector (secagg/pom.xml)");
        SplittableRandom random = new SplittableRandom(5);
        for (int ringBits = 3; ringBits <= 32; ringBits++) { // k = 2 leaves no room for a bank
            Quantizer quantizer = new Quantizer(1.0, 1, ringBits);
            long modulus = 1L << ringBits;
            int[] ring = new int[VectorDecoding.MIN_SLOTS + 3]; // at least the lanes' threshold, and a tail
            for (int i = 0; i < ring.length; i++) {
                ring[i] = (int) (random.nextLong() & (modulus - 1));
            }
            ring[0] = 0;
            ring[1] = (int) (modulus - 1);
            ring[2] = (int) (modulus >>> 1);
            ring[3] = (int) ((modulus >>> 1) - 1);
            double[] decoded = quantizer.decodeSum(ring);
            double[] plain = quantizer.decodeSum(ring, Quantizer.Decoding.scalar());
            for (int i = 0; i < ring.length; i++) {
                assertEquals(Double.doubleToRawLongBits(plain[i]), Double.doubleToRawLongBits(decoded[i]),
                        "k=" + ringBits + ", ring[" + i + "], lanes against the loop");
                long value = Integer.toUnsignedLong(ring[i]) & (modulus - 1);
                double expected = (value >= modulus / 2 ? value - modulus : value) / quantizer.scale();
                assertEquals(expected, decoded[i], 0.0, "k=" + ringBits + ", ring[" + i + "]");
            }
        }
    }

    /** Bytes that are mostly 0 or 1, so that coordinates whose first digit is 0 or 1 need more than one byte. */
    private static final class LowBytes implements java.util.random.RandomGenerator {
        private final SplittableRandom random;

        LowBytes(long seed) {
            random = new SplittableRandom(seed);
        }

        @Override
        public void nextBytes(byte[] bytes) {
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (random.nextInt(3) == 0 ? random.nextInt(256) : random.nextInt(2));
            }
        }

        @Override
        public long nextLong() {
            return random.nextLong();
        }
    }

    /**
     * The float path's inline common case and its slow path (bytes that tie the first digit, values in (-1/2, 0),
     * comparisons running past a chunk's end) read the same bytes as the one-coordinate-at-a-time path.
     */
    @Test
    void floatEncoding_equalsTheReference_whenMostCoordinatesNeedSeveralBytes() {
        Quantizer quantizer = new Quantizer(1.0, 1, 8); // s = 126
        SplittableRandom values = new SplittableRandom(3);
        float[] update = new float[60_000]; // norm below 1: no clipping; over 7 chunks of random bytes
        double[] widened = new double[update.length];
        for (int i = 0; i < update.length; i++) {
            double scaled = values.nextBoolean()
                    ? values.nextInt(-1, 1) + values.nextDouble() * 2 / 256 // first digit 0 or 1
                    : -values.nextDouble() * 0.5; // (-1/2, 0]
            update[i] = (float) (scaled / quantizer.scale());
            widened[i] = update[i];
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(quantizer.encode(widened, new LowBytes(9)),
                quantizer.encode(update, new LowBytes(9)));
    }

    /**
     * Sign-extended into a longer array of 32-bit slots (the sum that carries an evaluation after the update), the
     * encoding is the ring encoding read as signed k-bit values, on the same random bytes, with zeros after it.
     */
    @Test
    void encodeSignExtended_isTheRingEncodingSignExtended_withZerosAfterIt() {
        SplittableRandom values = new SplittableRandom(4);
        for (int ringBits : new int[] {8, 24, 32}) {
            Quantizer quantizer = new Quantizer(1.0, 5, ringBits);
            for (double spread : new double[] {1e-4, 0.05, 3.0}) { // 3.0 over 20,003 values: clipped
                float[] update = new float[20_003];
                for (int i = 0; i < update.length; i++) {
                    update[i] = (float) ((values.nextDouble() - 0.5) * spread);
                }
                update[1] = -Float.MIN_VALUE;
                int[] ring = quantizer.encode(update, new SplittableRandom(ringBits));
                int[] widened = quantizer.encodeSignExtended(update, new SplittableRandom(ringBits), update.length + 7);
                int shift = 32 - ringBits;
                assertEquals(update.length + 7, widened.length);
                for (int i = 0; i < update.length; i++) {
                    assertEquals((ring[i] << shift) >> shift, widened[i], "k=" + ringBits + ", slot " + i);
                }
                for (int i = update.length; i < widened.length; i++) {
                    assertEquals(0, widened[i]);
                }
            }
        }
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new Quantizer(1.0, 5, 24).encodeSignExtended(new float[3], new SplittableRandom(1), 2))
                .getMessage().contains("length 2 leaves no room for an update of 3 values"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new Quantizer(1.0, 5, 24).encodeSignExtended(new float[] {Float.NaN}, new SplittableRandom(1), 2))
                .getMessage().contains("update[0] must be finite"));
    }
}
