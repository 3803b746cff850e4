package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.crypto.MaskExpander;
import io.consort.secagg.crypto.SecretBytes;
import io.consort.secagg.crypto.ShamirSharing;
import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.ConsistencyRequest;
import io.consort.secagg.message.ConsistencySignature;
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
import io.consort.secagg.message.SurvivorSignature;
import io.consort.secagg.message.UnmaskingRequest;
import io.consort.secagg.message.UnmaskingResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A coordinator that breaks the rules (Bonawitz et al. 2017, section 6.3: the actively malicious
 * server), played by this test against the real {@link SecAggClient} state machines. Each attack is
 * performed and asserted to fail.
 */
class ActiveCoordinatorAttackTest {
  private static final int DIM = 301;
  private static final String VICTIM = "bank-1";

  /**
   * Five banks, the default threshold 3. The coordinator forwards to the victim only the shares of
   * bank-2 and bank-3, so the victim masks with those two only, and then tells each bank a different
   * story about who dropped: the victim and banks 4 and 5 that it survived (b-shares of the victim),
   * banks 3, 4 and 5 that bank-2 dropped and banks 2, 4 and 5 that bank-3 dropped (s^SK-shares of
   * both, so both pairwise masks of the victim). With t shares of each it would remove every mask.
   */
  @Test
  void victimsInputStaysHidden_whenCoordinatorForwardsTwoPeersSharesAndTellsEachBankADifferentSurvivorStory()
      throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-attack", 4, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 41), 41);

    Optional<int[]> recovered = new ShareForwardingAttack(harness).run();

    assertTrue(recovered.isEmpty(), "the coordinator must not unmask the victim's input");
    assertEquals(java.util.Set.copyOf(parameters.bankIds()), harness.clientRefusals.keySet(), "every bank refuses to unmask");
    for (String bank : parameters.bankIds()) {
      assertTrue(harness.clients.get(bank).isAborted(), bank);
      assertTrue(harness.clientRefusals.get(bank).getMessage().contains("valid consistency signatures"),
          harness.clientRefusals.get(bank).getMessage());
    }
  }

  /**
   * The consistency check is what stops the attack: a job that turns it off (secure_aggregation.
   * consistency_check: false) is secure against an honest-but-curious coordinator only, and this
   * test keeps that limit visible.
   */
  @Test
  void victimsInputIsRecovered_whenTheJobTurnsTheConsistencyCheckOff() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-attack", 4, RoundHarness.banks(5), 3, DIM)
        .withConsistencyCheck(false);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 41), 41);

    Optional<int[]> recovered = new ShareForwardingAttack(harness).run();

    assertArrayEquals(harness.inputs.get(VICTIM), recovered.orElseThrow(), "honest-but-curious model only");
  }

  @Test
  void bankRevealsNothing_whenTheUnmaskingRequestCarriesFewerThanTConsistencySignatures() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-sigs", 2, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 42), 42);
    // each bank is sent its own signature and one other: two signers, one short of t
    UnaryOperator<SecAggMessage> withholdSignatures = message -> {
      if (message instanceof UnmaskingRequest request) {
        String recipient = message.header().recipientId();
        String other = recipient.equals("bank-1") ? "bank-2" : "bank-1";
        return new UnmaskingRequest(message.header(), request.survivors(), request.dropped(),
            request.signatures().stream().filter(s -> s.bankId().equals(recipient) || s.bankId().equals(other))
                .toList());
      }
      return message;
    };

    ServerTransition last = harness.run(Map.of(), withholdSignatures);

    assertTrue(last.isAborted(), "nothing is unmasked");
    for (String bank : parameters.bankIds()) {
      assertTrue(harness.clients.get(bank).isAborted(), bank);
      assertTrue(harness.clientRefusals.get(bank).getMessage().contains("only 2 valid consistency signatures"),
          harness.clientRefusals.get(bank).getMessage());
    }
  }

  @Test
  void bankRevealsNothing_whenAConsistencySignatureIsOverAnotherSurvivorSet() throws Exception {
    RoundParameters parameters = RoundParameters.completeGraph("job-sigs", 3, RoundHarness.banks(5), 3, DIM);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 43), 43);
    byte[] otherSet = harness.signer("bank-2").sign(ContextEncoding.survivorSet("job-sigs", 3, "bank-2",
        List.of("bank-1", "bank-2")));
    UnaryOperator<SecAggMessage> swapOne = message -> {
      if (message instanceof UnmaskingRequest request) {
        List<SurvivorSignature> signatures = request.signatures().stream()
            .map(s -> s.bankId().equals("bank-2") ? new SurvivorSignature("bank-2", otherSet) : s).toList();
        return new UnmaskingRequest(message.header(), request.survivors(), request.dropped(), signatures);
      }
      return message;
    };

    ServerTransition last = harness.run(Map.of(), swapOne);

    assertTrue(last.isAborted());
    assertTrue(harness.clientRefusals.get("bank-1").getMessage().contains("consistency signature of bank 'bank-2'"),
        harness.clientRefusals.get("bank-1").getMessage());
  }

  /**
   * SecAgg+: the threshold is a majority of a neighbourhood only, so t signatures could come from a
   * small group the coordinator showed its own survivor set; a bank needs a majority of the roster.
   */
  @Test
  void secAggPlusBankRevealsNothing_whenSignaturesAreFewerThanAMajorityOfTheRoster() throws Exception {
    RoundParameters parameters = new RoundParameters("job-plus", 5, RoundHarness.banks(12), 3, 32, 200, 4, true);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, 44), 44);
    UnaryOperator<SecAggMessage> onlyT = message -> message instanceof UnmaskingRequest request
        ? new UnmaskingRequest(message.header(), request.survivors(), request.dropped(),
            request.signatures().subList(0, parameters.threshold()))
        : message;

    ServerTransition last = harness.run(Map.of(), onlyT);

    assertEquals(7, parameters.consistencyQuorum());
    assertTrue(last.isAborted());
    assertTrue(harness.clientRefusals.get("bank-1").getMessage().contains("only 3 valid consistency signatures"),
        harness.clientRefusals.get("bank-1").getMessage());
  }

  /** The attack, message by message; the coordinator keeps everything every bank sends it. */
  private static final class ShareForwardingAttack {
    private final RoundHarness harness;
    private final RoundParameters parameters;
    private final Map<String, SignedPublicKeys> keys = new LinkedHashMap<>();
    private final Map<String, SecAggMessage> replies = new LinkedHashMap<>();

    ShareForwardingAttack(RoundHarness harness) {
      this.harness = harness;
      this.parameters = harness.parameters;
    }

    Optional<int[]> run() throws Exception {
      for (SecAggClient client : harness.clients.values()) {
        AdvertiseKeys advertised = client.advertiseKeys();
        keys.put(client.bankId(), advertised.toSignedKeys());
      }
      // share-keys: an honest roster, so every bank shares its secrets with all four peers
      Map<String, List<EncryptedShare>> inbox = new HashMap<>();
      for (String bank : parameters.bankIds()) {
        ShareKeys shares = (ShareKeys) send(bank, new KeyRoster(header(Stage.SHARE_KEYS, bank),
            List.copyOf(keys.values())));
        if (shares == null) {
          return Optional.empty();
        }
        for (EncryptedShare share : shares.shares()) {
          inbox.computeIfAbsent(share.recipientId(), r -> new ArrayList<>()).add(share);
        }
      }
      // masked-input: the victim gets the shares of bank-2 and bank-3 only
      Map<String, int[]> masked = new LinkedHashMap<>();
      for (String bank : parameters.bankIds()) {
        List<EncryptedShare> forwarded = inbox.get(bank).stream()
            .filter(s -> !bank.equals(VICTIM) || List.of("bank-2", "bank-3").contains(s.senderId())).toList();
        MaskedInput input = (MaskedInput) send(bank, new ForwardedShares(header(Stage.MASKED_INPUT, bank), forwarded));
        if (input != null) {
          masked.put(bank, input.values());
        }
      }
      // a different story for each bank: {survivors, dropped}
      Map<String, List<List<String>>> stories = Map.of(
          "bank-1", List.of(List.of("bank-1", "bank-2", "bank-3"), List.of("bank-4", "bank-5")),
          "bank-2", List.of(List.of("bank-1", "bank-2", "bank-4", "bank-5"), List.of("bank-3")),
          "bank-3", List.of(List.of("bank-1", "bank-3", "bank-4", "bank-5"), List.of("bank-2")),
          "bank-4", List.of(List.of("bank-1", "bank-4", "bank-5"), List.of("bank-2", "bank-3")),
          "bank-5", List.of(List.of("bank-1", "bank-4", "bank-5"), List.of("bank-2", "bank-3")));
      Map<String, byte[]> signatures = new LinkedHashMap<>();
      if (parameters.consistencyCheck()) {
        for (String bank : masked.keySet()) {
          SecAggMessage signed = send(bank, new ConsistencyRequest(header(Stage.CONSISTENCY_CHECK, bank),
              stories.get(bank).get(0)));
          if (signed != null) {
            signatures.put(bank, ((ConsistencySignature) signed).signature());
          }
        }
      }
      Map<String, List<ShamirSharing.Share>> seedShares = new HashMap<>();
      Map<String, List<ShamirSharing.Share>> keyShares = new HashMap<>();
      for (String bank : masked.keySet()) {
        List<String> survivors = stories.get(bank).get(0);
        // the best the coordinator can do: forward every signature that is valid over this bank's story
        List<SurvivorSignature> valid = new ArrayList<>();
        signatures.forEach((signer, signature) -> {
          try {
            harness.directory.verify(signer, ContextEncoding.survivorSet(parameters.jobId(), parameters.round(),
                signer, survivors), signature);
            valid.add(new SurvivorSignature(signer, signature));
          } catch (java.security.GeneralSecurityException e) {
            // signed another story
          }
        });
        UnmaskingResponse response = (UnmaskingResponse) send(bank, new UnmaskingRequest(
            header(Stage.UNMASKING, bank), survivors, stories.get(bank).get(1), valid));
        if (response == null) {
          continue;
        }
        for (RevealedShare share : response.shares()) {
          (share.kind() == ShareKind.SELF_MASK_SEED ? seedShares : keyShares)
              .computeIfAbsent(share.ownerId(), o -> new ArrayList<>())
              .add(new ShamirSharing.Share(parameters.shareIndexOf(bank), SecretBytes.copyOf(share.value())));
        }
      }
      return unmask(masked.get(VICTIM), seedShares.get(VICTIM), keyShares.get("bank-2"), keyShares.get("bank-3"));
    }

    /** y_1 - PRG(b_1) - PRG(s_12) - PRG(s_13): bank-1 precedes both peers, so it added both masks. */
    private Optional<int[]> unmask(int[] masked, List<ShamirSharing.Share> victimSeed,
                                   List<ShamirSharing.Share> bank2Key, List<ShamirSharing.Share> bank3Key)
        throws Exception {
      int t = parameters.threshold();
      if (masked == null || victimSeed == null || bank2Key == null || bank3Key == null || victimSeed.size() < t
          || bank2Key.size() < t || bank3Key.size() < t) {
        return Optional.empty();
      }
      int[] x = masked.clone();
      MaskExpander expander = new MaskExpander();
      expander.subtractMask(ShamirSharing.reconstruct(victimSeed, t), x);
      byte[] salt = ContextEncoding.roundSalt(parameters.jobId(), parameters.round());
      for (Map.Entry<String, List<ShamirSharing.Share>> peer : Map.of("bank-2", bank2Key, "bank-3", bank3Key)
          .entrySet()) {
        SecretBytes scalar = ShamirSharing.reconstruct(peer.getValue(), t);
        expander.subtractMask(SecAggClient.pairwiseMaskSeed(parameters, scalar, peer.getKey(), VICTIM,
            keys.get(VICTIM).maskingPublicKey(), salt, ModelDigest.NONE), x);
      }
      for (int i = 0; i < x.length; i++) {
        x[i] &= parameters.ringMask();
      }
      return Optional.of(x);
    }

    /** The bank's reply, or null if it refused the message (and, for content it cannot trust, aborted). */
    private SecAggMessage send(String bank, SecAggMessage message) {
      try {
        SecAggMessage reply = harness.clients.get(bank).handle(message);
        replies.put(bank, reply);
        return reply;
      } catch (ProtocolViolationException | IllegalStateException e) {
        harness.clientRefusals.putIfAbsent(bank, e instanceof ProtocolViolationException p ? p
            : new ProtocolViolationException(bank, Stage.UNMASKING, e.getMessage()));
        return null;
      }
    }

    private MessageHeader header(Stage stage, String recipient) {
      return new MessageHeader(parameters.jobId(), parameters.round(), stage, RoundParameters.COORDINATOR_ID,
          recipient);
    }
  }
}
