package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.consort.certs.DemoPki;
import io.consort.certs.PemFiles;
import io.consort.certs.RevocationReason;
import io.consort.identity.IdentitySigner;
import io.consort.model.data.DataSchema;
import io.consort.model.train.TrainingEngine;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggPlan;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
import io.consort.secagg.RoundParameters;
import io.consort.secagg.SecAggClient;
import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.KeyRoster;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.ShareKeys;
import io.consort.secagg.message.SignedPublicKeys;
import io.consort.secagg.wire.SecAggCodec;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecBuilder;
import io.consort.spec.JobSpecWire;
import io.consort.spec.PrivacyMode;
import io.consort.spec.SecureRoundPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bank takes a secure round's parameters from the job it pinned and the round's roster, never from
 * the task, and checks every peer it is shown against the consortium CRL it holds. Each lie of the
 * coordinator is sent to the real {@link BankTaskHandler} of bank-1 and refused before it trains.
 */
class BankSecureRoundTest {
  private static final List<String> FIVE = List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5");
  private static final DataSchema SCHEMA = new DataSchema(List.of("income"),
      List.of(new DataSchema.CategoricalColumn("region", List.of("north", "south"))), "default", "yes");

  @TempDir
  Path dir;

  private DemoPki pki;
  private ParticipantConfig config;

  @BeforeEach
  void setUp() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", FIVE);
    StringBuilder csv = new StringBuilder("income,region,default\n");
    for (int i = 0; i < 40; i++) {
      csv.append(i).append(',').append(i % 2 == 0 ? "north" : "south").append(',').append(i % 3 == 0 ? "yes" : "no")
          .append('\n');
    }
    Path data = Files.writeString(dir.resolve("data.csv"), csv);
    var t = pki.bank("bank-1");
    config = new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(), data,
        dir.resolve("local"), 3.0, 1e-5, 1 << 20, null, false, t.crlFile(), null)
        // these jobs are not record-level private: the bank's policy must allow that (BankPolicyTest)
        .withPolicy(new BankPolicy(true, true, 2, java.util.OptionalInt.empty()));
  }

  private static JobSpecBuilder job() {
    return JobSpec.builder().id("j").schema(SCHEMA).engine(TrainingEngine.NATIVE)
        .hiddenLayers(List.of(4));
  }

  /** bank-1 with the job accepted and the global model the coordinator would send. */
  private final class AcceptedJob {
    final JobSpec spec;
    final JobPlan plan;
    final BankTaskHandler handler = new BankTaskHandler(config);
    final ModelParameters model;
    /** bank-1's own training rows: every bank of these rosters holds as many (the row total is n times it). */
    final long ownRows;

    AcceptedJob(JobSpec spec) throws Exception {
      this.spec = spec;
      this.plan = JobSpecWire.toProto(spec);
      assertTrue(handler.handle(Task.newBuilder().setHeader(Headers.of("j", 0, Stage.JOB_OFFER))
          .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build()).getDecision().getAccept());
      this.model = TestModels.initialModel(spec, config.dataFile());
      this.ownRows = TestModels.trainRows(config, spec);
    }

    /** The round as the coordinator derives it, for {@code roster}. */
    SecureRoundPlan round(List<String> roster) {
      return SecureRoundPlan.derive(spec, 1, roster, model.getValuesCount());
    }

    /** A training task for {@code roster} whose secure-aggregation settings went through {@code lie}. */
    Task train(List<String> roster, SecAggPlan settings) {
      return Task.newBuilder().setHeader(Headers.of("j", 1, Stage.TRAIN)).setTrain(TrainTask.newBuilder()
          .setGlobalModel(model).setLocalEpochs(spec.training().localEpochs()).setPrivacy(plan.getPrivacy())
          .setSecureAggregation(settings).addAllRoundMembers(roster).setPlan(plan)
          .setRoundRowTotal(ownRows * roster.size())).build();
    }

    Task train(List<String> roster, UnaryOperator<SecAggPlan.Builder> lie) {
      return train(roster, lie.apply(round(roster).toTask(spec).toBuilder()).build());
    }

    String refusal(Task task) {
      return assertThrows(ProtocolViolationException.class, () -> handler.handle(task)).getMessage();
    }
  }

  @Test
  void honestTrainTask_isAnsweredWithTheBanksSignedRoundKeys() throws Exception {
    AcceptedJob job = new AcceptedJob(job().build());
    TaskResult.Builder answer = job.handler.handle(job.train(FIVE, UnaryOperator.identity()));
    assertTrue(SecAggCodec.decode(answer.getSecureAggregation().getMessages(0).toByteArray())
        instanceof AdvertiseKeys);
  }

  /** bank-1, having accepted the default job, refuses a five-bank task that went through {@code lie}. */
  private void assertRefused(UnaryOperator<SecAggPlan.Builder> lie, String reason) throws Exception {
    AcceptedJob job = new AcceptedJob(job().build());
    String refusal = job.refusal(job.train(FIVE, lie));
    assertTrue(refusal.contains(reason), refusal);
  }

  @Test
  void trainTask_refused_whenItsThresholdIsBelowTheOneTheBankDerives() throws Exception {
    assertRefused(plan -> plan.setThreshold(2), "threshold 2 is below the 3 this bank derives from the accepted plan");
  }

  @Test
  void trainTask_refused_whenTheRosterIsSmallerThanMinBanks() throws Exception {
    AcceptedJob job = new AcceptedJob(job().minBanks(4).build());
    List<String> three = List.of("bank-1", "bank-2", "bank-3");
    // the settings a coordinator would derive for four banks, sent with a roster of three
    String refusal = job.refusal(job.train(three, job.round(FIVE.subList(0, 4)).toTask(job.spec)));
    assertTrue(refusal.contains("roster has 3 banks, below the 4 the job requires"), refusal);
  }

  @Test
  void trainTask_refused_whenTheNeighbourDegreeDiffersFromThePinnedOne() throws Exception {
    assertRefused(plan -> plan.setNeighbourDegree(2), "neighbour degree 2 differs from the accepted plan's (complete graph)");
  }

  @Test
  void trainTask_refused_whenItTurnsTheConsistencyCheckOff() throws Exception {
    assertRefused(plan -> plan.setConsistencyCheck(false), "consistency check false differs from the accepted plan's true");
  }

  @Test
  void bankLevelTask_refused_whenItsPerBankSigmaIsZero_orItsQuantiserDiffers() throws Exception {
    AcceptedJob job = new AcceptedJob(job().privacy(PrivacyMode.BANK).bankNoiseMultiplier(1.0)
        .secureAggregationClipNorm(1.0).build());
    SecureRoundPlan round = job.round(FIVE);
    assertTrue(round.perBankSigma() > 0);

    String noNoise = job.refusal(job.train(FIVE, plan -> plan.setPerBankSigma(0)));
    assertTrue(noNoise.contains("per_bank_sigma 0.0 differs from the " + round.perBankSigma()), noNoise);
    String quantiser = job.refusal(job.train(FIVE, plan -> plan.setQuantizerBanks(round.quantizerBanks() * 4)));
    assertTrue(quantiser.contains("quantizer_banks " + round.quantizerBanks() * 4 + " differs"), quantiser);
    // nothing was trained or noised: the honest task still runs as the bank's first release of round 1
    job.handler.handle(job.train(FIVE, UnaryOperator.identity()));
  }

  @Test
  void revokedPeer_isRefused_whenTheCoordinatorRelaysItInTheKeyRoster() throws Exception {
    String refusal = shareKeysWithRevoked("bank-2");
    assertTrue(refusal.contains("'bank-2'") && refusal.contains("revoked"), refusal);
  }

  @Test
  void peers_areAccepted_whenNoneIsRevoked() throws Exception {
    assertEquals(null, shareKeysWithRevoked(null));
  }

  /**
   * bank-1 sends its round keys; then {@code revoked} (if any) is revoked in the consortium CRL, which
   * bank-1 reloads; then the coordinator relays the roster of bank-1, 2 and 3 with their certificates.
   *
   * @return bank-1's refusal, or null if it answered with its shares
   */
  private String shareKeysWithRevoked(String revoked) throws Exception {
    AcceptedJob job = new AcceptedJob(job().build());
    List<String> roster = List.of("bank-1", "bank-2", "bank-3");
    TaskResult.Builder first = job.handler.handle(job.train(roster, UnaryOperator.identity()));
    AdvertiseKeys own = (AdvertiseKeys) SecAggCodec.decode(first.getSecureAggregation().getMessages(0).toByteArray());
    RoundParameters parameters = job.round(roster).parameters();
    List<SignedPublicKeys> entries = new ArrayList<>(List.of(own.toSignedKeys()));
    SecAggStep.Builder step = SecAggStep.newBuilder();
    for (String peer : roster) {
      step.addCertificates(PeerCertificate.newBuilder().setBankId(peer)
          .setDer(ByteString.copyFrom(PemFiles.readCertificates(pki.bank(peer).chainFile()).get(0).getEncoded())));
      if (!peer.equals("bank-1")) {
        SecAggClient client = SecAggClient.create(parameters, peer, new int[parameters.dimension()],
            new IdentitySigner(PemFiles.readPrivateKey(pki.bank(peer).keyFile())), (b, m, s) -> { }, new SecureRandom());
        entries.add(client.advertiseKeys().toSignedKeys());
      }
    }
    if (revoked != null) {
      pki.revokeAndPublish(revoked, RevocationReason.KEY_COMPROMISE);
    }
    KeyRoster roster1 = new KeyRoster(new MessageHeader("j", parameters.round(), io.consort.secagg.Stage.SHARE_KEYS,
        RoundParameters.COORDINATOR_ID, "bank-1"), entries);
    Task task = Task.newBuilder().setHeader(Headers.of("j", 1, Stage.SHARE_KEYS)).setSecureAggregation(
        step.addMessages(ByteString.copyFrom(SecAggCodec.encode(roster1)))).build();
    try {
      TaskResult.Builder answer = job.handler.handle(task);
      assertTrue(SecAggCodec.decode(answer.getSecureAggregation().getMessages(0).toByteArray()) instanceof ShareKeys);
      return null;
    } catch (ProtocolViolationException e) {
      return e.getMessage();
    }
  }
}
