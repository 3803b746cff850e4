package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.crypto.KeyDerivation;
import io.consort.secagg.crypto.SecretBytes;
import io.consort.secagg.crypto.ShamirSharing;
import io.consort.secagg.crypto.ShareCipher;
import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.EncryptedShare;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.KeyRoster;
import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.RevealedShare;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.message.ShareKeys;
import io.consort.secagg.message.ShareKind;
import io.consort.secagg.message.SignedPublicKeys;
import io.consort.secagg.message.UnmaskingResponse;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Keys for a period of rounds (protocol version 6, docs/SECURE_AGGREGATION.md, "Keys for a period of rounds"): banks
 * mask several pipelined sums of a job with one pair of key pairs each, signed once for the period, and share b only.
 * Each test performs the attack it names.
 */
class PeriodKeysTest {
  private static final String JOB = "job-k";
  private static final String VICTIM = "bank-1";
  private static final KeyPeriod PERIOD = new KeyPeriod(0, 4);
  private static final List<String> BANKS = RoundHarness.banks(5);
  private static final byte[] PERIOD_LABEL =
      ContextEncoding.labelled(ContextEncoding.PERIOD_ADVERTISE_LABEL).toByteArray();

  /** The banks' period keys and what each verifier was asked, across the sums of a period. */
  private final Map<String, PeriodKeys> keys = new LinkedHashMap<>();
  /** Whose period advertisements each bank verified, by bank. */
  private final Map<String, List<String>> bankVerified = new HashMap<>();
  /** Whose period advertisements the coordinator's delegate verifier checked (behind its cache). */
  private final List<String> coordinatorVerified = new ArrayList<>();
  private final PeriodAdvertisements coordinatorCache = new PeriodAdvertisements();
  private final SecureRandom random = RoundHarness.seeded(21);

  private static RoundParameters sum(long round) {
    return RoundParameters.completeGraph(JOB, round, BANKS, 3, 257).withUnmaskingWithInput(true);
  }

  private static boolean periodAdvertisement(byte[] message) {
    return Arrays.equals(PERIOD_LABEL, Arrays.copyOf(message, PERIOD_LABEL.length));
  }

  /** One sum of the period: banks take their period keys (made on first use), inputs come after share-keys. */
  private RoundHarness harness(long round, Map<String, int[]> inputs) throws Exception {
    RoundParameters parameters = sum(round);
    RoundHarness harness = new RoundHarness(parameters, inputs, 1, true, PERIOD,
        directory -> coordinatorCache.through((bank, message, signature) -> {
          if (periodAdvertisement(message)) {
            coordinatorVerified.add(bank);
          }
          directory.verify(bank, message, signature);
        }));
    for (String bank : BANKS) {
      if (!keys.containsKey(bank)) {
        keys.put(bank, PeriodKeys.make(JOB, "", PERIOD, bank, harness.signer(bank), random));
      }
      List<String> verified = bankVerified.computeIfAbsent(bank, b -> new ArrayList<>());
      PeerKeyVerifier counting = (peer, message, signature) -> {
        if (periodAdvertisement(message)) {
          verified.add(peer);
        }
        harness.directory.verify(peer, message, signature);
      };
      harness.clients.put(bank, SecAggClient.createAwaitingInput(parameters, bank, harness.signer(bank), counting,
          random, keys.get(bank)));
    }
    return harness;
  }

  /** Advertise, share keys, supply the inputs, then the rest; {@code tamper} acts on coordinator messages. */
  private static ServerTransition run(RoundHarness harness, UnaryOperator<SecAggMessage> tamper) throws Exception {
    harness.advertise(Set.of());
    ServerTransition transition = harness.closeAndDeliver(Map.of(), tamper);
    for (Map.Entry<String, SecAggClient> client : harness.clients.entrySet()) {
      if (client.getValue().awaitsInput()) {
        client.getValue().supplyInput(harness.inputs.get(client.getKey()).clone());
      }
    }
    do {
      transition = harness.closeAndDeliver(Map.of(), tamper);
    } while (!transition.isAborted() && !transition.isCompleted());
    return transition;
  }

  /** The coordinator's tamper: the key roster sent to the victim carries {@code relayed} in its bank's place. */
  private static UnaryOperator<SecAggMessage> relayingToVictim(SignedPublicKeys relayed) {
    return m -> m instanceof KeyRoster roster && m.header().recipientId().equals(VICTIM)
        ? new KeyRoster(roster.header(), roster.entries().stream()
            .map(e -> e.bankId().equals(relayed.bankId()) ? relayed : e).toList()) : m;
  }

  private static void assertVictimSharedNothing(RoundHarness harness) {
    assertTrue(harness.delivered.stream().noneMatch(m -> m instanceof ShareKeys
        && m.header().senderId().equals(VICTIM)), "the victim shares nothing");
  }

  private static int[] maskedInputOf(RoundHarness harness, String bank) {
    return harness.delivered.stream().filter(m -> m instanceof MaskedInput && m.header().senderId().equals(bank))
        .map(m -> ((MaskedInput) m).values()).findFirst().orElseThrow();
  }

  @Test
  void sumsAreExact_andTheSameInputIsMaskedDifferently_whenBanksMaskThreeSumsOfAPeriodWithTheSameKeys()
      throws Exception {
    Map<String, int[]> inputs = RoundHarness.randomInputs(sum(4), 77); // the same inputs in every sum
    List<int[]> victimMasked = new ArrayList<>();
    for (long round : new long[] {4, 6, 8}) {
      RoundHarness harness = harness(round, inputs);
      ServerTransition last = run(harness, UnaryOperator.identity());
      assertTrue(last.isCompleted(), () -> "sum " + round + " should complete: " + last.abortReason());
      assertArrayEquals(harness.plaintextSum(BANKS), last.result().orElseThrow().sum());
      victimMasked.add(maskedInputOf(harness, VICTIM));
      harness.clients.values().forEach(c -> assertFalse(c.holdsPrivateKeys()));
    }
    assertFalse(Arrays.equals(victimMasked.get(0), victimMasked.get(1)));
    assertFalse(Arrays.equals(victimMasked.get(1), victimMasked.get(2)));
    keys.values().forEach(k -> assertFalse(k.isDestroyed(), "period keys outlive each sum of the period"));
  }

  @Test
  void eachPeersPeriodAdvertisementIsVerifiedOncePerPeriod_byEveryBankAndTheCoordinator() throws Exception {
    Map<String, int[]> inputs = RoundHarness.randomInputs(sum(4), 78);
    for (long round : new long[] {4, 5, 6}) {
      assertTrue(run(harness(round, inputs), UnaryOperator.identity()).isCompleted());
    }
    for (String bank : BANKS) {
      List<String> peers = new ArrayList<>(BANKS);
      peers.remove(bank);
      assertEquals(peers, bankVerified.get(bank), bank + " verifies each peer once and never itself");
    }
    assertEquals(BANKS, coordinatorVerified, "the coordinator verifies each unchanged advertisement once a period");
  }

  @Test
  void aPeersChangedAdvertisementIsVerifiedAgain_andReplacesTheOldOne_whenThePeerMadeNewKeysMidPeriod()
      throws Exception {
    Map<String, int[]> inputs = RoundHarness.randomInputs(sum(4), 79);
    assertTrue(run(harness(4, inputs), UnaryOperator.identity()).isCompleted());
    keys.remove("bank-2").destroy(); // bank-2 restarted: its next sum makes new period keys
    RoundHarness second = harness(5, inputs);
    ServerTransition last = run(second, UnaryOperator.identity());

    assertTrue(last.isCompleted(), () -> "sum should complete: " + last.abortReason());
    assertArrayEquals(second.plaintextSum(BANKS), last.result().orElseThrow().sum());
    assertEquals(List.of("bank-2", "bank-3", "bank-4", "bank-5", "bank-2"), bankVerified.get(VICTIM));
    assertEquals(List.of("bank-1", "bank-2", "bank-3", "bank-4", "bank-5", "bank-2"), coordinatorVerified);
  }

  /**
   * The attack: bank-2 restarted mid-period and advertised new keys, which the victim took; the coordinator then
   * relays bank-2's old advertisement again (validly signed for this period, its private keys wiped or leaked). The
   * victim refuses the replaced keys, aborts and shares nothing, so it never masks towards them.
   */
  @Test
  void aPeersReplacedAdvertisementRelayedAgainInThePeriod_isRefused_andTheVictimSharesNothing() throws Exception {
    Map<String, int[]> inputs = RoundHarness.randomInputs(sum(4), 86);
    assertTrue(run(harness(4, inputs), UnaryOperator.identity()).isCompleted());
    SignedPublicKeys old = keys.get("bank-2").advertisement();
    keys.remove("bank-2").destroy(); // bank-2 restarted: its next sum makes new period keys
    assertTrue(run(harness(5, inputs), UnaryOperator.identity()).isCompleted());

    RoundHarness third = harness(6, inputs);
    ServerTransition last = run(third, relayingToVictim(old));

    assertTrue(third.clients.get(VICTIM).isAborted());
    assertTrue(third.clientRefusals.get(VICTIM).getMessage().contains("never taken back"),
        third.clientRefusals.get(VICTIM).getMessage());
    assertVictimSharedNothing(third);
    assertFalse(last.isCompleted() && last.result().orElseThrow().includedBanks().contains(VICTIM));
  }

  @Test
  void banksShareBOnly_andRevealOnlyBShares_neverAnSskShare() throws Exception {
    RoundHarness harness = harness(4, RoundHarness.randomInputs(sum(4), 80));
    assertTrue(run(harness, UnaryOperator.identity()).isCompleted());
    int bOnly = ShareCipher.NONCE_BYTES + ShareCipher.TAG_BYTES + ShamirSharing.SHARE_BYTES;
    int shareSets = 0;
    for (SecAggMessage message : harness.delivered) {
      if (message instanceof ShareKeys shares) {
        shareSets++;
        shares.shares().forEach(s -> assertEquals(bOnly, s.ciphertext().length));
      } else if (message instanceof UnmaskingResponse response) {
        response.shares().forEach(s -> assertEquals(ShareKind.SELF_MASK_SEED, s.kind()));
      }
    }
    assertEquals(BANKS.size(), shareSets);
  }

  /**
   * The attack: the coordinator relays, in place of bank-2's period advertisement, one bank-2 really signed, but for
   * another period, another job, another period length, or as a per-round advertisement. The victim and the
   * coordinator's server both refuse it.
   */
  @Test
  void aPeersAdvertisementReplayedFromAnotherPeriodJobPlanOrLengthOrSignedPerRound_isRefusedByBankAndServer()
      throws Exception {
    RoundHarness signing = harness(4, RoundHarness.randomInputs(sum(4), 81));
    List<SignedPublicKeys> replays = new ArrayList<>();
    for (PeriodKeys other : List.of(
        PeriodKeys.make(JOB, "", new KeyPeriod(1, 4), "bank-2", signing.signer("bank-2"), random),
        PeriodKeys.make("job-other", "", PERIOD, "bank-2", signing.signer("bank-2"), random),
        PeriodKeys.make(JOB, "", new KeyPeriod(0, 5), "bank-2", signing.signer("bank-2"), random),
        // signed for another plan of the job (another key_rounds, self_mask, threshold, unmasking mode...)
        PeriodKeys.make(JOB, "c3".repeat(32), PERIOD, "bank-2", signing.signer("bank-2"), random))) {
      replays.add(other.advertisement());
      other.destroy();
    }
    SecAggClient.PreparedKeys perRound = SecAggClient.prepareKeys(JOB, "", 4, "bank-2", signing.signer("bank-2"), random);
    SecAggClient perRoundClient = SecAggClient.createAwaitingInput(sum(4), "bank-2", signing.signer("bank-2"),
        signing.directory, random, perRound);
    AdvertiseKeys perRoundAd = perRoundClient.advertiseKeys();
    replays.add(new SignedPublicKeys("bank-2", perRoundAd.encryptionPublicKey(), perRoundAd.maskingPublicKey(),
        perRoundAd.signature()));
    perRoundClient.discard("test");

    for (SignedPublicKeys replay : replays) {
      keys.values().forEach(PeriodKeys::destroy);
      keys.clear();
      RoundHarness harness = harness(4, RoundHarness.randomInputs(sum(4), 82));
      // the server: bank-2's advertisement is the replay
      harness.deliverToServer(new AdvertiseKeys(harness.clients.get("bank-2").advertiseKeys().header(),
          replay.encryptionPublicKey(), replay.maskingPublicKey(), replay.signature()));
      assertTrue(harness.serverRefusals.containsKey("bank-2"));
      assertTrue(harness.serverRefusals.get("bank-2").getMessage().contains("does not verify"),
          harness.serverRefusals.get("bank-2").getMessage());
      // the victim: the roster relays the replay in place of bank-2's genuine entry
      RoundHarness relayed = harness(4, RoundHarness.randomInputs(sum(4), 83));
      ServerTransition last = run(relayed, relayingToVictim(replay));
      assertTrue(relayed.clients.get(VICTIM).isAborted());
      assertTrue(relayed.clientRefusals.get(VICTIM).getMessage().contains("period keys of bank 'bank-2' do not carry"),
          relayed.clientRefusals.get(VICTIM).getMessage());
      // the victim shared nothing, so it is not in U2: the sum goes on without it, its input never masked
      assertTrue(last.isCompleted(), () -> "the sum of the others completes: " + last.abortReason());
      assertFalse(last.result().orElseThrow().includedBanks().contains(VICTIM));
      assertVictimSharedNothing(relayed);
    }
  }

  /**
   * The attack the other way round: in a sum keyed per round (fresh keys, as an unpipelined round of the same job),
   * the coordinator relays bank-2's period advertisement, genuinely signed, in place of its per-round keys. Its label
   * differs, so the victim refuses it, aborts and shares nothing.
   */
  @Test
  void aPeriodAdvertisementRelayedInASumKeyedPerRound_isRefused() throws Exception {
    Map<String, int[]> inputs = RoundHarness.randomInputs(sum(4), 87);
    RoundHarness perRound = new RoundHarness(sum(4), inputs, 87, true);
    PeriodKeys bank2 = PeriodKeys.make(JOB, "", PERIOD, "bank-2", perRound.signer("bank-2"), random);
    SignedPublicKeys periodAd = bank2.advertisement();
    bank2.destroy();

    ServerTransition last = run(perRound, relayingToVictim(periodAd));

    assertTrue(perRound.clients.get(VICTIM).isAborted());
    assertTrue(perRound.clientRefusals.get(VICTIM).getMessage().contains("do not carry its valid identity signature"),
        perRound.clientRefusals.get(VICTIM).getMessage());
    assertVictimSharedNothing(perRound);
    assertFalse(last.isCompleted() && last.result().orElseThrow().includedBanks().contains(VICTIM));
  }

  /** The attack: the coordinator's server is handed a share set whose ciphertexts have room for an s^SK-share. */
  @Test
  void aShareSetWithRoomForAnSskShare_isRefusedByTheServer() throws Exception {
    RoundHarness harness = harness(4, RoundHarness.randomInputs(sum(4), 84));
    harness.advertise(Set.of());
    ServerTransition roster = harness.server.closeStage();
    KeyRoster toVictim = (KeyRoster) roster.outgoing().stream()
        .filter(m -> m.header().recipientId().equals(VICTIM)).findFirst().orElseThrow();
    ShareKeys honest = (ShareKeys) harness.clients.get(VICTIM).handle(toVictim);
    byte[] padded = new byte[ShareCipher.NONCE_BYTES + ShareCipher.TAG_BYTES + 2 * ShamirSharing.SHARE_BYTES];
    random.nextBytes(padded);
    ShareKeys withSsk = new ShareKeys(honest.header(), honest.shares().stream()
        .map(s -> new EncryptedShare(s.senderId(), s.recipientId(), padded)).toList());
    ProtocolViolationException refused = assertThrows(ProtocolViolationException.class,
        () -> harness.server.accept(withSsk));
    assertTrue(refused.getMessage().contains("shares b only"), refused.getMessage());
  }

  /**
   * The attack: the coordinator forwards the victim a share from bank-2 that does carry an s^SK-share (a share set
   * of the per-round format, correctly encrypted under the pair's period agreement for this sum). The victim aborts.
   */
  @Test
  void aForwardedShareCarryingAnSskShare_isRefusedByTheBank() throws Exception {
    RoundHarness harness = harness(4, RoundHarness.randomInputs(sum(4), 85));
    ServerTransition last = run(harness, m -> {
      if (!(m instanceof ForwardedShares forwarded) || !m.header().recipientId().equals(VICTIM)) {
        return m;
      }
      SecretBytes shared = keys.get("bank-2").encryptionSecretWith(VICTIM);
      SecretBytes key = KeyDerivation.hkdfSha256(shared, ContextEncoding.roundSalt(JOB, 4),
          ContextEncoding.shareKeyInfo("bank-2", VICTIM));
      byte[] plaintext = new byte[2 * ShamirSharing.SHARE_BYTES]; // two valid (zero) field elements
      try {
        byte[] ciphertext = ShareCipher.encrypt(key, ContextEncoding.shareAssociatedData(JOB, 4, "bank-2", VICTIM),
            plaintext, random);
        return new ForwardedShares(forwarded.header(), forwarded.shares().stream()
            .map(s -> s.senderId().equals("bank-2") ? new EncryptedShare("bank-2", VICTIM, ciphertext) : s).toList());
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      } finally {
        shared.destroy();
        key.destroy();
      }
    });
    assertTrue(harness.clients.get(VICTIM).isAborted());
    String reason = harness.clientRefusals.get(VICTIM).getMessage();
    assertTrue(reason.contains("it carries an s^SK-share"), reason);
    assertTrue(harness.delivered.stream().noneMatch(m -> m instanceof MaskedInput
        && m.header().senderId().equals(VICTIM)), "the victim's input never leaves");
    assertTrue(last.isAborted());
  }

  /**
   * The attack: the coordinator has a bank mask a second input under the sum round it already masked with its period
   * keys (or an earlier one). The keys refuse to key it, and a client that got them anyway refuses to mask.
   */
  @Test
  void periodKeysNeverMaskASumRoundTheyAlreadyMasked_orAnEarlierOne() throws Exception {
    Map<String, int[]> inputs = RoundHarness.randomInputs(sum(6), 86);
    RoundHarness six = harness(6, inputs);
    assertTrue(run(six, UnaryOperator.identity()).isCompleted());
    PeriodKeys victimKeys = keys.get(VICTIM);
    assertEquals(6, victimKeys.lastMaskedRound());
    for (long round : new long[] {6, 5}) {
      IllegalStateException refused = assertThrows(IllegalStateException.class,
          () -> SecAggClient.createAwaitingInput(sum(round), VICTIM, six.signer(VICTIM), six.directory, random,
              victimKeys));
      assertTrue(refused.getMessage().contains("already masked sum round 6"), refused.getMessage());
      // a client that got them anyway (keyed before the other masked) refuses to mask at the forwarded shares
      assertThrows(IllegalStateException.class, () -> victimKeys.claim(round));
    }
    assertTrue(run(harness(7, inputs), UnaryOperator.identity()).isCompleted(), "the next sum round is fine");
    assertEquals(7, victimKeys.lastMaskedRound());
  }

  @Test
  void periodKeysAreWipedByDestroy_andThenKeyNoSum_whileAClientNeverWipesThem() throws Exception {
    RoundHarness harness = harness(4, RoundHarness.randomInputs(sum(4), 87));
    SecAggClient victim = harness.clients.get(VICTIM);
    victim.discard("the round fell back");
    PeriodKeys victimKeys = keys.get(VICTIM);
    assertFalse(victimKeys.isDestroyed(), "a discarded sum leaves the period's keys to the bank");
    assertFalse(victim.holdsPrivateKeys());

    assertTrue(run(harness(5, RoundHarness.randomInputs(sum(4), 88)), UnaryOperator.identity()).isCompleted());
    assertTrue(victimKeys.holdsAgreementWith("bank-2"));
    victimKeys.destroy();

    assertTrue(victimKeys.isDestroyed());
    assertFalse(victimKeys.holdsAgreementWith("bank-2"), "the agreements are wiped with the keys");
    assertThrows(IllegalStateException.class, () -> SecAggClient.createAwaitingInput(sum(6), VICTIM,
        harness.signer(VICTIM), harness.directory, random, victimKeys));
  }

  @Test
  void periodKeys_areRefused_forASumThatDoesNotUnmaskWithTheInput() throws Exception {
    RoundHarness harness = harness(4, RoundHarness.randomInputs(sum(4), 89));
    RoundParameters afterInputs = sum(4).withUnmaskingWithInput(false);
    assertThrows(IllegalArgumentException.class, () -> SecAggClient.createAwaitingInput(afterInputs, VICTIM,
        harness.signer(VICTIM), harness.directory, random, keys.get(VICTIM)));
    assertThrows(IllegalArgumentException.class, () -> SecAggServer.create(afterInputs, harness.directory, true,
        PERIOD));
    assertThrows(IllegalArgumentException.class, () -> new KeyPeriod(0, 1));
    assertEquals(new KeyPeriod(2, 4), KeyPeriod.of(9, 4));
    assertEquals(new KeyPeriod(0, 4), KeyPeriod.of(4, 4));
  }
}
