package io.consort.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.consort.protocol.v1.EnrolRequest;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;

/**
 * Fuzz target: any bytes as the messages the coordinator reads from a bank ({@code TaskResult},
 * {@code EnrolRequest}) and a bank reads from the coordinator ({@code Task}), through the checks
 * every receiver applies (size, parse, {@link WireText}). The only refusal allowed is a
 * {@link ProtocolViolationException}. Long run: docs/FUZZING.md.
 */
class WireMessageFuzzTest {
  private static final int MAX_BYTES = 1 << 20;

  @FuzzTest(maxDuration = "20s")
  void receivedMessages_areParsedOrRefusedByName(byte[] bytes) {
    for (Runnable check : new Runnable[] {
        () -> WireText.check(WireLimits.decode(TaskResult.parser(), bytes, MAX_BYTES, "result"), "result"),
        () -> WireText.check(WireLimits.decode(Task.parser(), bytes, MAX_BYTES, "task"), "task"),
        () -> WireText.check(WireLimits.decode(EnrolRequest.parser(), bytes, MAX_BYTES, "enrolment"), "enrolment")}) {
      try {
        check.run();
      } catch (ProtocolViolationException expected) {
        // refused by name: fine
      }
    }
  }
}
