package io.consort.coordinator.job;

import io.consort.protocol.v1.Header;
import io.consort.protocol.v1.TaskResult;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What one stage collected: the banks asked, in order, the answer of each that answered before the
 * stage closed, and those whose connection closed before they answered.
 */
public record StageAnswers(Header header, List<String> asked, Map<String, TaskResult> answers,
                           Set<String> disconnected) {
  public StageAnswers {
    asked = List.copyOf(asked);
    // copies that keep arrival order: what a stage collected is reported in the order it came
    answers = Collections.unmodifiableMap(new LinkedHashMap<>(answers));
    disconnected = Collections.unmodifiableSet(new LinkedHashSet<>(disconnected));
  }

  public Optional<TaskResult> answer(String bank) {
    return Optional.ofNullable(answers.get(bank));
  }

  /** Why {@code bank} gave no usable answer of the expected kind: missing, or what it sent instead. */
  public String problemOf(String bank) {
    TaskResult r = answers.get(bank);
    if (r == null) {
      return disconnected.contains(bank) ? "disconnected before answering" : "no answer before the deadline";
    }
    return describe(r);
  }

  /** A result that is not the expected kind, described for logs and round records. */
  public static String describe(TaskResult r) {
    if (r.hasError()) {
      return r.getError().getCode() + ": " + r.getError().getMessage();
    }
    if (r.hasDeclined()) {
      return "declined: " + r.getDeclined().getReason();
    }
    return "unexpected " + r.getKindCase() + " result";
  }
}
