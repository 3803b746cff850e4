package io.consort.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.v1.ServerOptimizerState;
import io.consort.spec.StrategySpec;
import io.consort.spec.StrategySpec.Name;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The server rules against values worked out by hand from their papers' update equations (two
 * rounds on one coordinate: mean updates 2 and then 0.1, given as weighted sums over a total weight
 * of 2), and their stored state against an uninterrupted run.
 */
class ServerUpdateRuleTest {
  private static final double TOLERANCE = 1e-6;

  @Test
  void fedAvg_addsTheWeightedMeanUpdate() {
    assertArrayEquals(new float[] {3f, -1f}, ServerUpdateRule.of(StrategySpec.fedAvg())
        .apply(new float[] {1f, 1f}, new AggregatedUpdate(new double[] {4, -4}, 2, 2)));
  }

  @Test
  void fedAvgM_carriesMomentumIntoTheNextRound() {
    // u1 = 2, x1 = 0.5 * 2 = 1; u2 = 0.9 * 2 + 0.1 = 1.9, x2 = 1 + 0.5 * 1.9 = 1.95
    ServerUpdateRule rule = ServerUpdateRule.of(new StrategySpec(Name.FEDAVGM, 0.5, 0.9, 0, 0));
    assertEquals(1.95, twoRounds(rule), TOLERANCE);
  }

  @Test
  void fedAdam_matchesReddiEtAlAlgorithm2() {
    // m1 = 0.2, v1 = 0.99e-6 + 0.04; x1 = 0.1 * 0.2 / (sqrt(v1) + 1e-3) = 0.0995013
    // m2 = 0.19, v2 = 0.99 v1 + 0.01 * 0.01 = 0.03970098; x2 = x1 + 0.1 * 0.19 / (sqrt(v2) + 1e-3)
    assertEquals(0.19438216, twoRounds(adaptive(Name.FEDADAM)), TOLERANCE);
  }

  @Test
  void fedYogi_growsItsSecondMomentAdditivelyAndShrinksItOnlyBySmallSteps() {
    // v1 = 1e-6 + 0.01 * 4 (v0 < d^2); v2 = v1 - 0.01 * 0.01 (v1 > d^2): 0.039901, not Adam's 0.039701
    ServerUpdateRule yogi = adaptive(Name.FEDYOGI);
    assertEquals(0.19414522, twoRounds(yogi), TOLERANCE);
    assertEquals(0.039901, yogi.state().getSecondMoment(0), 1e-12);
  }

  @Test
  void fedAdagrad_accumulatesSquaredUpdates() {
    // v1 = 1e-6 + 4, v2 = v1 + 0.01; x2 = 0.1 * 0.2 / (sqrt(v1) + 1e-3) + 0.1 * 0.19 / (sqrt(v2) + 1e-3)
    ServerUpdateRule adagrad = adaptive(Name.FEDADAGRAD);
    assertEquals(0.01947841, twoRounds(adagrad), TOLERANCE);
    assertEquals(4.010001, adagrad.state().getSecondMoment(0), 1e-12);
  }

  @Test
  void fedAdam_stepsAboutTheServerLearningRateWhateverTheUpdateScale() {
    // with a steady update d, m -> d and v -> d^2, so each step tends to eta * d / (|d| + tau), about
    // eta for |d| well above tau: the adaptive rules are scale-free, so one server rate serves models
    // whose updates differ by orders of magnitude
    for (double scale : new double[] {0.1, 1, 1e3}) {
      ServerUpdateRule adam = adaptive(Name.FEDADAM);
      float[] x = {0f};
      float before = 0;
      for (int round = 0; round < 400; round++) {
        before = x[0];
        x = adam.apply(x, new AggregatedUpdate(new double[] {scale}, 1, 1));
      }
      assertEquals(0.1, x[0] - before, 0.01, "update scale " + scale);
    }
  }

  @ParameterizedTest
  @EnumSource(Name.class)
  void aRuleRestoredFromItsStoredState_continuesExactlyAsTheUninterruptedRun(Name name) throws Exception {
    StrategySpec strategy = StrategySpec.defaults(name);
    ServerUpdateRule uninterrupted = ServerUpdateRule.of(strategy);
    float[] expected = uninterrupted.apply(new float[] {1f, -2f}, update(0.3, -0.7));
    expected = uninterrupted.apply(expected, update(-0.1, 0.4));

    ServerUpdateRule first = ServerUpdateRule.of(strategy);
    float[] afterOne = first.apply(new float[] {1f, -2f}, update(0.3, -0.7));
    ServerOptimizerState stored = ServerOptimizerState.parseFrom(first.state().toByteArray());
    ServerUpdateRule resumed = ServerUpdateRule.of(strategy);
    resumed.restore(stored);
    assertArrayEquals(expected, resumed.apply(afterOne, update(-0.1, 0.4)));
    assertEquals(2, resumed.state().getSteps());
  }

  @Test
  void aStoredStateOfAnotherStrategy_isRefused() {
    ServerUpdateRule adam = adaptive(Name.FEDADAM);
    adam.apply(new float[] {0f}, update(1));
    ServerUpdateRule yogi = adaptive(Name.FEDYOGI);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> yogi.restore(adam.state()));
    assertTrue(e.getMessage().contains("'fedadam'"), e.getMessage());
  }

  @Test
  void aCorruptStoredState_isRefusedNamingWhatIsWrong() {
    ServerOptimizerState good = stateAfterOneRound(Name.FEDADAM);
    assertRefused(Name.FEDADAM, good.toBuilder().setMomentum(0, Double.NaN).build(), "non-finite");
    assertRefused(Name.FEDADAM, good.toBuilder().setSecondMoment(0, -1).build(), "negative");
    assertRefused(Name.FEDADAM, good.toBuilder().addMomentum(0).build(), "differ in length");
    assertRefused(Name.FEDAVGM, stateAfterOneRound(Name.FEDAVGM).toBuilder().addSecondMoment(1).build(),
        "no second moment");
  }

  @Test
  void aStateForAnotherModelSize_isRefusedAtTheNextRound() {
    ServerUpdateRule adam = adaptive(Name.FEDADAM);
    adam.restore(stateAfterOneRound(Name.FEDADAM));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> adam.apply(new float[] {0f, 0f}, update(1, 1)));
    assertTrue(e.getMessage().contains("server state has 1 values but the model has 2"), e.getMessage());
  }

  @Test
  void anAggregateOfAnotherSize_isRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> adaptive(Name.FEDADAM).apply(new float[] {0f, 0f}, update(1)));
  }

  private static ServerOptimizerState stateAfterOneRound(Name name) {
    ServerUpdateRule rule = ServerUpdateRule.of(StrategySpec.defaults(name));
    rule.apply(new float[] {0f}, update(1));
    return rule.state();
  }

  private static void assertRefused(Name name, ServerOptimizerState state, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ServerUpdateRule.of(StrategySpec.defaults(name)).restore(state));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  private static ServerUpdateRule adaptive(Name name) {
    return ServerUpdateRule.of(new StrategySpec(name, 0.1, 0.9, name == Name.FEDADAGRAD ? 0 : 0.99, 1e-3));
  }

  /** Mean updates 2 then 0.1 on a model at 0, as weighted sums over a total weight of 2. */
  private static double twoRounds(ServerUpdateRule rule) {
    float[] x = rule.apply(new float[] {0f}, new AggregatedUpdate(new double[] {4}, 2, 2));
    return rule.apply(x, new AggregatedUpdate(new double[] {0.2}, 2, 2))[0];
  }

  private static AggregatedUpdate update(double... mean) {
    return new AggregatedUpdate(mean, 1, 1);
  }
}
