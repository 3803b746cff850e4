package io.consort.secagg;

import io.consort.identity.IdentitySigner;
import io.consort.secagg.crypto.KeyDerivation;
import io.consort.secagg.crypto.MaskExpander;
import io.consort.secagg.crypto.SecretBytes;
import io.consort.secagg.crypto.ShamirSharing;
import io.consort.secagg.crypto.ShareCipher;
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
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One bank's side of one secure-aggregation round (Bonawitz et al. 2017, figure 4, "User"), as a state
 * machine without network or threads: {@link #advertiseKeys()} produces the first message, then each
 * coordinator message given to {@link #handle(SecAggMessage)} produces exactly one reply.
 *
 * <p>Refusals. A message addressed to another job, round, bank or stage is refused with a
 * {@link ProtocolViolationException} and otherwise ignored (it cannot change state). A message whose
 * content is wrong (a peer signature that does not verify, altered own keys, a share ciphertext that
 * fails authentication, an unmasking request that asks for both secrets of one bank, ...) aborts the
 * round: the bank cannot tell a faulty peer from a tampering coordinator, so it stops and wipes its
 * secrets, and the coordinator sees it as dropped.
 *
 * <p>Security guarantees. Against an honest-but-curious coordinator with up to t-1 colluding banks:
 * the coordinator learns this bank's input only inside the sum of at least t inputs. Against a
 * coordinator that deviates from the protocol, with the consistency check on (the default): it
 * learns no single honest bank's input as long as it colludes with fewer than 2t - n banks (no bank
 * at all at the default majority threshold of an odd roster), because this bank reveals shares only
 * for a survivor set it signed and saw {@link RoundParameters#consistencyQuorum} valid signatures
 * over, so all honest banks that reveal anything reveal for one and the same set (Bonawitz et al.
 * 2017, section 6.3; docs/SECURE_AGGREGATION.md has the analysis). The one exception, the fast path of a
 * round nobody dropped from ({@link #fastUnmask}), reveals b-shares only, of the whole roster, before and
 * instead of any signature, which keeps the same bound. A round that unmasks with the input
 * ({@link RoundParameters#unmaskingWithInput}, {@link #handleAll}) releases those b-shares (of every member it
 * holds) with the masked input and then nothing more: no s^SK-share at all. A round without self masks
 * ({@link RoundParameters#selfMask} false, protocol version 7) has no b and shares nothing: the bank masks with every
 * other member of the key roster it accepted, sends its masked input and has finished; it refuses any share and any
 * consistency or unmasking request. Always: this bank reveals, for
 * each peer, either its share of b or of s^SK, never both, and never its own s^SK-share; every peer
 * key is checked against the peer's identity signature before use. Every pairwise seed is bound to the model this
 * bank computed its input from ({@link #bindModel}, protocol version 8): a peer that computed its input from another
 * model derives another seed, so a coordinator that sends banks of one sum different models gets a uniform vector.
 */
public final class SecAggClient {
  private enum Phase { CREATED, AWAITING_ROSTER, AWAITING_SHARES, AWAITING_CONSISTENCY_REQUEST,
    AWAITING_UNMASKING_REQUEST, FINISHED, ABORTED }

  private final RoundParameters parameters;
  private final String bankId;
  private final IdentitySigner signer;
  private final PeerKeyVerifier verifier;
  private final SecureRandom random;
  private final NeighbourGraph graph;
  private final byte[] roundSalt;

  private int[] input;
  /** Whether {@link #input} was handed over ({@link #supplyInput}) and may be masked in place. */
  private boolean inputHandedOver;
  private Phase phase = Phase.CREATED;
  private String abortReason;
  private X25519KeyPair encryptionKeys;
  private X25519KeyPair maskingKeys;
  /** The advertisement signature of keys made ahead ({@link #prepareKeys}), or null: made at {@link #advertiseKeys}. */
  private byte[] preparedSignature;
  private SignedPublicKeys ownKeys;
  /**
   * Keys for a period of rounds ({@link PeriodKeys}), or null: this round's own fresh keys. The client only borrows
   * them (it never wipes them) and shares b only.
   */
  private PeriodKeys periodKeys;
  /** Verified keys of this bank's neighbourhood that advertised (U1 restricted to the neighbourhood). */
  private final Map<String, SignedPublicKeys> verifiedKeys = new LinkedHashMap<>();
  /** Shares this bank holds, by owner: [share of b_owner, share of s_owner^SK]. Keys are U2 here. */
  private final Map<String, SecretBytes[]> heldShares = new LinkedHashMap<>();
  /** Forwarded shares checked before the input existed ({@link #checkForwardedShares}), and their message; or null. */
  private Map<String, SecretBytes[]> checkedShares;
  private ForwardedShares checkedSharesMessage;
  private List<String> signedSurvivors;
  /** The survivor set this bank revealed shares for, once it finished the round. */
  private List<String> revealedFor;
  /** Unmasking with the input: the b-shares made with the masked input, until {@link #handleAll} returns them. */
  private UnmaskingResponse earlyAnswer;
  /** b_u, kept from share-keys until the masked input is computed. */
  private SecretBytes selfMaskSeed;
  /** Pipelined rounds: the mask vector expanded before the input existed ({@link #expandMasksAhead}), or null. */
  private MasksAhead masksAhead;
  /** The base model bound into the pairwise seeds ({@link #bindModel}), or null: none bound, {@link ModelDigest#NONE}. */
  private ModelDigest model;
  /** Whether a pairwise seed was derived: the bound model can no longer change. */
  private boolean seedsDerived;
  /**
   * The AES-GCM keys of the shares each peer sends this bank (peer -> this bank), derived at share-keys
   * from the same X25519 agreement as this bank's own sending key, so each pair agrees once a round
   * instead of once per direction; wiped with the private keys they come from.
   */
  private final Map<String, SecretBytes> receiveKeys = new LinkedHashMap<>();

  private SecAggClient(RoundParameters parameters, String bankId, int[] input, IdentitySigner signer,
             PeerKeyVerifier verifier, SecureRandom random) {
    this.parameters = parameters;
    this.bankId = bankId;
    this.input = input;
    this.signer = signer;
    this.verifier = verifier;
    this.random = random;
    this.graph = NeighbourGraph.forRound(parameters);
    this.roundSalt = ContextEncoding.roundSalt(parameters.jobId(), parameters.round());
  }

  /**
   * @param parameters the round, identical at every bank and the coordinator
   * @param bankId this bank's id; must be in the roster
   * @param input the quantised update, {@code parameters.dimension()} values in [0, 2^k) (see
   *     {@link Quantizer}); not modified
   * @param signer signs with this bank's identity key (its consortium certificate's key), binding
   *     the round's keys to the bank (Bonawitz et al. 2017, section 6.3, the actively secure
   *     variant) so the coordinator cannot substitute keys and impersonate a bank to its peers
   * @param verifier checks peers' identity signatures
   * @param random the source of all secrets (key pairs, b_u, Shamir coefficients, GCM nonces); a
   *     {@link SecureRandom} in production
   */
  public static SecAggClient create(RoundParameters parameters, String bankId, int[] input, IdentitySigner signer,
                   PeerKeyVerifier verifier, SecureRandom random) {
    parameters.shareIndexOf(bankId); // validates membership
    checkInput(parameters, input);
    return new SecAggClient(parameters, bankId, input, java.util.Objects.requireNonNull(signer, "signer"),
        java.util.Objects.requireNonNull(verifier, "verifier"), java.util.Objects.requireNonNull(random, "random"));
  }

  /**
   * A client for a round whose input the bank does not have yet: with pipelined rounds
   * (docs/PROTOCOL.md, protocol version 3) a bank advertises its keys for round r+1 and shares them
   * while round r is still unmasking, before it trains. The input comes with {@link #supplyInput}
   * before the forwarded shares are handled; until then the client holds only this round's fresh keys
   * and, after share-keys, its own share of b and of s^SK. The keys are bound to this round's id by
   * their signature and to nothing else, so a bank that does not run the round calls {@link #discard}.
   */
  public static SecAggClient createAwaitingInput(RoundParameters parameters, String bankId, IdentitySigner signer,
                           PeerKeyVerifier verifier, SecureRandom random) {
    parameters.shareIndexOf(bankId); // validates membership
    return new SecAggClient(parameters, bankId, null, java.util.Objects.requireNonNull(signer, "signer"),
        java.util.Objects.requireNonNull(verifier, "verifier"), java.util.Objects.requireNonNull(random, "random"));
  }

  /**
   * As {@link #createAwaitingInput(RoundParameters, String, IdentitySigner, PeerKeyVerifier, SecureRandom)}, with
   * the round's key pairs and advertisement signature made ahead by {@link #prepareKeys}: the client takes them
   * (they can be taken once), and {@link #advertiseKeys()} advertises them instead of making new ones.
   *
   * @throws IllegalArgumentException if {@code keys} were made for another job, round or bank
   * @throws IllegalStateException if {@code keys} were already taken or destroyed
   */
  public static SecAggClient createAwaitingInput(RoundParameters parameters, String bankId, IdentitySigner signer,
                           PeerKeyVerifier verifier, SecureRandom random, PreparedKeys keys) {
    if (!keys.isFor(parameters.jobId(), parameters.planDigest(), parameters.round(), bankId)) {
      throw new IllegalArgumentException("keys made ahead for " + keys + " cannot key round " + parameters.round()
          + " of job '" + parameters.jobId() + "' for bank '" + bankId + "'");
    }
    SecAggClient client = createAwaitingInput(parameters, bankId, signer, verifier, random);
    keys.handTo(client);
    return client;
  }

  /**
   * As {@link #createAwaitingInput(RoundParameters, String, IdentitySigner, PeerKeyVerifier, SecureRandom)}, masking
   * with the bank's keys for a period of rounds (docs/SECURE_AGGREGATION.md, "Keys for a period of rounds"): it
   * advertises {@code keys}' period advertisement, verifies each peer's period advertisement once per period (the
   * agreements are kept in {@code keys}), derives this sum's seeds and share keys from them with the sum's round
   * salt, shares b only (never s^SK, which serves the whole period) and refuses forwarded shares that carry an
   * s^SK-share. Only for a sum that unmasks with the input, where no honest bank reveals an s^SK-share.
   *
   * @throws IllegalArgumentException if the round does not unmask with the input, or {@code keys} are another job's
   *     or bank's
   * @throws IllegalStateException if {@code keys} were wiped or already masked this sum round or a later one
   */
  public static SecAggClient createAwaitingInput(RoundParameters parameters, String bankId, IdentitySigner signer,
                           PeerKeyVerifier verifier, SecureRandom random, PeriodKeys keys) {
    if (!parameters.unmaskingWithInput()) {
      throw new IllegalArgumentException("keys for a period of rounds serve only sums that unmask with the input; "
          + "round " + parameters.round() + " of job '" + parameters.jobId() + "' does not");
    }
    if (!keys.isFor(parameters.jobId(), parameters.planDigest(), keys.period(), bankId)) {
      throw new IllegalArgumentException("period keys of " + keys + " cannot key round " + parameters.round()
          + " of job '" + parameters.jobId() + "' for bank '" + bankId + "'");
    }
    if (!keys.mayMask(parameters.round())) {
      throw new IllegalStateException("the period keys of " + keys + (keys.isDestroyed() ? " were wiped"
          : " already masked sum round " + keys.lastMaskedRound()) + "; they key no sum round " + parameters.round());
    }
    SecAggClient client = createAwaitingInput(parameters, bankId, signer, verifier, random);
    client.periodKeys = keys;
    return client;
  }

  /**
   * A round's fresh key pairs (c and s) and their advertisement signature, made before the round's client: with
   * pipelined rounds a bank makes them in its idle time after answering a training task, so the unmasking answer
   * that advertises them only releases what is ready. The signature binds them to {@code jobId}, {@code planDigest}
   * (the job's plan, {@link RoundParameters#planDigest}), {@code round} (the sum's round id, {@link
   * RoundParameters#round}) and {@code bankId}, and to nothing else; they are
   * handed, once, to the client of exactly that round ({@link #createAwaitingInput(RoundParameters, String,
   * IdentitySigner, PeerKeyVerifier, SecureRandom, PreparedKeys)}), and a bank that does not use them calls
   * {@link PreparedKeys#destroy}.
   */
  public static PreparedKeys prepareKeys(String jobId, String planDigest, long round, String bankId,
                                         IdentitySigner signer, SecureRandom random) throws GeneralSecurityException {
    java.util.Objects.requireNonNull(planDigest, "planDigest");
    SignedKeyPairs keys = SignedKeyPairs.make(signer, random,
        (c, s) -> ContextEncoding.advertisedKeys(jobId, planDigest, round, bankId, c, s));
    return new PreparedKeys(jobId, planDigest, round, bankId, keys.encryption(), keys.masking(), keys.signature());
  }

  /**
   * Key pairs and their signature made ahead of a round ({@link #prepareKeys}): held until one client of that
   * round takes them, or destroyed. Safe to hand between threads (made on one, taken or destroyed on another).
   */
  public static final class PreparedKeys {
    private final String jobId;
    private final String planDigest;
    private final long round;
    private final String bankId;
    private final byte[] encryptionPublicKey;
    private final byte[] maskingPublicKey;
    private X25519KeyPair encryptionKeys;
    private X25519KeyPair maskingKeys;
    private byte[] signature;
    private boolean taken;

    private PreparedKeys(String jobId, String planDigest, long round, String bankId, X25519KeyPair c, X25519KeyPair s,
                         byte[] signature) {
      this.jobId = jobId;
      this.planDigest = planDigest;
      this.round = round;
      this.bankId = bankId;
      this.encryptionKeys = c;
      this.maskingKeys = s;
      this.encryptionPublicKey = c.publicKeyBytes();
      this.maskingPublicKey = s.publicKeyBytes();
      this.signature = signature;
    }

    /**
     * Whether these keys are signed for job {@code jobId}'s round {@code round} of bank {@code bankId} under plan
     * {@code planDigest}.
     */
    public boolean isFor(String jobId, String planDigest, long round, String bankId) {
      return this.jobId.equals(jobId) && this.planDigest.equals(planDigest) && this.round == round
          && this.bankId.equals(bankId);
    }

    /** The public encryption key c (public: it is advertised). */
    public byte[] encryptionPublicKey() {
      return encryptionPublicKey.clone();
    }

    /** The public masking key s (public: it is advertised). */
    public byte[] maskingPublicKey() {
      return maskingPublicKey.clone();
    }

    /** Wipes the private keys unless a client took them; a client's own keys are wiped with its round. */
    public synchronized void destroy() {
      if (encryptionKeys != null) {
        encryptionKeys.destroy();
        maskingKeys.destroy();
      }
      encryptionKeys = null;
      maskingKeys = null;
      signature = null;
    }

    /** True once a client took the keys or they were destroyed: they can key nothing more. */
    public synchronized boolean isSpent() {
      return encryptionKeys == null;
    }

    /** Whether a client took these keys. */
    public synchronized boolean wasTaken() {
      return taken;
    }

    private synchronized void handTo(SecAggClient client) {
      if (encryptionKeys == null) {
        throw new IllegalStateException("the keys made ahead for " + this + " were " + (taken ? "taken by a client"
            : "destroyed") + "; keys key one round once");
      }
      client.encryptionKeys = encryptionKeys;
      client.maskingKeys = maskingKeys;
      client.preparedSignature = signature;
      encryptionKeys = null;
      maskingKeys = null;
      signature = null;
      taken = true;
    }

    @Override
    public String toString() {
      return "round " + round + " of job '" + jobId + "' for bank '" + bankId + "'";
    }
  }

  /**
   * Binds the digest of the base model this bank computed (or will compute) its input from into every pairwise mask
   * seed of the sum (protocol version 8, {@link ModelDigest}): the bank's own digest of what it trains on, never a
   * value from the coordinator. Without it a sum binds {@link ModelDigest#NONE} (a sum of statistics). Call before
   * any seed is derived (before {@link #expandMasksAhead} and the masking); binding the same model again is a no-op.
   *
   * @throws IllegalStateException if another model is bound already, or the seeds were derived
   */
  public void bindModel(ModelDigest model) {
    java.util.Objects.requireNonNull(model, "model");
    if (model.equals(this.model)) {
      return;
    }
    if (this.model != null || seedsDerived) {
      throw new IllegalStateException("bank '" + bankId + "' bound round " + parameters.round() + "'s masks to "
          + (this.model != null ? "model " + this.model : ModelDigest.NONE) + " already; it binds no other ("
          + model + ")");
    }
    this.model = model;
  }

  /** The model bound into this sum's pairwise seeds ({@link #bindModel}), {@link ModelDigest#NONE} if none. */
  public ModelDigest boundModel() {
    return model == null ? ModelDigest.NONE : model;
  }

  /**
   * Gives a client made by {@link #createAwaitingInput} its input, once, before the forwarded shares
   * (it is masked when they are handled). The client takes the array: it is masked in place, with no
   * copy of a vector of 4 bytes a parameter, so the caller must not read or reuse it afterwards.
   *
   * @throws IllegalStateException if the client already has an input or is past share-keys
   */
  public void supplyInput(int[] input) {
    if (this.input != null || !(phase == Phase.CREATED || phase == Phase.AWAITING_ROSTER
        || phase == Phase.AWAITING_SHARES)) {
      throw new IllegalStateException("bank '" + bankId + "' cannot take an input for round " + parameters.round()
          + " in phase " + phase + (this.input != null ? " (it already has one)" : ""));
    }
    checkInput(parameters, input);
    this.input = input;
    this.inputHandedOver = true;
  }

  /** True while the client has no input (made by {@link #createAwaitingInput} and not yet supplied). */
  public boolean awaitsInput() {
    return input == null && (phase == Phase.CREATED || phase == Phase.AWAITING_ROSTER
        || phase == Phase.AWAITING_SHARES);
  }

  /**
   * Ends a round this bank will not run (a pipelined round that fell back, or whose roster differs from
   * the one the bank keyed): its secrets are wiped and every later message is refused.
   */
  public void discard(String reason) {
    if (phase == Phase.FINISHED || phase == Phase.ABORTED) {
      return;
    }
    abortReason = "bank '" + bankId + "' discarded round " + parameters.round() + ": " + reason;
    phase = Phase.ABORTED;
    wipeSecrets();
  }

  private static void checkInput(RoundParameters parameters, int[] input) {
    if (input == null || input.length != parameters.dimension()) {
      throw new IllegalArgumentException("input length must equal dimension " + parameters.dimension()
          + ", got " + (input == null ? "null" : input.length));
    }
    if (parameters.ringBits() < 32) {
      int mask = parameters.ringMask();
      for (int i = 0; i < input.length; i++) {
        if ((input[i] & ~mask) != 0) {
          throw new IllegalArgumentException("input[" + i + "] = " + Integer.toUnsignedString(input[i])
              + " is outside the ring Z_2^" + parameters.ringBits());
        }
      }
    }
  }

  public String bankId() {
    return bankId;
  }

  public boolean isFinished() {
    return phase == Phase.FINISHED;
  }

  public boolean isAborted() {
    return phase == Phase.ABORTED;
  }

  /**
   * The banks whose inputs are in the released sum as far as this bank can know: the survivor set it
   * revealed its shares for (with the consistency check, the set it signed and saw at least
   * {@link RoundParameters#consistencyQuorum} valid signatures over). Empty until the round finished.
   */
  public List<String> survivors() {
    return revealedFor == null ? List.of() : revealedFor;
  }

  /** Why the round was aborted, or null. */
  public String abortReason() {
    return abortReason;
  }

  /**
   * Stage 1: fresh key pairs c and s for this round, signed with the identity key (made now, or made ahead for
   * exactly this round and bank by {@link #prepareKeys}).
   */
  public AdvertiseKeys advertiseKeys() throws GeneralSecurityException {
    if (phase != Phase.CREATED) {
      throw new IllegalStateException("bank '" + bankId + "' already advertised its keys for round "
          + parameters.round());
    }
    if (periodKeys != null) {
      ownKeys = periodKeys.advertisement();
      phase = Phase.AWAITING_ROSTER;
      return new AdvertiseKeys(header(Stage.ADVERTISE_KEYS), ownKeys.encryptionPublicKey(), ownKeys.maskingPublicKey(),
          ownKeys.signature());
    }
    if (encryptionKeys == null) {
      PreparedKeys fresh = prepareKeys(parameters.jobId(), parameters.planDigest(), parameters.round(), bankId, signer,
          random);
      fresh.handTo(this);
    }
    byte[] c = encryptionKeys.publicKeyBytes();
    byte[] s = maskingKeys.publicKeyBytes();
    byte[] signature = preparedSignature;
    preparedSignature = null;
    ownKeys = new SignedPublicKeys(bankId, c, s, signature);
    phase = Phase.AWAITING_ROSTER;
    return new AdvertiseKeys(header(Stage.ADVERTISE_KEYS), c, s, signature);
  }

  /** Decodes a coordinator message, handles it and encodes the reply. */
  public byte[] handleEncoded(byte[] encoded) throws ProtocolViolationException {
    return SecAggCodec.encode(handle(decode(encoded)));
  }

  private SecAggMessage decode(byte[] encoded) throws ProtocolViolationException {
    try {
      return SecAggCodec.decode(encoded);
    } catch (MalformedMessageException e) {
      throw new ProtocolViolationException(RoundParameters.COORDINATOR_ID, expectedStage(),
          "bank '" + bankId + "' cannot decode the message: " + e.getMessage(), e);
    }
  }

  /**
   * Handles one coordinator message and returns this bank's replies: one message, or, in a round that unmasks with
   * the input ({@link RoundParameters#unmaskingWithInput}), the masked input followed by the b-shares.
   */
  public List<SecAggMessage> handleAll(SecAggMessage message) throws ProtocolViolationException {
    SecAggMessage reply = handleOne(message);
    if (earlyAnswer == null) {
      return List.of(reply);
    }
    UnmaskingResponse shares = earlyAnswer;
    earlyAnswer = null;
    return List.of(reply, shares);
  }

  /** {@link #handleAll} from and to encoded messages. */
  public List<byte[]> handleEncodedAll(byte[] encoded) throws ProtocolViolationException {
    return handleAll(decode(encoded)).stream().map(SecAggCodec::encode).toList();
  }

  /**
   * Handles one coordinator message and returns this bank's reply.
   *
   * @throws IllegalStateException for the forwarded shares of a round that unmasks with the input, whose reply is
   *     two messages ({@link #handleAll})
   */
  public SecAggMessage handle(SecAggMessage message) throws ProtocolViolationException {
    if (parameters.unmaskingWithInput() && parameters.selfMask() && message instanceof ForwardedShares) {
      throw new IllegalStateException("bank '" + bankId + "' answers the forwarded shares of round "
          + parameters.round() + " with two messages (unmasking with the input): use handleAll");
    }
    return handleOne(message);
  }

  private SecAggMessage handleOne(SecAggMessage message) throws ProtocolViolationException {
    if (phase == Phase.ABORTED) {
      throw new IllegalStateException("bank '" + bankId + "' aborted round " + parameters.round() + ": " + abortReason);
    }
    if (phase == Phase.CREATED) {
      throw new IllegalStateException("call advertiseKeys() before handling coordinator messages");
    }
    if (!parameters.selfMask() && (message instanceof ConsistencyRequest || message instanceof UnmaskingRequest)) {
      refuseUnmaskingWithoutShares(message);
    }
    checkHeader(message.header(), message instanceof UnmaskingRequest);
    try {
      if (message instanceof KeyRoster roster && phase == Phase.AWAITING_ROSTER) {
        return shareKeys(roster);
      } else if (message instanceof ForwardedShares shares && phase == Phase.AWAITING_SHARES) {
        if (input == null) {
          throw new IllegalStateException("bank '" + bankId + "' has no input for round " + parameters.round()
              + " yet: supplyInput before the forwarded shares");
        }
        return maskedInput(shares);
      } else if (message instanceof ConsistencyRequest request && phase == Phase.AWAITING_CONSISTENCY_REQUEST) {
        return signSurvivors(request);
      } else if (message instanceof UnmaskingRequest request && phase == Phase.AWAITING_UNMASKING_REQUEST) {
        return unmask(request);
      } else if (message instanceof UnmaskingRequest request && phase == Phase.AWAITING_CONSISTENCY_REQUEST) {
        return fastUnmask(request);
      }
    } catch (GeneralSecurityException e) {
      throw abort(bankId, "local cryptographic failure: " + e.getMessage(), e);
    }
    throw new ProtocolViolationException(RoundParameters.COORDINATOR_ID, expectedStage(), "bank '" + bankId
        + "' expects no " + message.getClass().getSimpleName() + " now");
  }

  /**
   * A sum without self masks ({@link RoundParameters#selfMask} false) has no consistency check and no unmasking
   * stage, and this bank holds no share to answer with: a request for either is refused, and, unless the bank has
   * already sent its masked input (then it is only refused), aborts the sum before anything more leaves.
   */
  private void refuseUnmaskingWithoutShares(SecAggMessage message) throws ProtocolViolationException {
    String reason = message.getClass().getSimpleName() + " in round " + parameters.round() + ", a sum without self "
        + "masks or shares (secure_aggregation.self_mask: false): it has no consistency check or unmasking stage and "
        + "bank '" + bankId + "' holds no share to reveal";
    if (phase == Phase.FINISHED) {
      throw new ProtocolViolationException(RoundParameters.COORDINATOR_ID, expectedStage(), reason);
    }
    throw abort(RoundParameters.COORDINATOR_ID, reason);
  }

  private void checkHeader(MessageHeader header, boolean unmaskingRequest) throws ProtocolViolationException {
    String problem = null;
    if (!header.jobId().equals(parameters.jobId())) {
      problem = "jobId '" + header.jobId() + "' but this round belongs to job '" + parameters.jobId() + "'";
    } else if (header.round() != parameters.round()) {
      problem = "round " + header.round() + " but this is round " + parameters.round()
          + " (replayed or stale message)";
    } else if (!header.senderId().equals(RoundParameters.COORDINATOR_ID)) {
      problem = "sender '" + header.senderId() + "' but banks take stage messages only from '"
          + RoundParameters.COORDINATOR_ID + "'";
    } else if (!header.recipientId().equals(bankId)) {
      problem = "recipient '" + header.recipientId() + "' but this is bank '" + bankId + "'";
    } else if (phase == Phase.FINISHED) {
      problem = "stage " + header.stage() + " arrived after bank '" + bankId + "' finished the round"
          + (!parameters.selfMask() ? " (it sent its masked input in a sum without self masks or shares: it answers "
          + "nothing more of this sum)"
          : parameters.unmaskingWithInput() ? " (it sent its b-shares with its masked input, unmasking with the "
          + "input: it answers no consistency check or unmasking request of this sum and reveals no s^SK-share)" : "");
    } else if (header.stage() != expectedStage() && !(unmaskingRequest && header.stage() == Stage.UNMASKING
        && phase == Phase.AWAITING_CONSISTENCY_REQUEST)) { // a fast unmasking request, checked by fastUnmask
      problem = "stage " + header.stage() + " arrived while bank '" + bankId + "' expects stage "
          + expectedStage() + " (out of order)";
    }
    if (problem != null) {
      throw new ProtocolViolationException(header.senderId(), expectedStage(), problem);
    }
  }

  /** Stage 2 (Bonawitz round 1): verify peers' keys, share b_u and s_u^SK, encrypt shares pairwise. */
  private ShareKeys shareKeys(KeyRoster roster) throws ProtocolViolationException, GeneralSecurityException {
    Set<String> holders = new HashSet<>(graph.shareHoldersOf(bankId));
    Map<String, SignedPublicKeys> entries = new LinkedHashMap<>();
    for (SignedPublicKeys entry : roster.entries()) {
      if (!holders.contains(entry.bankId())) {
        throw abort(RoundParameters.COORDINATOR_ID, "roster lists bank '" + entry.bankId()
            + "', which is not in the neighbourhood of bank '" + bankId + "'");
      }
      if (entries.put(entry.bankId(), entry) != null) {
        throw abort(RoundParameters.COORDINATOR_ID, "roster lists bank '" + entry.bankId() + "' twice");
      }
    }
    SignedPublicKeys own = entries.get(bankId);
    if (own == null || !own.sameContentAs(ownKeys)) {
      throw abort(RoundParameters.COORDINATOR_ID, "the roster " + (own == null ? "omits" : "alters")
          + " the keys bank '" + bankId + "' advertised (key substitution)");
    }
    Set<String> seenKeys = new HashSet<>();
    for (SignedPublicKeys entry : entries.values()) {
      if (entry.encryptionPublicKey().length != X25519KeyPair.KEY_BYTES
          || entry.maskingPublicKey().length != X25519KeyPair.KEY_BYTES) {
        throw abort(entry.bankId(), "public keys of bank '" + entry.bankId() + "' are not "
            + X25519KeyPair.KEY_BYTES + " bytes");
      }
      // This bank's own entry was compared byte for byte (keys and signature) with what it signed
      // above, so verifying it again would only repeat an identity-signature check: skipped.
      if (periodKeys != null && !entry.bankId().equals(bankId)) {
        verifyPeriodKeys(entry);
      } else if (!entry.bankId().equals(bankId)) {
        try {
          verifier.verify(entry.bankId(), ContextEncoding.advertisedKeys(parameters.jobId(), parameters.planDigest(),
              parameters.round(), entry.bankId(), entry.encryptionPublicKey(), entry.maskingPublicKey()),
              entry.signature());
        } catch (GeneralSecurityException e) {
          throw abort(entry.bankId(), "the keys of bank '" + entry.bankId()
              + "' do not carry its valid identity signature for this job's plan and round (substituted by the "
              + "coordinator, or signed under another plan?): "
              + e.getMessage(), e);
        }
      }
      // Bonawitz et al. 2017, round 1: "assert that all the public key pairs are different".
      if (!seenKeys.add(Arrays.toString(entry.encryptionPublicKey()))
          || !seenKeys.add(Arrays.toString(entry.maskingPublicKey()))) {
        throw abort(entry.bankId(), "bank '" + entry.bankId() + "' reuses a public key already in the roster");
      }
    }
    if (entries.size() < parameters.threshold()) {
      throw abort(RoundParameters.COORDINATOR_ID, "only " + entries.size() + " banks of the neighbourhood of '"
          + bankId + "' advertised keys; threshold is " + parameters.threshold());
    }
    verifiedKeys.putAll(entries);
    if (!parameters.selfMask()) {
      // no b and no share of anything: the bank masks with every other member of this roster, and its answer only
      // says it accepted it (no Shamir sharing, no share keys, no c agreement)
      phase = Phase.AWAITING_SHARES;
      return new ShareKeys(header(Stage.SHARE_KEYS), List.of());
    }

    List<String> shareHolders = new ArrayList<>(entries.keySet());
    int[] xs = shareHolders.stream().mapToInt(parameters::shareIndexOf).toArray();
    selfMaskSeed = randomSeed();
    List<ShamirSharing.Share> seedShares = ShamirSharing.split(selfMaskSeed, parameters.threshold(), xs, random);
    // period keys serve several sums: their s^SK is never shared (b only)
    List<ShamirSharing.Share> keyShares = periodKeys != null ? null : sharedMaskingKey(xs);

    List<EncryptedShare> ciphertexts = new ArrayList<>();
    for (int i = 0; i < shareHolders.size(); i++) {
      String holder = shareHolders.get(i);
      if (holder.equals(bankId)) {
        heldShares.put(bankId, new SecretBytes[] {seedShares.get(i).value(),
          keyShares == null ? null : keyShares.get(i).value()});
        continue;
      }
      byte[] plaintext = new byte[sharePlaintextBytes()];
      byte[] seedShare = seedShares.get(i).value().toByteArray();
      byte[] keyShare = keyShares == null ? new byte[0] : keyShares.get(i).value().toByteArray();
      System.arraycopy(seedShare, 0, plaintext, 0, seedShare.length);
      System.arraycopy(keyShare, 0, plaintext, ShamirSharing.SHARE_BYTES, keyShare.length);
      SecretBytes shared = periodKeys != null ? periodKeys.encryptionSecretWith(holder)
          : encryptionKeys.agree(entries.get(holder).encryptionPublicKey());
      SecretBytes key;
      try {
        key = shareKey(shared, bankId, holder);
        receiveKeys.put(holder, shareKey(shared, holder, bankId));
      } finally {
        shared.destroy();
      }
      byte[] ciphertext = ShareCipher.encrypt(key,
          ContextEncoding.shareAssociatedData(parameters.jobId(), parameters.round(), bankId, holder),
          plaintext, random);
      key.destroy();
      Arrays.fill(plaintext, (byte) 0);
      Arrays.fill(seedShare, (byte) 0);
      Arrays.fill(keyShare, (byte) 0);
      seedShares.get(i).value().destroy();
      if (keyShares != null) {
        keyShares.get(i).value().destroy();
      }
      ciphertexts.add(new EncryptedShare(bankId, holder, ciphertext));
    }
    phase = Phase.AWAITING_SHARES;
    return new ShareKeys(header(Stage.SHARE_KEYS), ciphertexts);
  }

  /** Shamir shares of this round's s^SK for the holders at {@code xs} (per-round keys only). */
  private List<ShamirSharing.Share> sharedMaskingKey(int[] xs) {
    SecretBytes maskingScalar = maskingKeys.privateScalar();
    try {
      return ShamirSharing.split(maskingScalar, parameters.threshold(), xs, random);
    } finally {
      maskingScalar.destroy();
    }
  }

  /** The plaintext of one share ciphertext: b's share, then s^SK's unless the round masks with period keys. */
  private int sharePlaintextBytes() {
    return (periodKeys != null ? 1 : 2) * ShamirSharing.SHARE_BYTES;
  }

  /**
   * A peer's period advertisement: verified over the period's context ({@link ContextEncoding#periodKeys}) unless
   * exactly these keys and signature were verified before in this period, and then agreed with once; a different
   * advertisement (the peer made new keys) is verified and replaces the one held; keys it replaced are refused.
   */
  private void verifyPeriodKeys(SignedPublicKeys entry) throws ProtocolViolationException, GeneralSecurityException {
    if (periodKeys.holdsVerified(entry)) {
      return;
    }
    if (periodKeys.wasReplaced(entry)) {
      throw abort(entry.bankId(), "the coordinator relays period keys of bank '" + entry.bankId() + "' that its later "
          + "advertisement replaced in period " + periodKeys.period().index() + "; replaced keys are never taken back");
    }
    try {
      verifier.verify(entry.bankId(), ContextEncoding.periodKeys(parameters.jobId(), parameters.planDigest(),
          periodKeys.period(), entry.bankId(), entry.encryptionPublicKey(), entry.maskingPublicKey()),
          entry.signature());
    } catch (GeneralSecurityException e) {
      throw abort(entry.bankId(), "the period keys of bank '" + entry.bankId() + "' do not carry its valid identity "
          + "signature for this job's plan and period " + periodKeys.period().index() + " of "
          + periodKeys.period().rounds() + " rounds (substituted or replayed by the coordinator, or signed under "
          + "another plan?): " + e.getMessage(), e);
    }
    periodKeys.agreeWith(entry, parameters.selfMask()); // no c agreement where no share is encrypted
  }

  /**
   * Pipelined rounds: starts expanding this bank's whole mask vector on {@code executor} (a bank thread, never a
   * Vert.x event loop) once the key roster is handled, before the input exists: M_u = PRG(b_u) + sum_{v > u}
   * PRG(s_uv) - sum_{v < u} PRG(s_uv) mod 2^32 over every verified peer. The masking of the forwarded shares then
   * adds M_u to the input in one pass, waiting for it if it is still being expanded, and removes the masks of the
   * peers whose shares did not arrive (not in U2 as this bank sees it), so the masked input is exactly the one the
   * masks computed then would give. The vector is one extra int per coordinate while the round is open; it is
   * zeroed once added, or when the round is discarded or aborts. If the expansion fails, the masking expands the
   * masks itself. Only the seeds cross to {@code executor}, never the private keys.
   *
   * @throws IllegalStateException unless the client awaits the forwarded shares and has expanded nothing ahead yet
   */
  public void expandMasksAhead(java.util.concurrent.Executor executor) throws GeneralSecurityException {
    if (phase != Phase.AWAITING_SHARES || masksAhead != null) {
      throw new IllegalStateException("bank '" + bankId + "' expands its masks ahead once, after the key roster, "
          + "not in phase " + phase + (masksAhead != null ? " a second time" : ""));
    }
    Set<String> peers = new LinkedHashSet<>(verifiedKeys.keySet());
    peers.remove(bankId);
    List<SecretBytes> seeds = new ArrayList<>(peers.size() + 1);
    boolean[] subtract = new boolean[peers.size() + (selfMaskSeed != null ? 1 : 0)];
    if (selfMaskSeed != null) { // none in a sum without self masks: the pairwise masks only
      byte[] self = selfMaskSeed.toByteArray();
      seeds.add(SecretBytes.copyOf(self));
      Arrays.fill(self, (byte) 0);
    }
    int ownIndex = parameters.shareIndexOf(bankId);
    SecretBytes maskingScalar = ownMaskingScalar();
    try {
      for (String peer : peers) {
        subtract[seeds.size()] = ownIndex > parameters.shareIndexOf(peer);
        seeds.add(maskSeed(maskingScalar, peer));
      }
    } catch (GeneralSecurityException | RuntimeException e) {
      seeds.forEach(SecretBytes::destroy);
      throw e;
    } finally {
      if (maskingScalar != null) {
        maskingScalar.destroy();
      }
    }
    MasksAhead made = new MasksAhead(parameters, bankId, peers, seeds, subtract);
    try {
      executor.execute(made::expand);
    } catch (RuntimeException e) { // rejected: the masking expands the masks itself
      made.destroy();
      return;
    }
    masksAhead = made;
  }

  /**
   * Stage 3 (Bonawitz round 2): decrypt the shares peers sent, then
   * y_u = x_u + PRG(b_u) + sum_{v in U2, v > u} PRG(s_uv) - sum_{v in U2, v < u} PRG(s_uv) mod 2^k. In a sum without
   * self masks ({@link RoundParameters#selfMask} false) there are no shares (the forwarded ones must be none), no
   * PRG(b_u), and v runs over every other member of the key roster this bank accepted.
   */
  private MaskedInput maskedInput(ForwardedShares forwarded) throws ProtocolViolationException,
      GeneralSecurityException {
    if (periodKeys != null) {
      try {
        periodKeys.claim(parameters.round()); // never two inputs under one (period keys, sum round)
      } catch (IllegalStateException e) {
        throw abort(RoundParameters.COORDINATOR_ID, e.getMessage(), e);
      }
    }
    if (!parameters.selfMask()) {
      if (checkedSharesMessage == null) {
        refuseShares(forwarded);
      } else if (!sameShares(checkedSharesMessage, forwarded)) {
        throw abort(RoundParameters.COORDINATOR_ID, "the forwarded shares differ from those bank '" + bankId
            + "' checked before it computed its input");
      }
      Set<String> peers = new LinkedHashSet<>(verifiedKeys.keySet());
      peers.remove(bankId);
      return mask(peers);
    }
    Map<String, SecretBytes[]> received;
    if (checkedShares == null) {
      received = receiveShares(forwarded);
    } else if (sameShares(checkedSharesMessage, forwarded)) {
      received = checkedShares;
    } else {
      throw abort(RoundParameters.COORDINATOR_ID, "the forwarded shares differ from those bank '" + bankId
          + "' checked before it computed its input");
    }
    return mask(received.keySet());
  }

  /**
   * A sum without self masks has no shares: the forwarded shares must be none (an empty message opening
   * masked-input). Any share aborts the sum, before the bank trains when it comes ahead of the input.
   */
  private void refuseShares(ForwardedShares forwarded) throws ProtocolViolationException {
    if (!forwarded.shares().isEmpty()) {
      throw abort(RoundParameters.COORDINATOR_ID, "the coordinator forwards " + forwarded.shares().size()
          + " share(s) (the first from '" + forwarded.shares().get(0).senderId() + "') in round " + parameters.round()
          + ", a sum without self masks or shares (secure_aggregation.self_mask: false), where no bank shares anything");
    }
  }

  /**
   * Pipelined rounds: decrypts and checks the peers' forwarded shares before this bank has its input, so that
   * shares it would refuse (tampered, misaddressed, too few) are refused before it trains or spends anything;
   * the masking then takes exactly these shares (the same message, {@link #handle}). Aborts the round on a share
   * it refuses, as the masking would. Checking the same shares again changes nothing; other shares abort the round.
   *
   * @throws IllegalStateException unless the client awaits the forwarded shares
   */
  public void checkForwardedShares(ForwardedShares forwarded) throws ProtocolViolationException {
    if (phase != Phase.AWAITING_SHARES) {
      throw new IllegalStateException("bank '" + bankId + "' checks forwarded shares while awaiting them, not in "
          + "phase " + phase);
    }
    checkHeader(forwarded.header(), false);
    if (checkedShares != null) {
      if (!sameShares(checkedSharesMessage, forwarded)) {
        throw abort(RoundParameters.COORDINATOR_ID, "the forwarded shares differ from those bank '" + bankId
            + "' checked before");
      }
      return;
    }
    if (!parameters.selfMask()) {
      refuseShares(forwarded);
      checkedShares = Map.of();
      checkedSharesMessage = forwarded;
      return;
    }
    try {
      checkedShares = receiveShares(forwarded);
      checkedSharesMessage = forwarded;
    } catch (GeneralSecurityException e) {
      throw abort(bankId, "local cryptographic failure: " + e.getMessage(), e);
    }
  }

  private static boolean sameShares(ForwardedShares a, ForwardedShares b) {
    if (!a.header().equals(b.header()) || a.shares().size() != b.shares().size()) {
      return false;
    }
    for (int i = 0; i < a.shares().size(); i++) {
      EncryptedShare x = a.shares().get(i);
      EncryptedShare y = b.shares().get(i);
      if (!x.senderId().equals(y.senderId()) || !x.recipientId().equals(y.recipientId())
          || !Arrays.equals(x.ciphertext(), y.ciphertext())) {
        return false;
      }
    }
    return true;
  }

  /** Decrypts and checks the forwarded shares; they are then held ({@link #heldShares}) until the round ends. */
  private Map<String, SecretBytes[]> receiveShares(ForwardedShares forwarded) throws ProtocolViolationException,
      GeneralSecurityException {
    Map<String, SecretBytes[]> received = new LinkedHashMap<>();
    for (EncryptedShare share : forwarded.shares()) {
      String sender = share.senderId();
      if (!share.recipientId().equals(bankId)) {
        throw abort(RoundParameters.COORDINATOR_ID, "forwarded share from '" + sender + "' is addressed to '"
            + share.recipientId() + "', not to bank '" + bankId + "' (wrong recipient)");
      }
      if (sender.equals(bankId) || !verifiedKeys.containsKey(sender)) {
        throw abort(RoundParameters.COORDINATOR_ID, "forwarded share claims sender '" + sender
            + "', which is not a verified peer of bank '" + bankId + "'");
      }
      if (received.containsKey(sender)) {
        throw abort(RoundParameters.COORDINATOR_ID, "two forwarded shares from '" + sender + "'");
      }
      SecretBytes key = receiveKeys.remove(sender);
      if (key == null) { // unreachable: every verified peer got a share, and its receiving key with it
        throw abort(bankId, "bank '" + bankId + "' derived no share key for peer '" + sender + "'");
      }
      SecretBytes plaintext;
      try {
        plaintext = ShareCipher.decrypt(key, ContextEncoding.shareAssociatedData(parameters.jobId(),
            parameters.round(), sender, bankId), share.ciphertext());
      } catch (GeneralSecurityException e) {
        throw abort(sender, "share ciphertext from bank '" + sender + "' to bank '" + bankId
            + "' fails AES-GCM authentication (tampered, replayed or misdirected)", e);
      } finally {
        key.destroy();
      }
      byte[] raw = plaintext.toByteArray();
      plaintext.destroy();
      try {
        if (raw.length != sharePlaintextBytes()) {
          throw abort(sender, "decrypted share from bank '" + sender + "' is " + raw.length
              + " bytes; expected " + sharePlaintextBytes() + (periodKeys != null && raw.length > sharePlaintextBytes()
              ? " (a b-share only: it carries an s^SK-share, which a round masked with period keys never shares)"
              : ""));
        }
        received.put(sender, new SecretBytes[] {
          ShamirSharing.decodeShareValue(Arrays.copyOfRange(raw, 0, ShamirSharing.SHARE_BYTES)),
          periodKeys != null ? null
              : ShamirSharing.decodeShareValue(Arrays.copyOfRange(raw, ShamirSharing.SHARE_BYTES, raw.length))});
      } catch (IllegalArgumentException e) {
        throw abort(sender, "decrypted share from bank '" + sender + "' is invalid: " + e.getMessage(), e);
      } finally {
        Arrays.fill(raw, (byte) 0);
      }
    }
    if (received.size() + 1 < parameters.threshold()) {
      throw abort(RoundParameters.COORDINATOR_ID, "only " + (received.size() + 1) + " banks of the neighbourhood of '"
          + bankId + "' completed share-keys; threshold is " + parameters.threshold());
    }
    heldShares.putAll(received);
    destroyReceiveKeys(); // those of peers that sent no share
    return received;
  }

  /**
   * Masks the input with the self mask and the pairwise masks of the banks whose shares it {@code received}: with
   * the vector expanded ahead if there is one ({@link #expandMasksAhead}), corrected for the peers it holds that are
   * not among them; else each mask expanded now.
   */
  private MaskedInput mask(Set<String> maskPeers) throws ProtocolViolationException,
      GeneralSecurityException {
    // an input handed over is masked in place; until every mask is in, `input` still names it, so a round that
    // aborts on the way wipes it
    int[] masked = inputHandedOver ? input : input.clone();
    MasksAhead expanded = masksAhead;
    int[] ahead;
    try {
      ahead = expanded == null ? null : expanded.take(parameters, bankId);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw abort(bankId, e.getMessage(), e); // never a mask that may be wrong or used before
    }
    Set<String> included = ahead == null ? Set.of() : expanded.peers();
    // the masks still to add (all of them without a vector made ahead), added in one pass over the vector
    List<SecretBytes> seeds = new ArrayList<>(maskPeers.size() + 1);
    List<Boolean> subtract = new ArrayList<>(maskPeers.size() + 1);
    int ownIndex = parameters.shareIndexOf(bankId);
    SecretBytes maskingScalar = ownMaskingScalar();
    try {
      if (ahead == null && selfMaskSeed != null) { // none in a sum without self masks
        seeds.add(selfMaskSeed);
        subtract.add(false);
      }
      for (String peer : maskPeers) {
        if (!included.contains(peer)) {
          subtract.add(ownIndex > parameters.shareIndexOf(peer));
          seeds.add(maskSeed(maskingScalar, peer));
        }
      }
      for (String peer : included) {
        if (!maskPeers.contains(peer)) {
          // in the vector, but its shares did not arrive: it is not in U2 and its mask must not be in the input
          subtract.add(ownIndex < parameters.shareIndexOf(peer));
          seeds.add(maskSeed(maskingScalar, peer));
        }
      }
      int ringMask = parameters.ringMask();
      if (seeds.isEmpty()) {
        // the vector holds every mask: added and reduced into the ring in one pass
        for (int i = 0; i < masked.length; i++) {
          masked[i] = (masked[i] + ahead[i]) & ringMask;
        }
      } else {
        if (ahead != null) {
          for (int i = 0; i < masked.length; i++) {
            masked[i] += ahead[i];
          }
        }
        boolean[] signs = new boolean[subtract.size()];
        for (int j = 0; j < signs.length; j++) {
          signs[j] = subtract.get(j);
        }
        new MaskExpander().applyMasks(seeds, signs, masked);
        if (ringMask != -1) {
          for (int i = 0; i < masked.length; i++) {
            masked[i] &= ringMask;
          }
        }
      }
    } finally {
      if (maskingScalar != null) {
        maskingScalar.destroy();
      }
      seeds.forEach(SecretBytes::destroy);
      if (selfMaskSeed != null) {
        selfMaskSeed.destroy();
      }
      if (expanded != null) {
        expanded.destroy();
        masksAhead = null;
      }
    }
    input = null;
    MaskedInput reply = new MaskedInput(header(Stage.MASKED_INPUT), parameters.ringBits(), masked);
    if (!parameters.selfMask()) {
      // nothing to reveal: the sum is the key roster's, and the bank has finished it
      wipeSecrets();
      revealedFor = parameters.bankIds().stream().filter(verifiedKeys::containsKey).toList();
      phase = Phase.FINISHED;
    } else if (parameters.unmaskingWithInput()) {
      earlyAnswer = releaseSelfMaskShares();
    } else {
      phase = parameters.consistencyCheck() ? Phase.AWAITING_CONSISTENCY_REQUEST : Phase.AWAITING_UNMASKING_REQUEST;
    }
    return reply;
  }

  /**
   * Unmasking with the input (docs/SECURE_AGGREGATION.md, "Unmasking with the masked input"): with its masked input
   * the bank releases its b-share of every member whose shares it holds (U2, itself included), exactly what it would
   * answer a fast unmasking request, and has finished the round: it signs no survivor set and answers no unmasking
   * request, so it never reveals an s^SK-share in this sum. Every honest bank of the job does the same (the mode is
   * pinned in the plan), so no honest bank's s^SK can be reconstructed (c < t colluders hold fewer than t shares of
   * it), and each honest bank's masks with its honest peers stay unknown: the coordinator can unmask only the sum
   * of all of U2, and a member whose masked input is missing makes the sum impossible to unmask.
   *
   * <p>The same answer, in roster order, serves a fast unmasking request ({@link #fastUnmask}), where the bank holds
   * every member's shares.
   */
  private UnmaskingResponse releaseSelfMaskShares() {
    List<RevealedShare> revealed = new ArrayList<>();
    List<String> owners = new ArrayList<>();
    for (String owner : parameters.bankIds()) {
      SecretBytes[] held = heldShares.get(owner);
      if (held != null) {
        revealed.add(new RevealedShare(owner, ShareKind.SELF_MASK_SEED, held[0].toByteArray()));
        owners.add(owner);
      }
    }
    wipeSecrets();
    revealedFor = List.copyOf(owners);
    phase = Phase.FINISHED;
    return new UnmaskingResponse(header(Stage.UNMASKING), revealed);
  }

  /** Stage 4, optional (Bonawitz round 3): sign the survivor set so all banks see the same one. */
  private ConsistencySignature signSurvivors(ConsistencyRequest request) throws ProtocolViolationException,
      GeneralSecurityException {
    checkSurvivors(request.survivors());
    signedSurvivors = request.survivors();
    byte[] signature = signer.sign(ContextEncoding.survivorSet(parameters.jobId(), parameters.round(), bankId,
        signedSurvivors));
    phase = Phase.AWAITING_UNMASKING_REQUEST;
    return new ConsistencySignature(header(Stage.CONSISTENCY_CHECK), signature);
  }

  /**
   * Stage 5 (Bonawitz round 4): reveal b-shares of survivors and s^SK-shares of dropped banks, never
   * both for one bank, never an s^SK-share of this bank itself.
   */
  private UnmaskingResponse unmask(UnmaskingRequest request) throws ProtocolViolationException {
    Set<String> survivors = new HashSet<>(request.survivors());
    Set<String> dropped = new LinkedHashSet<>();
    for (String bank : request.dropped()) {
      if (survivors.contains(bank)) {
        throw abort(RoundParameters.COORDINATOR_ID, "unmasking request asks bank '" + bankId
            + "' for both the self-mask share and the masking-key share of bank '" + bank + "'");
      }
      if (bank.equals(bankId)) {
        throw abort(RoundParameters.COORDINATOR_ID, "unmasking request lists bank '" + bankId
            + "' itself as dropped, which would reveal its masking key");
      }
      if (!parameters.bankIds().contains(bank) || !dropped.add(bank)) {
        throw abort(RoundParameters.COORDINATOR_ID, "dropped list names '" + bank
            + "' twice or outside the roster");
      }
    }
    checkSurvivors(request.survivors());
    if (parameters.consistencyCheck()) {
      if (request.signatures().isEmpty()) {
        throw abort(RoundParameters.COORDINATOR_ID, "a fast unmasking request (no consistency signatures) after bank '"
            + bankId + "' signed a survivor set in the consistency check; it answers only the full path now");
      }
      checkConsistencySignatures(request);
    } else if (!request.signatures().isEmpty()) {
      throw abort(RoundParameters.COORDINATOR_ID, "unmasking request carries consistency signatures but the round "
          + "has no consistency check");
    }
    List<RevealedShare> revealed = new ArrayList<>();
    for (Map.Entry<String, SecretBytes[]> held : heldShares.entrySet()) {
      String owner = held.getKey();
      if (survivors.contains(owner)) {
        revealed.add(new RevealedShare(owner, ShareKind.SELF_MASK_SEED, held.getValue()[0].toByteArray()));
      } else if (dropped.contains(owner)) {
        revealed.add(new RevealedShare(owner, ShareKind.MASKING_KEY, held.getValue()[1].toByteArray()));
      }
    }
    wipeSecrets();
    revealedFor = request.survivors();
    phase = Phase.FINISHED;
    return new UnmaskingResponse(header(Stage.UNMASKING), revealed);
  }

  /**
   * The fast path (docs/SECURE_AGGREGATION.md, "No consistency check when nobody dropped"): an unmasking
   * request instead of the consistency request, carrying no signatures, when every member of the roster
   * sent its masked input. This bank answers it only if the round is a complete graph whose consistency
   * quorum is t, the request names exactly the roster as survivors and nobody as dropped (so it asks for
   * b-shares only, never an s^SK-share), this bank holds the shares of every member (it masked with all of
   * them) and it signed no survivor set in this round (it is still awaiting the consistency request). An
   * honest bank then releases b-shares on this path and s^SK-shares only on the full path, under t
   * signatures, and takes one path only: a coordinator needs 2(t - c) honest banks for both secrets of one
   * bank, the same bound 2t > n + c as with the check in every round. After answering, the bank has
   * finished the round and refuses any consistency request.
   */
  private UnmaskingResponse fastUnmask(UnmaskingRequest request) throws ProtocolViolationException {
    String refused = null;
    if (!parameters.allowsFastUnmasking()) {
      refused = "the round is a SecAgg+ round (neighbour degree " + parameters.neighbourDegree()
          + ", consistency quorum " + parameters.consistencyQuorum() + "), which always needs the consistency check";
    } else if (!request.dropped().isEmpty()) {
      refused = "it names dropped banks " + request.dropped() + " (it would ask for s^SK-shares)";
    } else if (!request.signatures().isEmpty()) {
      refused = "it carries consistency signatures although bank '" + bankId + "' signed no survivor set";
    } else if (!request.survivors().equals(parameters.bankIds())) {
      refused = "its survivors " + request.survivors() + " are not the whole roster " + parameters.bankIds();
    } else if (!heldShares.keySet().containsAll(parameters.bankIds())) {
      List<String> missing = new ArrayList<>(parameters.bankIds());
      missing.removeAll(heldShares.keySet());
      refused = "bank '" + bankId + "' holds no shares of " + missing + " (it did not mask with them)";
    }
    if (refused != null) {
      throw abort(RoundParameters.COORDINATOR_ID, "fast unmasking request refused: " + refused);
    }
    return releaseSelfMaskShares(); // it holds every member's shares (checked above): all of them, in roster order
  }

  /** The survivor set must contain this bank and enough of its neighbourhood, all of which shared keys. */
  private void checkSurvivors(List<String> survivors) throws ProtocolViolationException {
    Set<String> distinct = new HashSet<>();
    int heldSurvivors = 0;
    for (String bank : survivors) {
      if (!parameters.bankIds().contains(bank) || !distinct.add(bank)) {
        throw abort(RoundParameters.COORDINATOR_ID, "survivor list names '" + bank
            + "' twice or outside the roster");
      }
      if (verifiedKeys.containsKey(bank)) {
        if (!heldShares.containsKey(bank)) {
          throw abort(RoundParameters.COORDINATOR_ID, "survivor list names '" + bank + "', which never "
              + "completed share-keys with bank '" + bankId + "'");
        }
        heldSurvivors++;
      }
    }
    if (!distinct.contains(bankId)) {
      throw abort(RoundParameters.COORDINATOR_ID, "survivor list omits bank '" + bankId
          + "' although it sent its masked input");
    }
    if (parameters.consistencyCheck() && signedSurvivors != null && !signedSurvivors.equals(survivors)) {
      throw abort(RoundParameters.COORDINATOR_ID, "survivor list differs from the one bank '" + bankId
          + "' signed in the consistency check");
    }
    if (heldSurvivors < parameters.threshold()) {
      throw abort(RoundParameters.COORDINATOR_ID, "only " + heldSurvivors + " survivors in the neighbourhood of '"
          + bankId + "'; threshold is " + parameters.threshold());
    }
  }

  /**
   * Bonawitz round 4: "verify that at least t signatures from U_4 on U_3 are valid" (with SecAgg+ a
   * majority of the roster, {@link RoundParameters#consistencyQuorum}). This bank's own signature
   * counts without a check (it signed this very set); the others are verified until the quorum is
   * reached, and one that fails aborts the round. Signatures beyond the quorum are not checked:
   * they cannot make a set that fewer banks signed look unique, and each verification costs an
   * identity-signature check, the consistency check's main cost.
   */
  private void checkConsistencySignatures(UnmaskingRequest request) throws ProtocolViolationException {
    if (signedSurvivors == null) {
      throw abort(RoundParameters.COORDINATOR_ID, "unmasking before bank '" + bankId + "' signed the survivor set");
    }
    Set<String> signers = new HashSet<>();
    for (SurvivorSignature signature : request.signatures()) {
      if (!signedSurvivors.contains(signature.bankId()) || !signers.add(signature.bankId())) {
        throw abort(RoundParameters.COORDINATOR_ID, "consistency signature of '" + signature.bankId()
            + "' is duplicated or not from a survivor");
      }
    }
    int valid = 1; // this bank's own
    for (SurvivorSignature signature : request.signatures()) {
      if (valid >= parameters.consistencyQuorum()) {
        break;
      }
      if (signature.bankId().equals(bankId)) {
        continue;
      }
      try {
        verifier.verify(signature.bankId(), ContextEncoding.survivorSet(parameters.jobId(), parameters.round(),
            signature.bankId(), signedSurvivors), signature.signature());
      } catch (GeneralSecurityException e) {
        throw abort(signature.bankId(), "consistency signature of bank '" + signature.bankId()
            + "' over the survivor set does not verify: " + e.getMessage(), e);
      }
      valid++;
    }
    if (valid < parameters.consistencyQuorum()) {
      throw abort(RoundParameters.COORDINATOR_ID, "only " + valid + " valid consistency signatures over the survivor "
          + "set bank '" + bankId + "' signed (its own included); it needs " + parameters.consistencyQuorum()
          + " (a coordinator that shows banks different survivor sets cannot collect that many for each)");
    }
  }

  /**
   * Directional AES-GCM key for shares sender -> recipient: HKDF(X25519(c_u^SK, c_v^PK)) with the
   * direction in the label, from {@code shared}, the pair's X25519 secret.
   */
  private SecretBytes shareKey(SecretBytes shared, String senderId, String recipientId) {
    return KeyDerivation.hkdfSha256(shared, roundSalt, ContextEncoding.shareKeyInfo(senderId, recipientId));
  }

  private void destroyReceiveKeys() {
    receiveKeys.values().forEach(SecretBytes::destroy);
    receiveKeys.clear();
  }

  /**
   * s_uv = HKDF(X25519(s_u^SK, s_v^PK)), the same at u, at v and at the server after it reconstructs
   * a dropped bank's s^SK (Bonawitz et al. 2017, section 4), for inputs computed from {@code model}.
   */
  static SecretBytes pairwiseMaskSeed(RoundParameters parameters, SecretBytes ownMaskingScalar, String ownId,
                    String peerId, byte[] peerMaskingKey, byte[] roundSalt, ModelDigest model)
      throws GeneralSecurityException {
    SecretBytes shared = X25519KeyPair.agree(ownMaskingScalar, peerMaskingKey);
    try {
      return seedFromAgreement(parameters, shared, ownId, peerId, roundSalt, model);
    } finally {
      shared.destroy();
    }
  }

  /**
   * s_uv = HKDF(shared, round salt, the pair in roster order and the base model's digest) from the pair's X25519
   * agreement {@code shared} (the model: protocol version 8, {@link ModelDigest}).
   */
  private static SecretBytes seedFromAgreement(RoundParameters parameters, SecretBytes shared, String ownId,
                                               String peerId, byte[] roundSalt, ModelDigest model) {
    boolean ownFirst = parameters.shareIndexOf(ownId) < parameters.shareIndexOf(peerId);
    return KeyDerivation.hkdfSha256(shared, roundSalt, ownFirst ? ContextEncoding.pairwiseMaskInfo(ownId, peerId, model)
        : ContextEncoding.pairwiseMaskInfo(peerId, ownId, model));
  }

  /** A copy of this round's own s^SK for seeds, or null when the round masks with period keys. */
  private SecretBytes ownMaskingScalar() {
    return periodKeys != null ? null : maskingKeys.privateScalar();
  }

  /**
   * The pairwise mask seed with {@code peer} in this round: from this round's s^SK, or from the agreement with the
   * peer's period key made once for the period; either way HKDF with this round's salt.
   */
  private SecretBytes maskSeed(SecretBytes maskingScalar, String peer) throws GeneralSecurityException {
    seedsDerived = true; // the bound model is fixed from the first seed on
    if (periodKeys == null) {
      return pairwiseMaskSeed(parameters, maskingScalar, bankId, peer, verifiedKeys.get(peer).maskingPublicKey(),
          roundSalt, boundModel());
    }
    SecretBytes shared = periodKeys.maskingSecretWith(peer);
    try {
      return seedFromAgreement(parameters, shared, bankId, peer, roundSalt, boundModel());
    } finally {
      shared.destroy();
    }
  }

  private SecretBytes randomSeed() {
    byte[] seed = new byte[KeyDerivation.KEY_BYTES];
    random.nextBytes(seed);
    SecretBytes wrapped = SecretBytes.copyOf(seed);
    Arrays.fill(seed, (byte) 0);
    return wrapped;
  }

  private MessageHeader header(Stage stage) {
    return new MessageHeader(parameters.jobId(), parameters.round(), stage, bankId, RoundParameters.COORDINATOR_ID);
  }

  private Stage expectedStage() {
    return switch (phase) {
      case CREATED -> Stage.ADVERTISE_KEYS;
      case AWAITING_ROSTER -> Stage.SHARE_KEYS;
      case AWAITING_SHARES -> Stage.MASKED_INPUT;
      case AWAITING_CONSISTENCY_REQUEST -> Stage.CONSISTENCY_CHECK;
      case AWAITING_UNMASKING_REQUEST, FINISHED, ABORTED -> Stage.UNMASKING;
    };
  }

  private ProtocolViolationException abort(String offender, String reason) {
    return abort(offender, reason, null);
  }

  private ProtocolViolationException abort(String offender, String reason, Throwable cause) {
    ProtocolViolationException exception = new ProtocolViolationException(offender, expectedStage(),
        reason + "; bank '" + bankId + "' aborts round " + parameters.round(), cause);
    abortReason = exception.getMessage();
    phase = Phase.ABORTED;
    wipeSecrets();
    return exception;
  }

  private void wipeSecrets() {
    heldShares.values().forEach(pair -> {
      pair[0].destroy();
      if (pair[1] != null) { // null: a round masked with period keys shares b only
        pair[1].destroy();
      }
    });
    heldShares.clear();
    if (selfMaskSeed != null) {
      selfMaskSeed.destroy();
    }
    if (masksAhead != null) {
      masksAhead.destroy();
    }
    destroyReceiveKeys();
    // the round's private keys: with s^SK and c^SK the pairwise masks and every share ciphertext of the
    // round could be recomputed from what the coordinator relayed
    if (encryptionKeys != null) {
      encryptionKeys.destroy();
    }
    if (maskingKeys != null) {
      maskingKeys.destroy();
    }
    if (inputHandedOver && input != null) {
      Arrays.fill(input, 0); // the bank's plaintext input, never masked: the round ended first
    }
    input = null;
  }

  /**
   * For tests: the pairwise mask seed this bank derives with {@code peer} in this sum, what a colluding bank hands the
   * coordinator (after the key roster, before the bank wipes its keys). The caller destroys it.
   */
  SecretBytes pairwiseSeedWith(String peer) throws GeneralSecurityException {
    SecretBytes maskingScalar = ownMaskingScalar();
    try {
      return maskSeed(maskingScalar, peer);
    } finally {
      if (maskingScalar != null) {
        maskingScalar.destroy();
      }
    }
  }

  /** For tests: the mask vector expanded ahead and not yet added or wiped, or null. */
  MasksAhead masksAhead() {
    return masksAhead;
  }

  /**
   * Whether the client still holds a private key of its round or a share key derived from one (false once
   * it finished, aborted or was discarded).
   */
  boolean holdsPrivateKeys() {
    return (encryptionKeys != null && !encryptionKeys.isDestroyed())
        || (maskingKeys != null && !maskingKeys.isDestroyed()) || !receiveKeys.isEmpty();
  }

  @Override
  public String toString() {
    return "SecAggClient[" + bankId + ", job " + parameters.jobId() + ", round " + parameters.round() + ", "
        + phase + "]";
  }
}
