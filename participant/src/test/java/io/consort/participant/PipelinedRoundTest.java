package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.consort.certs.DemoPki;
import io.consort.certs.PemFiles;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.Role;
import io.consort.model.data.DataSchema;
import io.consort.model.train.TrainingEngine;
import io.consort.protocol.Headers;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.JobOffer;
import io.consort.protocol.v1.JobPlan;
import io.consort.protocol.v1.ModelParameters;
import io.consort.protocol.v1.PeerCertificate;
import io.consort.protocol.v1.SecAggStep;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.Task;
import io.consort.protocol.v1.TrainTask;
import io.consort.secagg.SecAggClient;
import io.consort.secagg.SecAggServer;
import io.consort.secagg.ServerTransition;
import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.KeyRoster;
import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.message.ShareKind;
import io.consort.secagg.message.SignedPublicKeys;
import io.consort.secagg.message.UnmaskingRequest;
import io.consort.secagg.message.UnmaskingResponse;
import io.consort.secagg.wire.SecAggCodec;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.consort.spec.RoundEvaluation;
import io.consort.spec.SecureRoundPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pipelined rounds (protocol version 3) at the banks: round 2's keys are advertised with round 1's
 * unmasking answers and shared at the ledger stage, and round 2's training task carries the forwarded
 * shares, answered by the masked input; with version 4 a sum nobody dropped from skips the consistency
 * check (the fast unmasking request). Each lie of the coordinator about the pipelined round or the fast
 * path is sent to the real {@link BankTaskHandler} of bank-1 and refused.
 */
class PipelinedRoundTest {
  private static final List<String> BANKS = List.of("bank-1", "bank-2", "bank-3");
  private static final String VICTIM = "bank-1";
  private static final DataSchema SCHEMA = new DataSchema(List.of("income"),
      List.of(new DataSchema.CategoricalColumn("region", List.of("north", "south"))), "default", "yes");

  @TempDir
  Path dir;

  private final Map<String, BankTaskHandler> handlers = new LinkedHashMap<>();
  private final Map<String, ParticipantConfig> configs = new LinkedHashMap<>();
  private final Map<String, X509Certificate> certificates = new LinkedHashMap<>();
  /** Each bank's own training rows under the accepted job, as its feature statistics report them. */
  private final Map<String, Long> rows = new LinkedHashMap<>();
  private JobSpec spec;
  private JobPlan plan;
  private ModelParameters model;
  private IdentityVerifier verifier;
  private DemoPki pki;
  /** The unmasked sum of the last sum {@link #drive} completed. */
  private int[] lastSum;
  /** What round 1's sum sent each bank, by stage: the material a replaying coordinator holds. */
  private final Map<io.consort.secagg.Stage, Map<String, SecAggMessage>> roundOneMessages = new LinkedHashMap<>();

  @BeforeEach
  void banksAcceptTheJob() throws Exception {
    List<String> all = new ArrayList<>(BANKS);
    all.add("bank-4");
    pki = DemoPki.create(dir.resolve("pki"), "coordinator", all);
    verifier = new IdentityVerifier(pki.validator());
    acceptJob(JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(3).build(), dir);
  }

  /** The rows of each bank's data file, in the order of {@link #BANKS} and then bank-4. */
  private int[] bankRows = {40, 40, 40, 40};
  /** Whether bank b's rows default one in b + 2 (so the banks' updates differ), not one in 3. */
  private boolean skewedLabels;

  /**
   * Fresh banks (data under {@code base}, {@link #bankRows} rows each), each having accepted {@code job} (id "piped").
   */
  private void acceptJob(JobSpec job, Path base) throws Exception {
    List<String> all = new ArrayList<>(BANKS);
    all.add("bank-4");
    handlers.clear();
    spec = job;
    plan = JobSpecWire.toProto(spec);
    ParticipantConfig first = null;
    for (int b = 0; b < all.size(); b++) {
      String id = all.get(b);
      StringBuilder csv = new StringBuilder("income,region,default\n");
      for (int i = 0; i < bankRows[b]; i++) {
        csv.append((i * 7 + b * 11) % 53).append(',').append(i % 2 == 0 ? "north" : "south").append(',')
            .append((i + b) % (skewedLabels ? b + 2 : 3) == 0 ? "yes" : "no").append('\n');
      }
      var t = pki.bank(id);
      Files.createDirectories(base);
      ParticipantConfig config = new ParticipantConfig("localhost", 7443, t.keyFile(), t.chainFile(), t.caFile(),
          Files.writeString(base.resolve(id + ".csv"), csv), base.resolve(id), 3.0, 1e-5, 1 << 22, null, false,
          t.crlFile(), null).withPolicy(new BankPolicy(true, true, 2, OptionalInt.empty()));
      first = first == null ? config : first;
      configs.put(id, config);
      rows.put(id, TestModels.trainRows(config, job));
      certificates.put(id, PemFiles.readCertificates(t.chainFile()).get(0));
      if (BANKS.contains(id)) {
        BankTaskHandler handler = new BankTaskHandler(config);
        assertTrue(handler.handle(Task.newBuilder().setHeader(Headers.of("piped", 0, Stage.JOB_OFFER))
            .setJobOffer(JobOffer.newBuilder().setPlan(plan)).build()).getDecision().getAccept());
        handlers.put(id, handler);
      }
    }
    model = TestModels.initialModel(spec, first.dataFile());
  }

  private Task train(int round, List<String> roster, SecAggStep forwarded) {
    return train(round, roster, forwarded, model);
  }

  /** A training task carrying {@code global} as the round's model. */
  private Task train(int round, List<String> roster, SecAggStep forwarded, ModelParameters global) {
    TrainTask.Builder train = TrainTask.newBuilder().setGlobalModel(global)
        .setLocalEpochs(spec.training().localEpochs()).setPrivacy(plan.getPrivacy())
        .setSecureAggregation(SecureRoundPlan.derive(spec, round, roster, model.getValuesCount()).toTask(spec))
        .addAllRoundMembers(roster).setPlan(plan).setRoundRowTotal(rowTotal(roster));
    if (forwarded != null) {
      train.setForwardedShares(forwarded);
    }
    return Task.newBuilder().setHeader(Headers.of("piped", round, Stage.TRAIN)).setTrain(train).build();
  }

  private SecAggServer server(int round) {
    return server(round, false);
  }

  /** @param fast the server skips the consistency check when nobody dropped (protocol version 4) */
  private SecAggServer server(int round, boolean fast) {
    return SecAggServer.create(SecureRoundPlan.derive(spec, round, BANKS, model.getValuesCount())
        .sumParameters(RoundEvaluation.carriedSlots(spec, round)), (bank, message, signature) -> {
          if (!verifier.verify(certificates.get(bank), message, signature, Set.of(Role.PARTICIPANT)).name()
              .equals(bank)) {
            throw new java.security.GeneralSecurityException("signature of another bank");
          }
        }, fast);
  }

  /** The round's row total R for {@code roster}: its banks' own training rows, summed (protocol version 9). */
  private long rowTotal(List<String> roster) {
    return roster.stream().mapToLong(rows::get).sum();
  }

  /** The digest of {@code model} as a bank binds an evaluation to it (protocol version 8). */
  static io.consort.secagg.ModelDigest digest(ModelParameters model) {
    return io.consort.secagg.ModelDigest.ofHex(io.consort.protocol.ModelChecksum.boundModelSha256Hex(
        io.consort.protocol.ModelChecksum.sha256Hex(io.consort.model.wire.ModelWire.values(model)),
        model.getEncoding()));
  }

  /**
   * The digest a bank binds a training sum of {@link #BANKS}' to when it trains on {@code model}: the model's with the
   * round's row total beside it (protocol version 9).
   */
  private io.consort.secagg.ModelDigest trainingDigest(ModelParameters model) {
    return digest(model).withRoundRowTotal(rowTotal(BANKS));
  }

  private static SecAggStep step(SecAggMessage message) {
    return SecAggStep.newBuilder().addMessages(ByteString.copyFrom(SecAggCodec.encode(message))).build();
  }

  private SecAggStep withCertificates(SecAggStep step) throws Exception {
    SecAggStep.Builder b = step.toBuilder();
    for (var e : certificates.entrySet()) {
      b.addCertificates(PeerCertificate.newBuilder().setBankId(e.getKey()).setDer(ByteString.copyFrom(e.getValue()
          .getEncoded())));
    }
    return b.build();
  }

  private static Map<String, SecAggMessage> byRecipient(ServerTransition transition) {
    assertFalse(transition.isAborted(), () -> String.valueOf(transition.abortReason()));
    Map<String, SecAggMessage> out = new LinkedHashMap<>();
    transition.outgoing().forEach(m -> out.put(m.header().recipientId(), m));
    return out;
  }

  /**
   * Drives a sum whose opening answers went to {@code server} to its end through the banks' handlers; at
   * the unmasking stage the request names {@code nextRoster} (none: empty), and the banks' keys for the
   * next round are returned.
   */
  private Map<String, byte[]> drive(int round, SecAggServer server, List<String> nextRoster,
                                    Map<io.consort.secagg.Stage, Map<String, SecAggMessage>> record) throws Exception {
    Map<String, byte[]> nextKeys = new LinkedHashMap<>();
    ServerTransition transition = server.closeStage();
    while (!transition.isCompleted()) {
      Map<String, SecAggMessage> out = byRecipient(transition);
      io.consort.secagg.Stage next = transition.outgoing().get(0).header().stage();
      record.put(next, out);
      for (var e : out.entrySet()) {
        SecAggStep s = step(e.getValue());
        if (next == io.consort.secagg.Stage.SHARE_KEYS) {
          s = withCertificates(s);
        }
        Stage wire = next == io.consort.secagg.Stage.UNMASKING ? Stage.UNMASKING : Stage.SHARE_KEYS;
        if (next == io.consort.secagg.Stage.UNMASKING) {
          s = s.toBuilder().addAllNextRoundMembers(nextRoster).build();
        }
        SecAggStep answer = handlers.get(e.getKey()).handle(Task.newBuilder()
            .setHeader(Headers.of("piped", round, wire)).setSecureAggregation(s).build()).getSecureAggregation();
        for (ByteString m : answer.getMessagesList()) {
          server.acceptEncoded(e.getKey(), m.toByteArray());
        }
        if (answer.hasNextRound()) {
          nextKeys.put(e.getKey(), answer.getNextRound().getMessages(0).toByteArray());
        }
      }
      transition = server.closeStage();
    }
    assertEquals(BANKS, transition.result().orElseThrow().includedBanks());
    lastSum = transition.result().orElseThrow().sum();
    return nextKeys;
  }

  /** Round 1 unpipelined, its unmasking naming round 2's roster; the banks' round-2 keys. */
  private Map<String, byte[]> roundOne() throws Exception {
    return roundOne(server(1));
  }

  private Map<String, byte[]> roundOne(SecAggServer server) throws Exception {
    return drive(1, trainRoundOne(server), BANKS, roundOneMessages);
  }

  /** Round 1's training tasks, unpipelined: the server holding the banks' keys. */
  private SecAggServer trainRoundOne() throws Exception {
    return trainRoundOne(server(1));
  }

  private SecAggServer trainRoundOne(SecAggServer server) throws Exception {
    for (String bank : BANKS) {
      for (ByteString m : handlers.get(bank).handle(train(1, BANKS, null)).getSecureAggregation().getMessagesList()) {
        server.acceptEncoded(bank, m.toByteArray());
      }
    }
    return server;
  }

  /** Round 2 pipelined with {@code keys} (the banks' unmasking answers of round 1), through to its unmasking. */
  private void pipelinedRoundTwo(Map<String, byte[]> keys) throws Exception {
    SecAggServer server = server(2);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server, keys, UnaryOperator.identity());
    for (String bank : BANKS) {
      SecAggStep answer = handlers.get(bank).handle(train(2, BANKS, step(forwarded.get(bank)))).getSecureAggregation();
      assertInstanceOf(MaskedInput.class, SecAggCodec.decode(answer.getMessages(0).toByteArray()));
      server.acceptEncoded(bank, answer.getMessages(0).toByteArray());
    }
    drive(2, server, List.of(), new LinkedHashMap<>());
  }

  private static AdvertiseKeys advertised(byte[] encoded) throws Exception {
    return assertInstanceOf(AdvertiseKeys.class, SecAggCodec.decode(encoded));
  }

  /** Whether {@code keys} advertise either public key of {@code made}. */
  private static boolean shares(AdvertiseKeys keys, SecAggClient.PreparedKeys made) {
    return java.util.Arrays.equals(keys.encryptionPublicKey(), made.encryptionPublicKey())
        || java.util.Arrays.equals(keys.maskingPublicKey(), made.maskingPublicKey());
  }

  /** Round 2's keys to {@code server}, its roster (after {@code lie}) relayed as with the ledger task. */
  private Map<String, SecAggMessage> shareRoundTwo(SecAggServer server, Map<String, byte[]> keys,
                                                   UnaryOperator<SecAggMessage> lie) throws Exception {
    keys.forEach((bank, k) -> assertDoesNotThrowPv(() -> server.acceptEncoded(bank, k)));
    for (var e : byRecipient(server.closeStage()).entrySet()) {
      SecAggStep roster = withCertificates(step(e.getKey().equals(VICTIM) ? lie.apply(e.getValue()) : e.getValue()));
      SecAggStep shares = handlers.get(e.getKey()).secureAggregation().shareAhead("piped", 2, roster, trainingDigest(model));
      server.acceptEncoded(e.getKey(), shares.getMessages(0).toByteArray());
    }
    return byRecipient(server.closeStage());
  }

  private interface PvAction {
    void run() throws io.consort.secagg.ProtocolViolationException;
  }

  private static void assertDoesNotThrowPv(PvAction action) {
    try {
      action.run();
    } catch (io.consort.secagg.ProtocolViolationException e) {
      throw new AssertionError(e);
    }
  }

  private String refusal(Task task) {
    return assertThrows(ProtocolViolationException.class, () -> handlers.get(VICTIM).handle(task)).getMessage();
  }

  @Test
  void pipelinedRound_trainTaskIsAnsweredWithTheMaskedInput_andTheSumCompletes() throws Exception {
    Map<String, byte[]> keys = roundOne();

    assertEquals(BANKS.size(), keys.size());
    pipelinedRoundTwo(keys); // masked inputs, consistency check and unmasking, all three included
  }

  @Test
  void keysMadeAheadAfterTraining_areTheOnesTheUnmaskingAnswerAdvertises_andKeyTheirRoundOnce() throws Exception {
    SecAggServer server = trainRoundOne();
    BankSecureAggregation victim = handlers.get(VICTIM).secureAggregation();
    SecAggClient.PreparedKeys made = victim.preparedKeys("piped").get(30, java.util.concurrent.TimeUnit.SECONDS);

    Map<String, byte[]> keys = drive(1, server, BANKS, roundOneMessages);

    AdvertiseKeys advertised = advertised(keys.get(VICTIM));
    assertArrayEquals(made.encryptionPublicKey(), advertised.encryptionPublicKey());
    assertArrayEquals(made.maskingPublicKey(), advertised.maskingPublicKey());
    assertTrue(made.wasTaken() && made.isSpent(), "the keys made ahead are still held outside their round");
    assertNull(victim.preparedKeys("piped"));
    pipelinedRoundTwo(keys); // the peers verify the signature made ahead, and the sum completes
  }

  @Test
  void aCoordinatorCannotMakeABankAdvertiseKeysMadeAheadTwice_orForAnotherRound() throws Exception {
    SecAggServer server = trainRoundOne();
    BankSecureAggregation victim = handlers.get(VICTIM).secureAggregation();
    SecAggClient.PreparedKeys made = victim.preparedKeys("piped").get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertArrayEquals(made.maskingPublicKey(), advertised(drive(1, server, BANKS, roundOneMessages).get(VICTIM))
        .maskingPublicKey());

    // round 1's unmasking request again, naming round 2's roster once more: refused, nothing advertised
    SecAggStep replay = step(roundOneMessages.get(io.consort.secagg.Stage.UNMASKING).get(VICTIM)).toBuilder()
        .addAllNextRoundMembers(BANKS).build();
    refusal(Task.newBuilder().setHeader(Headers.of("piped", 1, Stage.UNMASKING)).setSecureAggregation(replay).build());
    // round 2 unpipelined after all: fresh keys
    AdvertiseKeys fresh = advertised(handlers.get(VICTIM).handle(train(2, BANKS, null)).getSecureAggregation()
        .getMessages(0).toByteArray());
    assertFalse(shares(fresh, made), "round 2 was keyed twice with the keys made ahead");
    // that answer had round 3's keys made ahead; asked for round 2's keys ahead instead, the bank makes fresh
    // ones and wipes round 3's unused
    SecAggClient.PreparedKeys third = victim.preparedKeys("piped").get(30, java.util.concurrent.TimeUnit.SECONDS);
    AdvertiseKeys again = advertised(victim.keyAhead(spec, 2, BANKS, model.getValuesCount()));
    assertFalse(shares(again, made) || shares(again, third) || java.util.Arrays.equals(again.maskingPublicKey(),
        fresh.maskingPublicKey()), "keys advertised for one round keyed another");
    assertTrue(third.isSpent() && !third.wasTaken(), "round 3's keys made ahead outlived the request for round 2's");
  }

  @Test
  void keysMadeAhead_areWiped_whenTheRoundIsAbandoned_orTheJobFinishes() throws Exception {
    trainRoundOne();
    BankSecureAggregation victim = handlers.get(VICTIM).secureAggregation();
    SecAggClient.PreparedKeys made = victim.preparedKeys("piped").get(30, java.util.concurrent.TimeUnit.SECONDS);

    // the coordinator drops the bank from round 1's unmasking and opens round 2 unpipelined
    AdvertiseKeys fresh = advertised(handlers.get(VICTIM).handle(train(2, BANKS, null)).getSecureAggregation()
        .getMessages(0).toByteArray());

    assertFalse(shares(fresh, made));
    assertTrue(made.isSpent() && !made.wasTaken(), "keys made for an abandoned round were kept");
    SecAggClient.PreparedKeys third = victim.preparedKeys("piped").get(30, java.util.concurrent.TimeUnit.SECONDS);
    handlers.get(VICTIM).handle(Task.newBuilder().setHeader(Headers.of("piped", 2, Stage.FINISHED))
        .setFinished(io.consort.protocol.v1.JobFinished.newBuilder().setFinalModel(model).setReason("stopped"))
        .build());
    assertTrue(third.isSpent() && !third.wasTaken(), "keys made ahead outlived their job");
    assertNull(victim.preparedKeys("piped"));
  }

  @Test
  void anUnmaskingTaskArrivingWhileKeysAreStillBeingMade_advertisesFreshOnes_andTheLateOnesAreWiped()
      throws Exception {
    BankSecureAggregation victim = handlers.get(VICTIM).secureAggregation();
    List<Runnable> keyThread = new ArrayList<>();
    victim.keyThread(keyThread::add); // holds the key work back until the unmasking task has been answered
    SecAggServer server = trainRoundOne();
    var making = victim.preparedKeys("piped");
    assertFalse(making.isDone());

    Map<String, byte[]> keys = drive(1, server, BANKS, roundOneMessages);
    keyThread.forEach(Runnable::run); // the key thread gets to it only now
    SecAggClient.PreparedKeys late = making.get(30, java.util.concurrent.TimeUnit.SECONDS);

    assertFalse(shares(advertised(keys.get(VICTIM)), late));
    assertTrue(late.isSpent() && !late.wasTaken(), "keys made after their unmasking answer were kept");
    pipelinedRoundTwo(keys);
  }

  @Test
  void forwardedShares_areRefused_whenTheTrainTaskNamesAnotherRosterThanTheBankKeyed() throws Exception {
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), roundOne(), UnaryOperator.identity());
    List<String> other = List.of("bank-1", "bank-2", "bank-3", "bank-4");

    String refusal = refusal(train(2, other, step(forwarded.get(VICTIM))));

    assertTrue(refusal.contains("refuses them: it keyed round 2 for the roster"), refusal);
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  @Test
  void trainTask_isRefused_whenTheCoordinatorReplaysRoundOnesForwardedSharesInRoundTwo() throws Exception {
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), roundOne(), UnaryOperator.identity());
    SecAggMessage old = roundOneMessages.get(io.consort.secagg.Stage.MASKED_INPUT).get(VICTIM);
    assertInstanceOf(ForwardedShares.class, old);
    assertInstanceOf(ForwardedShares.class, forwarded.get(VICTIM));

    String refusal = refusal(train(2, BANKS, step(old)));

    assertTrue(refusal.contains("(replayed or stale message)"), refusal);
  }

  @Test
  void bankAborts_whenRoundOnesForwardedSharesComeRelabelledAsRoundTwos() throws Exception {
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), roundOne(), UnaryOperator.identity());
    ForwardedShares old = (ForwardedShares) roundOneMessages.get(io.consort.secagg.Stage.MASKED_INPUT).get(VICTIM);
    ForwardedShares relabelled = new ForwardedShares(forwarded.get(VICTIM).header(), old.shares());

    String refusal = refusal(train(2, BANKS, step(relabelled)));

    assertTrue(refusal.contains("fails AES-GCM authentication"), refusal);
  }

  @Test
  void keyRoster_isRefused_whenItCarriesAPeersKeysFromAnEarlierRound() throws Exception {
    Map<String, byte[]> keys = roundOne();
    KeyRoster oldRoster = (KeyRoster) roundOneMessages.get(io.consort.secagg.Stage.SHARE_KEYS).get(VICTIM);
    SignedPublicKeys stale = oldRoster.entries().stream().filter(e -> e.bankId().equals("bank-2")).findFirst()
        .orElseThrow();

    ProtocolViolationException refused = assertThrows(ProtocolViolationException.class, () -> shareRoundTwo(
        server(2), keys, m -> {
          KeyRoster roster = (KeyRoster) m;
          List<SignedPublicKeys> entries = new ArrayList<>(roster.entries());
          entries.replaceAll(e -> e.bankId().equals("bank-2") ? stale : e);
          return new KeyRoster(roster.header(), entries);
        }));

    assertTrue(refused.getMessage().contains("do not carry its valid identity signature"), refused.getMessage());
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  @Test
  void forwardedShares_areRefused_whenTheBankKeyedNothingAhead() throws Exception {
    Map<String, byte[]> keys = roundOne();
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), keys, UnaryOperator.identity());
    // the coordinator falls back (an unpipelined training task), then sends the pipelined one anyway
    assertInstanceOf(AdvertiseKeys.class, SecAggCodec.decode(handlers.get(VICTIM).handle(train(2, BANKS, null))
        .getSecureAggregation().getMessages(0).toByteArray()));

    String refusal = refusal(train(2, BANKS, step(forwarded.get(VICTIM))));

    assertTrue(refusal.contains("refuses them: it keyed no round ahead"), refusal);
  }

  @Test
  void unpipelinedTrainTask_discardsTheKeysMadeAhead_andOpensAFreshSum() throws Exception {
    shareRoundTwo(server(2), roundOne(), UnaryOperator.identity());
    assertTrue(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));

    SecAggStep answer = handlers.get(VICTIM).handle(train(2, BANKS, null)).getSecureAggregation();

    assertInstanceOf(AdvertiseKeys.class, SecAggCodec.decode(answer.getMessages(0).toByteArray()));
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  @Test
  void nextRoundRoster_isRefused_outsideTheUnmaskingStage() throws Exception {
    String refusal = refusal(Task.newBuilder().setHeader(Headers.of("piped", 1, Stage.SHARE_KEYS))
        .setSecureAggregation(SecAggStep.newBuilder().addAllNextRoundMembers(BANKS)).build());

    assertTrue(refusal.contains("only with the unmasking request"), refusal);
  }

  @Test
  void unmaskingAnswer_stillGoesOut_withoutNextKeys_whenTheNextRosterIsRefused() throws Exception {
    SecAggServer server = server(1);
    for (String bank : BANKS) {
      for (ByteString m : handlers.get(bank).handle(train(1, BANKS, null)).getSecureAggregation().getMessagesList()) {
        server.acceptEncoded(bank, m.toByteArray());
      }
    }

    Map<String, byte[]> keys = drive(1, server, List.of(VICTIM), new LinkedHashMap<>()); // a roster of one bank

    assertTrue(keys.isEmpty()); // the sum completed with all three banks (drive asserts it), no keys ahead
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  @Test
  void noRoundIsKeyedAhead_pastTheJobsLastRound() throws Exception {
    handlers.get(VICTIM).handle(train(1, BANKS, null));

    ProtocolViolationException refused = assertThrows(ProtocolViolationException.class, () ->
        handlers.get(VICTIM).secureAggregation().keyAhead(spec, 4, BANKS, model.getValuesCount()));

    assertTrue(refused.getMessage().contains("keys no round 4 ahead"), refused.getMessage());
  }

  @Test
  void coordinatorSendingForwardedSharesForAnotherRoster_isRefusedBeforeTraining_andChargesNoPrivacySpend()
      throws Exception {
    acceptJob(JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(3).privacy(io.consort.spec.PrivacyMode.RECORD).targetEpsilon(1.0).build(), dir.resolve("dp"));
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), roundOne(), UnaryOperator.identity());
    Path victimData = dir.resolve("dp").resolve(VICTIM);
    assertEquals(1, new SpendJournal(victimData).releases().size()); // round 1, trained and released

    String refusal = refusal(train(2, List.of("bank-1", "bank-2", "bank-3", "bank-4"), step(forwarded.get(VICTIM))));

    assertTrue(refusal.contains("refuses them: it keyed round 2 for the roster"), refusal);
    List<SpendJournal.Release> releases = new SpendJournal(victimData).releases();
    assertEquals(1, releases.size(), () -> "a refused round was journalled as a release: " + releases);
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  @Test
  void coordinatorSendingATamperedForwardedShare_isRefusedBeforeTraining_andChargesNoPrivacySpend() throws Exception {
    acceptJob(JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(3).privacy(io.consort.spec.PrivacyMode.RECORD).targetEpsilon(1.0).build(), dir.resolve("dp"));
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), roundOne(), UnaryOperator.identity());
    Path victimData = dir.resolve("dp").resolve(VICTIM);
    assertEquals(1, new SpendJournal(victimData).releases().size()); // round 1, trained and released
    ForwardedShares honest = (ForwardedShares) forwarded.get(VICTIM);
    List<io.consort.secagg.message.EncryptedShare> shares = new java.util.ArrayList<>(honest.shares());
    io.consort.secagg.message.EncryptedShare first = shares.get(0);
    byte[] ciphertext = first.ciphertext().clone();
    ciphertext[ciphertext.length - 1] ^= 1;
    shares.set(0, new io.consort.secagg.message.EncryptedShare(first.senderId(), first.recipientId(), ciphertext));

    String refusal = refusal(train(2, BANKS, step(new ForwardedShares(honest.header(), shares))));

    assertTrue(refusal.contains("fails AES-GCM authentication"), refusal);
    List<SpendJournal.Release> releases = new SpendJournal(victimData).releases();
    assertEquals(1, releases.size(), () -> "a refused round was journalled as a release: " + releases);
  }

  @Test
  void coordinatorSendingForwardedSharesBeforeTheKeyRoster_isRefusedBeforeTraining_andChargesNoPrivacySpend()
      throws Exception {
    acceptJob(JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(3).privacy(io.consort.spec.PrivacyMode.RECORD).targetEpsilon(1.0).build(), dir.resolve("dp"));
    roundOne(); // round 2 keyed ahead; its key roster (the ledger task's) never sent, so the bank shared nothing
    Path victimData = dir.resolve("dp").resolve(VICTIM);
    assertEquals(1, new SpendJournal(victimData).releases().size());
    long sumRound = SecureRoundPlan.derive(spec, 2, BANKS, model.getValuesCount())
        .sumParameters(RoundEvaluation.carriedSlots(spec, 2)).round();
    ForwardedShares early = new ForwardedShares(new MessageHeader("piped", sumRound, io.consort.secagg.Stage.MASKED_INPUT,
        "coordinator", VICTIM), List.of(new io.consort.secagg.message.EncryptedShare("bank-2", VICTIM, new byte[60])));

    String refusal = refusal(train(2, BANKS, step(early)));

    assertTrue(refusal.contains("refuses them"), refusal);
    List<SpendJournal.Release> releases = new SpendJournal(victimData).releases();
    assertEquals(1, releases.size(), () -> "a refused round was journalled as a release: " + releases);
  }

  @Test
  void keysMadeAhead_areDiscarded_whenTheRoundsTrainingTaskIsRefused_andCannotBeUsedByALaterTask() throws Exception {
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), roundOne(), UnaryOperator.identity());
    Task lowered = train(2, BANKS, step(forwarded.get(VICTIM)));
    lowered = lowered.toBuilder().setTrain(lowered.getTrain().toBuilder().setSecureAggregation(
        lowered.getTrain().getSecureAggregation().toBuilder().setThreshold(1))).build();

    refusal(lowered);

    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
    String refusal = refusal(train(2, BANKS, step(forwarded.get(VICTIM))));
    assertTrue(refusal.contains("refuses them: it keyed no round ahead"), refusal);
  }

  @Test
  void pipelinedRound_isJournalledOnce_andAskingForItAgainUnpipelined_isAnotherRelease() throws Exception {
    acceptJob(JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(3).privacy(io.consort.spec.PrivacyMode.RECORD).targetEpsilon(1.0).build(), dir.resolve("dp"));
    SecAggServer server = server(2);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server, roundOne(), UnaryOperator.identity());
    for (String bank : BANKS) {
      SecAggStep answer = handlers.get(bank).handle(train(2, BANKS, step(forwarded.get(bank)))).getSecureAggregation();
      assertTrue(answer.hasDp());
      server.acceptEncoded(bank, answer.getMessages(0).toByteArray());
    }
    drive(2, server, List.of(), new LinkedHashMap<>());
    Path victimData = dir.resolve("dp").resolve(VICTIM);
    assertEquals(List.of(1, 2), new SpendJournal(victimData).releases().stream().map(SpendJournal.Release::round)
        .toList());

    // the same round again, unpipelined: the bank trains afresh (a new input under fresh keys), a new release
    SecAggStep again = handlers.get(VICTIM).handle(train(2, BANKS, null)).getSecureAggregation();

    assertInstanceOf(AdvertiseKeys.class, SecAggCodec.decode(again.getMessages(0).toByteArray()));
    assertEquals(List.of(1, 2, 2), new SpendJournal(victimData).releases().stream()
        .map(SpendJournal.Release::round).toList());
  }

  /**
   * Whether the with_input jobs these tests accept keep the self mask and b-shares (protocol versions 5 and 6, pinned
   * {@code self_mask: true}); a test of a sum without self masks (protocol version 7) sets it false first.
   */
  private boolean selfMask = true;

  /** A job like the default one, with record-level DP, {@code unmasking: with_input} when {@code withInput}. */
  private void acceptDpJob(boolean withInput) throws Exception {
    acceptDpJob(withInput, dir.resolve("dp"));
  }

  private void acceptDpJob(boolean withInput, Path base) throws Exception {
    acceptJob(JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(3).privacy(io.consort.spec.PrivacyMode.RECORD).targetEpsilon(1.0).unmaskingWithInput(withInput)
        .selfMask(withInput ? selfMask : null).build(), base);
  }

  /**
   * Unmasking with the input: round 1 unpipelined through the banks' handlers; the forwarded shares (masked-input
   * request) name {@code nextRoster}, and the sum is unmasked when the masked inputs with their b-shares are in.
   *
   * @return the banks' keys for round 2
   */
  private Map<String, byte[]> roundOneWithInput(List<String> nextRoster) throws Exception {
    SecAggServer server = trainRoundOne(server(1));
    Map<String, byte[]> nextKeys = new LinkedHashMap<>();
    ServerTransition transition = server.closeStage();
    while (!transition.isCompleted()) {
      io.consort.secagg.Stage next = transition.outgoing().get(0).header().stage();
      assertTrue(next == io.consort.secagg.Stage.SHARE_KEYS || next == io.consort.secagg.Stage.MASKED_INPUT, "" + next);
      for (var e : byRecipient(transition).entrySet()) {
        boolean last = next == io.consort.secagg.Stage.MASKED_INPUT;
        SecAggStep s = last ? step(e.getValue()).toBuilder().addAllNextRoundMembers(nextRoster).build()
            : withCertificates(step(e.getValue()));
        SecAggStep answer = handlers.get(e.getKey()).handle(Task.newBuilder().setHeader(Headers.of("piped", 1,
            last ? Stage.MASKED_INPUT : Stage.SHARE_KEYS)).setSecureAggregation(s).build()).getSecureAggregation();
        assertEquals(last && selfMask ? 2 : 1, answer.getMessagesCount(), "masked input (and b-shares) in one answer");
        for (ByteString m : answer.getMessagesList()) {
          server.acceptEncoded(e.getKey(), m.toByteArray());
        }
        if (answer.hasNextRound()) {
          nextKeys.put(e.getKey(), answer.getNextRound().getMessages(0).toByteArray());
        }
      }
      transition = server.closeStage();
    }
    assertEquals(io.consort.secagg.Stage.MASKED_INPUT, transition.closedStage());
    assertEquals(BANKS, transition.result().orElseThrow().includedBanks());
    return nextKeys;
  }

  @Test
  void withInput_pipelinedRoundIsAnsweredWithMaskedInputBSharesAndNextKeys_andAnAbandonedSumStaysJournalled()
      throws Exception {
    acceptDpJob(true);
    Map<String, byte[]> keys = roundOneWithInput(BANKS);
    assertEquals(BANKS.size(), keys.size());
    SecAggServer server = server(2);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server, keys, UnaryOperator.identity());

    // round 2: bank-3 never answers its training task; the others' answers end the sum on their side
    for (String bank : List.of("bank-1", "bank-2")) {
      SecAggStep answer = handlers.get(bank).handle(train(2, BANKS, step(forwarded.get(bank)).toBuilder()
          .addAllNextRoundMembers(BANKS).build())).getSecureAggregation();
      assertEquals(2, answer.getMessagesCount());
      assertInstanceOf(MaskedInput.class, SecAggCodec.decode(answer.getMessages(0).toByteArray()));
      UnmaskingResponse shares = assertInstanceOf(UnmaskingResponse.class,
          SecAggCodec.decode(answer.getMessages(1).toByteArray()));
      assertTrue(shares.shares().stream().allMatch(r -> r.kind() == ShareKind.SELF_MASK_SEED), "b-shares only");
      assertTrue(answer.hasNextRound(), "keys for round 3 with the masked input");
      for (ByteString m : answer.getMessagesList()) {
        server.acceptEncoded(bank, m.toByteArray());
      }
    }
    ServerTransition abandoned = server.closeStage();
    assertTrue(abandoned.isAborted() && abandoned.abortReason().orElseThrow().contains("abandoned"),
        abandoned.toString());
    // the coordinator pretends bank-3 dropped and asks the victim for its s^SK-share: refused, nothing revealed
    UnmaskingRequest pretend = new UnmaskingRequest(new MessageHeader("piped", forwarded.get(VICTIM).header().round(),
        io.consort.secagg.Stage.UNMASKING, "coordinator", VICTIM), List.of("bank-1", "bank-2"), List.of("bank-3"),
        List.of());
    String refused = refusal(Task.newBuilder().setHeader(Headers.of("piped", 2, Stage.UNMASKING))
        .setSecureAggregation(step(pretend)).build());
    assertTrue(refused.contains("no secure-aggregation round is open") || refused.contains("finished the round"),
        refused);

    // round 3 runs unpipelined with fresh keys: a new release, and the abandoned attempt stays journalled
    assertInstanceOf(AdvertiseKeys.class, SecAggCodec.decode(handlers.get(VICTIM).handle(train(3, BANKS, null))
        .getSecureAggregation().getMessages(0).toByteArray()));
    assertEquals(List.of(1, 2, 3), new SpendJournal(dir.resolve("dp").resolve(VICTIM)).releases().stream()
        .map(SpendJournal.Release::round).toList());
  }

  // ---- no self mask under with_input (protocol version 7, secure_aggregation.self_mask: false) ----

  @Test
  void noSelfMask_pipelinedRoundIsAnsweredWithTheMaskedInputAlone_andTheSumOfTheKeyRosterCompletes() throws Exception {
    selfMask = false;
    acceptDpJob(true);
    Map<String, byte[]> keys = roundOneWithInput(BANKS);
    SecAggServer server = server(2);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server, keys, UnaryOperator.identity());
    for (String bank : BANKS) {
      assertTrue(((io.consort.secagg.message.ForwardedShares) forwarded.get(bank)).shares().isEmpty(),
          "nothing is forwarded in a sum without self masks");
      SecAggStep answer = handlers.get(bank).handle(train(2, BANKS, step(forwarded.get(bank)).toBuilder()
          .addAllNextRoundMembers(BANKS).build())).getSecureAggregation();
      assertEquals(1, answer.getMessagesCount(), "the masked input, no b-shares");
      assertInstanceOf(MaskedInput.class, SecAggCodec.decode(answer.getMessages(0).toByteArray()));
      server.acceptEncoded(bank, answer.getMessages(0).toByteArray());
    }
    ServerTransition done = server.closeStage();
    assertTrue(done.isCompleted(), done.toString());
    assertEquals(BANKS, done.result().orElseThrow().includedBanks());
  }

  /** The coordinator forwards the victim a share with its training task: refused before training, nothing leaves. */
  @Test
  void noSelfMask_aTrainTaskForwardingAShare_isRefusedBeforeTraining_andChargesNoPrivacySpend() throws Exception {
    selfMask = false;
    acceptDpJob(true);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), roundOneWithInput(BANKS),
        UnaryOperator.identity());
    io.consort.secagg.message.ForwardedShares empty =
        (io.consort.secagg.message.ForwardedShares) forwarded.get(VICTIM);
    io.consort.secagg.message.ForwardedShares withAShare = new io.consort.secagg.message.ForwardedShares(
        empty.header(), List.of(new io.consort.secagg.message.EncryptedShare("bank-2", VICTIM, new byte[61])));

    String refusal = refusal(train(2, BANKS, step(withAShare).toBuilder().addAllNextRoundMembers(BANKS).build()));

    assertTrue(refusal.contains("no bank shares anything"), refusal);
    assertEquals(List.of(1), new SpendJournal(dir.resolve("dp").resolve(VICTIM)).releases().stream()
        .map(SpendJournal.Release::round).toList());
  }

  @Test
  void noSelfMask_periodKeys_keyEveryPipelinedRoundOfAPeriod_andAreWipedWhenThePeriodEnds() throws Exception {
    selfMask = false;
    periodKeys_keyEveryPipelinedRoundOfAPeriod_areVerifiedOnceAPeriod_andWipedWhenThePeriodEnds();
  }

  @Test
  void noSelfMask_aCoordinatorAskingAgainForASumRoundTheBankMaskedWithItsPeriodKeys_isRefusedBeforeTraining()
      throws Exception {
    selfMask = false;
    aCoordinatorAskingAgainForASumRoundTheBankMaskedWithItsPeriodKeys_isRefusedBeforeTraining_andNothingLeaves();
  }

  @Test
  void trainTaskNamingANextRoster_inAJobPinnedAfterInputs_isRefusedBeforeTraining_andChargesNoPrivacySpend()
      throws Exception {
    acceptDpJob(false);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server(2), roundOne(), UnaryOperator.identity());

    String refusal = refusal(train(2, BANKS, step(forwarded.get(VICTIM)).toBuilder().addAllNextRoundMembers(BANKS)
        .build()));

    assertTrue(refusal.contains("only a job pinned with secure_aggregation.unmasking: with_input"), refusal);
    assertEquals(List.of(1), new SpendJournal(dir.resolve("dp").resolve(VICTIM)).releases().stream()
        .map(SpendJournal.Release::round).toList());
  }

  @Test
  void trainTaskSayingTheOtherUnmaskingMode_isRefusedBeforeTraining_eitherWay() throws Exception {
    for (boolean pinnedWithInput : new boolean[] {false, true}) {
      Path base = dir.resolve(pinnedWithInput ? "dp-with-input" : "dp-after-inputs");
      acceptDpJob(pinnedWithInput, base);
      Task task = train(1, BANKS, null);
      Task lying = task.toBuilder().setTrain(task.getTrain().toBuilder().setSecureAggregation(task.getTrain()
          .getSecureAggregation().toBuilder().setUnmaskingWithInput(!pinnedWithInput))).build();

      String refusal = refusal(lying);

      assertTrue(refusal.contains("differs from the accepted plan's " + (pinnedWithInput ? "with_input"
          : "after_inputs")), refusal);
      assertTrue(new SpendJournal(base.resolve(VICTIM)).releases().isEmpty(),
          "a refused round was journalled as a release");
    }
  }

  /**
   * The bank derives its FedAvg weight from its own rows and the task's row total R (protocol version 9): an R below
   * its own rows (a weight above 1), zero, or past 2^63 (negative as a Java long) is refused with the round's other
   * parameters, before training, so nothing is journalled.
   */
  @Test
  void trainTask_withARowTotalBelowTheBanksOwnRowsOrNotPositive_isRefusedBeforeTraining_andChargesNoPrivacySpend()
      throws Exception {
    acceptJob(JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(3).privacy(io.consort.spec.PrivacyMode.RECORD).targetEpsilon(1.0).build(), dir.resolve("dp"));
    long own = rows.get(VICTIM);

    String below = refusal(withRowTotal(train(1, BANKS, null), own - 1));
    String zero = refusal(withRowTotal(train(1, BANKS, null), 0));
    String huge = refusal(withRowTotal(train(1, BANKS, null), -1)); // uint64 2^64 - 1

    assertTrue(below.contains("the round's row total " + (own - 1) + " is below this bank's own " + own
        + " training rows"), below);
    assertTrue(zero.contains("the round's row total must be a positive integer"), zero);
    assertTrue(huge.contains("must be a positive integer (the sum of the round members' training rows), got "
        + "18446744073709551615"), huge);
    assertTrue(new SpendJournal(dir.resolve("dp").resolve(VICTIM)).releases().isEmpty(),
        "a round refused for its row total was journalled as a release");
  }

  private static Task withRowTotal(Task task, long rowTotal) {
    return task.toBuilder().setTrain(task.getTrain().toBuilder().setRoundRowTotal(rowTotal)).build();
  }

  /**
   * Round 1 unpipelined, driven through the banks' handlers until the server opens {@code stop}: that stage's
   * messages, not yet delivered.
   */
  private Map<String, SecAggMessage> roundOneUntil(io.consort.secagg.Stage stop) throws Exception {
    SecAggServer server = server(1);
    for (String bank : BANKS) {
      for (ByteString m : handlers.get(bank).handle(train(1, BANKS, null)).getSecureAggregation().getMessagesList()) {
        server.acceptEncoded(bank, m.toByteArray());
      }
    }
    ServerTransition transition = server.closeStage();
    while (transition.outgoing().get(0).header().stage() != stop) {
      for (var e : byRecipient(transition).entrySet()) {
        SecAggStep answer = handlers.get(e.getKey()).handle(secAggTask(1, Stage.SHARE_KEYS,
            withCertificates(step(e.getValue())))).getSecureAggregation();
        for (ByteString m : answer.getMessagesList()) {
          server.acceptEncoded(e.getKey(), m.toByteArray());
        }
      }
      transition = server.closeStage();
    }
    return byRecipient(transition);
  }

  private static Task secAggTask(int round, Stage stage, SecAggStep step) {
    return Task.newBuilder().setHeader(Headers.of("piped", round, stage)).setSecureAggregation(step).build();
  }

  /** A fast unmasking request to the victim: no consistency signatures, nobody dropped. */
  private static Task fastUnmasking(int round, List<String> survivors) {
    MessageHeader header = new MessageHeader("piped", io.consort.spec.SecureSumPurpose.MODEL_UPDATE.secaggRound(round),
        io.consort.secagg.Stage.UNMASKING, io.consort.secagg.RoundParameters.COORDINATOR_ID, VICTIM);
    return secAggTask(round, Stage.UNMASKING, step(new UnmaskingRequest(header, survivors, List.of(), List.of())));
  }

  @Test
  void roundsNobodyDroppedFrom_skipTheConsistencyCheck_keyAheadWithTheFastUnmasking_andComplete() throws Exception {
    Map<io.consort.secagg.Stage, Map<String, SecAggMessage>> record = new LinkedHashMap<>();
    Map<String, byte[]> keys = roundOne(server(1, true));
    SecAggServer server = server(2, true);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server, keys, UnaryOperator.identity());
    for (String bank : BANKS) {
      SecAggStep answer = handlers.get(bank).handle(train(2, BANKS, step(forwarded.get(bank)))).getSecureAggregation();
      server.acceptEncoded(bank, answer.getMessages(0).toByteArray());
    }

    drive(2, server, List.of(), record); // all three banks included (drive asserts it)

    assertEquals(BANKS.size(), keys.size(), "round 2 was keyed ahead with round 1's fast unmasking answers");
    assertEquals(Set.of(io.consort.secagg.Stage.UNMASKING), record.keySet());
    assertFalse(roundOneMessages.containsKey(io.consort.secagg.Stage.CONSISTENCY_CHECK), "round 1 had no check");
  }

  @Test
  void fastUnmaskingRequest_isRefused_afterTheBankSignedASurvivorSet() throws Exception {
    Map<String, SecAggMessage> check = roundOneUntil(io.consort.secagg.Stage.CONSISTENCY_CHECK);
    handlers.get(VICTIM).handle(secAggTask(1, Stage.CONSISTENCY_CHECK, step(check.get(VICTIM))));

    String refusal = refusal(fastUnmasking(1, BANKS));

    assertTrue(refusal.contains("after bank 'bank-1' signed a survivor set"), refusal);
  }

  @Test
  void consistencyCheck_isRefused_afterTheBankAnsweredAFastUnmaskingRequest() throws Exception {
    Map<String, SecAggMessage> check = roundOneUntil(io.consort.secagg.Stage.CONSISTENCY_CHECK);
    UnmaskingResponse answer = (UnmaskingResponse) SecAggCodec.decode(handlers.get(VICTIM)
        .handle(fastUnmasking(1, BANKS)).getSecureAggregation().getMessages(0).toByteArray());

    String refusal = refusal(secAggTask(1, Stage.CONSISTENCY_CHECK, step(check.get(VICTIM))));

    assertEquals(BANKS.size(), answer.shares().size());
    assertTrue(answer.shares().stream().allMatch(s -> s.kind() == ShareKind.SELF_MASK_SEED), "b-shares only");
    assertTrue(refusal.contains("no secure-aggregation round is open"), refusal);
  }

  @Test
  void fastUnmaskingRequest_isRefused_whenItsSurvivorsAreNotTheWholeRoster() throws Exception {
    roundOneUntil(io.consort.secagg.Stage.CONSISTENCY_CHECK);

    String refusal = refusal(fastUnmasking(1, List.of("bank-1", "bank-2")));

    assertTrue(refusal.contains("fast unmasking request refused") && refusal.contains("not the whole roster"),
        refusal);
    assertThrows(ProtocolViolationException.class, () -> handlers.get(VICTIM).handle(fastUnmasking(1, BANKS)),
        "the bank aborted the round: nothing is released afterwards");
  }

  @Test
  void aTrainingAnswer_waitsForItsMaskVector_whileTheMaskThreadIsHeld_andThenSumsExactly() throws Exception {
    java.util.concurrent.BlockingQueue<Runnable> maskThread = new java.util.concurrent.LinkedBlockingQueue<>();
    handlers.get(VICTIM).secureAggregation().maskThread(maskThread::add); // expanded only when the test runs it
    SecAggServer server = server(2);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server, roundOne(), UnaryOperator.identity());
    assertEquals(1, maskThread.size(), "the key roster should start the victim's mask vector");
    java.util.concurrent.atomic.AtomicReference<Thread> worker = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.CompletableFuture<SecAggStep> answer = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          worker.set(Thread.currentThread());
          try {
            return handlers.get(VICTIM).handle(train(2, BANKS, step(forwarded.get(VICTIM)))).getSecureAggregation();
          } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        });

    // trained, quantised, and parked on the vector: no event says so, so the test watches the worker's stack
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (!waitingForMasks(worker.get()) && !answer.isDone() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertFalse(answer.isDone(), "the masked input left before its mask vector was expanded");
    assertTrue(waitingForMasks(worker.get()), "the training task never reached its masking");
    maskThread.take().run();
    SecAggStep masked = answer.get(60, java.util.concurrent.TimeUnit.SECONDS);

    server.acceptEncoded(VICTIM, masked.getMessages(0).toByteArray());
    for (String bank : BANKS) {
      if (!bank.equals(VICTIM)) {
        SecAggStep other = handlers.get(bank).handle(train(2, BANKS, step(forwarded.get(bank)))).getSecureAggregation();
        server.acceptEncoded(bank, other.getMessages(0).toByteArray());
      }
    }
    drive(2, server, List.of(), new LinkedHashMap<>()); // the sum completes with every bank in it
  }

  private static boolean waitingForMasks(Thread thread) {
    return thread != null && thread.getState() == Thread.State.WAITING && java.util.Arrays.stream(thread.getStackTrace())
        .anyMatch(frame -> frame.getClassName().endsWith("MasksAhead") && frame.getMethodName().equals("take"));
  }

  @Test
  void aRepeatedTrainingTaskOfARoundKeyedAhead_getsNoSecondMaskedInput() throws Exception {
    SecAggServer server = server(2);
    Map<String, SecAggMessage> forwarded = shareRoundTwo(server, roundOne(), UnaryOperator.identity());
    Task task = train(2, BANKS, step(forwarded.get(VICTIM)));
    assertInstanceOf(MaskedInput.class, SecAggCodec.decode(handlers.get(VICTIM).handle(task).getSecureAggregation()
        .getMessages(0).toByteArray()));

    String refusal = refusal(task); // the same task again: a second input under the same masks would leak

    assertTrue(refusal.contains("refuses them: it keyed no round ahead"), refusal);
  }

  // ---- keys for a period of rounds (protocol version 6, secure_aggregation.key_rounds) ----

  /** Whose period advertisements the test coordinator's delegate verified, behind its per-job cache. */
  private final List<String> periodVerified = new ArrayList<>();
  private final io.consort.secagg.PeriodAdvertisements periodCache = new io.consort.secagg.PeriodAdvertisements();

  /** A 5-round job with record-level DP, unmasking with the input, keys for periods of {@code keyRounds} rounds. */
  private void acceptPeriodJob(int keyRounds) throws Exception {
    acceptJob(JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4))
        .rounds(5).privacy(io.consort.spec.PrivacyMode.RECORD).targetEpsilon(3.0).unmaskingWithInput(true)
        .keyRounds(keyRounds).selfMask(selfMask).build(), dir.resolve("periods"));
  }

  /** The coordinator's server of pipelined round {@code round}: period advertisements, verified once a period. */
  private SecAggServer periodServer(int round) {
    return SecAggServer.create(SecureRoundPlan.derive(spec, round, BANKS, model.getValuesCount())
        .sumParameters(RoundEvaluation.carriedSlots(spec, round)), periodCache.through((bank, message, signature) -> {
          periodVerified.add(bank);
          if (!verifier.verify(certificates.get(bank), message, signature, Set.of(Role.PARTICIPANT)).name()
              .equals(bank)) {
            throw new java.security.GeneralSecurityException("signature of another bank");
          }
        }), true, SecureRoundPlan.keyPeriod(spec, round));
  }

  /** Pipelined round {@code round} keyed with {@code keys}: its key roster and shares, as with the ledger task. */
  private Map<String, SecAggMessage> sharePeriodRound(int round, SecAggServer server, Map<String, byte[]> keys)
      throws Exception {
    keys.forEach((bank, k) -> assertDoesNotThrowPv(() -> server.acceptEncoded(bank, k)));
    for (var e : byRecipient(server.closeStage()).entrySet()) {
      SecAggStep shares = handlers.get(e.getKey()).secureAggregation().shareAhead("piped", round,
          withCertificates(step(e.getValue())), trainingDigest(model));
      io.consort.secagg.message.ShareKeys sent = assertInstanceOf(io.consort.secagg.message.ShareKeys.class,
          SecAggCodec.decode(shares.getMessages(0).toByteArray()));
      sent.shares().forEach(c -> assertEquals(12 + 16 + 33, c.ciphertext().length, "a b-share only, never s^SK"));
      server.acceptEncoded(e.getKey(), shares.getMessages(0).toByteArray());
    }
    return byRecipient(server.closeStage());
  }

  /** Pipelined round {@code round} to its end: the banks' training answers name the next round's keys. */
  private Map<String, byte[]> periodRound(int round, Map<String, byte[]> keys) throws Exception {
    SecAggServer server = periodServer(round);
    Map<String, SecAggMessage> forwarded = sharePeriodRound(round, server, keys);
    List<String> nextRoster = round < spec.training().rounds() ? BANKS : List.of();
    Map<String, byte[]> nextKeys = new LinkedHashMap<>();
    for (String bank : BANKS) {
      SecAggStep answer = handlers.get(bank).handle(train(round, BANKS, step(forwarded.get(bank)).toBuilder()
          .addAllNextRoundMembers(nextRoster).build())).getSecureAggregation();
      for (ByteString m : answer.getMessagesList()) {
        UnmaskingResponse shares = SecAggCodec.decode(m.toByteArray()) instanceof UnmaskingResponse r ? r : null;
        if (shares != null) {
          assertTrue(shares.shares().stream().allMatch(r -> r.kind() == ShareKind.SELF_MASK_SEED), "b-shares only");
        }
        server.acceptEncoded(bank, m.toByteArray());
      }
      if (answer.hasNextRound()) {
        nextKeys.put(bank, answer.getNextRound().getMessages(0).toByteArray());
      }
    }
    ServerTransition done = server.closeStage();
    assertTrue(done.isCompleted(), () -> "round " + round + ": " + done.abortReason());
    assertEquals(BANKS, done.result().orElseThrow().includedBanks());
    return nextKeys;
  }

  @Test
  void periodKeys_keyEveryPipelinedRoundOfAPeriod_areVerifiedOnceAPeriod_andWipedWhenThePeriodEnds()
      throws Exception {
    acceptPeriodJob(3); // rounds 1-3: period 0, rounds 4-5: period 1
    Map<String, byte[]> two = roundOneWithInput(BANKS);
    BankSecureAggregation victim = handlers.get(VICTIM).secureAggregation();
    io.consort.secagg.PeriodKeys periodZero = victim.periodKeys("piped");
    assertEquals(new io.consort.secagg.KeyPeriod(0, 3), periodZero.period());

    Map<String, byte[]> three = periodRound(2, two);
    assertEquals(advertised(two.get(VICTIM)).maskingPublicKey().length, 32);
    assertArrayEquals(advertised(two.get(VICTIM)).maskingPublicKey(), advertised(three.get(VICTIM)).maskingPublicKey(),
        "round 3 is of the same period: the same keys and signature");
    assertArrayEquals(advertised(two.get(VICTIM)).signature(), advertised(three.get(VICTIM)).signature());
    Map<String, byte[]> four = periodRound(3, three);
    assertTrue(periodZero.isDestroyed(), "period 0's keys are wiped once its last round is masked");
    assertEquals(new io.consort.secagg.KeyPeriod(1, 3), victim.periodKeys("piped").period());
    assertFalse(java.util.Arrays.equals(advertised(three.get(VICTIM)).maskingPublicKey(),
        advertised(four.get(VICTIM)).maskingPublicKey()), "a new period, new keys");
    io.consort.secagg.PeriodKeys periodOne = victim.periodKeys("piped");
    Map<String, byte[]> five = periodRound(4, four);
    assertFalse(periodOne.isDestroyed(), "round 5 is of period 1 too");
    periodRound(5, five);
    assertTrue(periodOne.isDestroyed(), "the job's last round is masked: its period's keys protect nothing new");
    assertNull(victim.periodKeys("piped"));

    // the coordinator verified each bank's advertisement once in period 0 (rounds 2, 3) and once in period 1 (4, 5)
    List<String> twice = new ArrayList<>(BANKS);
    twice.addAll(BANKS);
    assertEquals(twice, periodVerified);
    assertEquals(List.of(1, 2, 3, 4, 5), new SpendJournal(dir.resolve("periods").resolve(VICTIM)).releases().stream()
        .map(SpendJournal.Release::round).toList());
  }

  @Test
  void aCoordinatorAskingAgainForASumRoundTheBankMaskedWithItsPeriodKeys_isRefusedBeforeTraining_andNothingLeaves()
      throws Exception {
    acceptPeriodJob(4);
    SecAggServer server = periodServer(2);
    Map<String, SecAggMessage> forwarded = sharePeriodRound(2, server, roundOneWithInput(BANKS));
    Task roundTwo = train(2, BANKS, step(forwarded.get(VICTIM)).toBuilder().addAllNextRoundMembers(BANKS).build());
    assertInstanceOf(MaskedInput.class, SecAggCodec.decode(handlers.get(VICTIM).handle(roundTwo)
        .getSecureAggregation().getMessages(0).toByteArray()));
    BankSecureAggregation victim = handlers.get(VICTIM).secureAggregation();
    io.consort.secagg.PeriodKeys keys = victim.periodKeys("piped");
    assertEquals(io.consort.secagg.PeriodKeys.class, keys.getClass());

    // the same training task again: refused before training, no second release
    String again = refusal(roundTwo);
    assertTrue(again.contains("refuses them"), again);
    // asked to key round 2 (already masked with these keys) ahead again: refused by name, nothing advertised
    ProtocolViolationException rekey = assertThrows(ProtocolViolationException.class,
        () -> victim.keyAhead(spec, 2, BANKS, model.getValuesCount()));
    assertTrue(rekey.getMessage().contains("already masked sum round"), rekey.getMessage());
    assertEquals(List.of(1, 2), new SpendJournal(dir.resolve("periods").resolve(VICTIM)).releases().stream()
        .map(SpendJournal.Release::round).toList());
  }

  @Test
  void periodKeys_areWiped_whenARoundFallsBackUnpipelined_orTheJobFinishes() throws Exception {
    acceptPeriodJob(4);
    roundOneWithInput(BANKS);
    BankSecureAggregation victim = handlers.get(VICTIM).secureAggregation();
    io.consort.secagg.PeriodKeys keyed = victim.periodKeys("piped");
    assertFalse(keyed.isDestroyed());

    // the coordinator runs round 2 unpipelined (no forwarded shares): the keys ahead and the period's keys go
    assertInstanceOf(AdvertiseKeys.class, SecAggCodec.decode(handlers.get(VICTIM).handle(train(2, BANKS, null))
        .getSecureAggregation().getMessages(0).toByteArray()));
    assertTrue(keyed.isDestroyed());
    assertNull(victim.periodKeys("piped"));

    victim.keyAhead(spec, 3, BANKS, model.getValuesCount());
    io.consort.secagg.PeriodKeys again = victim.periodKeys("piped");
    assertFalse(again.isDestroyed());
    handlers.get(VICTIM).handle(Task.newBuilder().setHeader(Headers.of("piped", 2, Stage.FINISHED))
        .setFinished(io.consort.protocol.v1.JobFinished.newBuilder().setFinalModel(model).setReason("stopped"))
        .build());
    assertTrue(again.isDestroyed(), "period keys outlived their job");
    assertNull(victim.periodKeys("piped"));
  }

  @Test
  void periodKeys_areWiped_whenTheNextRosterLeavesTheBankOutMidPeriod() throws Exception {
    acceptPeriodJob(4); // rounds 1-4: period 0
    Map<String, SecAggMessage> forwarded = sharePeriodRound(2, periodServer(2), roundOneWithInput(BANKS));
    BankSecureAggregation victim = handlers.get(VICTIM).secureAggregation();
    io.consort.secagg.PeriodKeys keys = victim.periodKeys("piped");
    List<String> withoutVictim = BANKS.stream().filter(b -> !b.equals(VICTIM)).toList();

    SecAggStep answer = handlers.get(VICTIM).handle(train(2, BANKS, step(forwarded.get(VICTIM)).toBuilder()
        .addAllNextRoundMembers(withoutVictim).build())).getSecureAggregation();

    assertInstanceOf(MaskedInput.class, SecAggCodec.decode(answer.getMessages(0).toByteArray()));
    assertFalse(answer.hasNextRound(), "keys nothing ahead for a round it is not in");
    assertTrue(keys.isDestroyed(), "period keys kept for a round that may never come would outlive their period");
    assertNull(victim.periodKeys("piped"));
  }

  @Test
  void trainTaskSayingAnotherKeyRoundsThanThePinnedPlan_isRefusedBeforeTraining() throws Exception {
    acceptPeriodJob(4);
    Task task = train(1, BANKS, null);
    Task lying = task.toBuilder().setTrain(task.getTrain().toBuilder().setSecureAggregation(task.getTrain()
        .getSecureAggregation().toBuilder().setKeyRounds(1))).build();

    String refusal = refusal(lying);

    assertTrue(refusal.contains("key_rounds"), refusal);
    assertTrue(new SpendJournal(dir.resolve("periods").resolve(VICTIM)).releases().isEmpty());
  }

  // ---- the model bound into the masks (protocol version 8): a coordinator sending banks of one sum different models ----

  /**
   * A model whose gradients are zero on any data but in the output bias (every weight zero: the ReLUs are dead and the
   * output weights pass nothing back), of the shape of the job's.
   */
  private ModelParameters deadGradientModel() {
    return io.consort.model.wire.ModelWire.withValues(model, new float[model.getValuesCount()], model.getVersion());
  }

  /**
   * What a coordinator decodes from a sum of round {@code round}'s updates: the L2 norm of the decoded update. Every
   * bank's update is clipped to the plan's norm C and weighted by 1/3, so any sum of them has norm at most C (plus the
   * quantiser's error); a uniform ring vector decodes to coordinates of about (banks + headroom) * C each.
   */
  private double decodedNorm(int round, int[] sum) {
    SecureRoundPlan derived = SecureRoundPlan.derive(spec, round, BANKS, model.getValuesCount());
    double[] decoded = derived.quantizer().decodeSum(java.util.Arrays.copyOf(sum, model.getValuesCount()));
    double squared = 0;
    for (double v : decoded) {
      squared += v * v;
    }
    return Math.sqrt(squared);
  }

  private double clip(int round) {
    return SecureRoundPlan.derive(spec, round, BANKS, model.getValuesCount()).clipNorm();
  }

  /**
   * "Eluding secure aggregation via model inconsistency" (Pasquini, Francati and Ateniese, CCS 2022), DP off: the
   * coordinator sends the victim the real model and the others a model whose gradients are dead, so the others'
   * updates are zero but in one coordinate and, were the masks independent of the model (protocol version 7 and
   * before), the unmasked "sum" would be the victim's update (exactly so on the real client and server:
   * ModelBoundMasksTest.coordinatorReadsTheVictimsInputExactly_whenTheMasksDoNotDependOnTheModel). With the model bound
   * into the masks the sum completes but is uniform in the ring, and decodes to a norm far above anything clipped
   * updates sum to: for the few dozen coordinates d of this model, a uniform ring vector decodes to a norm of at most
   * 2C with probability below (2 / (banks + headroom))^d, under 10^-9.
   */
  @Test
  void aCoordinatorSendingTheVictimTheRealModelAndTheOthersADeadOne_unmasksNoise_notTheVictimsUpdate()
      throws Exception {
    roundOneWithTheVictimOn(model, deadGradientModel()); // completes: nothing tells the coordinator it failed

    assertTrue(decodedNorm(1, lastSum) > 2 * clip(1), "decoded norm " + decodedNorm(1, lastSum) + ", clip " + clip(1));
  }

  /** Round 1 unpipelined, the victim's training task carrying {@code victims}, the others' {@code others}. */
  private void roundOneWithTheVictimOn(ModelParameters victims, ModelParameters others) throws Exception {
    SecAggServer server = server(1);
    server.bindModel(trainingDigest(model));
    for (String bank : BANKS) {
      Task task = train(1, BANKS, null, bank.equals(VICTIM) ? victims : others);
      for (ByteString m : handlers.get(bank).handle(task).getSecureAggregation().getMessagesList()) {
        server.acceptEncoded(bank, m.toByteArray());
      }
    }
    drive(1, server, List.of(), new LinkedHashMap<>());
  }

  /** The control: every bank on the real model, the same sum decodes to an update no longer than the clip norm. */
  @Test
  void banksOnTheSameModel_sumToAnUpdateWithinTheClipNorm() throws Exception {
    SecAggServer server = server(1);
    server.bindModel(trainingDigest(model));

    drive(1, trainRoundOne(server), List.of(), new LinkedHashMap<>());

    assertTrue(decodedNorm(1, lastSum) <= clip(1) * 1.001, "decoded norm " + decodedNorm(1, lastSum));
  }

  /** Round 1's ledger entry releasing {@code released}, signed as the coordinator signs it (DP off: no mechanism). */
  private io.consort.protocol.v1.CountersignRequest ledgerEntry(ModelParameters released) throws Exception {
    var entry = new io.consort.privacy.ledger.PrivacyLedger().nextEntry("piped", 1, java.time.Instant.now(), BANKS,
        1e-5, List.of(), released.getSha256());
    var signed = io.consort.privacy.ledger.LedgerSigning.sign(entry,
        PemFiles.readPrivateKey(pki.coordinator().keyFile()),
        PemFiles.readCertificates(pki.coordinator().chainFile()).get(0));
    return io.consort.protocol.v1.CountersignRequest.newBuilder()
        .setEntryJson(io.consort.privacy.ledger.SignedEntryJson.toJson(signed)).setEntryHash(signed.entryHash())
        .setNextRoundRowTotal(rowTotal(BANKS)).build();
  }

  /**
   * Round 2's keys to {@code server} and its roster relayed with round 1's ledger task, through the banks' task
   * handlers; each bank is asked to countersign the entry {@code entryFor} gives it (a coordinator may equivocate).
   */
  private Map<String, SecAggMessage> shareRoundTwoWithTheLedgerTask(SecAggServer server, Map<String, byte[]> keys,
      java.util.function.Function<String, io.consort.protocol.v1.CountersignRequest> entryFor) throws Exception {
    keys.forEach((bank, k) -> assertDoesNotThrowPv(() -> server.acceptEncoded(bank, k)));
    for (var e : byRecipient(server.closeStage()).entrySet()) {
      Task ledgerTask = Task.newBuilder().setHeader(Headers.of("piped", 1, Stage.LEDGER_COUNTERSIGN))
          .setCountersign(entryFor.apply(e.getKey()).toBuilder().setNextRound(withCertificates(step(e.getValue()))))
          .build();
      SecAggStep shares = handlers.get(e.getKey()).handle(ledgerTask).getCountersignature().getNextRound();
      server.acceptEncoded(e.getKey(), shares.getMessages(0).toByteArray());
    }
    return byRecipient(server.closeStage());
  }

  /**
   * The attack on pipelined rounds, whose masks are expanded at the ledger task, before the training task: the
   * coordinator equivocates on round 1's ledger entry too (the victim countersigns an entry releasing the real model,
   * the others one releasing the dead model) and sends each bank the model its entry released, so every bank trains.
   * Each bank bound its masks to the model of the entry it countersigned: the sum completes, and is noise (false
   * failure as above).
   */
  @Test
  void aCoordinatorEquivocatingOnTheLedgerEntryAndTheModel_inAPipelinedRound_unmasksNoise() throws Exception {
    ModelParameters dead = deadGradientModel();
    var real = ledgerEntry(model);
    var deadEntry = ledgerEntry(dead);
    Map<String, byte[]> keys = roundOne();
    SecAggServer server = server(2);
    server.bindModel(trainingDigest(model));
    Map<String, SecAggMessage> forwarded = shareRoundTwoWithTheLedgerTask(server, keys,
        bank -> bank.equals(VICTIM) ? real : deadEntry);
    for (String bank : BANKS) {
      SecAggStep answer = handlers.get(bank).handle(train(2, BANKS, step(forwarded.get(bank)),
          bank.equals(VICTIM) ? model : dead)).getSecureAggregation();
      server.acceptEncoded(bank, answer.getMessages(0).toByteArray());
    }

    drive(2, server, List.of(), new LinkedHashMap<>());

    assertTrue(decodedNorm(2, lastSum) > 2 * clip(2), "decoded norm " + decodedNorm(2, lastSum) + ", clip " + clip(2));
  }

  /** The same pipelined round with one entry for all: the masks cancel, and the sum is within the clip norm. */
  @Test
  void pipelinedRoundKeyedAtTheLedgerTask_sumsWithinTheClipNorm_whenEveryBankTrainsOnTheModelItsEntryReleased()
      throws Exception {
    var real = ledgerEntry(model);
    Map<String, byte[]> keys = roundOne();
    SecAggServer server = server(2);
    server.bindModel(trainingDigest(model));
    Map<String, SecAggMessage> forwarded = shareRoundTwoWithTheLedgerTask(server, keys, bank -> real);
    for (String bank : BANKS) {
      SecAggStep answer = handlers.get(bank).handle(train(2, BANKS, step(forwarded.get(bank)))).getSecureAggregation();
      server.acceptEncoded(bank, answer.getMessages(0).toByteArray());
    }

    drive(2, server, List.of(), new LinkedHashMap<>());

    assertTrue(decodedNorm(2, lastSum) <= clip(2) * 1.001, "decoded norm " + decodedNorm(2, lastSum));
  }

  /**
   * The bank bound round 2's masks to the model of the entry it countersigned; a training task carrying another model
   * is refused before training (nothing is trained or sent), and the keys made ahead are discarded.
   */
  @Test
  void pipelinedTrainingTaskCarryingAnotherModelThanTheCountersignedEntryReleased_isRefusedBeforeTraining()
      throws Exception {
    var real = ledgerEntry(model);
    Map<String, SecAggMessage> forwarded = shareRoundTwoWithTheLedgerTask(server(2), roundOne(), bank -> real);

    String refusal = refusal(train(2, BANKS, step(forwarded.get(VICTIM)), deadGradientModel()));

    assertTrue(refusal.contains("bound round 2's masks to model " + digest(model)), refusal);
    // the task got no answer (its handling threw), and the keys and masks made ahead for round 2 are wiped
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  /**
   * The same parameters in another feature encoding: every numeric column's std scaled by 10^9, so a bank's encoded
   * numeric inputs are all but zero and its first-layer gradients on them vanish.
   */
  private ModelParameters sameParametersInputsScaledToNothing() {
    var encoding = model.getEncoding().toBuilder();
    for (int i = 0; i < encoding.getNumericCount(); i++) {
      encoding.setNumeric(i, encoding.getNumeric(i).toBuilder().setStd(encoding.getNumeric(i).getStd() * 1e9));
    }
    return model.toBuilder().setEncoding(encoding).build();
  }

  /**
   * The attack through the encoding instead of the parameters: the others get the real parameters (the same SHA-256)
   * in an encoding that scales their inputs to nothing, so their first-layer gradients vanish and, with masks bound
   * to the parameters alone, that block of the sum would be the victim's. The masks are bound to the encoding too:
   * the sum is noise (false failure as above).
   */
  @Test
  void aCoordinatorSendingTheOthersTheSameParametersInAnotherEncoding_unmasksNoise() throws Exception {
    ModelParameters rescaled = sameParametersInputsScaledToNothing();
    assertEquals(model.getSha256(), rescaled.getSha256());

    roundOneWithTheVictimOn(model, rescaled);

    assertTrue(decodedNorm(1, lastSum) > 2 * clip(1), "decoded norm " + decodedNorm(1, lastSum) + ", clip " + clip(1));
  }

  /** Pipelined: a training task carrying the countersigned parameters in another encoding is refused before training. */
  @Test
  void pipelinedTrainingTaskCarryingTheCountersignedParametersInAnotherEncoding_isRefusedBeforeTraining()
      throws Exception {
    var real = ledgerEntry(model);
    Map<String, SecAggMessage> forwarded = shareRoundTwoWithTheLedgerTask(server(2), roundOne(), bank -> real);

    String refusal = refusal(train(2, BANKS, step(forwarded.get(VICTIM)), sameParametersInputsScaledToNothing()));

    assertTrue(refusal.contains("bound round 2's masks to model " + digest(model)), refusal);
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  // ---- the FedAvg weight is the bank's own (protocol version 9): a coordinator sending banks different row totals ----

  /** The victim's own rows: as its row total, its weight is 1. */
  private long victimsOwnRows() {
    return rows.get(VICTIM);
  }

  /** A row total a billion times the round's: the others' weights about 3 * 10^-10, their updates all but zero. */
  private long aBillionTimesTheRoundsRows() {
    return rowTotal(BANKS) * 1_000_000_000L;
  }

  /**
   * The attack the task's {@code aggregation_weight} allowed (protocol version 8 and before), DP off: the coordinator
   * gives the victim weight 1 and the others about 10^-9, so the unmasked sum is the victim's clipped update alone.
   * Now each bank derives its weight from its own rows and the row total R the task carries, so the coordinator gives
   * the victim R = its own rows and the others a billion times the round's; the weights are as before, but each bank
   * bound its R into its masks: the sum completes and is uniform in the ring (false failure as above). With the row
   * total left out of the masks (checked by hand) it decoded to the victim's update, of norm at most C.
   */
  @Test
  void aCoordinatorGivingTheVictimWeightOneAndTheOthersABillionthThroughTheRowTotal_unmasksNoise_notTheVictimsUpdate()
      throws Exception {
    roundOneWithRowTotals(bank -> bank.equals(VICTIM) ? victimsOwnRows() : aBillionTimesTheRoundsRows(),
        victimsOwnRows());

    assertTrue(decodedNorm(1, lastSum) > 2 * clip(1), "decoded norm " + decodedNorm(1, lastSum) + ", clip " + clip(1));
  }

  /** Round 1 unpipelined, each bank's training task carrying the row total {@code rowTotalFor} gives it. */
  private void roundOneWithRowTotals(java.util.function.ToLongFunction<String> rowTotalFor, long serverBinds)
      throws Exception {
    SecAggServer server = server(1);
    server.bindModel(digest(model).withRoundRowTotal(serverBinds));
    for (String bank : BANKS) {
      Task task = withRowTotal(train(1, BANKS, null), rowTotalFor.applyAsLong(bank));
      for (ByteString m : handlers.get(bank).handle(task).getSecureAggregation().getMessagesList()) {
        server.acceptEncoded(bank, m.toByteArray());
      }
    }
    drive(1, server, List.of(), new LinkedHashMap<>());
  }

  /**
   * Exact weighted FedAvg with banks of different sizes (40, 80 and 160 rows), each deriving its weight n_i / R: the
   * decoded sum equals the sum of n_i / R times each bank's clipped update, within the quantiser's error bound (and
   * the float rounding of training).
   * Full-batch gradient descent makes each bank's update a function of its rows and the model alone (no shuffle decides
   * the batches), so the same banks' updates in a job without secure aggregation, clipped and weighted here, are what
   * the sum must be (the clip norm is low enough that the larger banks' updates are clipped).
   */
  @Test
  void banksOfDifferentSizes_sumToTheirClippedUpdatesWeightedByTheirOwnRowsOverTheRowTotal() throws Exception {
    bankRows = new int[] {40, 80, 160, 40};
    skewedLabels = true;
    io.consort.spec.JobSpecBuilder job = JobSpec.builder().id("piped").schema(SCHEMA).engine(TrainingEngine.NATIVE)
        .hiddenLayers(List.of(4)).batchSize(1024).secureAggregationClipNorm(0.01).rounds(3);
    acceptJob(job.build(), dir.resolve("unequal"));
    long total = rowTotal(BANKS);
    assertEquals(3, BANKS.stream().map(rows::get).distinct().count(), "banks of one size: " + rows);

    drive(1, trainRoundOne(), List.of(), new LinkedHashMap<>());

    SecureRoundPlan derived = SecureRoundPlan.derive(spec, 1, BANKS, model.getValuesCount());
    double[] decoded = derived.quantizer().decodeSum(java.util.Arrays.copyOf(lastSum, model.getValuesCount()));
    JobPlan clear = JobSpecWire.toProto(job.id("clear").secureAggregation(false).build());
    double[] expected = new double[model.getValuesCount()];
    double[] equallyWeighted = new double[model.getValuesCount()];
    int clipped = 0;
    List<Double> norms = new ArrayList<>();
    for (String bank : BANKS) {
      BankTaskHandler inTheClear = new BankTaskHandler(configs.get(bank)
          .withPolicy(new BankPolicy(true, false, 2, OptionalInt.empty())));
      assertTrue(inTheClear.handle(Task.newBuilder().setHeader(Headers.of("clear", 0, Stage.JOB_OFFER))
          .setJobOffer(JobOffer.newBuilder().setPlan(clear)).build()).getDecision().getAccept());
      List<Float> delta = inTheClear.handle(Task.newBuilder().setHeader(Headers.of("clear", 1, Stage.TRAIN))
          .setTrain(TrainTask.newBuilder().setGlobalModel(model).setLocalEpochs(spec.training().localEpochs())
              .setPrivacy(clear.getPrivacy()).addAllRoundMembers(BANKS).setPlan(clear)).build())
          .getUpdate().getDeltaList();
      double norm = Math.sqrt(delta.stream().mapToDouble(d -> (double) d * d).sum());
      clipped += norm > derived.clipNorm() ? 1 : 0;
      norms.add(norm);
      double factor = Math.min(1, derived.clipNorm() / norm) * rows.get(bank) / total;
      for (int i = 0; i < expected.length; i++) {
        expected[i] += (float) (delta.get(i) * factor); // a float, as the bank hands its weighted update over
        equallyWeighted[i] += (float) (delta.get(i) * factor * total / rows.get(bank) / BANKS.size());
      }
    }
    assertTrue(clipped > 0, "no bank's update was clipped: " + norms);
    // the quantiser's bound, and 10^-6 of the sum for the float rounding of training (a full batch is still summed in
    // a shuffled order, so two runs' updates differ in their last bits)
    double bound = derived.quantizer().l2ErrorBound(BANKS.size(), expected.length)
        + 1e-6 * distance(expected, new double[expected.length]);
    assertTrue(distance(decoded, expected) <= bound, "error " + distance(decoded, expected) + ", bound " + bound);
    // the test tells the weights apart: the same updates weighted 1/3 each are far further from the sum
    assertTrue(distance(decoded, equallyWeighted) > 100 * bound, "equal weights: " + distance(decoded, equallyWeighted)
        + ", bound " + bound);
  }

  private static double distance(double[] a, double[] b) {
    double squared = 0;
    for (int i = 0; i < a.length; i++) {
      squared += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(squared);
  }

  /**
   * The pipelined variant: the masks are expanded at the ledger task, so the coordinator sends the victim's row total
   * and the others' with the ledger task, and each bank's training task carries the one it bound (so every bank
   * trains). The sum completes and is noise (false failure as above).
   */
  @Test
  void aCoordinatorGivingTheVictimAnotherRowTotalWithTheLedgerTask_inAPipelinedRound_unmasksNoise() throws Exception {
    var entry = ledgerEntry(model);
    Map<String, byte[]> keys = roundOne();
    SecAggServer server = server(2);
    server.bindModel(digest(model).withRoundRowTotal(victimsOwnRows()));
    java.util.function.ToLongFunction<String> rowTotalFor = bank -> bank.equals(VICTIM) ? victimsOwnRows()
        : aBillionTimesTheRoundsRows();
    Map<String, SecAggMessage> forwarded = shareRoundTwoWithTheLedgerTask(server, keys,
        bank -> entry.toBuilder().setNextRoundRowTotal(rowTotalFor.applyAsLong(bank)).build());
    for (String bank : BANKS) {
      Task task = withRowTotal(train(2, BANKS, step(forwarded.get(bank))), rowTotalFor.applyAsLong(bank));
      server.acceptEncoded(bank, handlers.get(bank).handle(task).getSecureAggregation().getMessages(0).toByteArray());
    }

    drive(2, server, List.of(), new LinkedHashMap<>());

    assertTrue(decodedNorm(2, lastSum) > 2 * clip(2), "decoded norm " + decodedNorm(2, lastSum) + ", clip " + clip(2));
  }

  /**
   * The bank bound round 2's masks to the row total of the ledger task; a training task carrying another is refused
   * before training (nothing is trained or sent), and the keys made ahead are discarded.
   */
  @Test
  void pipelinedTrainingTaskCarryingAnotherRowTotalThanTheLedgerTaskBound_isRefusedBeforeTraining() throws Exception {
    var entry = ledgerEntry(model);
    Map<String, SecAggMessage> forwarded = shareRoundTwoWithTheLedgerTask(server(2), roundOne(), bank -> entry);

    String refusal = refusal(withRowTotal(train(2, BANKS, step(forwarded.get(VICTIM))), victimsOwnRows()));

    assertTrue(refusal.contains("bound round 2's masks to the round row total " + rowTotal(BANKS)
        + " with the ledger task it countersigned, but the task carries the row total " + victimsOwnRows()), refusal);
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  /** A ledger task whose next round's row total is below the bank's own rows shares nothing, and names why. */
  @Test
  void ledgerTaskCarryingANextRowTotalBelowTheBanksOwnRows_isRefused_andTheKeysMadeAheadAreDiscarded()
      throws Exception {
    var entry = ledgerEntry(model).toBuilder().setNextRoundRowTotal(victimsOwnRows() - 1).build();
    Map<String, byte[]> keys = roundOne();
    SecAggServer server = server(2);
    keys.forEach((bank, k) -> assertDoesNotThrowPv(() -> server.acceptEncoded(bank, k)));
    SecAggMessage roster = byRecipient(server.closeStage()).get(VICTIM);

    String refusal = refusal(Task.newBuilder().setHeader(Headers.of("piped", 1, Stage.LEDGER_COUNTERSIGN))
        .setCountersign(entry.toBuilder().setNextRound(withCertificates(step(roster)))).build());

    assertTrue(refusal.contains("round 2: the round's row total " + (victimsOwnRows() - 1) + " is below this bank's "
        + "own " + victimsOwnRows() + " training rows"), refusal);
    assertFalse(handlers.get(VICTIM).secureAggregation().keyedAhead("piped", 2));
  }

  /**
   * The same attack on the second statistics stage, whose input depends on the preliminary encoding the task
   * carries (clip bounds, levels): the coordinator gives the victim the real encoding and the others another valid
   * one. Both sums complete; with every bank on one encoding the unmasked sum is exactly the sum of the banks'
   * vectors, and with the encodings split it equals the sum of what each bank computed (which, unbound, it would: the
   * others' parts known, the victim's alone) in no more than one coordinate: each bank bound its masks to the
   * encoding it answered. False failure: two or more of the d coordinates of a uniform ring vector equal given
   * values, at most d^2 * 2^-2k for a ring of k >= 20 bits, under 10^-6.
   */
  @Test
  void banksAnsweringDifferentSecondStageEncodings_unmaskNoise_notTheSumOfWhatEachComputed() throws Exception {
    // income clipped to quantiles: the job has a second statistics stage
    JobSpec clipped = JobSpec.builder().id("piped").schema(new DataSchema(SCHEMA.numericColumns(),
        SCHEMA.categoricalColumns(), "default", "yes", new io.consort.model.data.Preprocessing(java.util.Map.of("income",
            new io.consort.model.data.NumericRules(io.consort.model.data.Imputation.MEDIAN,
                java.util.OptionalDouble.empty(), false, List.of(), List.of(),
                java.util.Optional.of(new io.consort.model.data.QuantileClip(0.05, 0.95)))), java.util.Map.of())))
        .engine(TrainingEngine.NATIVE).hiddenLayers(List.of(4)).rounds(3).build();
    acceptJob(clipped, dir.resolve("clipped"));
    io.consort.protocol.v1.FeatureEncoding real = model.getEncoding();
    var income = real.getNumeric(0);
    io.consort.protocol.v1.FeatureEncoding another = real.toBuilder().setNumeric(0, income.toBuilder()
        .setClipUpper(io.consort.model.data.QuantileGrid.upperEdge(io.consort.model.data.QuantileGrid.bin(
            income.getClipUpper()) + 1))).build();

    int[] control = secondStageSum(bank -> real);
    assertEquals(0, differingCoordinates(control, expectedSecondStageSum(bank -> real)),
        "every bank on one encoding");

    // fresh banks: each answers the second stage once per job
    acceptJob(clipped, dir.resolve("again"));
    java.util.function.Function<String, io.consort.protocol.v1.FeatureEncoding> split =
        bank -> bank.equals(VICTIM) ? real : another;
    int[] attacked = secondStageSum(split);
    int[] unbound = expectedSecondStageSum(split);
    assertTrue(differingCoordinates(attacked, unbound) >= unbound.length - 1,
        "the unmasked sum is the sum of what the banks computed in " + (unbound.length
            - differingCoordinates(attacked, unbound)) + " of " + unbound.length + " coordinates");
  }

  private int[] secondStageSum(
      java.util.function.Function<String, io.consort.protocol.v1.FeatureEncoding> encodingOf) throws Exception {
    int length = io.consort.model.sums.FeatureStatsVector.refinedLength(
        io.consort.model.wire.ModelWire.encoding(spec.schema(), model.getEncoding()));
    SecAggServer server = SecAggServer.create(SecureRoundPlan.sum(spec, 0,
        io.consort.spec.SecureSumPurpose.FEATURE_STATISTICS_SECOND_STAGE, BANKS, length),
        (bank, message, signature) -> {
          if (!verifier.verify(certificates.get(bank), message, signature, Set.of(Role.PARTICIPANT)).name()
              .equals(bank)) {
            throw new java.security.GeneralSecurityException("signature of another bank");
          }
        }, false);
    server.bindModel(io.consort.secagg.ModelDigest.ofHex(
        io.consort.protocol.ModelChecksum.secondStageStatisticsSha256Hex(model.getEncoding())));
    for (String bank : BANKS) {
      Task task = Task.newBuilder().setHeader(Headers.of("piped", 0, Stage.FEATURE_STATS))
          .setFeatureStats(io.consort.protocol.v1.FeatureStatsTask.newBuilder().setPlan(plan)
              .addAllRoundMembers(BANKS).setPreliminary(encodingOf.apply(bank))).build();
      for (ByteString m : handlers.get(bank).handle(task).getFeatureStats().getSecureSum().getMessagesList()) {
        server.acceptEncoded(bank, m.toByteArray());
      }
    }
    drive(0, server, List.of(), new LinkedHashMap<>());
    return lastSum;
  }

  /** The sum of the vectors the banks compute for the encodings {@code encodingOf} gives them. */
  private int[] expectedSecondStageSum(
      java.util.function.Function<String, io.consort.protocol.v1.FeatureEncoding> encodingOf) throws Exception {
    int[] sum = null;
    for (String bank : BANKS) {
      io.consort.model.features.FeatureEncoding e = io.consort.model.wire.ModelWire.encoding(spec.schema(),
          encodingOf.apply(bank));
      int[] v = io.consort.model.sums.FeatureStatsVector.encodeRefined(
          BankData.open(configs.get(bank), spec.schema()).secondStatistics(e), e);
      sum = sum == null ? v : sum;
      if (sum != v) {
        for (int i = 0; i < v.length; i++) {
          sum[i] += v[i];
        }
      }
    }
    return sum;
  }

  /** Coordinates where {@code a} and {@code b} differ in the ring of the second stage's sum. */
  private int differingCoordinates(int[] a, int[] b) {
    int bits = SecureRoundPlan.sum(spec, 0, io.consort.spec.SecureSumPurpose.FEATURE_STATISTICS_SECOND_STAGE, BANKS,
        a.length).ringBits();
    int mask = bits == 32 ? -1 : (1 << bits) - 1;
    int differ = 0;
    for (int i = 0; i < a.length; i++) {
      differ += ((a[i] - b[i]) & mask) == 0 ? 0 : 1;
    }
    return differ;
  }
}
