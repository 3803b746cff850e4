package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.message.ConsistencyRequest;
import io.consort.secagg.message.ConsistencySignature;
import io.consort.secagg.message.EncryptedShare;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.KeyRoster;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.RevealedShare;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.message.ShareKeys;
import io.consort.secagg.message.ShareKind;
import io.consort.secagg.message.SignedPublicKeys;
import io.consort.secagg.message.SurvivorSignature;
import io.consort.secagg.message.UnmaskingRequest;
import io.consort.secagg.message.UnmaskingResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The fast path: when every member sent its masked input the coordinator may ask for the unmasking shares
 * without the consistency check (docs/SECURE_AGGREGATION.md, "No consistency check when nobody dropped").
 * A coordinator that mixes the fast path and the consistency check, played here against the real
 * {@link SecAggClient}s, is asserted not to learn a single bank's input wherever 2t > n + c.
 */
class FastUnmaskingTest {
  private static final int DIM = 8;
  private static final String VICTIM = "bank-1";

  @Test
  void roundSkipsTheConsistencyCheckAndSumsEveryInput_whenNobodyDropped() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-fast", 6, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 51), 51, true);

    List<Stage> opened = stagesOpened(harness, Map.of(), UnaryOperator.identity());

    assertEquals(List.of(Stage.SHARE_KEYS, Stage.MASKED_INPUT, Stage.UNMASKING), opened);
    assertTrue(harness.server.skippedConsistencyCheck());
    assertTrue(harness.clientRefusals.isEmpty() && harness.serverRefusals.isEmpty());
    for (SecAggClient client : harness.clients.values()) {
      assertEquals(parameters.bankIds(), client.survivors());
    }
  }

  @Test
  void roundRunsTheConsistencyCheckAndStillCompletes_whenABankDroppedBeforeItsMaskedInput() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-fast", 7, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 52), 52, true);

    List<Stage> opened = stagesOpened(harness, Map.of(Stage.MASKED_INPUT, Set.of("bank-5")), UnaryOperator.identity());

    assertEquals(List.of(Stage.SHARE_KEYS, Stage.MASKED_INPUT, Stage.CONSISTENCY_CHECK, Stage.UNMASKING), opened);
    assertFalse(harness.server.skippedConsistencyCheck());
  }

  @Test
  void secAggPlusRoundRunsTheConsistencyCheck_evenWhenNobodyDropped() throws Exception {
    RoundParameters parameters = new RoundParameters("job-plus", 5, RoundHarness.banks(8), 3, 32, DIM, 4, true);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 53), 53, true);

    List<Stage> opened = stagesOpened(harness, Map.of(), UnaryOperator.identity());

    assertTrue(opened.contains(Stage.CONSISTENCY_CHECK), opened.toString());
  }

  @Test
  void bankRefusesAFastRequest_inASecAggPlusRound() throws Exception {
    RoundParameters parameters = new RoundParameters("job-plus", 5, RoundHarness.banks(8), 3, 32, DIM, 4, true);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 54), 54);

    harness.run(Map.of(), asFastRequest(parameters.bankIds(), List.of()));

    assertRefusedReleasingNothing(harness, "bank-1", "SecAgg+ round");
  }

  @Test
  void bankRefusesAFastRequest_namingSurvivorsOtherThanTheWholeRoster() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-fast", 8, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 55), 55);

    harness.run(Map.of(), asFastRequest(List.of("bank-1", "bank-2", "bank-3", "bank-4"), List.of()));

    assertRefusedReleasingNothing(harness, "bank-1", "not the whole roster");
  }

  @Test
  void bankRefusesAFastRequest_listingTheRosterInAnotherOrder_orWithADuplicate() throws Exception {
    List<String> roster = RoundHarness.banks(5);
    List<String> reordered = new ArrayList<>(roster);
    java.util.Collections.swap(reordered, 0, 4);
    List<String> duplicated = new ArrayList<>(roster);
    duplicated.add("bank-3");
    for (List<String> survivors : List.of(reordered, duplicated)) {
      RoundParameters parameters = RoundParameters.completeGraph("job-fast", 8, roster, 3, DIM);
      RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 57), 57);

      harness.run(Map.of(), asFastRequest(survivors, List.of()));

      for (String bank : roster) {
        assertRefusedReleasingNothing(harness, bank, "not the whole roster");
      }
    }
  }

  @Test
  void bankRefusesAFastRequest_askingForAnSskShare() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-fast", 9, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 56), 56);

    harness.run(Map.of(), asFastRequest(List.of("bank-1", "bank-2", "bank-3", "bank-4"), List.of("bank-5")));

    assertRefusedReleasingNothing(harness, "bank-1", "names dropped banks [bank-5]");
  }

  @Test
  void bankRefusesAFastRequest_whenTheCoordinatorWithheldAMembersShares() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-fast", 10, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 57), 57);
    UnaryOperator<SecAggMessage> fast = asFastRequest(parameters.bankIds(), List.of());
    UnaryOperator<SecAggMessage> withholdBank5FromBank1 = message -> {
      if (message instanceof ForwardedShares f && message.header().recipientId().equals("bank-1")) {
        return new ForwardedShares(f.header(), f.shares().stream().filter(s -> !s.senderId().equals("bank-5")).toList());
      }
      return fast.apply(message);
    };

    harness.run(Map.of(), withholdBank5FromBank1);

    assertRefusedReleasingNothing(harness, "bank-1", "holds no shares of [bank-5]");
    assertFalse(harness.clientRefusals.containsKey("bank-2"), "a bank that masked with everyone answers");
  }

  @Test
  void bankRefusesAFastRequest_afterItSignedASurvivorSet() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-fast", 11, RoundHarness.banks(5), 3, DIM);
    ManualRound round = new ManualRound(parameters, 58);
    round.sign(VICTIM, parameters.bankIds());

    ProtocolViolationException refused = assertThrows(ProtocolViolationException.class,
        () -> round.client(VICTIM).handle(round.fastRequest(VICTIM)));

    assertTrue(refused.getMessage().contains("after bank 'bank-1' signed a survivor set"), refused.getMessage());
    assertTrue(round.client(VICTIM).isAborted());
  }

  @Test
  void bankRefusesAConsistencyCheck_afterItAnsweredAFastRequest() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-fast", 12, RoundHarness.banks(5), 3, DIM);
    ManualRound round = new ManualRound(parameters, 59);
    UnmaskingResponse answer = (UnmaskingResponse) round.client(VICTIM).handle(round.fastRequest(VICTIM));

    ProtocolViolationException refused = assertThrows(ProtocolViolationException.class,
        () -> round.client(VICTIM).handle(new ConsistencyRequest(round.header(Stage.CONSISTENCY_CHECK, VICTIM),
            List.of("bank-2", "bank-3", "bank-4", "bank-5", VICTIM))));

    assertEquals(5, answer.shares().size());
    assertTrue(answer.shares().stream().allMatch(s -> s.kind() == ShareKind.SELF_MASK_SEED), "b-shares only");
    assertTrue(refused.getMessage().contains("after bank 'bank-1' finished the round"), refused.getMessage());
    assertFalse(round.client(VICTIM).holdsPrivateKeys());
  }

  /**
   * n = 5, t = 3, no colluding bank: for every split of the banks into those sent a fast request and those
   * sent a consistency check over a survivor set without the victim (every such set of at least t banks),
   * the coordinator never holds t b-shares of the victim together with t s^SK-shares of the victim or of
   * every peer the victim masked with. It gets each secret in some split (the check is not vacuous), never
   * both: that would need t honest fast banks and t honest signers, 2t > n.
   */
  @Test
  void victimsInputStaysHidden_whenCoordinatorSendsFastRequestsToSomeBanksAndAConsistencyCheckWithoutTheVictimToOthers()
      throws Exception {
    Exposure exposure = mixedPathAttack(5, 3, Set.of());

    assertEquals(0, exposure.victimExposed, "splits in which the victim's input was exposed");
    assertTrue(exposure.selfMaskSeedObtained > 0 && exposure.maskingKeyObtained > 0, exposure.toString());
  }

  /** With one colluding bank the threshold must be raised to 4 (2t > n + c): then the same attack fails. */
  @Test
  void victimsInputStaysHidden_whenOneBankColludesAndTheThresholdIsFour() throws Exception {
    Exposure exposure = mixedPathAttack(5, 4, Set.of("bank-5"));

    assertEquals(0, exposure.victimExposed, "splits in which the victim's input was exposed");
    assertTrue(exposure.selfMaskSeedObtained > 0 && exposure.maskingKeyObtained > 0, exposure.toString());
  }

  /**
   * The bound is the table's, not better: with one colluding bank at t = 3 (2t = n + c) the mixed attack
   * exposes the victim, as the full path alone would against two survivor stories
   * (docs/SECURE_AGGREGATION.md, "The threshold: what t must satisfy").
   */
  @Test
  void victimsInputIsExposed_whenOneBankColludesAtTheDefaultThreshold() throws Exception {
    Exposure exposure = mixedPathAttack(5, 3, Set.of("bank-5"));

    assertTrue(exposure.victimExposed > 0, exposure.toString());
  }

  private record Exposure(int splits, int victimExposed, int selfMaskSeedObtained, int maskingKeyObtained) {}

  /**
   * Runs one round per (fast set F, survivor set U3' without the victim, |U3'| >= t): honest banks in F get
   * the fast request, the other honest banks the consistency check over U3' and then, if they signed, the
   * unmasking request with every valid signature over U3' (colluders' included). Colluders sign anything and
   * hand over every share they hold. Counts the shares the coordinator ends with.
   */
  private static Exposure mixedPathAttack(int n, int t, Set<String> colluders) throws Exception {
    List<String> roster = RoundHarness.banks(n);
    List<String> honest = roster.stream().filter(b -> !colluders.contains(b)).toList();
    List<List<String>> stories = new ArrayList<>();
    for (int mask = 0; mask < 1 << n; mask++) {
      List<String> set = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if ((mask & 1 << i) != 0) {
          set.add(roster.get(i));
        }
      }
      if (set.size() >= t && !set.contains(VICTIM)) {
        stories.add(set);
      }
    }
    int splits = 0;
    int exposed = 0;
    int seedObtained = 0;
    int keyObtained = 0;
    long seed = 100;
    for (int fastMask = 0; fastMask < 1 << honest.size(); fastMask++) {
      for (List<String> story : stories) {
        RoundParameters parameters = RoundParameters.completeGraph("job-mixed", 13, roster, t, DIM);
        ManualRound round = new ManualRound(parameters, seed++);
        List<String> dropped = roster.stream().filter(b -> !story.contains(b)).toList();
        Map<String, byte[]> signatures = new LinkedHashMap<>();
        List<String> fast = new ArrayList<>();
        for (int i = 0; i < honest.size(); i++) {
          String bank = honest.get(i);
          if ((fastMask & 1 << i) != 0) {
            fast.add(bank);
          } else if (round.sign(bank, story) instanceof ConsistencySignature signature) {
            signatures.put(bank, signature.signature());
          }
        }
        for (String colluder : colluders) {
          if (!story.contains(colluder)) {
            continue; // a signature from outside the set makes every bank abort
          }
          signatures.put(colluder, round.harness.signer(colluder).sign(ContextEncoding.survivorSet(
              parameters.jobId(), parameters.round(), colluder, story)));
        }
        Map<String, Integer> seedShares = new HashMap<>();
        Map<String, Integer> keyShares = new HashMap<>();
        for (String colluder : colluders) {
          roster.forEach(owner -> {
            seedShares.merge(owner, 1, Integer::sum);
            keyShares.merge(owner, 1, Integer::sum);
          });
        }
        for (String bank : fast) {
          round.collect(bank, round.fastRequest(bank), seedShares, keyShares);
        }
        List<SurvivorSignature> forwarded = signatures.entrySet().stream()
            .map(e -> new SurvivorSignature(e.getKey(), e.getValue())).toList();
        for (String bank : honest) {
          if (signatures.containsKey(bank)) {
            round.collect(bank, new UnmaskingRequest(round.header(Stage.UNMASKING, bank), story, dropped, forwarded),
                seedShares, keyShares);
          }
        }
        boolean seedKnown = seedShares.getOrDefault(VICTIM, 0) >= t;
        boolean ownKeyKnown = keyShares.getOrDefault(VICTIM, 0) >= t;
        boolean everyPeerKeyKnown = roster.stream().filter(b -> !b.equals(VICTIM))
            .allMatch(b -> keyShares.getOrDefault(b, 0) >= t);
        splits++;
        seedObtained += seedKnown ? 1 : 0;
        keyObtained += ownKeyKnown ? 1 : 0;
        exposed += seedKnown && (ownKeyKnown || everyPeerKeyKnown) ? 1 : 0;
      }
    }
    return new Exposure(splits, exposed, seedObtained, keyObtained);
  }

  /** Stages the server opened while the harness ran the round (the stage of each transition's messages). */
  private static List<Stage> stagesOpened(RoundHarness harness, Map<Stage, Set<String>> dropAt,
                                          UnaryOperator<SecAggMessage> tamper) throws Exception {
    harness.advertise(dropAt.getOrDefault(Stage.ADVERTISE_KEYS, Set.of()));
    List<Stage> opened = new ArrayList<>();
    ServerTransition transition;
    do {
      transition = harness.closeAndDeliver(dropAt, tamper);
      if (!transition.outgoing().isEmpty()) {
        opened.add(transition.outgoing().get(0).header().stage());
      }
    } while (!transition.isAborted() && !transition.isCompleted());
    assertTrue(transition.isCompleted(), transition.toString());
    AggregationResult result = transition.result().orElseThrow();
    assertArrayEquals(harness.plaintextSum(result.includedBanks()), result.sum());
    return opened;
  }

  /** Replaces every consistency request with a fast unmasking request naming {@code survivors}, {@code dropped}. */
  private static UnaryOperator<SecAggMessage> asFastRequest(List<String> survivors, List<String> dropped) {
    return message -> message instanceof ConsistencyRequest
        ? new UnmaskingRequest(new MessageHeader(message.header().jobId(), message.header().round(), Stage.UNMASKING,
            message.header().senderId(), message.header().recipientId()), survivors, dropped, List.of())
        : message;
  }

  private static void assertRefusedReleasingNothing(RoundHarness harness, String bank, String reason) {
    ProtocolViolationException refused = harness.clientRefusals.get(bank);
    assertTrue(refused != null && refused.getMessage().contains("fast unmasking request refused")
        && refused.getMessage().contains(reason), String.valueOf(refused));
    assertTrue(harness.clients.get(bank).isAborted());
    assertFalse(harness.clients.get(bank).holdsPrivateKeys());
  }

  /** A round driven message by message up to the masked inputs, shares forwarded honestly. */
  private static final class ManualRound {
    final RoundParameters parameters;
    final RoundHarness harness;

    ManualRound(RoundParameters parameters, long seed) throws Exception {
      this.parameters = parameters;
      this.harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, seed), seed);
      List<SignedPublicKeys> keys = new ArrayList<>();
      for (SecAggClient client : harness.clients.values()) {
        keys.add(client.advertiseKeys().toSignedKeys());
      }
      Map<String, List<EncryptedShare>> inbox = new HashMap<>();
      for (String bank : parameters.bankIds()) {
        ShareKeys shares = (ShareKeys) client(bank).handle(new KeyRoster(header(Stage.SHARE_KEYS, bank), keys));
        for (EncryptedShare share : shares.shares()) {
          inbox.computeIfAbsent(share.recipientId(), r -> new ArrayList<>()).add(share);
        }
      }
      for (String bank : parameters.bankIds()) {
        client(bank).handle(new ForwardedShares(header(Stage.MASKED_INPUT, bank), inbox.get(bank)));
      }
    }

    SecAggClient client(String bank) {
      return harness.clients.get(bank);
    }

    /** The bank's signature over {@code story}, or null if it refused. */
    SecAggMessage sign(String bank, List<String> story) {
      try {
        return client(bank).handle(new ConsistencyRequest(header(Stage.CONSISTENCY_CHECK, bank), story));
      } catch (ProtocolViolationException e) {
        return null;
      }
    }

    UnmaskingRequest fastRequest(String bank) {
      return new UnmaskingRequest(header(Stage.UNMASKING, bank), parameters.bankIds(), List.of(), List.of());
    }

    /** Sends the request and counts each share the bank reveals, by owner and kind; a refusal reveals none. */
    void collect(String bank, UnmaskingRequest request, Map<String, Integer> seedShares,
                 Map<String, Integer> keyShares) {
      try {
        UnmaskingResponse response = (UnmaskingResponse) client(bank).handle(request);
        for (RevealedShare share : response.shares()) {
          (share.kind() == ShareKind.SELF_MASK_SEED ? seedShares : keyShares).merge(share.ownerId(), 1, Integer::sum);
        }
      } catch (ProtocolViolationException | IllegalStateException e) {
        // refused: nothing revealed
      }
    }

    MessageHeader header(Stage stage, String recipient) {
      return new MessageHeader(parameters.jobId(), parameters.round(), stage, RoundParameters.COORDINATOR_ID,
          recipient);
    }
  }
}
