package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.EncryptedShare;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.KeyRoster;
import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.message.ShareKeys;
import io.consort.secagg.message.SignedPublicKeys;
import io.consort.secagg.message.UnmaskingRequest;
import io.consort.secagg.wire.SecAggCodec;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERSequence;
import org.junit.jupiter.api.Test;

/** Every refusal names the offending party and the stage, and the round goes on while t allows. */
class ProtocolViolationTest {
  private static final int DIM = 257;

  private static RoundHarness harness(long seed) {
    return harness(RoundParameters.completeGraph("job-v", 7, RoundHarness.banks(5), 3, DIM), seed);
  }

  private static RoundHarness harness(RoundParameters parameters, long seed) {
    return new RoundHarness(parameters, RoundHarness.randomInputs(parameters, seed), seed);
  }

  private static void assertNames(ProtocolViolationException error, String bank, Stage stage, String detail) {
    assertEquals(bank, error.bankId());
    assertEquals(stage, error.stage());
    assertTrue(error.getMessage().contains("'" + bank + "'"), error.getMessage());
    assertTrue(error.getMessage().contains(stage.wireName()), error.getMessage());
    assertTrue(error.getMessage().contains(detail), error.getMessage());
  }

  private static MessageHeader withRound(MessageHeader header, long round) {
    return new MessageHeader(header.jobId(), round, header.stage(), header.senderId(), header.recipientId());
  }

  @Test
  void tamperedShare_failsGcmAtRecipient_whichAbortsWhileRoundCompletesWithoutIt() throws Exception {
    RoundHarness harness = harness(21);
    UnaryOperator<SecAggMessage> flipOneBit = message -> {
      if (message instanceof ForwardedShares forwarded && message.header().recipientId().equals("bank-1")) {
        List<EncryptedShare> shares = new ArrayList<>();
        for (EncryptedShare share : forwarded.shares()) {
          byte[] ciphertext = share.ciphertext().clone();
          if (share.senderId().equals("bank-2")) {
            ciphertext[ciphertext.length - 20] ^= 1;
          }
          shares.add(new EncryptedShare(share.senderId(), share.recipientId(), ciphertext));
        }
        return new ForwardedShares(message.header(), shares);
      }
      return message;
    };

    ServerTransition last = harness.run(Map.of(), flipOneBit);

    assertNames(harness.clientRefusals.get("bank-1"), "bank-2", Stage.MASKED_INPUT, "AES-GCM");
    assertTrue(harness.clients.get("bank-1").isAborted());
    List<String> others = List.of("bank-2", "bank-3", "bank-4", "bank-5");
    assertEquals(others, last.result().orElseThrow().includedBanks());
    assertArrayEquals(harness.plaintextSum(others), last.result().orElseThrow().sum());
  }

  @Test
  void badKeySignature_isRefusedByServer_andBankIsDropped() throws Exception {
    RoundHarness harness = harness(22);
    RoundParameters parameters = harness.parameters;
    SecAggClient impostor = SecAggClient.create(parameters, "bank-3", harness.inputs.get("bank-3"),
        harness.signer("bank-4"), harness.directory, RoundHarness.seeded(99)); // signs with bank-4's key
    ProtocolViolationException error = assertThrows(ProtocolViolationException.class,
        () -> harness.server.accept(impostor.advertiseKeys()));
    assertNames(error, "bank-3", Stage.ADVERTISE_KEYS, "signature");

    harness.advertise(Set.of("bank-3"));
    ServerTransition last;
    do {
      last = harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    } while (!last.isCompleted() && !last.isAborted());
    List<String> others = List.of("bank-1", "bank-2", "bank-4", "bank-5");
    assertArrayEquals(harness.plaintextSum(others), last.result().orElseThrow().sum());
    assertTrue(harness.server.refusals().containsKey("bank-3"));
  }

  @Test
  void keySwappingCoordinator_isDetectedByBank_whichAbortsNamingTheVictim() throws Exception {
    RoundHarness harness = harness(23);
    byte[] attackerKey = io.consort.secagg.crypto.X25519KeyPair.generate(RoundHarness.seeded(5)).publicKeyBytes();
    UnaryOperator<SecAggMessage> swap = message -> {
      if (message instanceof KeyRoster roster && message.header().recipientId().equals("bank-1")) {
        List<SignedPublicKeys> entries = new ArrayList<>();
        for (SignedPublicKeys entry : roster.entries()) {
          entries.add(entry.bankId().equals("bank-2")
              ? new SignedPublicKeys("bank-2", entry.encryptionPublicKey(), attackerKey, entry.signature())
              : entry);
        }
        return new KeyRoster(message.header(), entries);
      }
      return message;
    };

    harness.run(Map.of(), swap);

    ProtocolViolationException error = harness.clientRefusals.get("bank-1");
    assertNames(error, "bank-2", Stage.SHARE_KEYS, "identity signature");
    assertTrue(harness.clients.get("bank-1").isAborted());
    assertTrue(harness.clients.get("bank-1").abortReason().contains("aborts round 7"));
    assertFalse(harness.clients.get("bank-1").holdsPrivateKeys(), "an aborted round's private keys must be wiped");
  }

  @Test
  void coordinatorAlteringTheBanksOwnKeys_isDetected() throws Exception {
    RoundHarness harness = harness(24);
    UnaryOperator<SecAggMessage> dropOwn = message -> message instanceof KeyRoster roster
        ? new KeyRoster(message.header(), roster.entries().stream()
            .filter(entry -> !entry.bankId().equals(message.header().recipientId())).toList())
        : message;

    ServerTransition last = harness.run(Map.of(), dropOwn);

    assertTrue(last.isAborted());
    assertNames(harness.clientRefusals.get("bank-4"), RoundParameters.COORDINATOR_ID, Stage.SHARE_KEYS,
        "key substitution");
  }

  /**
   * A bank does not verify its own key advertisement's signature in the roster (it compares the entry
   * byte for byte with what it signed). The coordinator replaces that signature with its malleated twin
   * (r, n - s), which still verifies under the bank's key: the bank refuses it all the same.
   */
  @Test
  void coordinatorAlteringTheSignatureOnTheBanksOwnKeys_isDetected() throws Exception {
    RoundHarness harness = harness(25);
    String victim = "bank-2";
    UnaryOperator<SecAggMessage> malleateOwn = message -> {
      if (!(message instanceof KeyRoster roster) || !message.header().recipientId().equals(victim)) {
        return message;
      }
      List<SignedPublicKeys> entries = new ArrayList<>();
      for (SignedPublicKeys entry : roster.entries()) {
        entries.add(entry.bankId().equals(victim) ? new SignedPublicKeys(entry.bankId(), entry.encryptionPublicKey(),
            entry.maskingPublicKey(), malleated(entry.signature())) : entry);
      }
      return new KeyRoster(message.header(), entries);
    };

    ServerTransition last = harness.run(Map.of(), malleateOwn);

    assertNames(harness.clientRefusals.get(victim), RoundParameters.COORDINATOR_ID, Stage.SHARE_KEYS,
        "key substitution");
    assertTrue(harness.clients.get(victim).isAborted());
    assertTrue(last.isCompleted(), () -> "the other four banks complete: " + last.abortReason());
    assertFalse(last.result().orElseThrow().includedBanks().contains(victim));
  }

  /** (r, s) as (r, n - s): a different encoding of a signature that verifies under the same key. */
  private static byte[] malleated(byte[] signature) {
    BigInteger order = new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);
    try {
      ASN1Sequence rs = ASN1Sequence.getInstance(signature);
      BigInteger s = ASN1Integer.getInstance(rs.getObjectAt(1)).getValue();
      return new DERSequence(new ASN1Encodable[] {rs.getObjectAt(0), new ASN1Integer(order.subtract(s))}).getEncoded();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void malleatedSignature_stillVerifiesUnderTheSignersKey() throws Exception {
    RoundHarness harness = harness(26);
    io.consort.identity.IdentitySigner signer = harness.signer("bank-1");
    byte[] message = ContextEncoding.advertisedKeys("job-v", "", 7, "bank-1", new byte[32], new byte[32]);
    byte[] signature = signer.sign(message);

    byte[] twin = malleated(signature);

    assertFalse(Arrays.equals(signature, twin));
    assertTrue(io.consort.identity.IdentityVerifier.signatureValid(
        harness.identities.get("bank-1").getPublic(), message, twin), "the attack above uses a valid signature");
  }

  @Test
  void replayedMessageFromEarlierRound_isRefusedByServerAndByBank() throws Exception {
    RoundParameters round6 = RoundParameters.completeGraph("job-v", 6, RoundHarness.banks(5), 3, DIM);
    RoundHarness old = harness(round6, 25);
    AdvertiseKeys stale = old.clients.get("bank-2").advertiseKeys();
    RoundHarness harness = harness(25);

    ProtocolViolationException error = assertThrows(ProtocolViolationException.class,
        () -> harness.server.accept(stale));
    assertNames(error, "bank-2", Stage.ADVERTISE_KEYS, "round 6 but this is round 7");

    harness.advertise(Set.of());
    ServerTransition transition = harness.server.closeStage();
    KeyRoster roster = (KeyRoster) transition.outgoing().get(0);
    KeyRoster replayed = new KeyRoster(withRound(roster.header(), 6), roster.entries());
    SecAggClient bank1 = harness.clients.get("bank-1");
    ProtocolViolationException clientError = assertThrows(ProtocolViolationException.class,
        () -> bank1.handle(replayed));
    assertTrue(clientError.getMessage().contains("replayed or stale"), clientError.getMessage());
    assertFalse(bank1.isAborted()); // a stale message is ignored; the real one still works
    assertTrue(bank1.handle(roster) instanceof ShareKeys);
  }

  @Test
  void outOfOrderStage_isRefused() throws Exception {
    RoundHarness harness = harness(26);
    MaskedInput early = new MaskedInput(new MessageHeader("job-v", 7, Stage.MASKED_INPUT, "bank-5",
        RoundParameters.COORDINATOR_ID), 32, new int[DIM]);
    ProtocolViolationException error = assertThrows(ProtocolViolationException.class,
        () -> harness.server.accept(early));
    assertNames(error, "bank-5", Stage.ADVERTISE_KEYS, "out of order");

    SecAggClient bank1 = harness.clients.get("bank-1");
    bank1.advertiseKeys();
    ForwardedShares premature = new ForwardedShares(new MessageHeader("job-v", 7, Stage.MASKED_INPUT,
        RoundParameters.COORDINATOR_ID, "bank-1"), List.of());
    ProtocolViolationException clientError = assertThrows(ProtocolViolationException.class,
        () -> bank1.handle(premature));
    assertNames(clientError, RoundParameters.COORDINATOR_ID, Stage.SHARE_KEYS, "out of order");
  }

  @Test
  void wrongRecipient_isRefused_atServerAndAtBank() throws Exception {
    RoundHarness harness = harness(27);
    AdvertiseKeys keys = harness.clients.get("bank-2").advertiseKeys();
    AdvertiseKeys misdirected = new AdvertiseKeys(new MessageHeader("job-v", 7, Stage.ADVERTISE_KEYS, "bank-2",
        "bank-3"), keys.encryptionPublicKey(), keys.maskingPublicKey(), keys.signature());
    assertNames(assertThrows(ProtocolViolationException.class, () -> harness.server.accept(misdirected)),
        "bank-2", Stage.ADVERTISE_KEYS, "recipient 'bank-3'");

    RoundHarness second = harness(28);
    second.advertise(Set.of());
    ServerTransition transition = second.server.closeStage();
    KeyRoster toBank1 = (KeyRoster) transition.outgoing().get(0);
    ShareKeys shares = (ShareKeys) second.clients.get("bank-1").handle(toBank1);
    List<EncryptedShare> redirected = new ArrayList<>(shares.shares());
    EncryptedShare first = redirected.get(0);
    redirected.set(0, new EncryptedShare("bank-1", "bank-9", first.ciphertext()));
    assertNames(assertThrows(ProtocolViolationException.class,
        () -> second.server.accept(new ShareKeys(shares.header(), redirected))),
        "bank-1", Stage.SHARE_KEYS, "wrong recipient");

    KeyRoster toBank2 = (KeyRoster) transition.outgoing().get(1);
    assertThrows(ProtocolViolationException.class, () -> second.clients.get("bank-3").handle(toBank2));
    assertFalse(second.clients.get("bank-3").isAborted());
  }

  @Test
  void wrongVectorLength_isRefused_andBankCountsAsDropped() throws Exception {
    RoundHarness harness = harness(29);
    UnaryOperator<SecAggMessage> none = UnaryOperator.identity();
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), none);
    ServerTransition forwarding = harness.server.closeStage();
    for (SecAggMessage message : forwarding.outgoing()) {
      MaskedInput masked = (MaskedInput) harness.clients.get(message.header().recipientId()).handle(message);
      if (masked.header().senderId().equals("bank-4")) {
        masked = new MaskedInput(masked.header(), 32, Arrays.copyOf(masked.values(), DIM + 1));
      }
      harness.deliverToServer(masked);
    }
    assertNames(harness.serverRefusals.get("bank-4"), "bank-4", Stage.MASKED_INPUT,
        "vector length 258 but the round's dimension is 257");
    ServerTransition last;
    do {
      last = harness.closeAndDeliver(Map.of(), none);
    } while (!last.isCompleted() && !last.isAborted());
    List<String> others = List.of("bank-1", "bank-2", "bank-3", "bank-5");
    assertArrayEquals(harness.plaintextSum(others), last.result().orElseThrow().sum());
  }

  @Test
  void valueOutsideTheRing_isRefused_forSmallRing() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-v", 7, RoundHarness.banks(3), 2, 4)
        .withRingBits(12);
    RoundHarness harness = harness(parameters, 30);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    harness.server.closeStage();
    MaskedInput outside = new MaskedInput(new MessageHeader("job-v", 7, Stage.MASKED_INPUT, "bank-2",
        RoundParameters.COORDINATOR_ID), 12, new int[] {1, 4096, 3, 4});

    assertNames(assertThrows(ProtocolViolationException.class, () -> harness.server.accept(outside)),
        "bank-2", Stage.MASKED_INPUT, "values[1] = 4096 is outside the ring Z_2^12");
    assertThrows(IllegalArgumentException.class, () -> SecAggClient.create(parameters, "bank-1",
        new int[] {0, 0, 5000, 0}, harness.signer("bank-1"), harness.directory, RoundHarness.seeded(1)));
  }

  @Test
  void garbageAndTruncatedBytes_areRefusedNamingBankAndStage() throws Exception {
    RoundHarness harness = harness(31);
    byte[] garbage = new byte[64];
    RoundHarness.seeded(3).nextBytes(garbage);
    assertNames(assertThrows(ProtocolViolationException.class,
        () -> harness.server.acceptEncoded("bank-1", garbage)), "bank-1", Stage.ADVERTISE_KEYS, "malformed");

    byte[] advertisement = SecAggCodec.encode(harness.clients.get("bank-2").advertiseKeys());
    byte[] truncated = Arrays.copyOf(advertisement, advertisement.length - 3);
    assertNames(assertThrows(ProtocolViolationException.class,
        () -> harness.server.acceptEncoded("bank-2", truncated)), "bank-2", Stage.ADVERTISE_KEYS, "truncated");

    byte[] fromBank3 = SecAggCodec.encode(harness.clients.get("bank-3").advertiseKeys());
    assertNames(assertThrows(ProtocolViolationException.class,
        () -> harness.server.acceptEncoded("bank-4", fromBank3)), "bank-4", Stage.ADVERTISE_KEYS,
        "connection belongs to bank 'bank-4'");

    SecAggClient bank5 = harness.clients.get("bank-5");
    bank5.advertiseKeys();
    assertNames(assertThrows(ProtocolViolationException.class, () -> bank5.handleEncoded(new byte[] {1, 2, 0})),
        RoundParameters.COORDINATOR_ID, Stage.SHARE_KEYS, "cannot decode");
  }

  @Test
  void duplicateKeysAndReAdvertisedKeys_areRefused() throws Exception {
    RoundHarness harness = harness(32);
    AdvertiseKeys bank1Keys = harness.clients.get("bank-1").advertiseKeys();
    harness.server.accept(bank1Keys);
    byte[] copiedSignature = harness.signer("bank-2").sign(ContextEncoding.advertisedKeys("job-v", "", 7, "bank-2",
        bank1Keys.encryptionPublicKey(), bank1Keys.maskingPublicKey()));
    AdvertiseKeys copy = new AdvertiseKeys(new MessageHeader("job-v", 7, Stage.ADVERTISE_KEYS, "bank-2",
        RoundParameters.COORDINATOR_ID), bank1Keys.encryptionPublicKey(), bank1Keys.maskingPublicKey(),
        copiedSignature);
    assertNames(assertThrows(ProtocolViolationException.class, () -> harness.server.accept(copy)),
        "bank-2", Stage.ADVERTISE_KEYS, "duplicate public key: already advertised by bank 'bank-1'");

    SecAggClient secondBank1 = SecAggClient.create(harness.parameters, "bank-1", harness.inputs.get("bank-1"),
        harness.signer("bank-1"), harness.directory, RoundHarness.seeded(77));
    assertNames(assertThrows(ProtocolViolationException.class,
        () -> harness.server.accept(secondBank1.advertiseKeys())), "bank-1", Stage.ADVERTISE_KEYS,
        "re-advertised different keys mid-round");

    for (String bank : List.of("bank-3", "bank-4", "bank-5")) {
      harness.server.accept(harness.clients.get(bank).advertiseKeys());
    }
    ServerTransition transition = harness.server.closeStage();
    assertEquals(List.of("bank-3", "bank-4", "bank-5"),
        transition.outgoing().stream().map(m -> m.header().recipientId()).toList());
    assertTrue(harness.server.refusals().keySet().containsAll(Set.of("bank-1", "bank-2")));
  }

  @Test
  void unmaskingRequestAskingForBothSecretsOrListingTheBankAsDropped_isRefused() throws Exception {
    for (String dropped : List.of("bank-2", "bank-1")) {
      RoundHarness harness = harness(33);
      UnaryOperator<SecAggMessage> greedy = message -> {
        if (message instanceof UnmaskingRequest request && message.header().recipientId().equals("bank-1")) {
          return new UnmaskingRequest(message.header(), request.survivors(), List.of(dropped),
              request.signatures());
        }
        return message;
      };

      harness.run(Map.of(), greedy);

      String expected = dropped.equals("bank-1") ? "both the self-mask share and the masking-key share"
          : "both the self-mask share and the masking-key share of bank 'bank-2'";
      assertNames(harness.clientRefusals.get("bank-1"), RoundParameters.COORDINATOR_ID, Stage.UNMASKING, expected);
      assertTrue(harness.clients.get("bank-1").isAborted());
    }
    RoundHarness harness = harness(34);
    UnaryOperator<SecAggMessage> selfDropped = message -> {
      if (message instanceof UnmaskingRequest request && message.header().recipientId().equals("bank-1")) {
        List<String> survivors = new ArrayList<>(request.survivors());
        survivors.remove("bank-1");
        return new UnmaskingRequest(message.header(), survivors, List.of("bank-1"), request.signatures());
      }
      return message;
    };
    harness.run(Map.of(), selfDropped);
    assertNames(harness.clientRefusals.get("bank-1"), RoundParameters.COORDINATOR_ID, Stage.UNMASKING,
        "lists bank 'bank-1' itself as dropped");
  }

  @Test
  void messageOfAnotherJob_isRefused() throws Exception {
    RoundHarness harness = harness(35);
    AdvertiseKeys keys = harness.clients.get("bank-1").advertiseKeys();
    AdvertiseKeys otherJob = new AdvertiseKeys(new MessageHeader("job-other", 7, Stage.ADVERTISE_KEYS, "bank-1",
        RoundParameters.COORDINATOR_ID), keys.encryptionPublicKey(), keys.maskingPublicKey(), keys.signature());
    assertNames(assertThrows(ProtocolViolationException.class, () -> harness.server.accept(otherJob)),
        "bank-1", Stage.ADVERTISE_KEYS, "jobId 'job-other'");
  }
}
