package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class SecAggRoundTest {

  @ParameterizedTest(name = "banks={0}, dim={1}, k={2}")
  @CsvSource({"2, 1, 32", "3, 17, 32", "5, 1000, 32", "10, 20000, 32", "6, 500, 20"})
  void sum_equalsPlaintextSumWithinQuantisationBound_forRandomVectors(int banks, int dim, int ringBits)
      throws Exception {
    double clipNorm = 2.0;
    RoundParameters parameters = RoundParameters.completeGraph("job-q", 3, RoundHarness.banks(banks),
        banks / 2 + 1, dim).withRingBits(ringBits);
    Quantizer quantizer = new Quantizer(clipNorm, banks, ringBits);
    Random gaussian = new Random(banks * 1000L + dim);
    Map<String, int[]> encoded = new HashMap<>();
    double[] clippedSum = new double[dim];
    for (String bank : parameters.bankIds()) {
      double[] update = new double[dim];
      double norm = 0;
      for (int i = 0; i < dim; i++) {
        update[i] = gaussian.nextGaussian() * (bank.hashCode() % 2 == 0 ? 0.001 : 1.0); // some above C
        norm += update[i] * update[i];
      }
      double factor = Math.min(1.0, clipNorm / Math.sqrt(norm));
      for (int i = 0; i < dim; i++) {
        clippedSum[i] += update[i] * factor;
      }
      encoded.put(bank, quantizer.encode(update, RoundHarness.seeded(bank.hashCode())));
    }
    RoundHarness harness = new RoundHarness(parameters, encoded, 11);

    ServerTransition last = harness.run();

    assertTrue(last.isCompleted(), () -> "round should complete: " + last.abortReason());
    double[] decoded = quantizer.decodeSum(last.result().orElseThrow().sum());
    double bound = quantizer.perCoordinateErrorBound(banks);
    double squaredError = 0;
    for (int i = 0; i < dim; i++) {
      double error = Math.abs(decoded[i] - clippedSum[i]);
      assertTrue(error < bound + 1e-12, "coordinate " + i + ": error " + error + " exceeds bound " + bound);
      squaredError += error * error;
    }
    assertTrue(Math.sqrt(squaredError) <= quantizer.l2ErrorBound(banks, dim));
    assertEquals(parameters.bankIds(), last.result().orElseThrow().includedBanks());
  }

  @Test
  void sum_isExactRingSum_whenNoBankDrops() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-x", 0, RoundHarness.banks(4), 3, 4099);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 5), 5);

    ServerTransition last = harness.run();

    assertArrayEquals(harness.plaintextSum(parameters.bankIds()), last.result().orElseThrow().sum());
    assertTrue(harness.clients.values().stream().allMatch(SecAggClient::isFinished));
    assertTrue(harness.serverRefusals.isEmpty() && harness.clientRefusals.isEmpty());
  }

  @Test
  void everyBanksX25519PrivateKeys_areWiped_whenTheRoundFinishes() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-w", 0, RoundHarness.banks(4), 3, 64);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 6), 6);
    harness.advertise(Set.of());
    assertTrue(harness.clients.values().stream().allMatch(SecAggClient::holdsPrivateKeys));

    ServerTransition last = harness.run(Map.of(), UnaryOperator.identity(), false);

    assertTrue(last.isCompleted(), () -> "round should complete: " + last.abortReason());
    assertTrue(harness.clients.values().stream().allMatch(SecAggClient::isFinished));
    assertTrue(harness.clients.values().stream().noneMatch(SecAggClient::holdsPrivateKeys),
        "a finished round's c^SK and s^SK must be destroyed");
  }

  /** Five banks, t = 3: two banks dropping at {@code stage} leaves exactly the threshold. */
  @ParameterizedTest
  @EnumSource(Stage.class)
  void sum_isExactSumOfIncludedBanks_whenThresholdJustMet(Stage stage) throws Exception {
    RoundHarness harness = fiveBanksThresholdThree(stage, 8);
    RoundParameters parameters = harness.parameters;

    ServerTransition last = harness.run(Map.of(stage, Set.of("bank-2", "bank-4")), UnaryOperator.identity());

    assertTrue(last.isCompleted(), () -> "round should complete: " + last.abortReason());
    AggregationResult result = last.result().orElseThrow();
    boolean droppedBeforeMaskedInput = stage.compareTo(Stage.MASKED_INPUT) <= 0;
    List<String> expectedIncluded = droppedBeforeMaskedInput
        ? List.of("bank-1", "bank-3", "bank-5") : parameters.bankIds();
    assertEquals(expectedIncluded, result.includedBanks());
    assertArrayEquals(harness.plaintextSum(expectedIncluded), result.sum());
  }

  /** Five banks, t = 3: three banks dropping at {@code stage} must abort and reveal nothing. */
  @ParameterizedTest
  @EnumSource(Stage.class)
  void round_abortsCleanlyWithoutResult_whenThresholdJustMissed(Stage stage) throws Exception {
    RoundHarness harness = fiveBanksThresholdThree(stage, 9);

    ServerTransition last = harness.run(Map.of(stage, Set.of("bank-1", "bank-2", "bank-5")),
        UnaryOperator.identity());

    assertTrue(last.isAborted());
    assertEquals(stage, last.closedStage());
    assertTrue(last.result().isEmpty());
    assertTrue(last.outgoing().isEmpty());
    assertTrue(last.abortReason().orElseThrow().contains("threshold is 3"), last.abortReason().orElseThrow());
    assertFalse(harness.server.isRunning());
  }

  private static RoundHarness fiveBanksThresholdThree(Stage stage, long seed) {
    RoundParameters parameters = RoundParameters.completeGraph("job-d", 7, RoundHarness.banks(5), 3, 3001)
        .withConsistencyCheck(stage == Stage.CONSISTENCY_CHECK);
    return new RoundHarness(parameters, RoundHarness.randomInputs(parameters, seed), seed);
  }

  @Test
  void sum_isExact_whenBanksDropAtMaskedInputAndUnmaskingTogether() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 2, RoundHarness.banks(7), 4, 2000);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 4), 4);

    ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-1", "bank-6"),
        Stage.UNMASKING, Set.of("bank-3")), UnaryOperator.identity());

    List<String> included = List.of("bank-2", "bank-3", "bank-4", "bank-5", "bank-7");
    assertEquals(included, last.result().orElseThrow().includedBanks());
    assertArrayEquals(harness.plaintextSum(included), last.result().orElseThrow().sum());
  }

  @Test
  void sum_isExact_withSecAggPlusGraphAndDropouts() throws Exception {
    RoundParameters parameters = new RoundParameters("job-plus", 12, RoundHarness.banks(12), 3, 32, 5000, 4, false);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 12), 12);

    ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-3", "bank-8")),
        UnaryOperator.identity());

    List<String> included = new ArrayList<>(parameters.bankIds());
    included.removeAll(List.of("bank-3", "bank-8"));
    assertTrue(last.isCompleted(), () -> "round should complete: " + last.abortReason());
    assertArrayEquals(harness.plaintextSum(included), last.result().orElseThrow().sum());
  }

  @Test
  void sum_isExact_withConsistencyCheckAndSmallRing() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-c", 1, RoundHarness.banks(6), 4, 1000)
        .withRingBits(12).withConsistencyCheck(true);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 6), 6);

    ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-6")), UnaryOperator.identity());

    List<String> included = parameters.bankIds().subList(0, 5);
    int[] sum = last.result().orElseThrow().sum();
    assertArrayEquals(harness.plaintextSum(included), sum);
    assertTrue(java.util.Arrays.stream(sum).allMatch(v -> v >= 0 && v < 4096));
  }

  @Test
  void bankVerifiesEachPeersSignatureOnce_andNeverItsOwn_whenTheRoundCompletes() throws Exception {
    RoundParameters parameters = new RoundParameters("job-own", 3, RoundHarness.banks(12), 3, 32, 64, 4, false);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 31), 31);

    ServerTransition last = harness.run();

    assertTrue(last.isCompleted(), () -> "round should complete: " + last.abortReason());
    NeighbourGraph graph = NeighbourGraph.forRound(parameters);
    for (String bank : parameters.bankIds()) {
      List<String> peers = new ArrayList<>(graph.shareHoldersOf(bank));
      peers.remove(bank);
      List<String> checked = harness.advertisementsChecked.get(bank);
      assertEquals(peers.stream().sorted().toList(), checked.stream().sorted().toList(),
          bank + " checks each neighbour's key advertisement exactly once and not its own");
      assertFalse(checked.contains(bank), bank);
    }
  }
}
