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
}
