package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.consort.secagg.RoundParameters;
import io.consort.spec.SecureRoundPlan;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A bank's input to the round's sum, quantised straight into the sum's array, is the one made the old way on the
 * same rounding bytes: the update quantised into its ring, then {@link SecureRoundPlan#combine} (sign-extended into
 * the 32-bit sum, the evaluation after it), then the noise added to the update's slots.
 */
class BankInputTest {

  @Test
  void inputQuantisedIntoTheSumsArray_equalsQuantiseThenCombine_withAndWithoutEvaluationAndNoise() {
    SplittableRandom values = new SplittableRandom(3);
    int dimension = 5_003;
    for (int ringBits : new int[] {20, 32}) {
      RoundParameters parameters = RoundParameters.completeGraph("job-in", 2, List.of("bank-1", "bank-2", "bank-3"), 2,
          dimension).withRingBits(ringBits);
      SecureRoundPlan plan = new SecureRoundPlan(parameters, 1.0, 3, 0, 0);
      for (int[] evaluation : new int[][] {{}, {100, -7, 3, 0}}) {
        for (boolean noisy : new boolean[] {false, true}) {
          float[] weighted = new float[dimension];
          long[] noise = noisy ? new long[dimension] : null;
          for (int i = 0; i < dimension; i++) {
            weighted[i] = (float) ((values.nextDouble() - 0.5) * 0.03);
            if (noisy) {
              noise[i] = values.nextLong(-1_000_000, 1_000_000);
            }
          }
          RoundParameters sum = plan.sumParameters(evaluation.length);
          long seed = values.nextLong();
          int[] expected = plan.combine(plan.quantizer().encode(weighted, new SplittableRandom(seed)), evaluation);
          if (noisy) {
            for (int i = 0; i < dimension; i++) {
              expected[i] = (int) ((expected[i] + noise[i]) & sum.ringMask());
            }
          }

          int[] input = BankSecureAggregation.input(plan, sum, weighted, noise, evaluation, new SplittableRandom(seed));

          assertArrayEquals(expected, input, "k=" + ringBits + ", " + evaluation.length + " evaluation slots, noise "
              + noisy);
        }
      }
    }
  }
}
