package io.consort.cli.bench;

import io.consort.protocol.v1.Stage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Divides one round's wall time among what filled it, from the banks' task intervals and the
 * coordinator's busy intervals, so that the parts add up to the round exactly.
 *
 * <p>The coordinator runs a round as a sequence of stages (train, the secure-aggregation stages,
 * the ledger's countersignatures, evaluation and its secure sum) and opens the next stage only when
 * the last one is closed, so the banks' tasks fall into consecutive <em>windows</em> of one stage
 * each: from the first bank starting that stage's task to the last finishing it (or to the next
 * window's start, whichever is first). Between two windows is a <em>gap</em>: the results travelling
 * to the coordinator, the coordinator's work on them, the next tasks travelling to the banks and the
 * long polls picking them up. A window counts as its stage's work: training (a training task's
 * window, except where some bank was doing its budget checks and journal entry, which are DP,
 * clipping, quantising and masking its update, which is secure aggregation, or evaluating the model
 * the round started from for the round's secure sum, which is evaluation), secure aggregation, ledger
 * (except where some bank was computing the next round's secure-aggregation shares the ledger task
 * carries, which is secure aggregation) or evaluation. A gap's waiting (the part in which the
 * coordinator's workers were idle) is charged to the window before it: network and waiting, or
 * secure aggregation's extra round trips after a secure-aggregation stage. The coordinator's busy time
 * in a gap is charged {@linkplain Attribution#BY_PURPOSE by the purpose} its worker jobs were submitted
 * with: secure aggregation where a job (or part of one) was secure aggregation's, coordinator work
 * elsewhere, whichever stage it follows. DP-SGD's share of training is not visible from outside the
 * trainer; it is {@code dpFraction} of the training time, measured by the caller on the same rows with
 * and without DP-SGD.
 */
final class RoundTimeline {
  private RoundTimeline() {}

  /**
   * How the coordinator's busy time in a gap, and a bank's share work in a ledger task, are charged:
   * {@code BY_PURPOSE} as described above; {@code BY_STAGE} is the attribution before 2026-12-03, kept to
   * compare the two on the same run: all of a gap's busy time to secure aggregation after a
   * secure-aggregation stage and to the coordinator after any other, a ledger window all to the ledger.
   */
  enum Attribution { BY_PURPOSE, BY_STAGE }

  /** What a part of a round was spent on. */
  enum Part {
    TRAINING, DP, SECURE_AGGREGATION, PRIVACY_ROUND_TRIPS, EVALUATION, LEDGER, COORDINATOR, NETWORK, OTHER;

    String field() {
      return name().toLowerCase(java.util.Locale.ROOT) + "_seconds";
    }
  }

  /**
   * One task as a bank handled it: nanosecond times on one clock, the spans within it in which it
   * trained, did privacy accounting and masked its update (empty for a task that does none of them)
   * and the bytes of the task and its result.
   */
  record BankTask(String bank, int round, Stage stage, long start, long end, List<Interval> training,
                  List<Interval> accounting, List<Interval> masking, List<Interval> evaluating, long bytes) {
    BankTask {
      training = List.copyOf(training);
      accounting = List.copyOf(accounting);
      masking = List.copyOf(masking);
      evaluating = List.copyOf(evaluating);
    }

    /** A task in which the bank evaluated nothing. */
    BankTask(String bank, int round, Stage stage, long start, long end, List<Interval> training,
             List<Interval> accounting, List<Interval> masking, long bytes) {
      this(bank, round, stage, start, end, training, accounting, masking, List.of(), bytes);
    }
  }

  /** A span of time on the same clock. */
  record Interval(long start, long end) {}

  /**
   * One stage's window of bank work, the gap after it, the coordinator's busy time in that gap and the
   * part of it that was secure aggregation's, in nanoseconds; {@code slowest} is the longest single bank
   * task of the window.
   */
  record Window(Stage stage, long nanos, long slowest, long gapNanos, long coordinatorNanos,
                long coordinatorSecureAggregationNanos) {}

  /** The parts (they add up to the round) and the windows in order. */
  record Split(Map<Part, Long> parts, List<Window> windows) {}

  /** Whether a task of {@code stage} is a step of secure aggregation. */
  static boolean secureAggregationStage(Stage stage) {
    return switch (stage) {
      case ADVERTISE_KEYS, SHARE_KEYS, MASKED_INPUT, CONSISTENCY_CHECK, UNMASKING -> true;
      default -> false;
    };
  }

  /**
   * The nanoseconds of each part of the round {@code [roundStart, roundEnd)}; they add up to
   * {@code roundEnd - roundStart}.
   *
   * @param tasks every bank task of the run; those starting inside the round are used
   * @param coordinatorBusy the intervals in which the coordinator's workers ran
   * @param coordinatorSecureAggregation the intervals in which they ran secure aggregation's work
   * @param dpFraction the share of training time that is DP-SGD's own, in [0, 1]
   */
  static Split split(long roundStart, long roundEnd, List<BankTask> tasks, List<Interval> coordinatorBusy,
                     List<Interval> coordinatorSecureAggregation, double dpFraction, Attribution attribution) {
    if (roundEnd < roundStart) {
      throw new IllegalArgumentException("round ends (" + roundEnd + ") before it starts (" + roundStart + ")");
    }
    if (!(dpFraction >= 0 && dpFraction <= 1)) {
      throw new IllegalArgumentException("dpFraction must be in [0, 1], got " + dpFraction);
    }
    List<BankTask> inRound = tasks.stream().filter(t -> t.start() >= roundStart && t.start() < roundEnd)
        .sorted(Comparator.comparingLong(BankTask::start)).toList();
    List<List<BankTask>> windows = new ArrayList<>();
    for (BankTask t : inRound) {
      if (windows.isEmpty() || windows.get(windows.size() - 1).get(0).stage() != t.stage()) {
        windows.add(new ArrayList<>());
      }
      windows.get(windows.size() - 1).add(t);
    }
    Map<Part, Long> parts = new EnumMap<>(Part.class);
    for (Part p : Part.values()) {
      parts.put(p, 0L);
    }
    long firstStart = windows.isEmpty() ? roundEnd : windows.get(0).get(0).start();
    Gaps gaps = new Gaps(coordinatorBusy, coordinatorSecureAggregation, attribution);
    gaps.charge(parts, roundStart, firstStart, false);
    List<Window> described = new ArrayList<>();
    for (int w = 0; w < windows.size(); w++) {
      List<BankTask> window = windows.get(w);
      long start = window.get(0).start();
      long next = w + 1 < windows.size() ? windows.get(w + 1).get(0).start() : roundEnd;
      long end = Math.min(next, window.stream().mapToLong(BankTask::end).max().orElseThrow());
      Stage stage = window.get(0).stage();
      long length = end - start;
      if (stage == Stage.TRAIN) {
        // training first, then accounting, then masking, then the evaluation the round's sum carries: each
        // counts only where the earlier ones do not
        long trained = covered(spans(window, BankTask::training), start, end);
        long accounted = covered(spans(window, BankTask::training, BankTask::accounting), start, end) - trained;
        long masked = covered(spans(window, BankTask::training, BankTask::accounting, BankTask::masking), start, end)
            - trained - accounted;
        long evaluated = covered(spans(window, BankTask::training, BankTask::accounting, BankTask::masking,
            BankTask::evaluating), start, end) - trained - accounted - masked;
        long dpSgd = Math.round(trained * dpFraction);
        add(parts, Part.TRAINING, length - dpSgd - accounted - masked - evaluated);
        add(parts, Part.DP, dpSgd + accounted);
        add(parts, Part.SECURE_AGGREGATION, masked);
        add(parts, Part.EVALUATION, evaluated);
      } else if (attribution == Attribution.BY_PURPOSE && !secureAggregationStage(stage)) {
        // a ledger task's next-round shares, an evaluation task's masking under secure aggregation
        long masked = covered(spans(window, BankTask::masking), start, end);
        add(parts, Part.SECURE_AGGREGATION, masked);
        add(parts, windowPart(stage), length - masked);
      } else {
        add(parts, windowPart(stage), length);
      }
      gaps.charge(parts, end, next, secureAggregationStage(stage));
      long slowest = window.stream().mapToLong(t -> t.end() - t.start()).max().orElseThrow();
      described.add(new Window(stage, length, slowest, Math.max(0, next - end), gaps.busy(end, next),
          gaps.secureAggregation(end, next)));
    }
    return new Split(parts, described);
  }

  @SafeVarargs
  private static List<Interval> spans(List<BankTask> window, java.util.function.Function<BankTask, List<Interval>>... kinds) {
    return window.stream().flatMap(t -> Stream.of(kinds).flatMap(k -> k.apply(t).stream())).toList();
  }

  private static Part windowPart(Stage stage) {
    if (secureAggregationStage(stage)) {
      return Part.SECURE_AGGREGATION;
    }
    return switch (stage) {
      case EVALUATE -> Part.EVALUATION;
      case LEDGER_COUNTERSIGN -> Part.LEDGER;
      default -> Part.OTHER;
    };
  }

  /** The coordinator's time in the gaps between windows, and how it is charged. */
  private record Gaps(List<Interval> busy, List<Interval> secureAggregationBusy, Attribution attribution) {
    Gaps {
      // a secure-aggregation span is worker time even if the pool's clock missed it
      busy = Stream.concat(busy.stream(), secureAggregationBusy.stream()).toList();
    }

    long busy(long start, long end) {
      return end > start ? covered(busy, start, end) : 0;
    }

    long secureAggregation(long start, long end) {
      return end > start ? covered(secureAggregationBusy, start, end) : 0;
    }

    void charge(Map<Part, Long> parts, long start, long end, boolean afterSecureAggregation) {
      if (end <= start) {
        return;
      }
      long busy = busy(start, end);
      long secureAggregation = switch (attribution) {
        case BY_PURPOSE -> secureAggregation(start, end);
        case BY_STAGE -> afterSecureAggregation ? busy : 0;
      };
      add(parts, Part.SECURE_AGGREGATION, secureAggregation);
      add(parts, Part.COORDINATOR, busy - secureAggregation);
      add(parts, afterSecureAggregation ? Part.PRIVACY_ROUND_TRIPS : Part.NETWORK, end - start - busy);
    }
  }

  private static void add(Map<Part, Long> parts, Part part, long nanos) {
    parts.merge(part, nanos, Long::sum);
  }

  /** How much of {@code [from, to)} the union of {@code intervals} covers. */
  static long covered(List<Interval> intervals, long from, long to) {
    List<Interval> clipped = intervals.stream()
        .map(i -> new Interval(Math.max(from, i.start()), Math.min(to, i.end())))
        .filter(i -> i.end() > i.start())
        .sorted(Comparator.comparingLong(Interval::start)).toList();
    long total = 0;
    long reach = from;
    for (Interval i : clipped) {
      long s = Math.max(reach, i.start());
      if (i.end() > s) {
        total += i.end() - s;
        reach = i.end();
      }
    }
    return total;
  }
}
