package io.consort.secagg;

import io.consort.secagg.crypto.ParallelMaskExpander;
import io.consort.secagg.crypto.SecretBytes;
import io.consort.secagg.crypto.ShamirSharing;
import io.consort.secagg.crypto.X25519KeyPair;
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
import io.consort.secagg.wire.MalformedMessageException;
import io.consort.secagg.wire.SecAggCodec;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The coordinator's side of one secure-aggregation round (Bonawitz et al. 2017, figure 4, "Server"), as
 * a state machine without network, clock or threads. The caller delivers bank messages with
 * {@link #accept(SecAggMessage)} and, at the stage deadline it keeps, calls {@link #closeStage()}: the
 * round proceeds with the banks that answered in time, or aborts if fewer than the threshold remain.
 *
 * <p>A refused message (wrong job, round, stage or recipient, duplicate, re-advertised keys, bad
 * signature, wrong vector length, value outside the ring, malformed bytes) throws
 * {@link ProtocolViolationException} and the sender is treated as dropped from then on: it is removed
 * from the stage being collected and takes no part in later stages. (A bank whose masked input was
 * already accepted stays in the sum; its self mask is then removed with the other banks' shares, as for
 * a bank that drops after sending its masked input.)
 *
 * <p>What the coordinator sees: public keys, signatures, ciphertexts it cannot open, masked vectors
 * that are uniformly random on their own, t or more b-shares of each survivor and s^SK-shares of each
 * dropped bank, and the sum.
 *
 * <p>Unmasking with the input ({@link RoundParameters#unmaskingWithInput}): each bank's b-shares arrive at
 * masked-input, after its masked input, and the round completes when that stage closes if every bank that
 * shared its keys sent its masked input; otherwise it aborts (the sum is abandoned: no bank reveals the s^SK
 * that recovering a missing input would need).
 *
 * <p>Keys for a period of rounds ({@link KeyPeriod}, only with unmasking with the input): each bank's advertisement
 * is signed over the period's context ({@link ContextEncoding#periodKeys}), and each share ciphertext carries a
 * b-share only: one of the length a b and an s^SK-share would take is refused.
 *
 * <p>Without self masks ({@link RoundParameters#selfMask} false, protocol version 7): no bank shares anything (a
 * share-keys message must carry no share; it only says the bank accepted its key roster), nothing is forwarded, no
 * unmasking response is taken, and the sum of the masked inputs is the result once every bank of the key roster
 * sent its masked input; a key-roster member that sends no share-keys answer or no masked input aborts the sum.
 */
public final class SecAggServer {
  private enum Status { RUNNING, COMPLETED, ABORTED }

  private final RoundParameters parameters;
  private final PeerKeyVerifier verifier;
  private final boolean fastUnmasking;
  /** The period the banks' keys serve ({@link KeyPeriod}), or null: fresh keys for this round. */
  private final KeyPeriod keyPeriod;
  private final NeighbourGraph graph;
  private final byte[] roundSalt;
  /** The base model the banks' inputs were computed from, bound into the pairwise seeds ({@link #bindModel}). */
  private ModelDigest model = ModelDigest.NONE;

  private Stage stage = Stage.ADVERTISE_KEYS;
  private Status status = Status.RUNNING;
  private final Map<String, String> refusals = new LinkedHashMap<>();

  private final Map<String, SignedPublicKeys> advertised = new LinkedHashMap<>();
  private final Map<String, ShareKeys> sharesBySender = new LinkedHashMap<>();
  private final Set<String> maskedInputSenders = new LinkedHashSet<>();
  private int[] maskedSum;
  private final Map<String, byte[]> consistencySignatures = new LinkedHashMap<>();
  private final Map<String, UnmaskingResponse> unmaskingResponses = new LinkedHashMap<>();

  /** U1, U2, U3 and U4 of Bonawitz et al. 2017, frozen when their stage closes. */
  private Set<String> keyAdvertisers = Set.of();
  private Set<String> shareSenders = Set.of();
  private List<String> survivors = List.of();
  private List<String> droppedAfterSharing = List.of();
  private Set<String> unmaskingRecipients = Set.of();
  /** Whether the round skipped the consistency check (every member sent its masked input). */
  private boolean fastPath;

  private SecAggServer(RoundParameters parameters, PeerKeyVerifier verifier, boolean fastUnmasking,
                       KeyPeriod keyPeriod) {
    this.parameters = parameters;
    this.verifier = verifier;
    this.fastUnmasking = fastUnmasking;
    this.keyPeriod = keyPeriod;
    this.graph = NeighbourGraph.forRound(parameters);
    this.roundSalt = ContextEncoding.roundSalt(parameters.jobId(), parameters.round());
  }

  /**
   * @param parameters the round, identical to the banks'
   * @param verifier checks banks' identity signatures on their advertised keys and consistency signatures
   */
  public static SecAggServer create(RoundParameters parameters, PeerKeyVerifier verifier) {
    return create(parameters, verifier, false);
  }

  /**
   * @param fastUnmasking when every member of the roster sent its masked input (nobody dropped or was
   *     refused) in a complete-graph round whose consistency quorum is t, skip the consistency check: the
   *     unmasking request goes out at once, asking b-shares of the whole roster and carrying no signatures
   *     (docs/SECURE_AGGREGATION.md, "No consistency check when nobody dropped"); otherwise the full path
   */
  public static SecAggServer create(RoundParameters parameters, PeerKeyVerifier verifier, boolean fastUnmasking) {
    return new SecAggServer(java.util.Objects.requireNonNull(parameters, "parameters"),
        java.util.Objects.requireNonNull(verifier, "verifier"), fastUnmasking, null);
  }

  /**
   * A round whose banks mask with their keys for {@code keyPeriod} (docs/SECURE_AGGREGATION.md, "Keys for a period of
   * rounds"): advertisements are checked over the period's context and shares must carry b only. Wrap {@code
   * verifier} in a {@link PeriodAdvertisements} cache to verify each bank's unchanged advertisement once a period.
   *
   * @throws IllegalArgumentException unless the round unmasks with the input
   */
  public static SecAggServer create(RoundParameters parameters, PeerKeyVerifier verifier, boolean fastUnmasking,
                                    KeyPeriod keyPeriod) {
    java.util.Objects.requireNonNull(keyPeriod, "keyPeriod");
    if (!parameters.unmaskingWithInput()) {
      throw new IllegalArgumentException("keys for a period of rounds serve only sums that unmask with the input; "
          + "round " + parameters.round() + " of job '" + parameters.jobId() + "' does not");
    }
    return new SecAggServer(parameters, java.util.Objects.requireNonNull(verifier, "verifier"), fastUnmasking,
        keyPeriod);
  }

  /**
   * The base model this sum's inputs were computed from, as the coordinator sent it (protocol version 8, {@link
   * ModelDigest}): the pairwise masks of a bank that dropped after sharing are recomputed with it. A coordinator that
   * sent banks different models cannot recompute the masks of the banks it sent another one: its own problem. Without
   * a call, {@link ModelDigest#NONE} (a sum of statistics). Call before the unmasking.
   */
  public void bindModel(ModelDigest model) {
    this.model = java.util.Objects.requireNonNull(model, "model");
  }

  /** True once the round went from masked-input straight to unmasking although it has a consistency check. */
  public boolean skippedConsistencyCheck() {
    return fastPath;
  }

  /** The stage currently being collected. */
  public Stage stage() {
    return stage;
  }

  public boolean isRunning() {
    return status == Status.RUNNING;
  }

  /** Banks refused so far, with the reason, in refusal order. */
  public Map<String, String> refusals() {
    return Map.copyOf(refusals);
  }

  /**
   * Decodes and accepts a message received from the bank the transport authenticated (mTLS): the
   * header's sender must be that bank.
   */
  public void acceptEncoded(String authenticatedBankId, byte[] encoded) throws ProtocolViolationException {
    SecAggMessage message;
    try {
      message = SecAggCodec.decode(encoded);
    } catch (MalformedMessageException e) {
      throw refuse(authenticatedBankId, "malformed message: " + e.getMessage());
    }
    if (!message.header().senderId().equals(authenticatedBankId)) {
      throw refuse(authenticatedBankId, "header names sender '" + message.header().senderId()
          + "' but the connection belongs to bank '" + authenticatedBankId + "'");
    }
    accept(message);
  }

  /**
   * {@link #acceptEncoded(String, byte[])} from the bytes between {@code encoded}'s position and limit
   * (the buffer is not moved): a masked input's values are added to the running sum where they lie,
   * without a copy of the message or a decoded vector; any other message is decoded from a copy.
   */
  public void acceptEncoded(String authenticatedBankId, ByteBuffer encoded) throws ProtocolViolationException {
    Optional<SecAggCodec.MaskedInputFrame> frame;
    try {
      frame = SecAggCodec.maskedInputInPlace(encoded);
    } catch (MalformedMessageException e) {
      throw refuse(authenticatedBankId, "malformed message: " + e.getMessage());
    }
    if (frame.isEmpty()) {
      byte[] bytes = new byte[encoded.remaining()];
      encoded.get(encoded.position(), bytes);
      acceptEncoded(authenticatedBankId, bytes);
      return;
    }
    MessageHeader header = frame.get().header();
    if (!header.senderId().equals(authenticatedBankId)) {
      throw refuse(authenticatedBankId, "header names sender '" + header.senderId()
          + "' but the connection belongs to bank '" + authenticatedBankId + "'");
    }
    checkHeader(header, false, stage);
    acceptMaskedInput(header.senderId(), frame.get().ringBits(), frame.get().values());
  }

  /** Accepts one bank message for the current stage, or refuses it and drops the sender. */
  public void accept(SecAggMessage message) throws ProtocolViolationException {
    // unmasking with the input: a bank's b-shares (an unmasking response) follow its masked input at masked-input
    boolean sharesWithInput = message instanceof UnmaskingResponse && parameters.unmaskingWithInput()
        && stage == Stage.MASKED_INPUT;
    checkHeader(message.header(), message instanceof AdvertiseKeys, sharesWithInput ? Stage.UNMASKING : stage);
    if (message instanceof AdvertiseKeys m) {
      acceptKeys(m);
    } else if (message instanceof ShareKeys m) {
      acceptShares(m);
    } else if (message instanceof MaskedInput m) {
      acceptMaskedInput(m.header().senderId(), m.ringBits(), IntBuffer.wrap(m.values()));
    } else if (message instanceof ConsistencySignature m) {
      acceptConsistencySignature(m);
    } else if (message instanceof UnmaskingResponse m) {
      acceptUnmaskingResponse(m);
    } else {
      throw refuse(message.header().senderId(), message.getClass().getSimpleName()
          + " is a coordinator message; banks may not send it");
    }
  }

  /** What every bank message's header must be: from the roster, for this job, round, stage and the coordinator. */
  private void checkHeader(MessageHeader header, boolean advertisesKeys, Stage expected)
      throws ProtocolViolationException {
    String sender = header.senderId();
    if (!parameters.bankIds().contains(sender)) {
      throw new ProtocolViolationException(sender, stage, "sender '" + sender + "' is not in the roster of job '"
          + parameters.jobId() + "' round " + parameters.round());
    }
    if (status != Status.RUNNING) {
      throw new ProtocolViolationException(sender, stage, "the round is already " + status.name().toLowerCase());
    }
    if (refusals.containsKey(sender)) {
      throw new ProtocolViolationException(sender, stage, "bank was already refused earlier in this round: "
          + refusals.get(sender));
    }
    if (!header.jobId().equals(parameters.jobId())) {
      throw refuse(sender, "jobId '" + header.jobId() + "' but this round belongs to job '" + parameters.jobId() + "'");
    }
    if (header.round() != parameters.round()) {
      throw refuse(sender, "round " + header.round() + " but this is round " + parameters.round()
          + " (replayed or stale message)");
    }
    if (!header.recipientId().equals(RoundParameters.COORDINATOR_ID)) {
      throw refuse(sender, "recipient '" + header.recipientId() + "' but banks send stage messages to '"
          + RoundParameters.COORDINATOR_ID + "'");
    }
    if (header.stage() != expected) {
      throw refuse(sender, (advertisesKeys ? "re-advertised keys" : "message")
          + " for stage " + header.stage() + " while the round is at stage " + stage + " (out of order)");
    }
  }

  private void acceptKeys(AdvertiseKeys message) throws ProtocolViolationException {
    String sender = message.header().senderId();
    SignedPublicKeys keys = message.toSignedKeys();
    SignedPublicKeys earlier = advertised.get(sender);
    if (earlier != null) {
      throw refuse(sender, earlier.sameContentAs(keys) ? "duplicate advertise-keys message"
          : "re-advertised different keys mid-round");
    }
    if (keys.encryptionPublicKey().length != X25519KeyPair.KEY_BYTES
        || keys.maskingPublicKey().length != X25519KeyPair.KEY_BYTES) {
      throw refuse(sender, "public keys must be " + X25519KeyPair.KEY_BYTES + " bytes, got "
          + keys.encryptionPublicKey().length + " and " + keys.maskingPublicKey().length);
    }
    if (Arrays.equals(keys.encryptionPublicKey(), keys.maskingPublicKey())) {
      throw refuse(sender, "encryption and masking public keys are identical");
    }
    for (SignedPublicKeys other : advertised.values()) {
      for (byte[] key : List.of(keys.encryptionPublicKey(), keys.maskingPublicKey())) {
        if (Arrays.equals(key, other.encryptionPublicKey()) || Arrays.equals(key, other.maskingPublicKey())) {
          throw refuse(sender, "duplicate public key: already advertised by bank '" + other.bankId() + "'");
        }
      }
    }
    try {
      verifier.verify(sender, keyPeriod != null
          ? ContextEncoding.periodKeys(parameters.jobId(), parameters.planDigest(), keyPeriod, sender,
              keys.encryptionPublicKey(), keys.maskingPublicKey())
          : ContextEncoding.advertisedKeys(parameters.jobId(), parameters.planDigest(), parameters.round(), sender,
              keys.encryptionPublicKey(), keys.maskingPublicKey()), keys.signature());
    } catch (GeneralSecurityException e) {
      throw refuse(sender, "identity signature over the advertised keys does not verify for this job's plan and "
          + (keyPeriod != null ? "period" : "round") + ": " + e.getMessage());
    }
    advertised.put(sender, keys);
  }

  private void acceptShares(ShareKeys message) throws ProtocolViolationException {
    String sender = message.header().senderId();
    requireEligible(sender, keyAdvertisers, Stage.ADVERTISE_KEYS);
    if (sharesBySender.containsKey(sender)) {
      throw refuse(sender, "duplicate share-keys message");
    }
    if (!parameters.selfMask() && !message.shares().isEmpty()) {
      throw refuse(sender, "share-keys message carries " + message.shares().size() + " share(s) in a sum without "
          + "self masks or shares (secure_aggregation.self_mask: false), where no bank shares anything");
    }
    if (!parameters.selfMask()) { // an empty answer: the bank accepted its key roster and masks with all of it
      sharesBySender.put(sender, message);
      return;
    }
    Set<String> expected = new LinkedHashSet<>(graph.shareHoldersOf(sender));
    expected.retainAll(keyAdvertisers);
    expected.remove(sender);
    Set<String> seen = new HashSet<>();
    for (EncryptedShare share : message.shares()) {
      if (!share.senderId().equals(sender)) {
        throw refuse(sender, "share claims sender '" + share.senderId() + "'");
      }
      if (!expected.contains(share.recipientId())) {
        throw refuse(sender, "share for recipient '" + share.recipientId()
            + "', which is not a key-advertising neighbour of the sender (wrong recipient)");
      }
      if (!seen.add(share.recipientId())) {
        throw refuse(sender, "two shares for recipient '" + share.recipientId() + "'");
      }
      int length = share.ciphertext().length;
      if (length < SecAggCodec.MIN_CIPHERTEXT_BYTES || length > SecAggCodec.MAX_CIPHERTEXT_BYTES) {
        throw refuse(sender, "ciphertext for '" + share.recipientId() + "' is " + length + " bytes; expected "
            + SecAggCodec.MIN_CIPHERTEXT_BYTES + " to " + SecAggCodec.MAX_CIPHERTEXT_BYTES);
      }
      if (keyPeriod != null && length != SecAggCodec.MIN_CIPHERTEXT_BYTES + ShamirSharing.SHARE_BYTES) {
        throw refuse(sender, "ciphertext for '" + share.recipientId() + "' is " + length + " bytes; a round masked "
            + "with period keys shares b only (" + (SecAggCodec.MIN_CIPHERTEXT_BYTES + ShamirSharing.SHARE_BYTES)
            + " bytes): it carries an s^SK-share or something else");
      }
    }
    requireAll(sender, expected, seen, "no share for recipients ");
    sharesBySender.put(sender, message);
  }

  /**
   * A masked input's values, from a decoded vector ({@link IntBuffer#wrap}) or in place in the bytes they came in
   * ({@link #acceptEncoded(String, ByteBuffer)}); the buffer is read by index, never moved.
   */
  private void acceptMaskedInput(String sender, int ringBits, IntBuffer values) throws ProtocolViolationException {
    requireEligible(sender, shareSenders, Stage.SHARE_KEYS);
    if (maskedInputSenders.contains(sender)) {
      throw refuse(sender, "duplicate masked-input message");
    }
    if (ringBits != parameters.ringBits()) {
      throw refuse(sender, "ringBits " + ringBits + " but the round uses " + parameters.ringBits());
    }
    if (values.remaining() != parameters.dimension()) {
      throw refuse(sender, "vector length " + values.remaining() + " but the round's dimension is "
          + parameters.dimension());
    }
    int outside = parameters.ringMask() == -1 ? -1 : firstOutsideRing(values);
    if (outside >= 0) {
      int value = values.get(values.position() + outside);
      throw refuse(sender, "values[" + outside + "] = " + Integer.toUnsignedString(value)
          + " is outside the ring Z_2^" + parameters.ringBits());
    }
    // Summing on arrival keeps the coordinator's memory at one vector, whatever the number of banks.
    if (maskedSum == null) {
      maskedSum = new int[parameters.dimension()];
    }
    if (values.hasArray()) {
      int[] array = values.array();
      int base = values.arrayOffset() + values.position();
      for (int i = 0; i < maskedSum.length; i++) {
        maskedSum[i] += array[base + i];
      }
    } else {
      // a view of the received bytes: copied a cache-sized piece at a time (a bulk copy), then added
      int[] piece = new int[Math.min(SUM_PIECE_WORDS, maskedSum.length)];
      for (int from = 0; from < maskedSum.length; from += piece.length) {
        int words = Math.min(piece.length, maskedSum.length - from);
        values.get(values.position() + from, piece, 0, words);
        for (int i = 0; i < words; i++) {
          maskedSum[from + i] += piece[i];
        }
      }
    }
    maskedInputSenders.add(sender);
  }

  /** Words of a masked input copied from the received bytes at a time: 64 KiB, well inside the L2 cache. */
  private static final int SUM_PIECE_WORDS = 16 * 1024;

  private int firstOutsideRing(IntBuffer values) {
    int outsideBits = ~parameters.ringMask();
    int base = values.position();
    for (int i = 0; i < values.remaining(); i++) {
      if ((values.get(base + i) & outsideBits) != 0) {
        return i;
      }
    }
    return -1;
  }

  private void acceptConsistencySignature(ConsistencySignature message) throws ProtocolViolationException {
    String sender = message.header().senderId();
    requireEligible(sender, unmaskingCandidates(), Stage.MASKED_INPUT);
    if (consistencySignatures.containsKey(sender)) {
      throw refuse(sender, "duplicate consistency-check message");
    }
    try {
      verifier.verify(sender, ContextEncoding.survivorSet(parameters.jobId(), parameters.round(), sender, survivors),
          message.signature());
    } catch (GeneralSecurityException e) {
      throw refuse(sender, "consistency signature over the survivor set does not verify: " + e.getMessage());
    }
    consistencySignatures.put(sender, message.signature());
  }

  private void acceptUnmaskingResponse(UnmaskingResponse message) throws ProtocolViolationException {
    String sender = message.header().senderId();
    if (!parameters.selfMask()) {
      throw refuse(sender, "unmasking response in a sum without self masks or shares (secure_aggregation.self_mask: "
          + "false): there is nothing to reveal");
    }
    Map<String, ShareKind> expected;
    if (stage == Stage.MASKED_INPUT) { // unmasking with the input (accept): b-shares of every bank it holds
      if (!parameters.unmaskingWithInput()) {
        throw refuse(sender, "unmasking response at masked-input in a round that unmasks after the inputs");
      }
      if (!maskedInputSenders.contains(sender)) {
        throw refuse(sender, "b-shares sent before the bank's masked input (unmasking with the input: the masked "
            + "input comes first)");
      }
      expected = new LinkedHashMap<>();
      for (String owner : inRosterOrder(shareSenders)) {
        if (holdsShareOf(sender, owner)) {
          expected.put(owner, ShareKind.SELF_MASK_SEED);
        }
      }
    } else {
      requireEligible(sender, unmaskingRecipients, parameters.consistencyCheck() && !fastPath
          ? Stage.CONSISTENCY_CHECK : Stage.MASKED_INPUT);
      expected = expectedRevelations(sender);
    }
    if (unmaskingResponses.containsKey(sender)) {
      throw refuse(sender, "duplicate unmasking message");
    }
    Set<String> seen = new HashSet<>();
    for (RevealedShare share : message.shares()) {
      ShareKind kind = expected.get(share.ownerId());
      if (kind == null || !seen.add(share.ownerId())) {
        throw refuse(sender, "unrequested or repeated share of bank '" + share.ownerId() + "'");
      }
      if (kind != share.kind()) {
        throw refuse(sender, "share of bank '" + share.ownerId() + "' has kind " + share.kind() + ", requested "
            + kind);
      }
      try {
        ShamirSharing.decodeShareValue(share.value()).destroy();
      } catch (IllegalArgumentException e) {
        throw refuse(sender, "share of bank '" + share.ownerId() + "': " + e.getMessage());
      }
    }
    requireAll(sender, expected.keySet(), seen, "missing shares of banks ");
    unmaskingResponses.put(sender, message);
  }

  private void requireAll(String sender, Set<String> expected, Set<String> seen, String problem)
      throws ProtocolViolationException {
    if (!seen.containsAll(expected)) {
      Set<String> missing = new LinkedHashSet<>(expected);
      missing.removeAll(seen);
      throw refuse(sender, problem + missing);
    }
  }

  /** For each bank whose share {@code holder} holds: which secret the unmasking request asked for. */
  private Map<String, ShareKind> expectedRevelations(String holder) {
    Map<String, ShareKind> expected = new LinkedHashMap<>();
    for (String owner : survivors) {
      if (holdsShareOf(holder, owner)) {
        expected.put(owner, ShareKind.SELF_MASK_SEED);
      }
    }
    for (String owner : droppedAfterSharing) {
      if (holdsShareOf(holder, owner)) {
        expected.put(owner, ShareKind.MASKING_KEY);
      }
    }
    return expected;
  }

  /** {@code holder} received {@code owner}'s shares: both completed share-keys and are neighbours. */
  private boolean holdsShareOf(String holder, String owner) {
    return shareSenders.contains(owner) && shareSenders.contains(holder)
        && (holder.equals(owner) || graph.areNeighbours(owner, holder));
  }

  private void requireEligible(String sender, Set<String> eligible, Stage previous) throws ProtocolViolationException {
    if (!eligible.contains(sender)) {
      throw refuse(sender, "bank did not complete stage " + previous + " in time, so it cannot take part in stage "
          + stage);
    }
  }

  /**
   * Records the refusal, removes the bank from the stage being collected and from later stages, and
   * returns the exception for the caller to throw.
   */
  private ProtocolViolationException refuse(String bankId, String reason) {
    if (parameters.bankIds().contains(bankId)) {
      refusals.putIfAbsent(bankId, reason);
      // Only the collection of the open stage changes: keys and inputs of closed stages are still
      // needed to unmask the others (a masked input already summed stays in, see class comment).
      switch (stage) {
        case ADVERTISE_KEYS -> advertised.remove(bankId);
        case SHARE_KEYS -> sharesBySender.remove(bankId);
        case CONSISTENCY_CHECK -> consistencySignatures.remove(bankId);
        case UNMASKING -> unmaskingResponses.remove(bankId);
        case MASKED_INPUT -> { }
      }
    }
    return new ProtocolViolationException(bankId, stage, reason);
  }

  /**
   * Ends the current stage at its deadline and moves on with the banks that answered in time.
   *
   * @return the messages to deliver for the next stage, or the result after unmasking, or the abort reason
   */
  public ServerTransition closeStage() {
    if (status != Status.RUNNING) {
      throw new IllegalStateException("round " + parameters.round() + " of job '" + parameters.jobId()
          + "' is already " + status.name().toLowerCase());
    }
    Stage closing = stage;
    try {
      return switch (closing) {
        case ADVERTISE_KEYS -> closeAdvertiseKeys();
        case SHARE_KEYS -> closeShareKeys();
        case MASKED_INPUT -> closeMaskedInput();
        case CONSISTENCY_CHECK -> closeConsistencyCheck();
        case UNMASKING -> closeUnmasking();
      };
    } catch (RoundAbort abort) {
      status = Status.ABORTED;
      maskedSum = null;
      return ServerTransition.aborted(closing, "round " + parameters.round() + " of job '" + parameters.jobId()
          + "' aborted at stage " + closing + ": " + abort.getMessage());
    }
  }

  private ServerTransition closeAdvertiseKeys() throws RoundAbort {
    keyAdvertisers = withEnoughNeighbours(advertised.keySet());
    requireThreshold(keyAdvertisers, "banks advertised keys");
    List<SecAggMessage> out = new ArrayList<>();
    for (String bank : inRosterOrder(keyAdvertisers)) {
      List<SignedPublicKeys> entries = new ArrayList<>();
      for (String holder : graph.shareHoldersOf(bank)) {
        if (keyAdvertisers.contains(holder)) {
          entries.add(advertised.get(holder));
        }
      }
      out.add(new KeyRoster(header(Stage.SHARE_KEYS, bank), entries));
    }
    stage = Stage.SHARE_KEYS;
    return ServerTransition.next(Stage.ADVERTISE_KEYS, out);
  }

  private ServerTransition closeShareKeys() throws RoundAbort {
    shareSenders = withEnoughNeighbours(sharesBySender.keySet());
    requireThreshold(shareSenders, "banks shared their keys");
    if (!parameters.selfMask() && !shareSenders.equals(keyAdvertisers)) {
      Set<String> missing = new LinkedHashSet<>(inRosterOrder(keyAdvertisers));
      missing.removeAll(shareSenders);
      throw new RoundAbort("no self masks: no share-keys answer from " + missing + ", with whom every other bank of "
          + "the key roster masks; the sum could not be unmasked and is abandoned; nothing was unmasked");
    }
    Map<String, List<EncryptedShare>> inbox = new HashMap<>();
    for (String sender : inRosterOrder(shareSenders)) {
      for (EncryptedShare share : sharesBySender.get(sender).shares()) {
        if (shareSenders.contains(share.recipientId())) {
          inbox.computeIfAbsent(share.recipientId(), r -> new ArrayList<>()).add(share);
        }
      }
    }
    List<SecAggMessage> out = new ArrayList<>();
    for (String bank : inRosterOrder(shareSenders)) {
      out.add(new ForwardedShares(header(Stage.MASKED_INPUT, bank), inbox.getOrDefault(bank, List.of())));
    }
    sharesBySender.clear();
    stage = Stage.MASKED_INPUT;
    return ServerTransition.next(Stage.SHARE_KEYS, out);
  }

  private ServerTransition closeMaskedInput() throws RoundAbort {
    survivors = inRosterOrder(maskedInputSenders);
    List<String> dropped = new ArrayList<>();
    for (String bank : inRosterOrder(shareSenders)) {
      if (!maskedInputSenders.contains(bank)) {
        dropped.add(bank);
      }
    }
    droppedAfterSharing = List.copyOf(dropped);
    requireThreshold(maskedInputSenders, "banks sent their masked input");
    if (parameters.unmaskingWithInput()) {
      if (!droppedAfterSharing.isEmpty()) {
        // recovering them would need their s^SK, which no bank reveals in this mode: the sum is abandoned (and a
        // sum without them, from the same inputs, is never offered: its difference with this one is one input)
        throw new RoundAbort("unmasking with the input: no masked input from " + droppedAfterSharing
            + (parameters.selfMask() ? ", whose pairwise masks only their s^SK-shares could remove, and no bank reveals "
            + "those in this mode; " : ", whose pairwise masks nothing can remove (a sum without self masks shares no "
            + "s^SK); ") + "the sum is abandoned; nothing was unmasked");
      }
      return parameters.selfMask() ? unmask(Stage.MASKED_INPUT) : completed(Stage.MASKED_INPUT);
    }
    Set<String> responders = unmaskingCandidates();
    requireRecoverable(responders, "banks that can still answer after masked-input");
    List<SecAggMessage> out = new ArrayList<>();
    fastPath = fastUnmasking && parameters.allowsFastUnmasking() && droppedAfterSharing.isEmpty()
        && survivors.equals(parameters.bankIds()) && responders.size() == parameters.bankIds().size();
    if (parameters.consistencyCheck() && !fastPath) {
      for (String bank : inRosterOrder(responders)) {
        out.add(new ConsistencyRequest(header(Stage.CONSISTENCY_CHECK, bank), survivors));
      }
      stage = Stage.CONSISTENCY_CHECK;
    } else {
      unmaskingRecipients = responders;
      out.addAll(unmaskingRequests(List.of()));
      stage = Stage.UNMASKING;
    }
    return ServerTransition.next(Stage.MASKED_INPUT, out);
  }

  private ServerTransition closeConsistencyCheck() throws RoundAbort {
    Set<String> signers = new LinkedHashSet<>(consistencySignatures.keySet());
    requireThreshold(signers, "banks signed the survivor set");
    if (signers.size() < parameters.consistencyQuorum()) { // SecAgg+: a majority of the roster
      throw new RoundAbort("only " + signers.size() + " banks signed the survivor set in time; the banks need "
          + parameters.consistencyQuorum() + " signatures (a majority of the roster); nothing was unmasked");
    }
    requireRecoverable(signers, "banks that signed the survivor set");
    unmaskingRecipients = signers;
    List<SurvivorSignature> signatures = new ArrayList<>();
    for (String bank : inRosterOrder(signers)) {
      signatures.add(new SurvivorSignature(bank, consistencySignatures.get(bank)));
    }
    stage = Stage.UNMASKING;
    return ServerTransition.next(Stage.CONSISTENCY_CHECK, unmaskingRequests(signatures));
  }

  private List<SecAggMessage> unmaskingRequests(List<SurvivorSignature> signatures) {
    List<SecAggMessage> out = new ArrayList<>();
    for (String bank : inRosterOrder(unmaskingRecipients)) {
      out.add(new UnmaskingRequest(header(Stage.UNMASKING, bank), survivors, droppedAfterSharing, signatures));
    }
    return out;
  }

  /**
   * Bonawitz et al. 2017, round 4 (server): reconstruct b_u of every survivor and s_u^SK of every
   * bank that dropped after share-keys, then z = sum y_u - sum PRG(b_u) -/+ PRG(s_uv) of dropped pairs.
   */
  private ServerTransition closeUnmasking() throws RoundAbort {
    return unmask(Stage.UNMASKING);
  }

  /** {@link #closeUnmasking}, or, unmasking with the input, the close of masked-input: {@code closing}. */
  private ServerTransition unmask(Stage closing) throws RoundAbort {
    Set<String> responders = unmaskingResponses.keySet();
    requireThreshold(responders, "banks answered the unmasking request");
    requireRecoverable(responders, "banks that answered the unmasking request");
    Map<String, List<ShamirSharing.Share>> seedShares = new HashMap<>();
    Map<String, List<ShamirSharing.Share>> keyShares = new HashMap<>();
    for (UnmaskingResponse response : unmaskingResponses.values()) {
      int x = parameters.shareIndexOf(response.header().senderId());
      for (RevealedShare share : response.shares()) {
        (share.kind() == ShareKind.SELF_MASK_SEED ? seedShares : keyShares)
            .computeIfAbsent(share.ownerId(), o -> new ArrayList<>())
            .add(new ShamirSharing.Share(x, SecretBytes.copyOf(share.value())));
      }
    }
    // every mask to remove, expanded in one pass over the sum (MaskExpander#applyMasks): the same sum mod 2^32
    List<SecretBytes> seeds = new ArrayList<>();
    List<Boolean> subtract = new ArrayList<>();
    try {
      for (String survivor : survivors) {
        seeds.add(reconstruct(survivor, seedShares, "self-mask seed"));
        subtract.add(true);
      }
      for (String dropped : droppedAfterSharing) {
        SecretBytes maskingScalar = reconstruct(dropped, keyShares, "masking key");
        try {
          if (!Arrays.equals(X25519KeyPair.publicKeyOf(maskingScalar), advertised.get(dropped).maskingPublicKey())) {
            throw new RoundAbort("reconstructed masking key of bank '" + dropped
                + "' does not match the public key it advertised (corrupted shares)");
          }
          int droppedIndex = parameters.shareIndexOf(dropped);
          for (String survivor : survivors) {
            if (!graph.areNeighbours(dropped, survivor)) {
              continue;
            }
            seeds.add(SecAggClient.pairwiseMaskSeed(parameters, maskingScalar, dropped, survivor,
                advertised.get(survivor).maskingPublicKey(), roundSalt, model));
            // The survivor added PRG(s_uv) if it precedes the dropped bank, else subtracted it.
            subtract.add(parameters.shareIndexOf(survivor) < droppedIndex);
          }
        } finally {
          maskingScalar.destroy();
        }
      }
      boolean[] signs = new boolean[subtract.size()];
      for (int i = 0; i < signs.length; i++) {
        signs[i] = subtract.get(i);
      }
      // in ranges on the process's cores: every bank waits for this (a survivor's self mask is a whole vector)
      ParallelMaskExpander.shared().applyMasks(seeds, signs, maskedSum);
    } catch (GeneralSecurityException e) {
      throw new RoundAbort("cryptographic failure while unmasking: " + e.getMessage());
    } finally {
      seeds.forEach(SecretBytes::destroy);
    }
    return completed(closing);
  }

  /**
   * The sum once every mask in it is removed: all the pairwise masks cancel in it, and without self masks there is
   * nothing else to remove.
   */
  private ServerTransition completed(Stage closing) {
    int mask = parameters.ringMask();
    int[] sum = maskedSum;
    maskedSum = null;
    if (mask != -1) {
      for (int i = 0; i < sum.length; i++) {
        sum[i] &= mask;
      }
    }
    List<String> excluded = new ArrayList<>(parameters.bankIds());
    excluded.removeAll(survivors);
    status = Status.COMPLETED;
    return ServerTransition.completed(closing,
        new AggregationResult(sum, parameters.ringBits(), survivors, excluded));
  }

  private SecretBytes reconstruct(String owner, Map<String, List<ShamirSharing.Share>> shares, String what)
      throws RoundAbort {
    List<ShamirSharing.Share> available = shares.getOrDefault(owner, List.of());
    try {
      return ShamirSharing.reconstruct(available, parameters.threshold());
    } catch (IllegalArgumentException e) {
      throw new RoundAbort("cannot reconstruct the " + what + " of bank '" + owner + "' from " + available.size()
          + " shares: " + e.getMessage());
    } finally {
      available.forEach(share -> share.value().destroy());
    }
  }

  /** Banks that sent their masked input and were not refused since: they can answer later stages. */
  private Set<String> unmaskingCandidates() {
    Set<String> candidates = new LinkedHashSet<>(maskedInputSenders);
    candidates.removeAll(refusals.keySet());
    return candidates;
  }

  /**
   * Removes banks whose neighbourhood (themselves included) has fewer than t members left, repeatedly:
   * such a bank could not have its secrets reconstructed. In the complete graph this only matters
   * when the whole round is below threshold.
   */
  private Set<String> withEnoughNeighbours(Set<String> present) {
    Set<String> remaining = new LinkedHashSet<>(present);
    remaining.removeAll(refusals.keySet());
    boolean changed = true;
    while (changed) {
      changed = false;
      for (String bank : List.copyOf(remaining)) {
        long alive = graph.shareHoldersOf(bank).stream().filter(remaining::contains).count();
        if (alive < parameters.threshold()) {
          remaining.remove(bank);
          changed = true;
        }
      }
    }
    return remaining;
  }

  /** Every secret still needed must have at least t holders among {@code holders}. */
  private void requireRecoverable(Set<String> holders, String who) throws RoundAbort {
    for (String owner : inRosterOrder(shareSenders)) {
      long available = graph.shareHoldersOf(owner).stream().filter(holders::contains).count();
      if (available < parameters.threshold()) {
        throw new RoundAbort("only " + available + " " + who + " hold shares of bank '" + owner
            + "'; threshold is " + parameters.threshold() + "; nothing was unmasked");
      }
    }
  }

  private void requireThreshold(Set<String> banks, String what) throws RoundAbort {
    if (banks.size() < parameters.threshold()) {
      throw new RoundAbort("only " + banks.size() + " " + what + " in time; threshold is "
          + parameters.threshold() + "; nothing was unmasked");
    }
  }

  private List<String> inRosterOrder(Set<String> banks) {
    return parameters.bankIds().stream().filter(banks::contains).toList();
  }

  private MessageHeader header(Stage messageStage, String recipient) {
    return new MessageHeader(parameters.jobId(), parameters.round(), messageStage, RoundParameters.COORDINATOR_ID,
        recipient);
  }

  /** Internal signal: the round cannot continue. */
  private static final class RoundAbort extends Exception {
    RoundAbort(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public String toString() {
    return "SecAggServer[job " + parameters.jobId() + ", round " + parameters.round() + ", " + stage + ", "
        + status + "]";
  }
}
