package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.crypto.MaskExpander;
import io.consort.secagg.crypto.SecretBytes;
import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.ConsistencyRequest;
import io.consort.secagg.message.EncryptedShare;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.KeyRoster;
import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.RevealedShare;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.message.ShareKeys;
import io.consort.secagg.message.ShareKind;
import io.consort.secagg.message.SignedPublicKeys;
import io.consort.secagg.message.UnmaskingRequest;
import io.consort.secagg.message.UnmaskingResponse;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Sums without self masks under unmasking with the input (docs/SECURE_AGGREGATION.md, "No self mask under with_input
 * (protocol version 7)"): no b, no share of anything; each bank masks with every other member of the key roster it
 * accepted, and the sum is unmasked only if every member of that roster sent its masked input. The attacks are
 * played against the real {@link SecAggClient}s and {@link SecAggServer}.
 */
class NoSelfMaskTest {
  private static final int DIM = 16;
  private static final String VICTIM = "bank-1";

  private static RoundParameters noSelfMask(String job, long round, int banks, int threshold) {
    return RoundParameters.completeGraph(job, round, RoundHarness.banks(banks), threshold, DIM)
        .withUnmaskingWithInput(true).withSelfMask(false);
  }

  @Test
  void sumIsExact_withNoShareAnywhere_andNoSecondMessage() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 3, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 11), 11, true);
    harness.encodedInPlace = true;

    ServerTransition last = harness.run();

    assertTrue(last.isCompleted(), last.toString());
    assertEquals(Stage.MASKED_INPUT, last.closedStage());
    assertEquals(parameters.bankIds(), last.result().orElseThrow().includedBanks());
    assertArrayEquals(harness.plaintextSum(parameters.bankIds()), last.result().orElseThrow().sum());
    assertTrue(harness.clientRefusals.isEmpty() && harness.serverRefusals.isEmpty());
    for (SecAggMessage m : harness.delivered) {
      assertFalse(m instanceof UnmaskingResponse, "no bank reveals anything");
      if (m instanceof ShareKeys shares) {
        assertTrue(shares.shares().isEmpty(), "no bank shares anything");
      }
    }
    assertEquals(5, harness.delivered.stream().filter(m -> m instanceof MaskedInput).count());
    for (SecAggClient client : harness.clients.values()) {
      assertTrue(client.isFinished());
      assertFalse(client.holdsPrivateKeys());
      assertEquals(parameters.bankIds(), client.survivors());
    }
  }

  @Test
  void aBankThatAdvertisedNoKeys_isNotInTheSum_andTheOthersSumExactly() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 4, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 12), 12, true);

    ServerTransition last = harness.run(Map.of(Stage.ADVERTISE_KEYS, Set.of("bank-4")), UnaryOperator.identity());

    assertTrue(last.isCompleted(), last.toString());
    List<String> others = List.of("bank-1", "bank-2", "bank-3", "bank-5");
    assertEquals(others, last.result().orElseThrow().includedBanks());
    assertArrayEquals(harness.plaintextSum(others), last.result().orElseThrow().sum());
  }

  @Test
  void aMissingMaskedInput_abandonsTheSum_andNothingIsUnmasked() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 5, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 13), 13, true);

    ServerTransition last = harness.run(Map.of(Stage.MASKED_INPUT, Set.of("bank-5")), UnaryOperator.identity());

    assertTrue(last.isAborted(), last.toString());
    String reason = last.abortReason().orElseThrow();
    assertTrue(reason.contains("no masked input from [bank-5]") && reason.contains("nothing was unmasked"), reason);
    assertTrue(last.result().isEmpty());
  }

  @Test
  void aKeyRosterMemberThatSendsNoShareKeysAnswer_abandonsTheSumAtShareKeys() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 6, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 14), 14, true);

    ServerTransition last = harness.run(Map.of(Stage.SHARE_KEYS, Set.of("bank-4")), UnaryOperator.identity());

    assertTrue(last.isAborted(), last.toString());
    assertEquals(Stage.SHARE_KEYS, last.closedStage());
    assertTrue(last.abortReason().orElseThrow().contains("no share-keys answer from [bank-4]"), last.toString());
    assertTrue(harness.delivered.stream().noneMatch(m -> m instanceof MaskedInput), "no input left any bank");
  }

  /** The coordinator forwards the victim a share (a well-formed ciphertext): the victim aborts and sends nothing. */
  @Test
  void bankForwardedAnyShare_abortsAndSendsNoMaskedInput() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 7, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 15), 15, true);
    UnaryOperator<SecAggMessage> forwardAShare = m -> m instanceof ForwardedShares f
        && m.header().recipientId().equals(VICTIM)
        ? new ForwardedShares(f.header(), List.of(new EncryptedShare("bank-2", VICTIM, new byte[61]))) : m;

    ServerTransition last = harness.run(Map.of(), forwardAShare);

    ProtocolViolationException refused = harness.clientRefusals.get(VICTIM);
    assertTrue(refused.getMessage().contains("forwards 1 share(s)") && refused.getMessage().contains("self_mask"),
        refused.getMessage());
    SecAggClient victim = harness.clients.get(VICTIM);
    assertTrue(victim.isAborted());
    assertFalse(victim.holdsPrivateKeys());
    assertTrue(harness.delivered.stream().noneMatch(m -> m instanceof MaskedInput
        && m.header().senderId().equals(VICTIM)), "the victim's input never left");
    assertTrue(last.isAborted(), "the others' sum cannot be unmasked without the victim: " + last);
  }

  /** Pipelined: the forwarded shares are checked before the bank has its input; a share is refused before training. */
  @Test
  void bankForwardedAShareAheadOfItsInput_refusesBeforeItHasAnInput() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 8, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 16), 16, true);
    SecAggClient victim = SecAggClient.createAwaitingInput(parameters, VICTIM, harness.signer(VICTIM),
        harness.directory, RoundHarness.seeded(16));
    harness.clients.put(VICTIM, victim);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    ForwardedShares toVictim = (ForwardedShares) harness.server.closeStage().outgoing().stream()
        .filter(m -> m.header().recipientId().equals(VICTIM)).findFirst().orElseThrow();
    assertTrue(toVictim.shares().isEmpty(), "the coordinator forwards nothing in such a sum");

    ProtocolViolationException refused = assertThrows(ProtocolViolationException.class, () -> victim
        .checkForwardedShares(new ForwardedShares(toVictim.header(),
            List.of(new EncryptedShare("bank-3", VICTIM, new byte[61])))));

    assertTrue(refused.getMessage().contains("no bank shares anything"), refused.getMessage());
    assertTrue(victim.isAborted());
    assertFalse(victim.holdsPrivateKeys());
  }

  /**
   * A consistency request or an unmasking request (fast, or naming a peer dropped) before the bank's masked input
   * aborts the sum with the reason; after it, it is refused and the bank stays finished. Nothing is revealed.
   */
  @Test
  void bankRefusesConsistencyAndUnmaskingRequests_beforeAndAfterItsInput() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 9, 5, 3);
    List<String> roster = parameters.bankIds();
    List<String> withoutVictim = roster.subList(1, roster.size());
    List<SecAggMessage> asks = List.of(
        new ConsistencyRequest(header(parameters, Stage.CONSISTENCY_CHECK, "bank-2"), withoutVictim),
        new UnmaskingRequest(header(parameters, Stage.UNMASKING, "bank-2"), roster, List.of(), List.of()),
        new UnmaskingRequest(header(parameters, Stage.UNMASKING, "bank-2"), withoutVictim, List.of(VICTIM),
            List.of()));
    for (SecAggMessage ask : asks) {
      RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 17), 17, true);
      harness.advertise(Set.of());
      harness.closeAndDeliver(Map.of(), UnaryOperator.identity()); // key rosters answered
      SecAggClient bank = harness.clients.get("bank-2");

      ProtocolViolationException early = assertThrows(ProtocolViolationException.class, () -> bank.handleAll(ask));

      assertTrue(early.getMessage().contains("without self masks or shares"), early.getMessage());
      assertTrue(bank.isAborted());
      assertFalse(bank.holdsPrivateKeys());
    }
    RoundHarness finished = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 18), 18, true);
    assertTrue(finished.run().isCompleted());
    for (SecAggMessage ask : asks) {
      assertThrows(ProtocolViolationException.class, () -> finished.clients.get("bank-2").handleAll(ask));
      assertTrue(finished.clients.get("bank-2").isFinished());
    }
  }

  @Test
  void serverRefusesASharingBank_andAnUnmaskingResponse() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 10, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 19), 19, true);
    harness.advertise(Set.of());
    harness.server.closeStage();
    harness.deliverToServer(new ShareKeys(new MessageHeader("job-nsm", 10, Stage.SHARE_KEYS, "bank-2",
        RoundParameters.COORDINATOR_ID), List.of(new EncryptedShare("bank-2", "bank-3", new byte[61]))));
    assertTrue(harness.serverRefusals.get("bank-2").getMessage().contains("carries 1 share(s)"),
        String.valueOf(harness.serverRefusals));

    RoundHarness other = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 20), 20, true);
    other.advertise(Set.of());
    other.closeAndDeliver(Map.of(), UnaryOperator.identity());
    other.closeAndDeliver(Map.of(), UnaryOperator.identity()); // masked inputs delivered; stage still open
    other.deliverToServer(new UnmaskingResponse(new MessageHeader("job-nsm", 10, Stage.UNMASKING, "bank-3",
        RoundParameters.COORDINATOR_ID), List.of(new RevealedShare("bank-3", ShareKind.SELF_MASK_SEED,
        new byte[33]))));
    assertTrue(other.serverRefusals.get("bank-3").getMessage().contains("nothing to reveal"),
        String.valueOf(other.serverRefusals));
  }

  /** A key roster of t - 1 = 2 banks (the victim and one peer) at t = 3: refused before anything leaves. */
  @Test
  void aKeyRosterSmallerThanT_isRefused_andTheVictimSendsNothing() throws Exception {
    RoundParameters parameters = noSelfMask("job-nsm", 11, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 21), 21, true);

    harness.run(Map.of(), leavingVictimWith(Set.of("bank-2")));

    ProtocolViolationException refused = harness.clientRefusals.get(VICTIM);
    assertTrue(refused.getMessage().contains("threshold is 3"), refused.getMessage());
    assertTrue(harness.clients.get(VICTIM).isAborted());
    assertTrue(harness.delivered.stream().noneMatch(m -> m.header().senderId().equals(VICTIM)
        && m.header().stage() != Stage.ADVERTISE_KEYS), "nothing after its keys left the victim");
  }

  /**
   * n = 5, t = 3. The coordinator holds every masked input, withholds the victim's from what it reports and asks the
   * others for anything (consistency check, unmasking requests naming the victim or a peer dropped): every honest
   * bank refuses and reveals nothing; colluders hand over their pairwise seeds with the victim. With c = 0, 1, 2
   * (up to t - 1) colluders, the victim's masked input minus every mask the coordinator can compute is not its input:
   * its masks with its honest peers stay on.
   */
  @Test
  void victimsInputStaysHidden_whenTheCoordinatorWithholdsItAndAsksTheOthers() throws Exception {
    for (Set<String> colluders : List.of(Set.<String>of(), Set.of("bank-5"), Set.of("bank-4", "bank-5"))) {
      RoundParameters parameters = noSelfMask("job-attack", 12, 5, 3);
      RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 22), 22, true);
      Map<String, SecretBytes> handedOver = new LinkedHashMap<>();
      harness.advertise(Set.of());
      harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
      for (String colluder : colluders) {
        handedOver.put(colluder, harness.clients.get(colluder).pairwiseSeedWith(VICTIM));
      }
      harness.closeAndDeliver(Map.of(), UnaryOperator.identity()); // the masked inputs, the victim's included
      List<String> roster = parameters.bankIds();
      List<String> withoutVictim = roster.subList(1, roster.size());
      int revealed = 0;
      for (String bank : withoutVictim) {
        List<SecAggMessage> asks = new ArrayList<>();
        asks.add(new ConsistencyRequest(header(parameters, Stage.CONSISTENCY_CHECK, bank), withoutVictim));
        asks.add(new UnmaskingRequest(header(parameters, Stage.UNMASKING, bank), withoutVictim, List.of(VICTIM),
            List.of()));
        for (String peer : withoutVictim) {
          if (!peer.equals(bank)) {
            asks.add(new UnmaskingRequest(header(parameters, Stage.UNMASKING, bank),
                roster.stream().filter(b -> !b.equals(peer)).toList(), List.of(peer), List.of()));
          }
        }
        for (SecAggMessage ask : asks) {
          try {
            revealed += harness.clients.get(bank).handleAll(ask).size();
          } catch (ProtocolViolationException | IllegalStateException refused) {
            // refused: nothing revealed
          }
        }
      }
      assertEquals(0, revealed, "no bank answers anything after its masked input");
      int[] stripped = stripColludersMasks(parameters, maskedInputOf(harness, VICTIM), handedOver);
      assertFalse(Arrays.equals(harness.inputs.get(VICTIM), stripped), "colluders " + colluders);
    }
  }

  /**
   * The isolation bound: the coordinator leaves the victim a key roster of t = 3 (itself and two peers), so it masks
   * with those two only. Its input is exposed exactly when both collude (c < t - 1 is the bound): with one colluder
   * and one honest peer, what the coordinator can strip from the victim's masked input is not its input.
   */
  @Test
  void victimsInputIsExposed_onlyWhenEveryPeerOfItsKeyRosterColludes() throws Exception {
    assertFalse(isolationExposes(Set.of("bank-5")), "one colluder, one honest peer");
    assertTrue(isolationExposes(Set.of("bank-4", "bank-5")), "the bound is tight");
  }

  private static boolean isolationExposes(Set<String> colluders) throws Exception {
    Set<String> leftWith = Set.of("bank-4", "bank-5");
    RoundParameters parameters = noSelfMask("job-isolate", 13, 5, 3);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 23), 23, true);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), leavingVictimWith(leftWith));
    Map<String, SecretBytes> handedOver = new LinkedHashMap<>();
    for (String colluder : colluders) {
      handedOver.put(colluder, harness.clients.get(colluder).pairwiseSeedWith(VICTIM));
    }
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    assertFalse(harness.clients.get(VICTIM).isAborted(), "a roster of t is accepted");
    int[] stripped = stripColludersMasks(parameters, maskedInputOf(harness, VICTIM), handedOver);
    return Arrays.equals(harness.inputs.get(VICTIM), stripped);
  }

  /** Plan digests of two plans of one job (stand-ins for io.consort.spec.SecureRoundPlan.planDigest). */
  private static final String NO_SELF_MASK_PLAN = "a1".repeat(32);
  private static final String AFTER_INPUTS_PLAN = "b2".repeat(32);

  /**
   * Plan equivocation across modes (n = 7, t = 4, c = 2: bank-6 and bank-7 collude). The coordinator offers the victim
   * the with_input, no-self-mask plan and the six others the same job with unmasking after the inputs. If both plans'
   * advertisements verified alike, the victim would mask its input with six peers that Shamir-share their s^SK, and
   * split survivor stories would get those shares revealed and the victim's masks stripped. Each bank signs its keys
   * with its own plan's digest: the victim refuses every peer's advertisement at the key roster and nothing leaves it.
   * The companion run signs both plans alike (as the version-1 context, which named no plan, did): the victim then
   * accepts the after_inputs peers, masks its input with them, and every peer has handed the coordinator shares of its
   * s^SK for the colluders, what the attack needs.
   */
  @Test
  void victimRefusesItsPeersKeys_whenTheyArePinnedToUnmaskAfterTheInputs_andNothingLeavesIt() throws Exception {
    Equivocation bound = equivocate(NO_SELF_MASK_PLAN, AFTER_INPUTS_PLAN);
    ProtocolViolationException refused = bound.harness.clientRefusals.get(VICTIM);
    assertTrue(refused != null && refused.getMessage().contains("signed under another plan"), String.valueOf(refused));
    assertTrue(bound.harness.clients.get(VICTIM).isAborted());
    assertFalse(bound.harness.clients.get(VICTIM).holdsPrivateKeys());
    assertTrue(bound.fromVictim.isEmpty(), "nothing left the victim after its keys: " + bound.fromVictim);
    assertTrue(bound.harness.serverRefusals.get(VICTIM).getMessage().contains("does not verify for this job's plan"),
        "an honest coordinator's server refuses it too");

    Equivocation unbound = equivocate("", "");
    assertFalse(unbound.harness.clients.get(VICTIM).isAborted(), "one context for both plans: the victim accepts");
    assertTrue(unbound.fromVictim.stream().anyMatch(m -> m instanceof MaskedInput), "its masked input left it");
    for (SecAggMessage m : unbound.harness.delivered) {
      if (m instanceof ShareKeys shares && !m.header().senderId().equals(VICTIM)) {
        String peer = m.header().senderId();
        Set<String> holders = new java.util.HashSet<>(shares.shares().stream().map(EncryptedShare::recipientId).toList());
        assertTrue(Set.of("bank-6", "bank-7").stream().allMatch(c -> c.equals(peer) || holders.contains(c)),
            "peer " + peer + " shared its s^SK with the colluders: " + holders);
      }
    }
  }

  private record Equivocation(RoundHarness harness, List<SecAggMessage> fromVictim) {}

  /**
   * The others run the after_inputs plan through the coordinator's server; the victim gets a key roster of all seven
   * advertisements, then (if it answers) an empty share set, as the coordinator would send it.
   */
  private static Equivocation equivocate(String victimPlan, String othersPlan) throws Exception {
    RoundParameters others = RoundParameters.completeGraph("job-equivocate", 14, RoundHarness.banks(7), 4, DIM)
        .withPlanDigest(othersPlan);
    RoundParameters victims = others.withUnmaskingWithInput(true).withSelfMask(false).withPlanDigest(victimPlan);
    RoundHarness harness = new RoundHarness(others, RoundHarness.randomInputs(others, 25), 25);
    harness.clients.put(VICTIM, SecAggClient.create(victims, VICTIM, harness.inputs.get(VICTIM).clone(),
        harness.signer(VICTIM), harness.directory, RoundHarness.seeded(26)));
    harness.advertise(Set.of());
    List<SecAggMessage> rosters = new ArrayList<>();
    Map<Stage, Set<String>> victimByHand = Map.of(Stage.SHARE_KEYS, Set.of(VICTIM));
    harness.closeAndDeliver(victimByHand, m -> {
      rosters.add(m);
      return m;
    });
    KeyRoster toPeer = (KeyRoster) rosters.stream().filter(m -> m instanceof KeyRoster).findFirst().orElseThrow();
    List<SignedPublicKeys> everyone = harness.delivered.stream().filter(m -> m instanceof AdvertiseKeys)
        .map(m -> ((AdvertiseKeys) m).toSignedKeys()).toList();
    List<SecAggMessage> fromVictim = new ArrayList<>();
    SecAggClient victim = harness.clients.get(VICTIM);
    try {
      fromVictim.addAll(victim.handleAll(new KeyRoster(redirected(toPeer.header()), everyone)));
      fromVictim.addAll(victim.handleAll(new ForwardedShares(new MessageHeader(others.jobId(), others.round(),
          Stage.MASKED_INPUT, RoundParameters.COORDINATOR_ID, VICTIM), List.of())));
    } catch (ProtocolViolationException e) {
      harness.clientRefusals.putIfAbsent(VICTIM, e);
    }
    harness.closeAndDeliver(victimByHand, UnaryOperator.identity()); // the peers' shares reach the coordinator
    fromVictim.forEach(harness.delivered::add);
    return new Equivocation(harness, fromVictim);
  }

  private static MessageHeader redirected(MessageHeader header) {
    return new MessageHeader(header.jobId(), header.round(), header.stage(), header.senderId(), VICTIM);
  }

  /** Sums of a period masked with period keys and no self mask: exact, and a sum round is never masked twice. */
  @Test
  void periodKeysWithoutSelfMask_giveExactSums_andNeverMaskOneSumRoundTwice() throws Exception {
    KeyPeriod period = new KeyPeriod(0, 4);
    SecureRandom random = RoundHarness.seeded(24);
    Map<String, PeriodKeys> keys = new LinkedHashMap<>();
    Map<String, int[]> inputs = RoundHarness.randomInputs(noSelfMask("job-pk", 1, 5, 3), 24);
    List<int[]> victimMasked = new ArrayList<>();
    RoundHarness harness = null;
    for (long round : new long[] {1, 2, 3}) {
      RoundParameters parameters = noSelfMask("job-pk", round, 5, 3);
      harness = new RoundHarness(parameters, inputs, 24, true, period, null);
      for (String bank : parameters.bankIds()) {
        if (!keys.containsKey(bank)) {
          keys.put(bank, PeriodKeys.make("job-pk", "", period, bank, harness.signer(bank), random));
        }
        harness.clients.put(bank, SecAggClient.createAwaitingInput(parameters, bank, harness.signer(bank),
            harness.directory, random, keys.get(bank)));
      }
      harness.advertise(Set.of());
      harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
      for (String bank : parameters.bankIds()) {
        harness.clients.get(bank).expandMasksAhead(Runnable::run);
        harness.clients.get(bank).supplyInput(inputs.get(bank).clone());
      }
      harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
      ServerTransition closed = harness.server.closeStage();
      assertTrue(closed.isCompleted(), closed.toString());
      assertArrayEquals(harness.plaintextSum(parameters.bankIds()), closed.result().orElseThrow().sum());
      victimMasked.add(maskedInputOf(harness, VICTIM));
      assertTrue(harness.delivered.stream().noneMatch(m -> m instanceof UnmaskingResponse));
    }
    assertFalse(Arrays.equals(victimMasked.get(0), victimMasked.get(1)), "each sum round has its own masks");
    PeriodKeys victimKeys = keys.get(VICTIM);
    assertTrue(victimKeys.holdsAgreementWith("bank-2"));
    assertFalse(victimKeys.holdsEncryptionAgreementWith("bank-2"), "no c agreement where nothing is encrypted");
    assertEquals(3, victimKeys.lastMaskedRound());
    RoundHarness last = harness;
    for (long round : new long[] {3, 2}) {
      IllegalStateException refused = assertThrows(IllegalStateException.class,
          () -> SecAggClient.createAwaitingInput(noSelfMask("job-pk", round, 5, 3), VICTIM, last.signer(VICTIM),
              last.directory, random, victimKeys));
      assertTrue(refused.getMessage().contains("already masked sum round 3"), refused.getMessage());
      assertThrows(IllegalStateException.class, () -> victimKeys.claim(round));
    }
  }

  @Test
  void parametersRefuseNoSelfMask_withoutUnmaskingWithInput() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> RoundParameters.completeGraph("job", 1, RoundHarness.banks(5), 3, DIM).withSelfMask(false));
    assertTrue(refused.getMessage().contains("unmaskingWithInput"), refused.getMessage());
  }

  /** The coordinator's tamper: the victim's key roster lists only itself and {@code peers}. */
  private static UnaryOperator<SecAggMessage> leavingVictimWith(Set<String> peers) {
    return m -> m instanceof KeyRoster roster && m.header().recipientId().equals(VICTIM)
        ? new KeyRoster(roster.header(), roster.entries().stream()
            .filter(e -> e.bankId().equals(VICTIM) || peers.contains(e.bankId())).toList()) : m;
  }

  /** The victim's masked input minus the pairwise masks of the colluders' seeds with it (the victim is bank 1). */
  private static int[] stripColludersMasks(RoundParameters parameters, int[] masked, Map<String, SecretBytes> seeds)
      throws Exception {
    int[] stripped = masked.clone();
    List<SecretBytes> list = new ArrayList<>(seeds.values());
    boolean[] subtract = new boolean[list.size()];
    Arrays.fill(subtract, true); // bank 1 precedes every peer: it added each PRG(s_1v)
    new MaskExpander().applyMasks(list, subtract, stripped);
    list.forEach(SecretBytes::destroy);
    for (int i = 0; i < stripped.length; i++) {
      stripped[i] &= parameters.ringMask();
    }
    return stripped;
  }

  private static int[] maskedInputOf(RoundHarness harness, String bank) {
    return harness.delivered.stream().filter(m -> m instanceof MaskedInput && m.header().senderId().equals(bank))
        .map(m -> ((MaskedInput) m).values()).findFirst().orElseThrow();
  }

  private static MessageHeader header(RoundParameters parameters, Stage stage, String recipient) {
    return new MessageHeader(parameters.jobId(), parameters.round(), stage, RoundParameters.COORDINATOR_ID, recipient);
  }
}
