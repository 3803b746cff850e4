package io.consort.privacy.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.privacy.PrivacyBudgetExceededException;
import io.consort.privacy.accounting.LocalTrainingPlan;
import io.consort.privacy.accounting.PrivacyEvent;
import io.consort.privacy.accounting.RdpAccountant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BudgetGuardTest {

  private static final double DELTA = 1e-5;
  private final LocalTrainingPlan round = new LocalTrainingPlan(24_000, 256, 1, 1.0);

  @Test
  void guard_acceptsRoundsUntilTheCap_thenDeclines() throws Exception {
    BudgetGuard guard = new BudgetGuard(new PrivacyBudget(2.2, DELTA));
    List<PrivacyEvent> history = new ArrayList<>();
    int accepted = 0;
    while (true) {
      BudgetDecision decision = guard.evaluate(history, round);
      if (!decision.accepted()) {
        assertTrue(decision.projectedEpsilon() > 2.2);
        assertTrue(decision.spentEpsilon() <= 2.2);
        break;
      }
      guard.require(history, round);
      history.add(round.event());
      accepted++;
    }
    // 10 one-epoch rounds cost about 2.18 (brief: ~2.2), the 11th passes the cap.
    assertEquals(10, accepted);
    PrivacyBudgetExceededException e =
        assertThrows(PrivacyBudgetExceededException.class, () -> guard.require(history, round));
    assertTrue(e.getMessage().contains("spent epsilon=2.18"), e.getMessage());
    assertTrue(e.getMessage().contains("cap epsilon=2.2000"), e.getMessage());
    assertTrue(e.getMessage().contains("projected epsilon="), e.getMessage());
    assertEquals(2.2, e.capEpsilon());
    assertTrue(e.projectedEpsilon() > e.capEpsilon());
  }

  @Test
  void guard_declinesAtTheCap_whenFirstRoundAloneIsTooExpensive() {
    BudgetGuard guard = new BudgetGuard(new PrivacyBudget(0.1, DELTA));
    BudgetDecision decision = guard.evaluate(List.of(), round);
    assertFalse(decision.accepted());
    assertEquals(0.0, decision.spentEpsilon());
  }

  @Test
  void jobPreview_equalsComposedRounds() {
    JobPrivacyPreview preview = JobPrivacyPreview.defaults();
    double job = preview.recordLevel(24_000, 256, 2, 5, 1.0, DELTA).epsilon();
    List<PrivacyEvent> rounds = new ArrayList<>();
    for (int r = 0; r < 5; r++) {
      rounds.add(new LocalTrainingPlan(24_000, 256, 2, 1.0).event());
    }
    assertEquals(RdpAccountant.defaults().epsilon(rounds, DELTA), job, 1e-9);
    assertEquals(2.18, job, 0.03);
    assertEquals(19.05, preview.bankLevel(10, 1.0, DELTA).epsilon(), 0.1);
  }
}
