package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.message.ConsistencyRequest;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.RevealedShare;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.message.ShareKind;
import io.consort.secagg.message.SurvivorSignature;
import io.consort.secagg.message.UnmaskingRequest;
import io.consort.secagg.message.UnmaskingResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Unmasking with the masked input (docs/SECURE_AGGREGATION.md, "Unmasking with the masked input"): each bank
 * sends its b-shares with its masked input and has then finished the sum; the coordinator unmasks when the
 * masked-input stage closes, or abandons the sum if an input is missing. Attacks are played against the real
 * {@link SecAggClient}s.
 */
class EarlyUnmaskingTest {
  private static final int DIM = 8;
  private static final String VICTIM = "bank-1";

  private static RoundParameters early(String job, long round, int banks, int threshold) {
    return RoundParameters.completeGraph(job, round, RoundHarness.banks(banks), threshold, DIM)
        .withUnmaskingWithInput(true);
  }

  @Test
  void sumIsUnmaskedWhenMaskedInputCloses_withNoConsistencyOrUnmaskingStage() throws Exception {
    RoundParameters parameters = early("job-early", 3, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 61), 61, true);
    harness.advertise(Set.of());
    List<Stage> opened = new ArrayList<>();
    ServerTransition transition;
    do {
      transition = harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
      if (!transition.outgoing().isEmpty()) {
        opened.add(transition.outgoing().get(0).header().stage());
      }
    } while (!transition.isAborted() && !transition.isCompleted());

    assertEquals(List.of(Stage.SHARE_KEYS, Stage.MASKED_INPUT), opened);
    assertTrue(transition.isCompleted(), transition.toString());
    assertEquals(Stage.MASKED_INPUT, transition.closedStage());
    AggregationResult result = transition.result().orElseThrow();
    assertEquals(parameters.bankIds(), result.includedBanks());
    assertArrayEquals(harness.plaintextSum(parameters.bankIds()), result.sum());
    assertTrue(harness.clientRefusals.isEmpty() && harness.serverRefusals.isEmpty());
    for (SecAggClient client : harness.clients.values()) {
      assertTrue(client.isFinished());
      assertFalse(client.holdsPrivateKeys());
      assertEquals(parameters.bankIds(), client.survivors());
    }
  }

  @Test
  void sumIsAbandonedAndNothingUnmasked_whenOneMembersMaskedInputIsMissing() throws Exception {
    RoundParameters parameters = early("job-early", 4, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 62), 62, true);

    ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-5")), UnaryOperator.identity());

    assertTrue(last.isAborted(), last.toString());
    assertEquals(Stage.MASKED_INPUT, last.closedStage());
    String reason = last.abortReason().orElseThrow();
    assertTrue(reason.contains("no masked input from [bank-5]") && reason.contains("abandoned")
        && reason.contains("nothing was unmasked"), reason);
    assertFalse(harness.server.isRunning());
  }

  @Test
  void sumOfTheOthersIsUnmasked_whenABankDroppedBeforeItsShares() throws Exception {
    RoundParameters parameters = early("job-early", 5, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 63), 63, true);

    ServerTransition last = harness.run(Map.of(Stage.SHARE_KEYS, Set.of("bank-4")), UnaryOperator.identity());

    assertTrue(last.isCompleted(), last.toString());
    List<String> others = List.of("bank-1", "bank-2", "bank-3", "bank-5");
    assertEquals(others, last.result().orElseThrow().includedBanks());
    assertArrayEquals(harness.plaintextSum(others), last.result().orElseThrow().sum());
  }

  @Test
  void bankRefusesAConsistencyCheck_afterItSentItsSharesWithItsInput() throws Exception {
    RoundHarness harness = completedRound(early("job-early", 6, 5, 3), 64);

    ProtocolViolationException refused = assertThrows(ProtocolViolationException.class, () -> harness.clients
        .get(VICTIM).handleAll(new ConsistencyRequest(header(harness, Stage.CONSISTENCY_CHECK, VICTIM),
            List.of("bank-1", "bank-2", "bank-3", "bank-4"))));

    assertTrue(refused.getMessage().contains("finished the round") && refused.getMessage().contains(
        "unmasking with the input"), refused.getMessage());
  }

  @Test
  void bankRevealsNoSskShare_whenTheCoordinatorPretendsAMemberDropped_orAsksAgain() throws Exception {
    RoundHarness harness = completedRound(early("job-early", 7, 5, 3), 65);
    List<String> roster = harness.parameters.bankIds();

    for (String bank : roster) {
      for (String pretendDropped : roster) {
        if (pretendDropped.equals(bank)) {
          continue;
        }
        List<String> survivors = roster.stream().filter(b -> !b.equals(pretendDropped)).toList();
        ProtocolViolationException refused = assertThrows(ProtocolViolationException.class, () -> harness.clients
            .get(bank).handleAll(new UnmaskingRequest(header(harness, Stage.UNMASKING, bank), survivors,
                List.of(pretendDropped), List.of())));
        assertTrue(refused.getMessage().contains("finished the round"), refused.getMessage());
      }
      // a second fast request, as after a v4 masked-input stage
      assertThrows(ProtocolViolationException.class, () -> harness.clients.get(bank).handleAll(
          new UnmaskingRequest(header(harness, Stage.UNMASKING, bank), roster, List.of(), List.of())));
      assertTrue(harness.clients.get(bank).isFinished());
      assertFalse(harness.clients.get(bank).holdsPrivateKeys());
    }
  }

  @Test
  void bankAnswersItsForwardedSharesWithItsMaskedInputThenBSharesOnly_ofEveryMemberItHolds() throws Exception {
    RoundParameters parameters = early("job-early", 8, 5, 3);
    Map<String, List<SecAggMessage>> replies = new HashMap<>();
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 66), 66, true);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity()); // key roster -> shares
    ServerTransition forwarded = harness.server.closeStage();
    for (SecAggMessage message : forwarded.outgoing()) {
      String bank = message.header().recipientId();
      replies.put(bank, harness.clients.get(bank).handleAll(message));
    }

    for (String bank : parameters.bankIds()) {
      List<SecAggMessage> answer = replies.get(bank);
      assertEquals(2, answer.size());
      assertEquals(Stage.MASKED_INPUT, answer.get(0).header().stage());
      UnmaskingResponse shares = (UnmaskingResponse) answer.get(1);
      assertEquals(parameters.bankIds(), shares.shares().stream().map(RevealedShare::ownerId).toList());
      assertTrue(shares.shares().stream().allMatch(s -> s.kind() == ShareKind.SELF_MASK_SEED), "b-shares only");
    }
    assertThrows(IllegalStateException.class, () -> new RoundHarness(parameters,
        RoundHarness.randomInputs(parameters, 67), 67).clients.get(VICTIM).handle(forwarded.outgoing().get(0)),
        "the one-reply call refuses a two-message answer");
  }

  @Test
  void serverRefusesBSharesThatComeBeforeTheBanksMaskedInput() throws Exception {
    RoundParameters parameters = early("job-early", 9, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 68), 68, true);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    ServerTransition forwarded = harness.server.closeStage();
    for (SecAggMessage message : forwarded.outgoing()) {
      List<SecAggMessage> answer = harness.clients.get(message.header().recipientId()).handleAll(message);
      if (message.header().recipientId().equals("bank-2")) {
        harness.deliverToServer(answer.get(1));
        harness.deliverToServer(answer.get(0));
      } else {
        answer.forEach(harness::deliverToServer);
      }
    }

    assertTrue(harness.serverRefusals.get("bank-2").getMessage().contains("before the bank's masked input"));
    ServerTransition last = harness.server.closeStage();
    assertTrue(last.isAborted(), "bank-2 was refused before its masked input was summed: " + last);
  }

  /**
   * A bank of a round pinned to unmask after the inputs sends, at masked-input, the b-shares a with_input bank
   * would (its real ones: a twin round with the same seed and the other mode makes the same keys and shares),
   * headed for the masked-input stage. The server refuses them: they would count the bank as an unmasking responder that signed no survivor set and was
   * asked nothing.
   */
  @Test
  void serverRefusesBSharesWithTheInput_inARoundThatUnmasksAfterTheInputs() throws Exception {
    RoundParameters after = RoundParameters.completeGraph("job-early", 9, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(after, RoundHarness.randomInputs(after, 70), 70, true);
    RoundParameters withInput = after.withUnmaskingWithInput(true);
    RoundHarness twin = new RoundHarness(withInput, RoundHarness.randomInputs(withInput, 70), 70, true);
    for (RoundHarness h : List.of(harness, twin)) {
      h.advertise(Set.of());
      h.closeAndDeliver(Map.of(), UnaryOperator.identity());
    }
    Map<String, SecAggMessage> twinForwarded = new HashMap<>();
    for (SecAggMessage message : twin.server.closeStage().outgoing()) {
      twinForwarded.put(message.header().recipientId(), message);
    }
    for (SecAggMessage message : harness.server.closeStage().outgoing()) {
      harness.deliverToServer(harness.clients.get(message.header().recipientId()).handle(message));
    }
    UnmaskingResponse real = (UnmaskingResponse) twin.clients.get("bank-2").handleAll(twinForwarded.get("bank-2"))
        .get(1);
    MessageHeader h = real.header();
    // headed for the stage the round is at, so that it passes the header check of an after_inputs round
    harness.deliverToServer(new UnmaskingResponse(new MessageHeader(h.jobId(), h.round(), Stage.MASKED_INPUT,
        h.senderId(), h.recipientId()), real.shares()));

    assertTrue(harness.serverRefusals.get("bank-2").getMessage().contains("unmasks after the inputs"),
        String.valueOf(harness.serverRefusals));
  }

  /**
   * The premise of the bound c < t - 1: a coordinator that forwards a bank the shares of fewer than t - 1 peers (one
   * peer at t = 3) cannot make it mask with so few; the bank aborts and sends nothing, neither a masked input nor
   * b-shares.
   */
  @Test
  void bankForwardedFewerThanTMinusOnePeersShares_abortsAndSendsNeitherInputNorBShares() throws Exception {
    RoundParameters parameters = early("job-early", 9, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 71), 71, true);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    ForwardedShares toVictim = (ForwardedShares) harness.server.closeStage().outgoing().stream()
        .filter(m -> m.header().recipientId().equals("bank-2")).findFirst().orElseThrow();
    SecAggClient victim = harness.clients.get("bank-2");
    ForwardedShares onePeer = new ForwardedShares(toVictim.header(), toVictim.shares().subList(0, 1));

    ProtocolViolationException refused = assertThrows(ProtocolViolationException.class,
        () -> victim.handleAll(onePeer));

    assertTrue(refused.getMessage().contains("threshold is 3"), refused.getMessage());
    assertTrue(victim.isAborted());
  }

  @Test
  void parametersRefuseUnmaskingWithInput_forSecAggPlus_orWithoutTheConsistencyCheck() {
    RoundParameters plus = new RoundParameters("job-plus", 1, RoundHarness.banks(8), 3, 32, DIM, 4, true);
    RoundParameters unchecked = RoundParameters.completeGraph("job", 1, RoundHarness.banks(5), 3, DIM)
        .withConsistencyCheck(false);

    for (RoundParameters p : List.of(plus, unchecked)) {
      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
          () -> p.withUnmaskingWithInput(true));
      assertTrue(refused.getMessage().contains("unmaskingWithInput"), refused.getMessage());
    }
  }

  /**
   * n = 5, t = 3. Every bank has sent its masked input with its b-shares; the coordinator holds them all (so it
   * knows b of every bank), withholds the victim's input from the sum it reports and asks every other bank, in
   * every way the protocol has, for s^SK-shares: a consistency check over the roster without the victim, then an
   * unmasking request naming the victim as dropped, then one naming each of the victim's peers. Colluding banks
   * hand over every share they hold. No honest bank reveals an s^SK-share, so with up to t - 1 = 2 colluders the
   * coordinator never gets t s^SK-shares of the victim nor of any honest peer the victim masked with: the victim's
   * masks with its honest peers stay on (what it can remove leaves the sum of the honest banks' inputs).
   */
  @Test
  void victimsInputStaysHidden_whenTheCoordinatorWithholdsItAndAsksTheOthersForSskShares() throws Exception {
    for (Set<String> colluders : List.of(Set.<String>of(), Set.of("bank-5"), Set.of("bank-4", "bank-5"))) {
      RoundHarness harness = completedRound(early("job-attack", 10, 5, 3), 70 + colluders.size());
      List<String> roster = harness.parameters.bankIds();
      List<String> withoutVictim = roster.stream().filter(b -> !b.equals(VICTIM)).toList();
      Map<String, Integer> keyShares = new HashMap<>();
      for (String colluder : colluders) {
        roster.forEach(owner -> keyShares.merge(owner, 1, Integer::sum));
      }
      for (String bank : withoutVictim) {
        if (colluders.contains(bank)) {
          continue;
        }
        List<SecAggMessage> asks = new ArrayList<>();
        asks.add(new ConsistencyRequest(header(harness, Stage.CONSISTENCY_CHECK, bank), withoutVictim));
        List<SurvivorSignature> colluderSignatures = new ArrayList<>();
        for (String colluder : colluders) {
          colluderSignatures.add(new SurvivorSignature(colluder, harness.signer(colluder).sign(
              ContextEncoding.survivorSet(harness.parameters.jobId(), harness.parameters.round(), colluder,
                  withoutVictim))));
        }
        asks.add(new UnmaskingRequest(header(harness, Stage.UNMASKING, bank), withoutVictim, List.of(VICTIM),
            colluderSignatures));
        for (String peer : withoutVictim) {
          if (!peer.equals(bank)) {
            asks.add(new UnmaskingRequest(header(harness, Stage.UNMASKING, bank),
                roster.stream().filter(b -> !b.equals(peer)).toList(), List.of(peer), List.of()));
          }
        }
        for (SecAggMessage ask : asks) {
          try {
            for (SecAggMessage reply : harness.clients.get(bank).handleAll(ask)) {
              if (reply instanceof UnmaskingResponse response) {
                response.shares().stream().filter(s -> s.kind() == ShareKind.MASKING_KEY)
                    .forEach(s -> keyShares.merge(s.ownerId(), 1, Integer::sum));
              }
            }
          } catch (ProtocolViolationException | IllegalStateException refused) {
            // refused: nothing revealed
          }
        }
      }
      int t = harness.parameters.threshold();
      boolean victimKeyKnown = keyShares.getOrDefault(VICTIM, 0) >= t;
      boolean everyHonestPeerKeyKnown = withoutVictim.stream().filter(b -> !colluders.contains(b))
          .allMatch(b -> keyShares.getOrDefault(b, 0) >= t);
      assertFalse(victimKeyKnown || everyHonestPeerKeyKnown, "colluders " + colluders + ": " + keyShares);
      assertTrue(keyShares.values().stream().allMatch(count -> count == colluders.size()),
          "honest banks revealed no s^SK-share: " + keyShares);
    }
  }

  /**
   * The isolation attack of the other mode (docs/SECURE_AGGREGATION.md, "The threshold"): the coordinator forwards
   * to the victim only the shares of t - 1 = 2 peers, so it masks with those two only and still sends its b-shares
   * (it holds t shares, itself included). The victim is exposed exactly when both peers collude: the bound is
   * c < t - 1, which at the default t = 3 of 5 tolerates one colluder (unmasking after the inputs: none, 2t > n + c).
   */
  @Test
  void victimsInputIsExposed_onlyWhenEveryPeerItWasLeftToMaskWithColludes() throws Exception {
    assertFalse(isolationExposes(Set.of("bank-5"), Set.of("bank-2", "bank-5")), "one colluder, one honest peer");
    assertTrue(isolationExposes(Set.of("bank-4", "bank-5"), Set.of("bank-4", "bank-5")), "the bound is tight");
  }

  /**
   * Runs a round in which the victim gets only {@code leftWith}'s shares; true if the coordinator then holds t
   * b-shares of the victim and the masking key (colluders hand theirs over; honest banks reveal no s^SK-share) of
   * every peer the victim masked with.
   */
  private static boolean isolationExposes(Set<String> colluders, Set<String> leftWith) throws Exception {
    RoundParameters parameters = early("job-isolate", 11, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 80), 80, true);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    Map<String, Integer> seedShares = new HashMap<>();
    Map<String, Integer> keyShares = new HashMap<>();
    for (SecAggMessage message : harness.server.closeStage().outgoing()) {
      String bank = message.header().recipientId();
      if (message instanceof io.consort.secagg.message.ForwardedShares f && bank.equals(VICTIM)) {
        message = new io.consort.secagg.message.ForwardedShares(f.header(),
            f.shares().stream().filter(share -> leftWith.contains(share.senderId())).toList());
      }
      for (SecAggMessage reply : harness.clients.get(bank).handleAll(message)) {
        if (reply instanceof UnmaskingResponse response) {
          for (RevealedShare share : response.shares()) {
            (share.kind() == ShareKind.SELF_MASK_SEED ? seedShares : keyShares).merge(share.ownerId(), 1,
                Integer::sum);
          }
        }
      }
    }
    int t = parameters.threshold();
    boolean seedKnown = seedShares.getOrDefault(VICTIM, 0) >= t;
    boolean everyMaskingPeerKnown = leftWith.stream()
        .allMatch(peer -> colluders.contains(peer) || keyShares.getOrDefault(peer, 0) >= t);
    assertTrue(keyShares.isEmpty(), "no s^SK-share revealed: " + keyShares);
    return seedKnown && everyMaskingPeerKnown;
  }

  private static RoundHarness completedRound(RoundParameters parameters, long seed) throws Exception {
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, seed), seed, true);
    ServerTransition last = harness.run();
    assertTrue(last.isCompleted(), last.toString());
    return harness;
  }

  private static MessageHeader header(RoundHarness harness, Stage stage, String recipient) {
    return new MessageHeader(harness.parameters.jobId(), harness.parameters.round(), stage,
        RoundParameters.COORDINATOR_ID, recipient);
  }
}
