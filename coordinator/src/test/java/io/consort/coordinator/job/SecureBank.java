package io.consort.coordinator.job;

import com.google.protobuf.ByteString;
import io.consort.identity.CertificateValidator;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.Role;
import io.consort.protocol.v1.DpReport;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
import io.consort.model.data.Table;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.features.RefinedFeatureStats;
import io.consort.model.wire.ModelWire;
import io.consort.model.sums.FeatureStatsVector;
import io.consort.protocol.v1.FeatureStats;
import io.consort.secagg.Quantizer;
import io.consort.secagg.RoundParameters;
import io.consort.spec.RoundEvaluation;
import io.consort.spec.SecureSumPurpose;
import io.consort.secagg.SecAggClient;
import io.consort.secagg.wire.SecAggCodec;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.SecureRoundPlan;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * A bank that answers secure-aggregation tasks with the real client state machine (no network, no
 * training): its update is a fixed vector, weighted and quantised as a bank does. It can be told
 * to fall silent from a stage on, as a bank that crashed there.
 */
final class SecureBank implements Function<Task, Optional<TaskResult.Builder>> {
  private final String id;
  private final IdentitySigner signer;
  private final IdentityVerifier verifier;
  private final float[] update;
  private final Stage silentFrom;
  private final DpReport dp;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, X509Certificate> peers = new HashMap<>();
  /** The job plan of the last training task. */
  private io.consort.protocol.v1.JobPlan plan;
  private SecAggClient client;
  /** Pipelined rounds: the next round's client, keyed ahead at the unmasking stage, and its round. */
  private SecAggClient ahead;
  private int aheadRound;
  /** Keys for a period of rounds ({@code key_rounds} > 1): the current period's, or null. */
  private io.consort.secagg.PeriodKeys periodKeys;
  /** Pipelined rounds: the masking public key the bank advertised for each job round it keyed ahead. */
  final Map<Integer, byte[]> advertisedMaskingKeys = new HashMap<>();
  /** Whether the bank answers a next round's roster with keys (pipelined rounds) or ignores it. */
  boolean pipelines = true;
  /** Job rounds in which the bank answers nothing (as a bank that was down then). */
  final Set<Integer> silentRounds = new java.util.HashSet<>();
  /** What the bank answers a feature-statistics task with, in the clear and inside the secure sum. */
  private FeatureStats statistics;
  private LocalFeatureStats statisticsSummed;
  /** The bank's training rows, for the second statistics stage of a job with preprocessing. */
  private Table rows;
  /** The bank's own training rows, from which and the task's row total it derives its FedAvg weight (version 9). */
  private long trainRows;
  /** Every vector this bank put into a secure sum, first stage first. */
  final List<int[]> summedVectors = new ArrayList<>();

  /** Makes the bank answer feature-statistics tasks: {@code clear} in the clear, {@code summed} in the sum. */
  SecureBank withStatistics(FeatureStats clear, LocalFeatureStats summed) {
    this.statistics = clear;
    this.statisticsSummed = summed;
    return this;
  }

  /**
   * Makes the bank answer both statistics stages from its training {@code rows}: {@code clear} in the
   * clear, the first stage's vector and then the second's (against the preliminary encoding the task
   * carries) inside the secure sums.
   */
  SecureBank withRows(FeatureStats clear, Table trainingRows) {
    this.rows = trainingRows;
    return withStatistics(clear, LocalFeatureStats.compute(trainingRows));
  }

  /** Makes the bank weight its updates by {@code rows} over the training task's row total, as a bank does. */
  SecureBank withTrainRows(long rows) {
    this.trainRows = rows;
    return this;
  }

  SecureBank(String id, IdentitySigner signer, CertificateValidator validator, float[] update, Stage silentFrom,
             DpReport dp) {
    this.id = id;
    this.signer = signer;
    this.verifier = new IdentityVerifier(validator);
    this.update = update;
    this.silentFrom = silentFrom;
    this.dp = dp;
  }

  @Override
  public Optional<TaskResult.Builder> apply(Task task) {
    if (silentFrom != null && task.getHeader().getStage().getNumber() >= silentFrom.getNumber()
        && task.getHeader().getStage() != Stage.LEDGER_COUNTERSIGN && task.getHeader().getStage() != Stage.EVALUATE
        || silentRounds.contains(task.getHeader().getRound())) {
      return Optional.empty();
    }
    try {
      if (task.hasFeatureStats()) {
        return Optional.of(statistics(task));
      }
      if (task.hasCountersign()) {
        return Optional.of(shareAhead(task.getCountersign().getNextRound()));
      }
      TaskResult.Builder answer = task.hasTrain() ? start(task) : step(task.getSecureAggregation());
      if (task.hasSecureAggregation() && pipelines && task.getSecureAggregation().getNextRoundMembersCount() > 0) {
        answer.getSecureAggregationBuilder().setNextRound(keyAhead(task.getHeader().getRound(),
            task.getSecureAggregation().getNextRoundMembersList()));
      }
      if (task.hasTrain() && pipelines && task.getTrain().getForwardedShares().getNextRoundMembersCount() > 0) {
        // unmasking with the input: the next round's roster rides on the training task, the keys on its answer
        answer.getSecureAggregationBuilder().setNextRound(keyAhead(task.getHeader().getRound(),
            task.getTrain().getForwardedShares().getNextRoundMembersList()));
      }
      return Optional.of(answer);
    } catch (GeneralSecurityException | io.consort.secagg.ProtocolViolationException e) {
      throw new IllegalStateException("bank " + id + ": " + e.getMessage(), e);
    }
  }

  private TaskResult.Builder statistics(Task task) throws GeneralSecurityException {
    JobSpec spec = JobSpecWire.fromProto(task.getFeatureStats().getPlan());
    boolean second = task.getFeatureStats().hasPreliminary();
    int[] vector;
    if (second) {
      FeatureEncoding preliminary = ModelWire.encoding(spec.schema(),
          task.getFeatureStats().getPreliminary());
      vector = FeatureStatsVector.encodeRefined(RefinedFeatureStats.compute(rows,
          preliminary), preliminary);
    } else {
      vector = FeatureStatsVector.encode(statisticsSummed);
    }
    summedVectors.add(vector);
    RoundParameters params = SecureRoundPlan.sum(spec, task.getHeader().getRound(), second
        ? SecureSumPurpose.FEATURE_STATISTICS_SECOND_STAGE : SecureSumPurpose.FEATURE_STATISTICS,
        task.getFeatureStats().getRoundMembersList(), vector.length);
    open(params, vector);
    if (second) { // as a bank does: bound to the encoding it answered (protocol version 8)
      client.bindModel(io.consort.secagg.ModelDigest.ofHex(io.consort.protocol.ModelChecksum
          .secondStageStatisticsSha256Hex(task.getFeatureStats().getPreliminary())));
    }
    FeatureStats.Builder clear = second ? FeatureStats.newBuilder().setSecondStage(true)
        .setTrainRows(statistics.getTrainRows()).setTestRows(statistics.getTestRows()) : statistics.toBuilder();
    return TaskResult.newBuilder().setFeatureStats(clear.setSecureSum(SecAggStep.newBuilder()
        .addMessages(ByteString.copyFrom(SecAggCodec.encode(client.advertiseKeys())))));
  }

  private void open(RoundParameters params, int[] input) {
    client = SecAggClient.create(params, id, input, signer, this::verifyPeer, random);
  }

  private TaskResult.Builder start(Task task) throws GeneralSecurityException, io.consort.secagg.ProtocolViolationException {
    TrainTask t = task.getTrain();
    plan = t.getPlan();
    // as a bank does: derive the round from the plan, and refuse a task that says otherwise
    JobSpec spec = JobSpecWire.fromProto(t.getPlan());
    SecureRoundPlan plan = SecureRoundPlan.derive(spec, task.getHeader().getRound(), t.getRoundMembersList(),
        update.length);
    plan.checkTask(spec, t.getSecureAggregation());
    Quantizer quantizer = plan.quantizer();
    // as a bank does: its weight is its own rows over the round's row total, which is bound into its masks; a job
    // with distributed record-level noise carries none (its gradient sums are unweighted)
    boolean byRows = spec.privacy().distributedRecordNoise().isEmpty();
    if (byRows && (trainRows <= 0 || t.getRoundRowTotal() < trainRows)) {
      throw new IllegalStateException("bank " + id + " has " + trainRows + " training rows; the task's row total is "
          + t.getRoundRowTotal());
    }
    double weight = byRows ? (double) trainRows / t.getRoundRowTotal() : 1;
    float[] weighted = new float[update.length];
    for (int i = 0; i < update.length; i++) {
      weighted[i] = (float) (update[i] * weight);
    }
    // as a bank does: from round 2 on its evaluation of the round's base model follows its update
    int slots = RoundEvaluation.carriedSlots(spec, task.getHeader().getRound());
    int[] evaluation = evaluation(slots);
    if (slots > 0) {
      summedVectors.add(evaluation);
    }
    int[] input = plan.combine(quantizer.encode(weighted, random), evaluation);
    // as a bank does: the masks are bound to its own digest of the model it trained on (protocol version 8); this
    // stand-in binds a round keyed ahead at training, as it expands no masks ahead
    io.consort.secagg.ModelDigest model = io.consort.secagg.ModelDigest.ofHex(io.consort.protocol.ModelChecksum
        .boundModelSha256Hex(io.consort.protocol.ModelChecksum.sha256Hex(ModelWire.values(t.getGlobalModel())),
            t.getGlobalModel().getEncoding()));
    if (byRows) {
      model = model.withRoundRowTotal(t.getRoundRowTotal());
    }
    SecAggStep.Builder step;
    if (t.hasForwardedShares()) {
      // pipelined: the keys were advertised and shared during the previous round
      if (ahead == null || aheadRound != task.getHeader().getRound()) {
        throw new IllegalStateException("bank " + id + " keyed no round " + task.getHeader().getRound() + " ahead");
      }
      client = ahead;
      ahead = null;
      client.bindModel(model);
      client.supplyInput(input);
      step = step(t.getForwardedShares()).getSecureAggregationBuilder();
    } else {
      open(plan.sumParameters(slots), input);
      client.bindModel(model);
      step = SecAggStep.newBuilder().addMessages(ByteString.copyFrom(SecAggCodec.encode(client.advertiseKeys())));
    }
    if (dp != null) {
      step.setDp(dp);
    }
    return TaskResult.newBuilder().setSecureAggregation(step);
  }

  /** Pipelined rounds: fresh keys for the round after {@code round}, for the roster the sum's last request names. */
  private SecAggStep keyAhead(int round, List<String> roster) throws GeneralSecurityException {
    int next = round + 1;
    JobSpec spec = JobSpecWire.fromProto(plan);
    RoundParameters params = SecureRoundPlan.derive(spec, next, roster, update.length)
        .sumParameters(RoundEvaluation.carriedSlots(spec, next));
    io.consort.secagg.KeyPeriod period = SecureRoundPlan.keyPeriod(spec, next);
    if (period == null) {
      ahead = SecAggClient.createAwaitingInput(params, id, signer, this::verifyPeer, random);
    } else { // as a bank does: the period's keys, made on first use in the period, the last period's wiped
      if (periodKeys == null || !periodKeys.isFor(spec.id(), params.planDigest(), period, id)) {
        if (periodKeys != null) {
          periodKeys.destroy();
        }
        periodKeys = io.consort.secagg.PeriodKeys.make(spec.id(), params.planDigest(), period, id, signer, random);
      }
      ahead = SecAggClient.createAwaitingInput(params, id, signer, this::verifyPeer, random, periodKeys);
    }
    aheadRound = next;
    io.consort.secagg.message.AdvertiseKeys keys = ahead.advertiseKeys();
    advertisedMaskingKeys.put(next, keys.maskingPublicKey());
    return SecAggStep.newBuilder().addMessages(ByteString.copyFrom(SecAggCodec.encode(keys))).build();
  }

  /** Pipelined rounds: the ledger task's key roster, answered with the bank's shares (no ledger here). */
  private TaskResult.Builder shareAhead(SecAggStep roster)
      throws GeneralSecurityException, io.consort.secagg.ProtocolViolationException {
    io.consort.protocol.v1.Countersignature.Builder c = io.consort.protocol.v1.Countersignature.newBuilder();
    if (ahead != null && roster.getMessagesCount() == 1) {
      SecAggClient current = client;
      client = ahead;
      try {
        c.setNextRound(step(roster).getSecureAggregation());
      } finally {
        client = current;
      }
    }
    return TaskResult.newBuilder().setCountersignature(c);
  }

  private void verifyPeer(String peer, byte[] message, byte[] sig) throws GeneralSecurityException {
    X509Certificate c = peers.get(peer);
    if (c == null || !verifier.verify(c, message, sig, Set.of(Role.PARTICIPANT)).name().equals(peer)) {
      throw new GeneralSecurityException("no valid certificate for " + peer);
    }
  }

  /** A stand-in evaluation vector of {@code slots} 16-bit limbs, different for every bank and slot. */
  private int[] evaluation(int slots) {
    int[] vector = new int[slots];
    int seed = id.hashCode();
    for (int i = 0; i < slots; i++) {
      vector[i] = Math.floorMod(seed * 31 + i * 7919, 1 << 16);
    }
    return vector;
  }

  private TaskResult.Builder step(SecAggStep in)
      throws GeneralSecurityException, io.consort.secagg.ProtocolViolationException {
    for (PeerCertificate pc : in.getCertificatesList()) {
      peers.put(pc.getBankId(), (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(pc.getDer().toByteArray())));
    }
    SecAggStep.Builder out = SecAggStep.newBuilder();
    for (ByteString m : in.getMessagesList()) {
      for (byte[] reply : client.handleEncodedAll(m.toByteArray())) {
        out.addMessages(ByteString.copyFrom(reply));
      }
    }
    return TaskResult.newBuilder().setSecureAggregation(out);
  }
}
