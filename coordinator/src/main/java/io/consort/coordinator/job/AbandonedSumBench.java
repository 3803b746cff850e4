package io.consort.coordinator.job;

import io.consort.spec.JobSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which accepted banks a job's next round leaves out after sums they made impossible to unmask
 * (docs/SECURE_AGGREGATION.md, "No self mask under with_input", "What it costs"). In a job pinned
 * {@code unmasking: with_input} a member of the sum that sends no masked input (or, without self masks, no share-keys
 * answer) aborts the whole sum; a bank that keeps doing so would abort every round, and every honest bank would pay
 * each abandoned attempt's privacy spend. So after an aborted round of such a job, each bank it names as dropped is
 * left out of the following rounds: 1 round after the first such round in a row, then 2, 4, ... (doubling, so a bank
 * silent for good aborts about log2(rounds) rounds of the job, not all of them), and comes back by itself after that;
 * being in a round that completes clears its count. A bank is never left out if that would leave fewer than the
 * job's {@code min_banks} (at least 2): that round runs with every accepted bank. The state lives in memory: a
 * restarted coordinator starts with no bank left out. Event loop only.
 */
final class AbandonedSumBench {
  private static final Logger log = LoggerFactory.getLogger(AbandonedSumBench.class);

  private final JobSpec spec;
  /** Per bank, how many aborted rounds in a row named it dropped. */
  private final Map<String, Integer> strikes = new HashMap<>();
  /** Per bank, the last round it is left out of. */
  private final Map<String, Integer> outThrough = new HashMap<>();

  AbandonedSumBench(JobSpec spec) {
    this.spec = spec;
  }

  /**
   * Round {@code round}'s members: {@code accepted} in order, without the banks left out of it, unless that leaves
   * fewer than the job's minimum.
   */
  List<String> members(int round, List<String> accepted) {
    List<String> members = new ArrayList<>(accepted);
    List<String> out = new ArrayList<>();
    members.removeIf(m -> outThrough.getOrDefault(m, 0) >= round && out.add(m));
    if (out.isEmpty()) {
      return List.copyOf(accepted);
    }
    int required = Math.max(2, spec.training().minBanks());
    if (members.size() < required) {
      log.warn("job '{}' round {}: {} would be left out after abandoned sums, but that leaves {} of the {} banks the "
          + "job needs; the round runs with all {}", spec.id(), round, out, members.size(), required, accepted.size());
      return List.copyOf(accepted);
    }
    log.warn("job '{}' round {}: {} left out (each made an earlier sum impossible to unmask by sending no answer)",
        spec.id(), round, out);
    return List.copyOf(members);
  }

  /** Takes a recorded round into account (register with {@link RoundRunner#observe}). */
  void recorded(RoundRecord record) {
    if (record.completed()) {
      record.participants().forEach(strikes::remove);
      return;
    }
    if (!spec.secureAggregation().enabled() || !spec.secureAggregation().unmaskingWithInput()) {
      return; // after the inputs a dropped bank's masks are recovered: it aborts nothing
    }
    Set<String> dropped = new LinkedHashSet<>();
    record.dropouts().forEach(d -> dropped.add(d.bank()));
    for (String bank : dropped) {
      int count = strikes.merge(bank, 1, Integer::sum);
      int rounds = 1 << Math.min(count - 1, 30);
      int through = (int) Math.min((long) record.round() + rounds, Integer.MAX_VALUE);
      outThrough.put(bank, through);
      log.warn("job '{}': round {} was abandoned without an answer from bank '{}' ({} in a row); it is left out of "
          + "rounds {} to {} and takes part again after that", spec.id(), record.round(), bank, count, record.round() + 1,
          through);
    }
  }
}
