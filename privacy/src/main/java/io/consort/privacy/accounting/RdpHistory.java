package io.consort.privacy.accounting;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A sequence of {@link PrivacyEvent}s whose composed RDP curve is kept up to date as events are added
 * or revised, so that a budget check costs one curve evaluation per new event instead of a replay of
 * the whole history. The total is bit for bit {@link RdpAccountant#rdp(List)} of {@link #events()}:
 * curves are added in the same order, and the running sum after every event is kept, so revising
 * event i (a round whose survivors became known) re-adds only events i..n.
 *
 * <p>Memory: one curve (the accountant's order count, 156 doubles by default) per event. Not
 * thread-safe.
 */
public final class RdpHistory {

  private final RdpAccountant accountant;
  private final List<PrivacyEvent> events = new ArrayList<>();
  /** prefix.get(i): the composed curve of events 0..i; valid below {@link #valid}. */
  private final List<double[]> prefix = new ArrayList<>();
  private int valid;

  public RdpHistory(RdpAccountant accountant) {
    this.accountant = Objects.requireNonNull(accountant, "accountant");
  }

  public RdpAccountant accountant() {
    return accountant;
  }

  /** Adds an event at the end; returns its index. */
  public int add(PrivacyEvent event) {
    events.add(Objects.requireNonNull(event, "event"));
    prefix.add(null);
    return events.size() - 1;
  }

  /** Replaces the event at {@code index}: the running sums from there on are recomputed when next needed. */
  public void set(int index, PrivacyEvent event) {
    Objects.checkIndex(index, events.size());
    if (!events.get(index).equals(Objects.requireNonNull(event, "event"))) {
      events.set(index, event);
      valid = Math.min(valid, index);
    }
  }

  public int size() {
    return events.size();
  }

  /** The events, oldest first (a copy). */
  public List<PrivacyEvent> events() {
    return List.copyOf(events);
  }

  /** The composed RDP curve of every event, one value per order (a fresh array the caller may change). */
  public double[] rdp() {
    int orders = accountant.orders().size();
    for (int i = valid; i < events.size(); i++) {
      double[] total = i == 0 ? new double[orders] : prefix.get(i - 1).clone();
      double[] curve = accountant.rdp(events.get(i));
      for (int k = 0; k < orders; k++) {
        total[k] += curve[k];
      }
      prefix.set(i, total);
    }
    valid = events.size();
    return valid == 0 ? new double[orders] : prefix.get(valid - 1).clone();
  }
}
