package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.SecAggMessage;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * What the coordinator sees from one bank must look uniformly random even when the input is not.
 *
 * <p>Test: the top 8 bits of each of 65,536 coordinates of one bank's masked vector, in 256 bins
 * (expected 256 per bin), against a chi-square distribution with 255 degrees of freedom. The critical
 * value 377.08 is the 1 - 10^-6 quantile, so with fresh randomness a correct implementation fails
 * this test with probability 10^-6 (the test is seeded, so it is also reproducible). As a check of
 * the test's power, the raw input (a constant plus a small ramp) must fail it by far.
 */
class MaskedInputUniformityTest {
  private static final int DIM = 1 << 16;
  private static final double CHI_SQUARE_255_AT_1E_MINUS_6 = 377.08;

  private static double chiSquareOfTopByte(int[] values) {
    long[] bins = new long[256];
    for (int value : values) {
      bins[value >>> 24]++;
    }
    double expected = values.length / 256.0;
    double statistic = 0;
    for (long count : bins) {
      statistic += (count - expected) * (count - expected) / expected;
    }
    return statistic;
  }

  @Test
  void maskedVectorSeenByCoordinator_isUniformOnTopBits() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-u", 1, RoundHarness.banks(3), 2, DIM);
    Map<String, int[]> inputs = new HashMap<>();
    for (String bank : parameters.bankIds()) {
      int[] input = new int[DIM];
      for (int i = 0; i < DIM; i++) {
        input[i] = 1000 + (i % 7); // highly structured, all in the lowest bin
      }
      inputs.put(bank, input);
    }
    RoundHarness harness = new RoundHarness(parameters, inputs, 17);
    int[][] seen = new int[1][];
    UnaryOperator<SecAggMessage> observe = UnaryOperator.identity();
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), observe);
    ServerTransition forwarding = harness.server.closeStage();
    for (SecAggMessage message : forwarding.outgoing()) {
      SecAggMessage reply = harness.clients.get(message.header().recipientId()).handle(message);
      if (reply.header().senderId().equals("bank-2")) {
        seen[0] = ((MaskedInput) reply).values();
      }
    }

    double masked = chiSquareOfTopByte(seen[0]);
    double raw = chiSquareOfTopByte(inputs.get("bank-2"));
    assertTrue(masked < CHI_SQUARE_255_AT_1E_MINUS_6, "masked chi-square " + masked);
    assertTrue(raw > 100 * CHI_SQUARE_255_AT_1E_MINUS_6, "the test must reject the raw input: " + raw);
  }
}
