package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.EncryptedShare;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.SecAggMessage;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A client that keys a round before it has its input (pipelined rounds, protocol version 3): the
 * keys and shares of round r+1 are exchanged during round r, the input comes after training.
 */
class PipelinedClientTest {
  private static final String VICTIM = "bank-1";

  /** A harness whose clients are made without input; identities depend on {@code identitySeed} only. */
  private static RoundHarness pipelined(RoundParameters parameters, long identitySeed, long clientSeed) {
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, identitySeed + clientSeed),
        identitySeed);
    SecureRandom random = RoundHarness.seeded(clientSeed);
    for (String bank : parameters.bankIds()) {
      harness.clients.put(bank, SecAggClient.createAwaitingInput(parameters, bank, harness.signer(bank),
          harness.directory, random));
    }
    return harness;
  }

  private static RoundHarness threeBanksPastShareKeys() throws Exception {
    RoundHarness harness = pipelined(RoundParameters.completeGraph("job-p", 2, RoundHarness.banks(3), 2, 16), 5, 6);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    return harness;
  }

  /** Keys and shares first, inputs after share-keys (as after training), then the rest of the round. */
  private static ServerTransition runInputsAfterShareKeys(RoundHarness harness, UnaryOperator<SecAggMessage> tamper)
      throws Exception {
    return runInputsAfterShareKeys(harness, tamper, Set.of());
  }

  /** As above, the banks in {@code advertised} having advertised their keys already. */
  private static ServerTransition runInputsAfterShareKeys(RoundHarness harness, UnaryOperator<SecAggMessage> tamper,
                                                          Set<String> advertised) throws Exception {
    harness.advertise(advertised);
    ServerTransition transition = harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    for (Map.Entry<String, SecAggClient> client : harness.clients.entrySet()) {
      assertTrue(client.getValue().awaitsInput());
      client.getValue().supplyInput(harness.inputs.get(client.getKey()).clone()); // masked in place
    }
    do {
      transition = harness.closeAndDeliver(Map.of(), tamper);
    } while (!transition.isAborted() && !transition.isCompleted());
    return transition;
  }

  @Test
  void sum_isExactRingSum_whenInputsArriveAfterShareKeys() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-p", 9, RoundHarness.banks(5), 3, 1031);
    RoundHarness harness = pipelined(parameters, 3, 4);

    ServerTransition last = runInputsAfterShareKeys(harness, UnaryOperator.identity());

    assertTrue(last.isCompleted(), () -> "round should complete: " + last.abortReason());
    assertArrayEquals(harness.plaintextSum(parameters.bankIds()), last.result().orElseThrow().sum());
    assertTrue(harness.clientRefusals.isEmpty() && harness.serverRefusals.isEmpty());
  }

  @Test
  void forwardedShares_areRefusedWithoutChangingState_whenNoInputWasSupplied() throws Exception {
    RoundHarness harness = threeBanksPastShareKeys();
    List<SecAggMessage> forwarded = harness.server.closeStage().outgoing();
    SecAggClient victim = harness.clients.get(VICTIM);
    SecAggMessage toVictim = forwarded.stream().filter(m -> m.header().recipientId().equals(VICTIM)).findFirst()
        .orElseThrow();

    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> victim.handle(toVictim));

    assertTrue(refused.getMessage().contains("no input"), refused.getMessage());
    assertFalse(victim.isAborted());
    victim.supplyInput(harness.inputs.get(VICTIM).clone());
    assertNotNull(victim.handle(toVictim)); // the masked input, once the input is there
  }

  @Test
  void handedOverInput_isWiped_whenATamperedShareAbortsTheRoundBeforeMasking() throws Exception {
    RoundHarness harness = threeBanksPastShareKeys();
    SecAggClient victim = harness.clients.get(VICTIM);
    ForwardedShares toVictim = harness.server.closeStage().outgoing().stream()
        .filter(m -> m.header().recipientId().equals(VICTIM)).map(ForwardedShares.class::cast).findFirst()
        .orElseThrow();
    List<EncryptedShare> shares = new ArrayList<>();
    for (EncryptedShare share : toVictim.shares()) {
      byte[] ciphertext = share.ciphertext().clone();
      ciphertext[ciphertext.length - 1] ^= 1; // the GCM tag no longer verifies
      shares.add(new EncryptedShare(share.senderId(), share.recipientId(), ciphertext));
    }
    int[] handedOver = harness.inputs.get(VICTIM).clone();
    victim.supplyInput(handedOver);
    assertTrue(Arrays.stream(handedOver).anyMatch(v -> v != 0), "test input must not be all zeros");

    assertThrows(ProtocolViolationException.class, () -> victim.handle(new ForwardedShares(toVictim.header(), shares)));

    assertTrue(victim.isAborted());
    assertArrayEquals(new int[handedOver.length], handedOver, "the unmasked input must be wiped when the round aborts");
  }

  @Test
  void supplyInput_isRefused_whenGivenTwiceOrOutsideTheRing() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-p", 2, RoundHarness.banks(3), 2, 16)
        .withRingBits(8);
    SecAggClient client = pipelined(parameters, 5, 6).clients.get(VICTIM);
    int[] outside = new int[16];
    outside[3] = 256;

    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> client.supplyInput(outside));
    client.supplyInput(new int[16]);
    IllegalStateException twice = assertThrows(IllegalStateException.class, () -> client.supplyInput(new int[16]));

    assertTrue(bad.getMessage().contains("input[3]"), bad.getMessage());
    assertTrue(twice.getMessage().contains("already has one"), twice.getMessage());
  }

  @Test
  void discardedClient_refusesEveryLaterMessage_andWipesItsPrivateKeysAndItsInput() throws Exception {
    RoundHarness harness = threeBanksPastShareKeys();
    SecAggClient victim = harness.clients.get(VICTIM);
    int[] handedOver = harness.inputs.get(VICTIM).clone();
    victim.supplyInput(handedOver);
    assertTrue(victim.holdsPrivateKeys());
    assertTrue(Arrays.stream(handedOver).anyMatch(v -> v != 0), "test input must not be all zeros");

    victim.discard("the coordinator fell back to an unpipelined round");
    SecAggMessage toVictim = harness.server.closeStage().outgoing().stream()
        .filter(m -> m.header().recipientId().equals(VICTIM)).findFirst().orElseThrow();

    assertTrue(victim.isAborted());
    assertFalse(victim.awaitsInput());
    assertTrue(victim.abortReason().contains("fell back"), victim.abortReason());
    assertThrows(IllegalStateException.class, () -> victim.handle(toVictim));
    assertFalse(victim.holdsPrivateKeys(), "keys made ahead and discarded must be wiped");
    assertArrayEquals(new int[handedOver.length], handedOver, "the input handed over and never masked must be wiped");
  }

  @Test
  void keys_areFreshEachRound_forTheSameBankAndIdentity() throws Exception {
    List<String> banks = RoundHarness.banks(3);
    RoundHarness first = pipelined(RoundParameters.completeGraph("job-p", 4, banks, 2, 8), 5, 6);
    RoundHarness next = pipelined(RoundParameters.completeGraph("job-p", 8, banks, 2, 8), 5, 7);

    AdvertiseKeys a = first.clients.get(VICTIM).advertiseKeys();
    AdvertiseKeys b = next.clients.get(VICTIM).advertiseKeys();

    assertFalse(Arrays.equals(a.encryptionPublicKey(), b.encryptionPublicKey()));
    assertFalse(Arrays.equals(a.maskingPublicKey(), b.maskingPublicKey()));
  }

  @Test
  void sum_isExactRingSum_whenABanksKeysWereMadeAhead_andItAdvertisesExactlyThem() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-p", 9, RoundHarness.banks(5), 3, 1031);
    RoundHarness harness = pipelined(parameters, 3, 4);
    SecAggClient.PreparedKeys made = SecAggClient.prepareKeys("job-p", "", 9, VICTIM, harness.signer(VICTIM),
        RoundHarness.seeded(11));
    harness.clients.put(VICTIM, SecAggClient.createAwaitingInput(parameters, VICTIM, harness.signer(VICTIM),
        harness.directory, RoundHarness.seeded(12), made));
    assertTrue(made.wasTaken() && made.isSpent());

    AdvertiseKeys advertised = harness.clients.get(VICTIM).advertiseKeys();
    assertArrayEquals(made.encryptionPublicKey(), advertised.encryptionPublicKey());
    assertArrayEquals(made.maskingPublicKey(), advertised.maskingPublicKey());
    harness.server.accept(advertised); // the peers and the server verify the signature made ahead
    ServerTransition last = runInputsAfterShareKeys(harness, UnaryOperator.identity(), Set.of(VICTIM));

    assertTrue(last.isCompleted(), () -> "round should complete: " + last.abortReason());
    assertArrayEquals(harness.plaintextSum(parameters.bankIds()), last.result().orElseThrow().sum());
  }

  @Test
  void keysMadeAhead_keyOneClientOnce_andOnlyOfTheirJobPlanRoundAndBank() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-p", 9, RoundHarness.banks(3), 2, 16);
    RoundHarness harness = pipelined(parameters, 3, 4);
    SecureRandom random = RoundHarness.seeded(11);
    SecAggClient.PreparedKeys made = SecAggClient.prepareKeys("job-p", "", 9, VICTIM, harness.signer(VICTIM), random);
    for (SecAggClient.PreparedKeys other : List.of(
        SecAggClient.prepareKeys("job-p", "", 8, VICTIM, harness.signer(VICTIM), random),
        SecAggClient.prepareKeys("job-q", "", 9, VICTIM, harness.signer(VICTIM), random),
        SecAggClient.prepareKeys("job-p", "", 9, "bank-2", harness.signer("bank-2"), random),
        SecAggClient.prepareKeys("job-p", "c3".repeat(32), 9, VICTIM, harness.signer(VICTIM), random))) {
      assertThrows(IllegalArgumentException.class, () -> SecAggClient.createAwaitingInput(parameters, VICTIM,
          harness.signer(VICTIM), harness.directory, random, other));
      assertFalse(other.isSpent(), "refused keys are the caller's to destroy");
      other.destroy();
      assertTrue(other.isSpent() && !other.wasTaken());
    }
    SecAggClient.createAwaitingInput(parameters, VICTIM, harness.signer(VICTIM), harness.directory, random, made);
    IllegalStateException twice = assertThrows(IllegalStateException.class, () -> SecAggClient.createAwaitingInput(
        parameters, VICTIM, harness.signer(VICTIM), harness.directory, random, made));
    assertTrue(twice.getMessage().contains("keys key one round once"), twice.getMessage());
  }

  @Test
  void aDiscardedClient_wipesTheKeysItWasGivenAhead() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-p", 9, RoundHarness.banks(3), 2, 16);
    RoundHarness harness = pipelined(parameters, 3, 4);
    SecAggClient.PreparedKeys made = SecAggClient.prepareKeys("job-p", "", 9, VICTIM, harness.signer(VICTIM),
        RoundHarness.seeded(11));
    SecAggClient client = SecAggClient.createAwaitingInput(parameters, VICTIM, harness.signer(VICTIM),
        harness.directory, RoundHarness.seeded(12), made);
    assertTrue(client.holdsPrivateKeys());

    client.discard("the round fell back");

    assertFalse(client.holdsPrivateKeys());
    assertThrows(IllegalStateException.class, client::advertiseKeys);
  }

  /**
   * The attack: a coordinator forwards a bank the shares its peers sent in an earlier round (same
   * banks, same identities), relabelled with the current round. The shares are encrypted under the
   * earlier round's keys with that round's id in their associated data, so the bank aborts.
   */
  @Test
  void bankAborts_whenCoordinatorReplaysAnEarlierRoundsSharesUnderTheCurrentRound() throws Exception {
    List<String> banks = RoundHarness.banks(4);
    RoundHarness earlier = pipelined(RoundParameters.completeGraph("job-p", 4, banks, 3, 8), 5, 6);
    ForwardedShares[] recorded = new ForwardedShares[1];
    runInputsAfterShareKeys(earlier, message -> {
      if (message instanceof ForwardedShares shares && shares.header().recipientId().equals(VICTIM)) {
        recorded[0] = shares;
      }
      return message;
    });
    RoundHarness current = pipelined(RoundParameters.completeGraph("job-p", 8, banks, 3, 8), 5, 7);

    runInputsAfterShareKeys(current, message -> {
      if (message instanceof ForwardedShares shares && shares.header().recipientId().equals(VICTIM)) {
        MessageHeader h = shares.header();
        return new ForwardedShares(new MessageHeader(h.jobId(), h.round(), h.stage(), h.senderId(), h.recipientId()),
            recorded[0].shares());
      }
      return message;
    });

    assertNotNull(recorded[0]);
    assertTrue(current.clients.get(VICTIM).isAborted());
    assertTrue(current.clientRefusals.get(VICTIM).getMessage().contains("fails AES-GCM authentication"),
        current.clientRefusals.get(VICTIM).getMessage());
    assertEquals(Set.of(VICTIM), current.clientRefusals.keySet());
  }

  @Test
  void forwardedSharesCheckedBeforeTheInput_refuseATamperedShare_andTheMaskingTakesOnlyThoseShares() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-checked", 4, RoundHarness.banks(4), 3, 16);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 61), 61);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    List<SecAggMessage> forwarded = harness.server.closeStage().outgoing();
    ForwardedShares toBank1 = (ForwardedShares) forwarded.stream()
        .filter(m -> m.header().recipientId().equals("bank-1")).findFirst().orElseThrow();
    ForwardedShares toBank2 = (ForwardedShares) forwarded.stream()
        .filter(m -> m.header().recipientId().equals("bank-2")).findFirst().orElseThrow();

    // a tampered ciphertext is refused at the check, before any input exists
    List<EncryptedShare> tampered = new ArrayList<>(toBank1.shares());
    byte[] ciphertext = tampered.get(0).ciphertext().clone();
    ciphertext[0] ^= 1;
    tampered.set(0, new EncryptedShare(tampered.get(0).senderId(), "bank-1", ciphertext));
    SecAggClient bank1 = harness.clients.get("bank-1");
    assertTrue(assertThrows(ProtocolViolationException.class,
        () -> bank1.checkForwardedShares(new ForwardedShares(toBank1.header(), tampered))).getMessage()
        .contains("fails AES-GCM authentication"));
    assertTrue(bank1.isAborted());

    // shares checked, then other shares at masking (one peer's left out): refused, nothing masked
    SecAggClient bank2 = harness.clients.get("bank-2");
    bank2.checkForwardedShares(toBank2);
    ForwardedShares fewer = new ForwardedShares(toBank2.header(), toBank2.shares().subList(1, toBank2.shares().size()));
    assertTrue(assertThrows(ProtocolViolationException.class, () -> bank2.handle(fewer)).getMessage()
        .contains("differ from those bank 'bank-2' checked"));
    assertTrue(bank2.isAborted());

    // the same shares at masking: masked as if they had not been checked ahead
    SecAggClient bank3 = harness.clients.get("bank-3");
    ForwardedShares toBank3 = (ForwardedShares) forwarded.stream()
        .filter(m -> m.header().recipientId().equals("bank-3")).findFirst().orElseThrow();
    bank3.checkForwardedShares(toBank3);
    assertTrue(bank3.handle(toBank3) instanceof io.consort.secagg.message.MaskedInput);
  }
}
