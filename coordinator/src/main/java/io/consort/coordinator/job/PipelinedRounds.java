package io.consort.coordinator.job;

import io.consort.identity.IdentityVerifier;
import io.consort.protocol.v1.SecAggStep;
import io.consort.spec.RoundEvaluation;
import io.consort.spec.SecureRoundPlan;
import io.vertx.core.Future;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pipelined rounds (protocol version 3, docs/PROTOCOL.md): round r+1's secure sum is keyed during round
 * r. The banks answer round r's unmasking request with their fresh, signed keys for round r+1; the
 * coordinator relays round r+1's key roster with round r's ledger task and the banks' shares come back
 * with their countersignatures; round r+1's training task then carries the forwarded shares and each
 * bank answers it with its masked input. A round takes train, consistency check, unmasking and ledger
 * (4 stages) instead of 6.
 *
 * <p>Only a round in which nobody dropped or declined is followed by a pipelined one, and only for the
 * same roster: anything else (a bank missing at any pipelined step, a roster that changed, a coordinator
 * restart, which loses this state) falls back to the full round, whose training task carries no shares,
 * and the banks discard the keys they made ahead. The banks check everything themselves (the roster
 * against the plan they pinned, every peer key signature bound to the round): nothing here is trusted by
 * them. State on the event loop; the sum's CPU work on the job's worker.
 */
final class PipelinedRounds {
  private static final Logger log = LoggerFactory.getLogger(PipelinedRounds.class);

  private final JobContext job;
  private final IdentityVerifier verifier;
  /**
   * Keys for a period of rounds ({@code secure_aggregation.key_rounds} > 1): the banks' period advertisements this
   * job verified, so each unchanged one is verified once a period, not once a round.
   */
  private final io.consort.secagg.PeriodAdvertisements advertisements = new io.consort.secagg.PeriodAdvertisements();
  private Pending pending;

  /**
   * The next round's sum, keyed ahead: its roster, the row total its masks are bound to (0: none), and each bank's
   * next message (roster, then shares).
   */
  record Pending(int round, List<String> roster, long rowTotal, SecureSum sum, Map<String, SecAggStep> outgoing,
                 boolean shared) {}

  /**
   * What the ledger task of a round carries for the next round keyed ahead: a bank's key roster and the next round's
   * row total, which the banks bind into the masks they expand when they share (protocol version 9).
   */
  record NextRound(SecAggStep roster, long rowTotal) {}

  PipelinedRounds(JobContext job, IdentityVerifier verifier) {
    this.job = job;
    this.verifier = verifier;
  }

  /** The roster round {@code round}'s unmasking request names for the next round: none after the last. */
  List<String> nextRoster(int round, List<String> members) {
    return round >= 1 && round < job.spec().training().rounds() ? members : List.of();
  }

  /**
   * After round {@code round}'s sum completed with {@code keys} (each bank's signed keys for the next
   * round): opens the next round's sum and takes the key advertisements. The next round has the same roster, so the
   * same row total {@code rowTotal}, which the ledger task sends. Never fails: a problem means the next round runs
   * unpipelined.
   */
  Future<Void> keysAdvertised(int round, List<String> members, int dimension, long rowTotal,
                              Map<String, SecAggStep> keys) {
    pending = null;
    if (keys.isEmpty()) {
      return Future.succeededFuture();
    }
    if (!keys.keySet().equals(new HashSet<>(members))) {
      log.info("round {}: round {} is not pipelined: keys came from {} of {} banks", round, round + 1, keys.size(),
          members.size());
      return Future.succeededFuture();
    }
    int next = round + 1;
    // the roster's certificates come from the registry, on the event loop; the plan, the sum and its
    // first step are one worker job
    Map<String, X509Certificate> certificates = SecureSum.certificates(job, members);
    return job.workers().run(WorkerPurpose.SECURE_AGGREGATION, () -> {
          SecureRoundPlan plan = SecureRoundPlan.derive(job.spec(), next, members, dimension);
          io.consort.secagg.KeyPeriod period = SecureRoundPlan.keyPeriod(job.spec(), next);
          SecureSum sum = SecureSum.open(job, verifier, next, RoundEvaluation.carried(job.spec(), next)
              ? "updates and evaluations" : "updates", plan.sumParameters(RoundEvaluation.carriedSlots(job.spec(), next)),
              certificates, period == null ? null : new SecureSum.KeyedFor(period, advertisements));
          return new Pending(next, List.copyOf(members), rowTotal, sum, sum.step(keys, "unmasking", true), false);
        })
        .map(keyed -> {
          pending = keyed;
          return (Void) null;
        })
        .otherwise(e -> fallBack(next, "its keys were refused: " + e.getMessage()));
  }

  /** The next round's key roster for {@code bank} and its row total, to go with round {@code round}'s ledger task. */
  Optional<NextRound> rosterFor(int round, String bank) {
    Pending p = pending;
    return p != null && p.round() == round + 1 && !p.shared()
        ? Optional.ofNullable(p.outgoing().get(bank)).map(roster -> new NextRound(roster, p.rowTotal()))
        : Optional.empty();
  }

  /** The banks' shares for the next round, from their answers to round {@code round}'s ledger task. */
  Future<Void> sharesReceived(int round, Map<String, SecAggStep> shares) {
    return sharesStep(round, shares).map(step -> job.workers().run(WorkerPurpose.SECURE_AGGREGATION, () -> {
          step.run();
          return null;
        }).map(v -> {
          step.done();
          return (Void) null;
        }))
        .orElse(Future.succeededFuture());
  }

  /**
   * {@link #sharesReceived} in two parts, so that a caller can run the step in a worker job of its own
   * (the ledger commit's): empty when no sum keyed ahead waits for shares after round {@code round}.
   * Event loop.
   */
  Optional<SharesStep> sharesStep(int round, Map<String, SecAggStep> shares) {
    Pending p = pending;
    if (p == null || p.round() != round + 1 || p.shared()) {
      return Optional.empty();
    }
    return Optional.of(new SharesStep(p, shares));
  }

  /** Feeds the next round's shares to the sum keyed ahead: {@link #run} on the worker, then {@link #done} on the loop. */
  final class SharesStep {
    private final Pending keyed;
    private final Map<String, SecAggStep> shares;
    private Pending shared;
    private RuntimeException failure;

    private SharesStep(Pending keyed, Map<String, SecAggStep> shares) {
      this.keyed = keyed;
      this.shares = Map.copyOf(shares);
    }

    /** Worker thread. Never throws: a failure means the next round runs unpipelined. */
    void run() {
      try {
        shared = new Pending(keyed.round(), keyed.roster(), keyed.rowTotal(), keyed.sum(),
            keyed.sum().step(shares, "ledger-countersign", false), true);
      } catch (RuntimeException e) {
        failure = e;
      }
    }

    /** Event loop, after {@link #run}: the next round's sum is ready to finish, or forgotten. */
    void done() {
      if (failure != null) {
        fallBack(keyed.round(), "its shares failed: " + failure.getMessage());
      } else {
        pending = shared;
      }
    }
  }

  /**
   * The sum keyed ahead for round {@code round}, if exactly {@code members} keyed and shared for it, under the row
   * total {@code rowTotal} the round sends; otherwise empty (the keys are forgotten and the round runs in full).
   * Either way nothing stays pending.
   */
  Optional<Pending> take(int round, List<String> members, long rowTotal) {
    Pending p = pending;
    pending = null;
    if (p == null) {
      return Optional.empty();
    }
    if (p.round() == round && p.shared() && p.roster().equals(members) && p.rowTotal() == rowTotal
        && p.outgoing().keySet().equals(new HashSet<>(members))) {
      return Optional.of(p);
    }
    log.info("round {} is not pipelined: the sum keyed ahead was for round {} with {} of its {} banks sharing",
        round, p.round(), p.shared() ? p.outgoing().size() : 0, p.roster().size());
    return Optional.empty();
  }

  private Void fallBack(int round, String why) {
    log.warn("round {} is not pipelined: {}", round, why);
    pending = null;
    return null;
  }
}
