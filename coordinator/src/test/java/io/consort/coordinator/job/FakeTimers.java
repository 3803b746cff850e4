package io.consort.coordinator.job;

import java.util.Map;
import java.util.TreeMap;

/** A clock that moves only when the test says so; timers fire in order of their due time. */
final class FakeTimers implements Timers {
  private long now;
  private long nextId;
  private final Map<Long, Long> dueAt = new java.util.HashMap<>();
  private final Map<Long, Runnable> actions = new TreeMap<>();

  @Override
  public long schedule(long delayMillis, Runnable action) {
    long id = nextId++;
    dueAt.put(id, now + Math.max(1, delayMillis));
    actions.put(id, action);
    return id;
  }

  @Override
  public void cancel(long timerId) {
    dueAt.remove(timerId);
    actions.remove(timerId);
  }

  /** Moves the clock forward, firing every timer that falls due. */
  void advance(long millis) {
    long until = now + millis;
    while (true) {
      Long next = dueAt.entrySet().stream().filter(e -> e.getValue() <= until)
          .min(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
      if (next == null) {
        break;
      }
      now = dueAt.remove(next);
      actions.remove(next).run();
    }
    now = until;
  }

  int pending() {
    return actions.size();
  }
}
