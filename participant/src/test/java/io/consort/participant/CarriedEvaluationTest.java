package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.consort.certs.DemoPki;
import io.consort.certs.PemFiles;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.Role;
import io.consort.model.data.DataSchema;
import io.consort.model.eval.ScoreHistogram;
import io.consort.model.sums.HistogramVector;
import io.consort.model.train.TrainingEngine;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.EvaluateTask;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TaskResult;
import io.consort.protocol.v1.TrainTask;
import io.consort.secagg.AggregationResult;
import io.consort.secagg.SecAggServer;
import io.consort.secagg.ServerTransition;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.wire.SecAggCodec;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.RoundEvaluation;
import io.consort.spec.SecureRoundPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under secure aggregation a round's one secure sum carries, from round 2 on, each bank's evaluation of
 * the model the round started from after its update. Three real bank handlers answer a training task and
 * every secure-aggregation stage; the test plays the coordinator with the real server state machine and
 * looks at what it can unmask.
 */
class CarriedEvaluationTest {
  private static final List<String> BANKS = List.of("bank-1", "bank-2", "bank-3");
  private static final DataSchema SCHEMA = new DataSchema(List.of("income"),
      List.of(new DataSchema.CategoricalColumn("region", List.of("north", "south"))), "default", "yes");
  private static final int BINS = 8;

  @TempDir
  Path dir;

  private final Map<String, BankTaskHandler> handlers = new LinkedHashMap<>();
  private final Map<String, X509Certificate> certificates = new LinkedHashMap<>();
  private final Map<String, ParticipantConfig> configs = new LinkedHashMap<>();
  private JobSpec spec;
  private JobPlan plan;
  private ModelParameters initial;
  /** The round's row total: every bank's own training rows, summed. */
  private long rowTotal;
  private IdentityVerifier verifier;
  private DemoPki pki;

  @BeforeEach
  void banksAcceptTheJob() throws Exception {
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", BANKS);
    verifier = new IdentityVerifier(pki.validator());
    spec = JobSpec.builder().id("carried").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(3).histogramBins(BINS).build();
    plan = JobSpecWire.toProto(spec);
    for (int b = 0; b < BANKS.size(); b++) {
      String id = BANKS.get(b);
      StringBuilder csv = new StringBuilder("income,region,default\n");
      for (int i = 0; i < 60; i++) {
        csv.append((i * 7 + b * 11) % 53).append(',').append(i % 2 == 0 ? "north" : "south").append(',')
            .append((i + b) % 3 == 0 ? "yes" : "no").append('\n');
      }
      Path data = Files.writeString(dir.resolve(id + ".csv"), csv);
      var t = pki.bank(id);
      ParticipantConfig config = new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(),
          data, dir.resolve(id), 3.0, 1e-5, 1 << 22, null, false, t.crlFile(), null)
          // not a record-level private job: the policy must allow that (BankPolicyTest)
          .withPolicy(new BankPolicy(true, true, 2, OptionalInt.empty()));
      BankTaskHandler handler = new BankTaskHandler(config);
      assertTrue(handler.handle(Task.newBuilder().setHeader(Headers.of("carried", 0, Stage.JOB_OFFER))
          .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build()).getDecision().getAccept());
      handlers.put(id, handler);
      configs.put(id, config);
      certificates.put(id, PemFiles.readCertificates(t.chainFile()).get(0));
    }
    // every bank's encoding must be the same: take it from one bank's file, as the feature statistics would agree
    initial = TestModels.initialModel(spec, configs.get("bank-1").dataFile());
    rowTotal = 0;
    for (String bank : BANKS) {
      rowTotal += TestModels.trainRows(configs.get(bank), spec);
    }
  }

  private Task train(int round, ModelParameters model) {
    return train(round, model, model);
  }

  /** {@code forBank}: the model the task gives this bank; {@code planned}: the one the round's plan derives from. */
  private Task train(int round, ModelParameters planned, ModelParameters forBank) {
    ModelParameters model = forBank;
    SecureRoundPlan derived = SecureRoundPlan.derive(spec, round, BANKS, planned.getValuesCount());
    return Task.newBuilder().setHeader(Headers.of("carried", round, Stage.TRAIN)).setTrain(TrainTask.newBuilder()
        .setGlobalModel(model).setLocalEpochs(spec.training().localEpochs()).setPrivacy(plan.getPrivacy())
        .setSecureAggregation(derived.toTask(spec)).addAllRoundMembers(BANKS).setPlan(plan)
        .setRoundRowTotal(rowTotal)).build();
  }

  /**
   * Runs round {@code round}'s secure sum as a coordinator does: the training task, then every stage the
   * server state machine asks for, each bank answering through its own handler.
   */
  private AggregationResult sum(int round, ModelParameters model) throws Exception {
    return sum(round, model, bank -> model);
  }

  /** As {@link #sum(int, ModelParameters)}, each bank's training task carrying {@code forBank.apply(bank)}. */
  private AggregationResult sum(int round, ModelParameters model,
                                java.util.function.Function<String, ModelParameters> forBank) throws Exception {
    SecureRoundPlan derived = SecureRoundPlan.derive(spec, round, BANKS, model.getValuesCount());
    SecAggServer server = SecAggServer.create(derived.sumParameters(RoundEvaluation.carriedSlots(spec, round)),
        (bank, message, signature) -> {
          if (!verifier.verify(certificates.get(bank), message, signature, Set.of(Role.PARTICIPANT)).name()
              .equals(bank)) {
            throw new java.security.GeneralSecurityException("signature of another bank");
          }
        });
    for (String bank : BANKS) {
      TaskResult.Builder answer = handlers.get(bank).handle(train(round, model, forBank.apply(bank)));
      for (ByteString m : answer.getSecureAggregation().getMessagesList()) {
        server.acceptEncoded(bank, m.toByteArray());
      }
    }
    ServerTransition transition = server.closeStage();
    while (!transition.isCompleted()) {
      assertTrue(!transition.isAborted(), String.valueOf(transition.abortReason()));
      Map<String, SecAggMessage> byRecipient = new LinkedHashMap<>();
      transition.outgoing().forEach(m -> byRecipient.put(m.header().recipientId(), m));
      io.consort.secagg.Stage next = transition.outgoing().get(0).header().stage();
      for (var e : byRecipient.entrySet()) {
        SecAggStep.Builder step = SecAggStep.newBuilder().addMessages(ByteString.copyFrom(SecAggCodec.encode(e.getValue())));
        if (next == io.consort.secagg.Stage.SHARE_KEYS) {
          certificates.forEach((id, c) -> {
            try {
              step.addCertificates(PeerCertificate.newBuilder().setBankId(id).setDer(ByteString.copyFrom(c.getEncoded())));
            } catch (java.security.cert.CertificateEncodingException x) {
              throw new IllegalStateException(x);
            }
          });
        }
        Task task = Task.newBuilder().setHeader(Headers.of("carried", round, Stage.SHARE_KEYS))
            .setSecureAggregation(step).build();
        for (ByteString m : handlers.get(e.getKey()).handle(task).getSecureAggregation().getMessagesList()) {
          server.acceptEncoded(e.getKey(), m.toByteArray());
        }
      }
      transition = server.closeStage();
    }
    return transition.result().orElseThrow();
  }

  private long heldOutRows() throws Exception {
    long rows = 0;
    for (ParticipantConfig c : configs.values()) {
      rows += BankData.open(c, SCHEMA).testRows();
    }
    return rows;
  }

  @Test
  void roundTwosOneSum_carriesEveryBanksEvaluationOfTheModelItStartedFrom_besideTheUpdate() throws Exception {
    SecureRoundPlan derived = SecureRoundPlan.derive(spec, 2, BANKS, initial.getValuesCount());
    AggregationResult result = sum(2, initial);

    assertEquals(initial.getValuesCount() + RoundEvaluation.vectorLength(spec, 0), result.sum().length);
    ScoreHistogram total = HistogramVector.decode(BINS, derived.evaluationPart(result.sum()), BANKS.size());
    // the consortium's histogram: every held-out row of the three banks, and no bank's alone
    assertEquals(heldOutRows(), total.count());
    assertTrue(heldOutRows() > 0);
    double[] mean = derived.quantizer().decodeSum(derived.updatePart(result.sum()));
    assertTrue(java.util.Arrays.stream(mean).anyMatch(v -> v != 0), "the update is in the same sum");
  }

  @Test
  void roundOnesSum_carriesNoEvaluation() throws Exception {
    AggregationResult result = sum(1, initial);
    assertEquals(initial.getValuesCount(), result.sum().length);
  }

  @Test
  void aTrainTaskCarryingAModelNoBankCountersigned_getsAnEmptyEvaluation_whileTheBanksStillTrain() throws Exception {
    // a coordinator that hopes to score the held-out rows with a model of its own making through the round's sum
    float[] probe = ModelWire.values(initial);
    probe[0] += 1;
    ModelParameters forged = ModelWire.withValues(initial, probe, 1);
    SecureRoundPlan derived = SecureRoundPlan.derive(spec, 2, BANKS, forged.getValuesCount());

    AggregationResult result = sum(2, forged);

    ScoreHistogram total = HistogramVector.decode(BINS, derived.evaluationPart(result.sum()), BANKS.size());
    assertEquals(0, total.count(), "no held-out row was scored with the forged model");
    assertEquals(0.0, total.logLossSum());
    double[] mean = derived.quantizer().decodeSum(derived.updatePart(result.sum()));
    assertTrue(java.util.Arrays.stream(mean).anyMatch(v -> v != 0), "the banks trained");
  }

  @Test
  void aWrongChecksumOrVersionFieldForEveryBankButTheVictim_doesNotLeaveTheVictimsEvaluationAloneInTheSum()
      throws Exception {
    // a coordinator that labels the released model wrongly for every bank but the victim, hoping their release check
    // fails, they carry empty evaluations, and the sum's evaluation part is the victim's histogram alone: the fields
    // are not in the masks, so only the bank's own checks may decide
    SecureRoundPlan derived = SecureRoundPlan.derive(spec, 2, BANKS, initial.getValuesCount());
    String victim = BANKS.get(0);
    List<ModelParameters> mislabelled = List.of(initial.toBuilder().setSha256("00".repeat(32)).build(),
        initial.toBuilder().setVersion(1).build());
    for (ModelParameters label : mislabelled) {
      AggregationResult result = sum(2, initial, bank -> bank.equals(victim) ? initial : label);

      ScoreHistogram total = HistogramVector.decode(BINS, derived.evaluationPart(result.sum()), BANKS.size());
      assertEquals(heldOutRows(), total.count(), "every bank evaluated the released model, whatever its label");
    }
  }

  @Test
  void aCountersignedModelLabelledVersionZeroForEveryBankButTheVictim_isStillEvaluatedByEveryBank() throws Exception {
    // the other half of the labels attack: a released model (countersigned in round 1's ledger entry) passed off as
    // version 0 to every bank but the victim; were the version the lever, they would check it against the initial
    // model only, fail, and carry empty evaluations beside the victim's
    float[] values = ModelWire.values(initial);
    values[0] += 0.5f;
    ModelParameters released = ModelWire.withValues(initial, values, 1);
    countersignRoundOne(released);
    SecureRoundPlan derived = SecureRoundPlan.derive(spec, 2, BANKS, released.getValuesCount());
    String victim = BANKS.get(0);

    AggregationResult result = sum(2, released,
        bank -> bank.equals(victim) ? released : released.toBuilder().setVersion(0).build());

    ScoreHistogram total = HistogramVector.decode(BINS, derived.evaluationPart(result.sum()), BANKS.size());
    assertEquals(heldOutRows(), total.count(), "every bank evaluated the model it countersigned, whatever its version");
  }

  /** Round 1's ledger entry releasing {@code released}, signed as the coordinator signs it, countersigned by every bank. */
  private void countersignRoundOne(ModelParameters released) throws Exception {
    var entry = new io.consort.privacy.ledger.PrivacyLedger().nextEntry("carried", 1, java.time.Instant.now(), BANKS,
        1e-5, List.of(), released.getSha256());
    var signed = io.consort.privacy.ledger.LedgerSigning.sign(entry, PemFiles.readPrivateKey(pki.coordinator().keyFile()),
        PemFiles.readCertificates(pki.coordinator().chainFile()).get(0));
    for (String bank : BANKS) {
      TaskResult.Builder answer = handlers.get(bank).handle(Task.newBuilder()
          .setHeader(Headers.of("carried", 1, Stage.LEDGER_COUNTERSIGN))
          .setCountersign(io.consort.protocol.v1.CountersignRequest.newBuilder()
              .setEntryJson(io.consort.privacy.ledger.SignedEntryJson.toJson(signed)).setEntryHash(signed.entryHash()))
          .build());
      assertTrue(answer.hasCountersignature(), bank + " countersigned round 1's entry");
    }
  }

  @Test
  void anEvaluationSumOfItsOwn_isRefusedBeforeTheLastRound() throws Exception {
    // a coordinator that opens evaluation sums of its own (other rosters, other rounds) to difference them
    for (int round : new int[] {1, 2}) {
      Task evaluate = Task.newBuilder().setHeader(Headers.of("carried", round, Stage.EVALUATE))
          .setEvaluate(EvaluateTask.newBuilder().setGlobalModel(initial).setPlan(plan).setHistogramBins(BINS)
              .addAllRoundMembers(BANKS)).build();
      ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
          () -> handlers.get("bank-1").handle(evaluate));
      assertTrue(e.getMessage().contains("travels in the next round's secure sum"), e.getMessage());
    }
    Task last = Task.newBuilder().setHeader(Headers.of("carried", 3, Stage.EVALUATE))
        .setEvaluate(EvaluateTask.newBuilder().setGlobalModel(initial).setPlan(plan).setHistogramBins(BINS)
            .addAllRoundMembers(BANKS)).build();
    assertTrue(handlers.get("bank-1").handle(last).getEvaluation().hasSecureSum());
  }
}
