package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The model a bank computed its input from is bound into its pairwise masks (protocol version 8, {@link ModelDigest};
 * docs/SECURE_AGGREGATION.md, "The model is bound into the masks"). The attack, played against the real clients and
 * server: "Eluding secure aggregation via model inconsistency" (Pasquini, Francati and Ateniese, CCS 2022), a
 * coordinator that sends the victim the real model and every other bank a model whose gradients are zero (every
 * ReLU dead), so their inputs are zero and the "sum" is the victim's input alone.
 */
class ModelBoundMasksTest {
  private static final int DIM = 1_000;
  private static final String VICTIM = "bank-1";
  private static final ModelDigest REAL = ModelDigest.ofHex("11".repeat(ModelDigest.BYTES));
  private static final ModelDigest DEAD = ModelDigest.ofHex("22".repeat(ModelDigest.BYTES));

  /** The victim's input and zero for everybody else: what the banks send when the others' gradients are dead. */
  private static Map<String, int[]> deadGradientInputs(RoundParameters parameters, long seed) {
    Map<String, int[]> inputs = new HashMap<>();
    for (String bank : parameters.bankIds()) {
      inputs.put(bank, new int[DIM]);
    }
    inputs.put(VICTIM, RoundHarness.randomInputs(parameters, seed).get(VICTIM));
    return inputs;
  }

  private static int coordinatesEqual(int[] a, int[] b) {
    int equal = 0;
    for (int i = 0; i < a.length; i++) {
      equal += a[i] == b[i] ? 1 : 0;
    }
    return equal;
  }

  /**
   * The attack as it worked before the binding (every bank binds the same value, here none, whatever model it was
   * sent: protocol versions up to 7, whose seeds did not depend on the model): the coordinator reads the victim's
   * input exactly.
   */
  @Test
  void coordinatorReadsTheVictimsInputExactly_whenTheMasksDoNotDependOnTheModel() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-mi", 3, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, deadGradientInputs(parameters, 81), 81, true);

    ServerTransition last = harness.run();

    assertTrue(last.isCompleted(), last.toString());
    assertArrayEquals(harness.inputs.get(VICTIM), last.result().orElseThrow().sum());
  }

  /**
   * With the binding the victim's masks do not cancel against the others': the unmasked sum is uniform in the ring in
   * every coordinate, whichever model the coordinator binds its server to. A uniform 32-bit coordinate equals the
   * victim's with probability 2^-32, so asserting no equal coordinate among 1,000 fails falsely with probability at
   * most 1,000 * 2^-32 (about 2.3e-7) per run; the inputs are seeded, so a run that passes always passes.
   */
  @Test
  void unmaskedSumIsNotTheVictimsInput_whenTheVictimTrainedOnAnotherModelThanTheOthers() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-mi", 3, RoundHarness.banks(5), 3, DIM);
    for (ModelDigest serverBinds : List.of(REAL, DEAD)) {
      RoundHarness harness = new RoundHarness(parameters, deadGradientInputs(parameters, 82), 82, true);
      harness.clients.forEach((bank, client) -> client.bindModel(bank.equals(VICTIM) ? REAL : DEAD));
      harness.server.bindModel(serverBinds);

      ServerTransition last = harness.run();

      assertTrue(last.isCompleted(), last.toString()); // the sum completes: nothing tells the coordinator it failed
      int[] sum = last.result().orElseThrow().sum();
      assertEquals(0, coordinatesEqual(sum, harness.inputs.get(VICTIM)), "server bound " + serverBinds);
      assertEquals(0, coordinatesEqual(sum, new int[DIM]), "server bound " + serverBinds);
    }
  }

  /** The same with a bank dropping after sharing, so the coordinator recomputes its masks from its s^SK. */
  @Test
  void unmaskedSumIsNotTheVictimsInput_whenTheCoordinatorRecomputesADroppedBanksMasks() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-mi", 4, RoundHarness.banks(5), 3, DIM);
    for (ModelDigest serverBinds : List.of(REAL, DEAD)) {
      RoundHarness harness = new RoundHarness(parameters, deadGradientInputs(parameters, 83), 83);
      harness.clients.forEach((bank, client) -> client.bindModel(bank.equals(VICTIM) ? REAL : DEAD));
      harness.server.bindModel(serverBinds);

      ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-5")), UnaryOperator.identity());

      assertTrue(last.isCompleted(), last.toString());
      assertEquals(List.of("bank-1", "bank-2", "bank-3", "bank-4"), last.result().orElseThrow().includedBanks());
      assertEquals(0, coordinatesEqual(last.result().orElseThrow().sum(), harness.inputs.get(VICTIM)),
          "server bound " + serverBinds);
    }
  }

  @Test
  void sumIsExact_whenEveryBankAndTheServerBindTheSameModel_evenWithADropout() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-mi", 5, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 84), 84);
    harness.clients.values().forEach(client -> client.bindModel(REAL));
    harness.server.bindModel(REAL);

    ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-5")), UnaryOperator.identity());

    assertTrue(last.isCompleted(), last.toString());
    assertArrayEquals(harness.plaintextSum(List.of("bank-1", "bank-2", "bank-3", "bank-4")),
        last.result().orElseThrow().sum());
  }

  /** A coordinator that binds another model than the banks trained on cannot recompute a dropped bank's masks. */
  @Test
  void sumIsWrong_whenTheServerBindsAnotherModelThanTheBanksAndMustRecomputeMasks() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-mi", 6, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 85), 85);
    harness.clients.values().forEach(client -> client.bindModel(REAL));
    harness.server.bindModel(DEAD);

    ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-5")), UnaryOperator.identity());

    int[] expected = harness.plaintextSum(List.of("bank-1", "bank-2", "bank-3", "bank-4"));
    assertEquals(0, coordinatesEqual(last.result().orElseThrow().sum(), expected));
  }

  @Test
  void bankRefusesToRebindAnotherModel_andToBindOnceItsSeedsAreDerived() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-mi", 7, RoundHarness.banks(3), 2, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 86), 86, true);
    SecAggClient victim = harness.clients.get(VICTIM);
    victim.bindModel(REAL);
    victim.bindModel(REAL); // the same model again: a no-op

    IllegalStateException rebound = assertThrows(IllegalStateException.class, () -> victim.bindModel(DEAD));
    assertTrue(rebound.getMessage().contains(REAL.toString()), rebound.getMessage());

    SecAggClient other = harness.clients.get("bank-2");
    assertTrue(harness.run().isCompleted());
    assertEquals(ModelDigest.NONE, other.boundModel());
    assertThrows(IllegalStateException.class, () -> other.bindModel(REAL)); // its seeds took no model: fixed
  }

  @Test
  void modelDigestRefusesWhatIsNotASha256_namingTheValue() {
    IllegalArgumentException shortHex = assertThrows(IllegalArgumentException.class, () -> ModelDigest.ofHex("abcd"));
    assertTrue(shortHex.getMessage().contains("'abcd'"), shortHex.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ModelDigest.ofHex("zz".repeat(ModelDigest.BYTES)));
    assertEquals(REAL, ModelDigest.ofHex("11".repeat(ModelDigest.BYTES)));
  }

  // ---- the round's row total bound beside the model (protocol version 9) ----

  /**
   * The weight attack on the real clients and server: every bank on the real model, the victim told a row total equal
   * to its own rows (weight 1) and the others a billion times more (their inputs all but zero, here zero). Each binds
   * its row total beside the model, so the masks do not cancel: no coordinate of the unmasked sum equals the victim's
   * or zero, whichever row total the server binds (false failure as above, 2 * 1,000 * 2^-32 per server binding).
   */
  @Test
  void unmaskedSumIsNotTheVictimsInput_whenTheVictimWasGivenAnotherRowTotalThanTheOthers() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-rt", 8, RoundHarness.banks(5), 3, DIM);
    ModelDigest victims = REAL.withRoundRowTotal(100);
    ModelDigest others = REAL.withRoundRowTotal(500_000_000_000L);
    for (ModelDigest serverBinds : List.of(victims, others)) {
      RoundHarness harness = new RoundHarness(parameters, deadGradientInputs(parameters, 87), 87);
      harness.clients.forEach((bank, client) -> client.bindModel(bank.equals(VICTIM) ? victims : others));
      harness.server.bindModel(serverBinds);

      ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-5")), UnaryOperator.identity());

      assertTrue(last.isCompleted(), last.toString());
      int[] sum = last.result().orElseThrow().sum();
      assertEquals(0, coordinatesEqual(sum, harness.inputs.get(VICTIM)), "server bound " + serverBinds);
      assertEquals(0, coordinatesEqual(sum, new int[DIM]), "server bound " + serverBinds);
    }
  }

  /** One row total for all, bound by the server too: the sum is exact, a dropped bank's masks recomputed. */
  @Test
  void sumIsExact_whenEveryBankAndTheServerBindTheSameModelAndRowTotal_evenWithADropout() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-rt", 9, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 88), 88);
    harness.clients.values().forEach(client -> client.bindModel(REAL.withRoundRowTotal(1_234)));
    harness.server.bindModel(REAL.withRoundRowTotal(1_234));

    ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-5")), UnaryOperator.identity());

    assertTrue(last.isCompleted(), last.toString());
    assertArrayEquals(harness.plaintextSum(List.of("bank-1", "bank-2", "bank-3", "bank-4")),
        last.result().orElseThrow().sum());
  }

  @Test
  void rowTotal_changesTheBoundDigest_isNamedInIt_andIsRefusedWhenNotPositiveOrWithoutAModel() {
    ModelDigest bound = REAL.withRoundRowTotal(1_234);

    assertEquals(REAL.withRoundRowTotal(1_234), bound);
    assertTrue(!bound.equals(REAL) && !bound.equals(REAL.withRoundRowTotal(1_235))
        && !bound.equals(DEAD.withRoundRowTotal(1_234)));
    assertEquals(1_234, bound.roundRowTotal());
    assertEquals(REAL, bound.model());
    assertEquals(REAL + " with round row total 1234", bound.toString());
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> REAL.withRoundRowTotal(0));
    assertTrue(zero.getMessage().contains("positive, got 0"), zero.getMessage());
    IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> REAL.withRoundRowTotal(-1));
    assertTrue(negative.getMessage().contains("got 18446744073709551615"), negative.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ModelDigest.NONE.withRoundRowTotal(1));
    assertThrows(IllegalArgumentException.class, () -> bound.withRoundRowTotal(1));
  }
}
