package io.consort.protocol;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.v1.CategoricalColumnStats;
import io.consort.protocol.v1.CategoryCount;
import io.consort.protocol.v1.FeatureStats;
import io.consort.protocol.v1.JobDecision;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.TaskResult;
import org.junit.jupiter.api.Test;

class WireTextTest {
  @Test
  void everyStringOfAMessage_isBoundedAndFreeOfControlCharacters_howeverDeepItSits() {
    TaskResult deep = TaskResult.newBuilder().setHeader(Headers.of("job-1", 0, Stage.FEATURE_STATS))
        .setFeatureStats(FeatureStats.newBuilder().addCategorical(CategoricalColumnStats.newBuilder().setName("purpose")
            .addCounts(CategoryCount.newBuilder().setValue("car\u2028INFO forged").setCount(3)))).build();
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class, () -> WireText.check(deep, "result"));
    assertTrue(e.getMessage().startsWith("result feature_stats.categorical[0].counts[0].value holds the character U+2028"),
        e.getMessage());
    assertFalse(e.getMessage().contains("forged"), "the refusal echoes the value: " + e.getMessage());
  }

  @Test
  void identifiers_textAndNames_haveTheirOwnBounds() {
    assertThrows(ProtocolViolationException.class, () -> WireText.check(
        TaskResult.newBuilder().setHeader(Headers.of("job 1", 0, Stage.TRAIN)).build(), "result"));
    assertThrows(ProtocolViolationException.class, () -> WireText.check(TaskResult.newBuilder()
        .setDecision(JobDecision.newBuilder().setReason("r".repeat(WireText.MAX_TEXT_CHARS + 1))).build(), "result"));
    assertDoesNotThrow(() -> WireText.check(TaskResult.newBuilder().setHeader(Headers.of("job-1", 0, Stage.TRAIN))
        .setDecision(JobDecision.newBuilder().setReason("déclinée: le plafond ε est atteint")).build(), "result"));
  }

  @Test
  void quote_bounds_andEscapes_untrustedText() {
    String quoted = WireText.quote("a\nb" + "c".repeat(500));
    assertTrue(quoted.startsWith("'a\\u000ab") && quoted.endsWith("(503 characters)"), quoted);
  }
}
