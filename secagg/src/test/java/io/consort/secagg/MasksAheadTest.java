package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.message.EncryptedShare;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.SecAggMessage;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A bank's mask vector expanded before its input exists (pipelined rounds, {@link SecAggClient#expandMasksAhead}):
 * the masked input is the one the masks computed at masking give, peers outside U2 included, and the vector is
 * used once and wiped.
 */
class MasksAheadTest {
  private static final String VICTIM = "bank-2";
  private static final Executor NOW = Runnable::run;

  /** Clients without input, all randomness from {@code clientSeed}: two harnesses with one seed make the same keys. */
  private static RoundHarness pipelined(RoundParameters parameters, long clientSeed) {
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 40 + clientSeed), 40);
    SecureRandom random = RoundHarness.seeded(clientSeed);
    for (String bank : parameters.bankIds()) {
      harness.clients.put(bank, SecAggClient.createAwaitingInput(parameters, bank, harness.signer(bank),
          harness.directory, random));
    }
    return harness;
  }

  /** Advertise and share keys, {@code silentAtShareKeys} never answering the roster; the forwarded shares, by bank. */
  private static Map<String, ForwardedShares> pastShareKeys(RoundHarness harness, Set<String> silentAtShareKeys)
      throws Exception {
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(Stage.SHARE_KEYS, silentAtShareKeys), message -> message);
    Map<String, ForwardedShares> forwarded = new LinkedHashMap<>();
    for (SecAggMessage message : harness.server.closeStage().outgoing()) {
      forwarded.put(message.header().recipientId(), (ForwardedShares) message);
    }
    return forwarded;
  }

  /** Masked input of every bank that got forwarded shares (with its masks ahead if {@code ahead}), then the rest. */
  private static Map<String, int[]> maskAndFinish(RoundHarness harness, Map<String, ForwardedShares> forwarded,
                                                  Executor ahead, List<ServerTransition> last) throws Exception {
    Map<String, int[]> masked = new LinkedHashMap<>();
    for (Map.Entry<String, ForwardedShares> entry : forwarded.entrySet()) {
      SecAggClient client = harness.clients.get(entry.getKey());
      MasksAhead vector = null;
      if (ahead != null) {
        client.expandMasksAhead(ahead);
        vector = client.masksAhead();
      }
      client.supplyInput(harness.inputs.get(entry.getKey()).clone());
      MaskedInput reply = (MaskedInput) client.handle(entry.getValue());
      if (vector != null) {
        // the vector itself was added, not the fallback that expands the masks at masking (same result)
        assertTrue(vector.handedOut(), entry.getKey());
      }
      masked.put(entry.getKey(), reply.values().clone());
      harness.deliverToServer(reply);
    }
    ServerTransition transition;
    do {
      transition = harness.closeAndDeliver(Map.of(), message -> message);
    } while (!transition.isAborted() && !transition.isCompleted());
    last.add(transition);
    return masked;
  }

  @Test
  void maskedInput_withMasksExpandedAhead_equalsTheOneMaskedAtMasking_andTheSumIsExact() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(4), 3, 70_001);
    RoundHarness before = pipelined(parameters, 8);
    RoundHarness withAhead = pipelined(parameters, 8);
    List<ServerTransition> lastBefore = new ArrayList<>();
    List<ServerTransition> lastAhead = new ArrayList<>();

    Map<String, int[]> expected = maskAndFinish(before, pastShareKeys(before, Set.of()), null, lastBefore);
    Executor thread = r -> new Thread(r, "test-masks").start();
    Map<String, int[]> masked = maskAndFinish(withAhead, pastShareKeys(withAhead, Set.of()), thread, lastAhead);

    for (String bank : parameters.bankIds()) {
      assertArrayEquals(expected.get(bank), masked.get(bank), bank);
    }
    assertTrue(lastAhead.get(0).isCompleted(), () -> "round should complete: " + lastAhead.get(0).abortReason());
    assertArrayEquals(withAhead.plaintextSum(parameters.bankIds()), lastAhead.get(0).result().orElseThrow().sum());
  }

  /**
   * In a ring below 32 bits the vector's add and the reduction into the ring are one pass when the vector holds every
   * mask: the masked input equals the one masked at masking (add, then reduce), and stays in the ring.
   */
  @Test
  void maskedInput_inA20BitRing_addsTheVectorAndReducesInOnePass_asMaskingAtMaskingDoes() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(4), 3, 30_001)
        .withRingBits(20);
    RoundHarness before = pipelined(parameters, 12);
    RoundHarness withAhead = pipelined(parameters, 12);
    List<ServerTransition> lastBefore = new ArrayList<>();
    List<ServerTransition> lastAhead = new ArrayList<>();

    Map<String, int[]> expected = maskAndFinish(before, pastShareKeys(before, Set.of()), null, lastBefore);
    Map<String, int[]> masked = maskAndFinish(withAhead, pastShareKeys(withAhead, Set.of()), NOW, lastAhead);

    for (String bank : parameters.bankIds()) {
      assertArrayEquals(expected.get(bank), masked.get(bank), bank);
      assertTrue(java.util.Arrays.stream(masked.get(bank)).allMatch(x -> (x & ~((1 << 20) - 1)) == 0), bank);
    }
    assertTrue(lastAhead.get(0).isCompleted(), () -> "round should complete: " + lastAhead.get(0).abortReason());
    assertArrayEquals(withAhead.plaintextSum(parameters.bankIds()), lastAhead.get(0).result().orElseThrow().sum());
  }

  @Test
  void aPeerMissingFromU2_hasItsMaskTakenOutOfTheVector_andTheSumOfTheOthersIsExact() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(5), 3, 20_000)
        .withRingBits(20);
    RoundHarness before = pipelined(parameters, 9);
    RoundHarness withAhead = pipelined(parameters, 9);
    Set<String> silent = Set.of("bank-1", "bank-4"); // verified at the roster, then sent no shares: not in U2
    List<ServerTransition> lastBefore = new ArrayList<>();
    List<ServerTransition> lastAhead = new ArrayList<>();

    Map<String, int[]> expected = maskAndFinish(before, pastShareKeys(before, silent), null, lastBefore);
    Map<String, int[]> masked = maskAndFinish(withAhead, pastShareKeys(withAhead, silent), NOW, lastAhead);

    assertTrue(masked.keySet().equals(Set.of("bank-2", "bank-3", "bank-5")), masked.keySet().toString());
    for (String bank : masked.keySet()) {
      assertArrayEquals(expected.get(bank), masked.get(bank), bank);
    }
    assertTrue(lastAhead.get(0).isCompleted(), () -> "round should complete: " + lastAhead.get(0).abortReason());
    assertArrayEquals(withAhead.plaintextSum(List.of("bank-2", "bank-3", "bank-5")),
        lastAhead.get(0).result().orElseThrow().sum());
  }

  @Test
  void theMaskedInput_waitsForTheVector_whileItsThreadIsHeld() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(3), 2, 4099);
    RoundHarness before = pipelined(parameters, 10);
    RoundHarness withAhead = pipelined(parameters, 10);
    int[] expected = ((MaskedInput) masked(before, pastShareKeys(before, Set.of()), null)).values();
    Map<String, ForwardedShares> forwarded = pastShareKeys(withAhead, Set.of());
    BlockingQueue<Runnable> maskThread = new LinkedBlockingQueue<>();
    SecAggClient victim = withAhead.clients.get(VICTIM);
    victim.expandMasksAhead(maskThread::add); // the vector is expanded when the test runs it
    victim.supplyInput(withAhead.inputs.get(VICTIM).clone());

    CompletableFuture<SecAggMessage> answer = CompletableFuture.supplyAsync(() -> {
      try {
        return victim.handle(forwarded.get(VICTIM));
      } catch (ProtocolViolationException e) {
        throw new CompletionException(e);
      }
    });

    assertThrows(TimeoutException.class, () -> answer.get(300, TimeUnit.MILLISECONDS),
        "the masked input left before its mask vector was expanded");
    maskThread.take().run();
    assertArrayEquals(expected, ((MaskedInput) answer.get(60, TimeUnit.SECONDS)).values());
  }

  private static SecAggMessage masked(RoundHarness harness, Map<String, ForwardedShares> forwarded, Executor ahead)
      throws Exception {
    SecAggClient client = harness.clients.get(VICTIM);
    if (ahead != null) {
      client.expandMasksAhead(ahead);
    }
    client.supplyInput(harness.inputs.get(VICTIM).clone());
    return client.handle(forwarded.get(VICTIM));
  }

  @Test
  void theVector_isWipedOnceAdded_andARepeatedMaskingTaskGetsNoMaskAgain() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(3), 2, 4099);
    RoundHarness harness = pipelined(parameters, 11);
    Map<String, ForwardedShares> forwarded = pastShareKeys(harness, Set.of());
    SecAggClient victim = harness.clients.get(VICTIM);
    victim.expandMasksAhead(NOW);
    MasksAhead vector = victim.masksAhead();
    assertFalse(vector.wiped());
    victim.supplyInput(harness.inputs.get(VICTIM).clone());

    assertNotNull(victim.handle(forwarded.get(VICTIM)));

    assertTrue(vector.wiped(), "the mask vector must be zeroed once added");
    assertNull(victim.masksAhead());
    // the same training task again (a replay): refused, no second masked input from this vector
    assertThrows(ProtocolViolationException.class, () -> victim.handle(forwarded.get(VICTIM)));
    assertThrows(IllegalStateException.class, () -> victim.supplyInput(harness.inputs.get(VICTIM).clone()));
    IllegalStateException taken = assertThrows(IllegalStateException.class, () -> vector.take(parameters, VICTIM));
    assertTrue(taken.getMessage().contains("destroyed"), taken.getMessage());
  }

  @Test
  void aVector_isTakenOnce_andOnlyForItsJobRoundBankAndDimension() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(3), 2, 64);
    RoundHarness harness = pipelined(parameters, 12);
    pastShareKeys(harness, Set.of());
    SecAggClient victim = harness.clients.get(VICTIM);
    victim.expandMasksAhead(NOW);
    MasksAhead vector = victim.masksAhead();

    for (RoundParameters other : List.of(RoundParameters.completeGraph("job-m", 7, RoundHarness.banks(3), 2, 64),
        RoundParameters.completeGraph("job-x", 6, RoundHarness.banks(3), 2, 64),
        RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(3), 2, 65))) {
      assertThrows(IllegalArgumentException.class, () -> vector.take(other, VICTIM), other.toString());
    }
    assertThrows(IllegalArgumentException.class, () -> vector.take(parameters, "bank-1"));
    assertNotNull(vector.take(parameters, VICTIM));
    IllegalStateException twice = assertThrows(IllegalStateException.class, () -> vector.take(parameters, VICTIM));
    assertTrue(twice.getMessage().contains("never added to two"), twice.getMessage());
    assertThrows(IllegalStateException.class, () -> victim.expandMasksAhead(NOW), "a second vector for one round");
  }

  @Test
  void anExpansionFailingPartWayWithAnError_leavesNoVectorToTake_andNothingUnwiped() {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(3), 2, 64);
    List<io.consort.secagg.crypto.SecretBytes> seeds = List.of(
        io.consort.secagg.crypto.SecretBytes.copyOf(new byte[32]), io.consort.secagg.crypto.SecretBytes.copyOf(new byte[32]));
    MasksAhead ahead = new MasksAhead(parameters, VICTIM, Set.of("bank-1"), seeds, new boolean[] {false, true},
        (s, signs, target) -> {
          java.util.Arrays.fill(target, 0, target.length / 2, 7);
          throw new InternalError("the provider failed half way");
        });

    assertThrows(InternalError.class, ahead::expand);

    assertNull(ahead.take(parameters, VICTIM), "a partial vector would leave half the input unmasked");
    ahead.destroy();
    assertTrue(ahead.wiped());
  }

  @Test
  void theVector_isWiped_whenTheRoundIsDiscarded_beforeOrAfterItsExpansion() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(3), 2, 4099);
    RoundHarness harness = pipelined(parameters, 13);
    pastShareKeys(harness, Set.of());
    SecAggClient expanded = harness.clients.get("bank-1");
    SecAggClient pending = harness.clients.get("bank-3");
    expanded.expandMasksAhead(NOW);
    BlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
    pending.expandMasksAhead(held::add);
    MasksAhead made = expanded.masksAhead();
    MasksAhead notYetMade = pending.masksAhead();

    expanded.discard("the coordinator fell back to an unpipelined round");
    pending.discard("the coordinator fell back to an unpipelined round");
    held.take().run(); // the expansion's turn comes after the discard: it makes nothing

    assertTrue(made.wiped());
    assertTrue(notYetMade.wiped());
  }

  @Test
  void theVector_isWiped_whenATamperedShareAbortsTheRound() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(3), 2, 4099);
    RoundHarness harness = pipelined(parameters, 14);
    ForwardedShares toVictim = pastShareKeys(harness, Set.of()).get(VICTIM);
    SecAggClient victim = harness.clients.get(VICTIM);
    victim.expandMasksAhead(NOW);
    MasksAhead vector = victim.masksAhead();
    List<EncryptedShare> shares = new ArrayList<>();
    for (EncryptedShare share : toVictim.shares()) {
      byte[] ciphertext = share.ciphertext().clone();
      ciphertext[ciphertext.length - 1] ^= 1;
      shares.add(new EncryptedShare(share.senderId(), share.recipientId(), ciphertext));
    }
    victim.supplyInput(harness.inputs.get(VICTIM).clone());

    assertThrows(ProtocolViolationException.class, () -> victim.handle(new ForwardedShares(toVictim.header(), shares)));

    assertTrue(victim.isAborted());
    assertTrue(vector.wiped());
  }

  @Test
  void masksAhead_areRefusedBeforeTheKeyRoster() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-m", 6, RoundHarness.banks(3), 2, 64);
    SecAggClient client = pipelined(parameters, 15).clients.get(VICTIM);
    assertThrows(IllegalStateException.class, () -> client.expandMasksAhead(NOW));
    client.advertiseKeys();
    assertThrows(IllegalStateException.class, () -> client.expandMasksAhead(NOW));
  }
}
