package io.consort.spec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.v1.JobPlan;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one derivation of a secure round's parameters from the pinned job and the roster. */
class SecureRoundPlanTest {
  private static final List<String> FIVE = List.of("b1", "b2", "b3", "b4", "b5");

  @Test
  void defaults_runTheConsistencyCheck_atTheMajorityThreshold_raisedToMinBanks() {
    SecureRoundPlan plan = SecureRoundPlan.derive(JobSpecTest.base().build(), 3, FIVE, 50);
    assertTrue(plan.parameters().consistencyCheck());
    assertEquals(3, plan.threshold());
    assertEquals(32, plan.parameters().ringBits());
    assertFalse(plan.bankLevel());
    assertEquals(5, plan.quantizerBanks());
    assertEquals(4, SecureRoundPlan.derive(JobSpecTest.base().minBanks(4).build(), 3, FIVE, 50).threshold());
  }

  @Test
  void bankLevelShares_carryTheTargetNoiseInTheOtherSurvivorsSharesAtTheThreshold() {
    JobSpec spec = JobSpecTest.base().privacy(PrivacyMode.BANK).bankNoiseMultiplier(2.0)
        .secureAggregationClipNorm(1.0).build();
    SecureRoundPlan plan = SecureRoundPlan.derive(spec, 1, FIVE, 50);
    double target = 2.0 * 1.0 * plan.quantizer().scale();
    assertEquals(target, plan.perBankSigma() * Math.sqrt(plan.threshold() - 1), 1e-9 * target);
    assertEquals(plan.toTask(spec), SecureRoundPlan.derive(spec, 1, FIVE, 50).toTask(spec));
  }

  @Test
  void aRoundCarryingAnEvaluation_sumsInThe32BitRing_andItsUpdatePartIsTheSumTheUpdatesOwnRingGives() {
    SecureRoundPlan plan = SecureRoundPlan.derive(JobSpecTest.base().modulusBits(20).build(), 2, FIVE, 3);
    assertEquals(plan.parameters(), plan.sumParameters(0));
    assertEquals(32, plan.sumParameters(2).ringBits());
    assertEquals(5, plan.sumParameters(2).dimension());
    assertEquals(plan.parameters().round(), plan.sumParameters(2).round());
    int mask = plan.parameters().ringMask();
    // five banks' quantised updates, two of them negative in a coordinate, and two evaluation slots each
    int[][] updates = {{5, -3 & mask, 0}, {7, -1 & mask, 1}, {1, 2, 3}, {0, 0, -9 & mask}, {2, 2, 2}};
    int[] sum = new int[5];
    int[] ringSum = new int[3];
    for (int[] u : updates) {
      int[] input = plan.combine(u, new int[] {100, 7});
      for (int i = 0; i < sum.length; i++) {
        sum[i] += input[i];
      }
      for (int i = 0; i < 3; i++) {
        ringSum[i] = (ringSum[i] + u[i]) & mask;
      }
    }
    // the update's slots hold the integer sum (15, 0, -3): nothing of how many banks were negative
    assertEquals(15, sum[0]);
    assertEquals(0, sum[1]);
    assertEquals(-3, sum[2]);
    assertArrayEquals(ringSum, plan.updatePart(sum));
    assertArrayEquals(new int[] {500, 35}, plan.evaluationPart(sum));
    assertThrows(IllegalArgumentException.class, () -> plan.combine(new int[2], new int[1]));
  }

  @Test
  void rosterBelowMinBanks_orOfOneBank_allowsNoSecureRound() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SecureRoundPlan.derive(JobSpecTest.base().minBanks(3).build(), 1, List.of("b1", "b2"), 50));
    assertTrue(e.getMessage().contains("below the 3 the job requires"), e.getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> SecureRoundPlan.derive(JobSpecTest.base().build(), 1, List.of("b1"), 50)).getMessage()
        .contains("a sum of one bank is that bank's update"));
  }

  @Test
  void planWithoutConsistencyCheckField_isRefusedOnTheWay_in_andFalseRoundTrips() {
    JobPlan plan = JobSpecWire.toProto(JobSpecTest.base().build());
    JobPlan stripped = plan.toBuilder().setSecureAggregation(plan.getSecureAggregation().toBuilder()
        .clearConsistencyCheck()).build();
    InvalidJobSpecException e = assertThrows(InvalidJobSpecException.class, () -> JobSpecWire.fromProto(stripped));
    assertTrue(e.getMessage().contains("secure_aggregation.consistency_check"), e.getMessage());
    JobSpec off = JobSpecTest.base().consistencyCheck(false).build();
    assertEquals(off, JobSpecWire.fromProto(JobSpecWire.toProto(off)));
  }

  @Test
  void unmaskingWithInput_isPinnedInThePlan_reachesEveryRoundsParameters_andAPlanWithoutItIsAfterInputs() {
    JobSpec early = JobSpecTest.base().unmaskingWithInput(true).build();
    JobPlan plan = JobSpecWire.toProto(early);

    assertTrue(plan.getSecureAggregation().getUnmaskingWithInput());
    assertEquals(early, JobSpecWire.fromProto(plan));
    assertTrue(SecureRoundPlan.derive(early, 2, FIVE, 50).sumParameters(3).unmaskingWithInput());
    assertTrue(SecureRoundPlan.sum(early, 0, SecureSumPurpose.FEATURE_STATISTICS, FIVE, 9).unmaskingWithInput());
    JobPlan without = JobSpecWire.toProto(JobSpecTest.base().build());
    assertFalse(without.getSecureAggregation().hasField(without.getSecureAggregation().getDescriptorForType()
        .findFieldByName("unmasking_with_input")), "after_inputs adds nothing to a plan's bytes");
    assertFalse(JobSpecWire.fromProto(without).secureAggregation().unmaskingWithInput());
  }

  @Test
  void unmaskingWithInput_isRefusedNamingTheKey_withSecAggPlus_orWithoutTheConsistencyCheck_orWithoutSecureAggregation() {
    InvalidJobSpecException plus = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecTest.base().neighbourDegree(2).unmaskingWithInput(true).build());
    InvalidJobSpecException disabled = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecTest.base().secureAggregation(false).unmaskingWithInput(true).build());
    assertEquals(SecureAggregationSpec.UNMASKING_KEY, disabled.field());
    assertTrue(disabled.getMessage().contains("secure_aggregation.enabled: false"), disabled.getMessage());
    assertFalse(JobSpecTest.base().secureAggregation(false).build().secureAggregation().unmaskingWithInput());
    InvalidJobSpecException unchecked = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecTest.base().consistencyCheck(false).unmaskingWithInput(true).build());

    assertEquals(SecureAggregationSpec.UNMASKING_KEY, plus.field());
    assertTrue(plus.getMessage().contains("neighbour_degree 2"), plus.getMessage());
    assertEquals(SecureAggregationSpec.UNMASKING_KEY, unchecked.field());
    assertTrue(unchecked.getMessage().contains("consistency_check: false"), unchecked.getMessage());
    assertEquals(SecureAggregationSpec.UNMASKING_KEY, assertThrows(InvalidJobSpecException.class,
        () -> SecureAggregationSpec.parseUnmasking("early")).field());
  }

  @Test
  void keyRounds_isPinnedInThePlan_derivesThePeriodOfEachRound_andAPlanWithoutItIsOne() {
    JobSpec periods = JobSpecTest.base().unmaskingWithInput(true).keyRounds(4).build();
    JobPlan plan = JobSpecWire.toProto(periods);

    assertEquals(4, plan.getSecureAggregation().getKeyRounds());
    assertEquals(periods, JobSpecWire.fromProto(plan));
    assertEquals(new io.consort.secagg.KeyPeriod(0, 4), SecureRoundPlan.keyPeriod(periods, 4));
    assertEquals(new io.consort.secagg.KeyPeriod(1, 4), SecureRoundPlan.keyPeriod(periods, 5));
    assertEquals(null, SecureRoundPlan.keyPeriod(JobSpecTest.base().unmaskingWithInput(true).build(), 5));
    JobPlan without = JobSpecWire.toProto(JobSpecTest.base().unmaskingWithInput(true).build());
    assertFalse(without.getSecureAggregation().hasField(without.getSecureAggregation().getDescriptorForType()
        .findFieldByName("key_rounds")), "key_rounds 1 adds nothing to a plan's bytes");
    assertEquals(1, JobSpecWire.fromProto(without).secureAggregation().keyRounds());
  }

  @Test
  void keyRounds_isRefusedNamingTheKey_belowOne_orAboveOneWithoutUnmaskingWithInput() {
    InvalidJobSpecException zero = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecTest.base().unmaskingWithInput(true).keyRounds(0).build());
    InvalidJobSpecException afterInputs = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecTest.base().keyRounds(3).build());

    assertEquals(SecureAggregationSpec.KEY_ROUNDS_KEY, zero.field());
    assertTrue(zero.getMessage().contains("at least 1"), zero.getMessage());
    assertEquals(SecureAggregationSpec.KEY_ROUNDS_KEY, afterInputs.field());
    assertTrue(afterInputs.getMessage().contains("needs unmasking: with_input"), afterInputs.getMessage());
    assertEquals(1, JobSpecTest.base().keyRounds(1).build().secureAggregation().keyRounds());
  }

  @Test
  void taskSayingAnotherKeyRoundsThanThePinnedPlan_isRefused() {
    for (int pinnedRounds : new int[] {1, 4}) {
      JobSpec pinned = JobSpecTest.base().unmaskingWithInput(true).keyRounds(pinnedRounds).build();
      SecureRoundPlan plan = SecureRoundPlan.derive(pinned, 2, FIVE, 50);
      var lying = plan.toTask(pinned).toBuilder().setKeyRounds(pinnedRounds == 1 ? 4 : 2).build();

      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
          () -> plan.checkTask(pinned, lying));
      assertTrue(refused.getMessage().contains("key_rounds"), refused.getMessage());
    }
  }

  @Test
  void selfMask_defaultsToFalseWithInput_isWrittenInThePlanOnlyWhenFalse_andReachesTheRoundParameters() {
    JobSpec noSelfMask = JobSpecTest.base().unmaskingWithInput(true).build();
    JobSpec withSelfMask = JobSpecTest.base().unmaskingWithInput(true).selfMask(true).build();
    JobSpec afterInputs = JobSpecTest.base().build();

    assertFalse(noSelfMask.secureAggregation().selfMask(), "the default with with_input");
    assertTrue(afterInputs.secureAggregation().selfMask(), "the default with after_inputs");
    JobPlan plan = JobSpecWire.toProto(noSelfMask);
    assertTrue(plan.getSecureAggregation().hasSelfMask() && !plan.getSecureAggregation().getSelfMask());
    assertEquals(noSelfMask, JobSpecWire.fromProto(plan));
    for (JobSpec keeps : List.of(withSelfMask, afterInputs)) {
      JobPlan kept = JobSpecWire.toProto(keeps);
      assertFalse(kept.getSecureAggregation().hasSelfMask(), "self_mask true adds nothing to a plan's bytes");
      assertTrue(JobSpecWire.fromProto(kept).secureAggregation().selfMask(), "a plan without it has a self mask");
      assertTrue(SecureRoundPlan.derive(keeps, 2, FIVE, 50).parameters().selfMask());
    }
    assertFalse(SecureRoundPlan.derive(noSelfMask, 2, FIVE, 50).parameters().selfMask());
    assertFalse(SecureRoundPlan.derive(noSelfMask, 2, FIVE, 50).sumParameters(3).selfMask());
    assertEquals(noSelfMask, noSelfMask.toBuilder().build());
    assertEquals(withSelfMask, withSelfMask.toBuilder().build());
  }

  @Test
  void selfMaskFalse_isRefusedNamingTheKey_withoutWithInput_withSecureAggregationOff_orWrittenTrueInAPlan() {
    InvalidJobSpecException afterInputs = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecTest.base().selfMask(false).build());
    InvalidJobSpecException disabled = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecTest.base().secureAggregation(false).selfMask(false).build());
    JobPlan plan = JobSpecWire.toProto(JobSpecTest.base().build());
    JobPlan writtenTrue = plan.toBuilder().setSecureAggregation(plan.getSecureAggregation().toBuilder()
        .setSelfMask(true)).build();
    InvalidJobSpecException inPlan = assertThrows(InvalidJobSpecException.class,
        () -> JobSpecWire.fromProto(writtenTrue));

    assertEquals(SecureAggregationSpec.SELF_MASK_KEY, afterInputs.field());
    assertTrue(afterInputs.getMessage().contains("needs unmasking: with_input"), afterInputs.getMessage());
    assertEquals(SecureAggregationSpec.SELF_MASK_KEY, disabled.field());
    assertTrue(disabled.getMessage().contains("enabled: false"), disabled.getMessage());
    assertEquals(SecureAggregationSpec.SELF_MASK_KEY, inPlan.field());
  }

  /**
   * The plan digest every key advertisement is signed with (docs/SECURE_AGGREGATION.md, "The plan in the key
   * advertisement"): a bank that pinned the plan the coordinator offered (decoded from the wire) derives the
   * coordinator's digest, in every sum of the job (model update with evaluation slots, statistics); a plan differing
   * in any secure-aggregation field (unmasking mode, self_mask, key_rounds, threshold, consistency check, neighbour
   * degree, modulus bits) or in any other (learning rate, proximal term, local epochs, rounds, min_banks, privacy)
   * has another, so the keys its banks sign verify for no bank of the other plan.
   */
  @Test
  void planDigest_isTheSameForTheCoordinatorAndEveryBankOfThePlan_andDiffersForAnyOtherSetting() {
    JobSpec coordinators = JobSpecTest.base().unmaskingWithInput(true).build();
    JobSpec banks = JobSpecWire.fromProto(JobSpecWire.toProto(coordinators));
    String digest = SecureRoundPlan.planDigest(coordinators);

    assertTrue(digest.matches("[0-9a-f]{64}"), digest);
    assertEquals(digest, SecureRoundPlan.planDigest(banks));
    assertEquals(digest, SecureRoundPlan.derive(banks, 2, FIVE, 50).parameters().planDigest());
    assertEquals(digest, SecureRoundPlan.derive(banks, 2, FIVE, 50).sumParameters(3).planDigest());
    assertEquals(digest, SecureRoundPlan.sum(banks, 2, SecureSumPurpose.FEATURE_STATISTICS, FIVE, 8).planDigest());
    List<JobSpec> others = List.of(
        JobSpecTest.base().build(), // unmasking after the inputs
        JobSpecTest.base().unmaskingWithInput(true).selfMask(true).build(),
        JobSpecTest.base().unmaskingWithInput(true).keyRounds(3).build(),
        JobSpecTest.base().unmaskingWithInput(true).threshold(4).build(),
        JobSpecTest.base().unmaskingWithInput(true).modulusBits(24).build(),
        JobSpecTest.base().neighbourDegree(2).build(),
        JobSpecTest.base().consistencyCheck(false).build(),
        // the rest of the plan too: peers training with a learning rate of 1e-9 (or no noise) leave the victim's
        // update alone in a sum whose masks cancel
        JobSpecTest.base().unmaskingWithInput(true).learningRate(1e-9).build(),
        JobSpecTest.base().unmaskingWithInput(true).proximalMu(100).build(),
        JobSpecTest.base().unmaskingWithInput(true).localEpochs(7).build(),
        JobSpecTest.base().unmaskingWithInput(true).rounds(9).build(),
        JobSpecTest.base().unmaskingWithInput(true).minBanks(4).build(),
        JobSpecTest.base().unmaskingWithInput(true).delta(1e-9).build());
    java.util.Set<String> digests = new java.util.HashSet<>(List.of(digest));
    for (JobSpec other : others) {
      assertTrue(digests.add(SecureRoundPlan.planDigest(other)), "a digest of its own: " + other);
    }
  }

  @Test
  void taskSayingAnotherSelfMaskThanThePinnedPlan_isRefused_eitherWay() {
    for (boolean pinnedSelfMask : new boolean[] {false, true}) {
      JobSpec pinned = JobSpecTest.base().unmaskingWithInput(true).selfMask(pinnedSelfMask).build();
      SecureRoundPlan plan = SecureRoundPlan.derive(pinned, 2, FIVE, 50);
      var task = plan.toTask(pinned).toBuilder();
      var lying = (pinnedSelfMask ? task.setSelfMask(false) : task.clearSelfMask()).build();

      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
          () -> plan.checkTask(pinned, lying));
      assertTrue(refused.getMessage().contains(SecureAggregationSpec.SELF_MASK_KEY), refused.getMessage());
    }
  }

  @Test
  void taskSayingAnotherUnmaskingModeThanThePinnedPlan_isRefused_eitherWay() {
    for (boolean pinnedWithInput : new boolean[] {false, true}) {
      JobSpec pinned = JobSpecTest.base().unmaskingWithInput(pinnedWithInput).build();
      SecureRoundPlan plan = SecureRoundPlan.derive(pinned, 2, FIVE, 50);
      var lying = plan.toTask(pinned).toBuilder().setUnmaskingWithInput(!pinnedWithInput).build();

      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
          () -> plan.checkTask(pinned, lying));

      assertTrue(refused.getMessage().contains("unmasking " + (pinnedWithInput ? "after_inputs" : "with_input")
          + " differs from the accepted plan's " + (pinnedWithInput ? "with_input" : "after_inputs")),
          refused.getMessage());
    }
  }
}
