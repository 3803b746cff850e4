package io.consort.secagg;

import io.consort.identity.IdentitySigner;
import io.consort.secagg.crypto.SecretBytes;
import io.consort.secagg.crypto.X25519KeyPair;
import io.consort.secagg.message.SignedPublicKeys;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One bank's key pairs (c and s) for a period of rounds of one job ({@link KeyPeriod}; docs/SECURE_AGGREGATION.md,
 * "Keys for a period of rounds"), signed once over the period's own context, and the X25519 agreements with each
 * peer's period keys, computed once after the peer's advertisement was verified and kept as {@link SecretBytes}.
 * Each pipelined sum of the period takes them through its client ({@link SecAggClient#createAwaitingInput(
 * RoundParameters, String, IdentitySigner, PeerKeyVerifier, SecureRandom, PeriodKeys)}), which derives that sum's
 * pairwise seeds and share keys by HKDF with the sum's round salt; the client never wipes them, the bank does when
 * the period ends, the job ends or its keys ahead are discarded ({@link #destroy}).
 *
 * <p>Security guarantees. The private keys never leave this object and are never shared (a period-keys round
 * shares b only). The object remembers the last sum round it masked ({@link #claim}) and refuses to mask a sum
 * round that is not strictly greater: a bank never masks two inputs under the same (own keys, sum round), whose
 * masked vectors' difference would otherwise be the difference of the inputs once the coordinator has both b's.
 * A peer's advertisement is cached by exact bytes (keys and signature): a different one (the peer restarted and
 * made new keys) is verified again and replaces it, and the replaced keys are refused from then on. Thread-safe (made on the key thread, used on the task thread).
 */
public final class PeriodKeys {
  private final String jobId;
  private final String planDigest;
  private final KeyPeriod period;
  private final String bankId;
  private final byte[] encryptionPublicKey;
  private final byte[] maskingPublicKey;
  private final byte[] signature;
  private X25519KeyPair encryptionKeys;
  private X25519KeyPair maskingKeys;
  /**
   * Peers' verified period advertisements and the agreements with them: [c agreement (null in a job without self
   * masks, whose sums encrypt nothing), s agreement].
   */
  private final Map<String, Agreed> peers = new HashMap<>();
  /**
   * Per peer, the public keys (c || s) its later advertisements replaced in this period: they never come back. An
   * honest peer that made new keys wiped the old ones, so a coordinator relaying them again would have this bank
   * mask and encrypt towards keys that may have leaked (the usual reason for a restart).
   */
  private final Map<String, java.util.List<byte[]>> replaced = new HashMap<>();
  private long lastMaskedRound = -1;

  private record Agreed(SignedPublicKeys advertisement, SecretBytes encryption, SecretBytes masking) {
    void destroy() {
      if (encryption != null) {
        encryption.destroy();
      }
      masking.destroy();
    }
  }

  private PeriodKeys(String jobId, String planDigest, KeyPeriod period, String bankId, X25519KeyPair c,
                     X25519KeyPair s, byte[] signature) {
    this.jobId = jobId;
    this.planDigest = planDigest;
    this.period = period;
    this.bankId = bankId;
    this.encryptionKeys = c;
    this.maskingKeys = s;
    this.encryptionPublicKey = c.publicKeyBytes();
    this.maskingPublicKey = s.publicKeyBytes();
    this.signature = signature;
  }

  /**
   * Fresh key pairs c and s for {@code period} of job {@code jobId} under the plan of digest {@code planDigest}
   * ({@link RoundParameters#planDigest}), signed once over the period's context.
   */
  public static PeriodKeys make(String jobId, String planDigest, KeyPeriod period, String bankId, IdentitySigner signer,
                                SecureRandom random) throws GeneralSecurityException {
    Objects.requireNonNull(period, "period");
    Objects.requireNonNull(planDigest, "planDigest");
    SignedKeyPairs keys = SignedKeyPairs.make(signer, random,
        (c, s) -> ContextEncoding.periodKeys(jobId, planDigest, period, bankId, c, s));
    return new PeriodKeys(jobId, planDigest, period, bankId, keys.encryption(), keys.masking(), keys.signature());
  }

  /**
   * Whether these are bank {@code bankId}'s keys of {@code period} of job {@code jobId} under plan {@code planDigest}.
   */
  public boolean isFor(String jobId, String planDigest, KeyPeriod period, String bankId) {
    return this.jobId.equals(jobId) && this.planDigest.equals(planDigest) && this.period.equals(period)
        && this.bankId.equals(bankId);
  }

  public KeyPeriod period() {
    return period;
  }

  /** The last sum round masked with these keys, or -1. */
  public synchronized long lastMaskedRound() {
    return lastMaskedRound;
  }

  /** Whether these keys may still mask sum round {@code round}: not destroyed, and the round is after the last. */
  public synchronized boolean mayMask(long round) {
    return encryptionKeys != null && round > lastMaskedRound;
  }

  /**
   * Records that these keys mask sum round {@code round} now.
   *
   * @throws IllegalStateException if they were destroyed or already masked this round or a later one
   */
  synchronized void claim(long round) {
    if (encryptionKeys == null) {
      throw new IllegalStateException("the period keys of " + this + " were wiped");
    }
    if (round <= lastMaskedRound) {
      throw new IllegalStateException("the period keys of " + this + " already masked sum round " + lastMaskedRound
          + "; they never mask sum round " + round + " (not after it: two inputs under one key and round would "
          + "give their difference)");
    }
    lastMaskedRound = round;
  }

  /** The signed advertisement of these keys. */
  SignedPublicKeys advertisement() {
    return new SignedPublicKeys(bankId, encryptionPublicKey.clone(), maskingPublicKey.clone(), signature.clone());
  }

  /** Whether {@code entry} is exactly (keys and signature) the verified advertisement held for its bank. */
  synchronized boolean holdsVerified(SignedPublicKeys entry) {
    Agreed agreed = peers.get(entry.bankId());
    return agreed != null && agreed.advertisement().sameContentAs(entry);
  }

  /** Whether {@code entry}'s keys are keys of its bank that a later advertisement replaced in this period. */
  synchronized boolean wasReplaced(SignedPublicKeys entry) {
    byte[] keys = keysOf(entry); // public keys: no secret to wipe
    return replaced.getOrDefault(entry.bankId(), java.util.List.of()).stream().anyMatch(old -> Arrays.equals(old, keys));
  }

  private static byte[] keysOf(SignedPublicKeys entry) {
    byte[] c = entry.encryptionPublicKey();
    byte[] s = entry.maskingPublicKey();
    byte[] both = Arrays.copyOf(c, c.length + s.length);
    System.arraycopy(s, 0, both, c.length, s.length);
    return both;
  }

  /**
   * Agrees with a peer's period keys, whose advertisement the caller verified, and keeps the agreements in place of
   * any the peer had before (it restarted and made new keys), whose keys are then never taken back
   * ({@link #wasReplaced}).
   *
   * @throws IllegalStateException if these are keys of the peer that were replaced in this period
   */
  synchronized void agreeWith(SignedPublicKeys verified) throws GeneralSecurityException {
    agreeWith(verified, true);
  }

  /**
   * As {@link #agreeWith(SignedPublicKeys)}; without {@code withEncryption} (a job without self masks, whose sums share
   * nothing) the c agreement is not made and {@link #encryptionSecretWith} refuses.
   */
  synchronized void agreeWith(SignedPublicKeys verified, boolean withEncryption) throws GeneralSecurityException {
    requireLive();
    if (wasReplaced(verified)) {
      throw new IllegalStateException("bank '" + verified.bankId() + "' replaced these period keys in " + this
          + "; they are never taken back");
    }
    SecretBytes c = withEncryption ? encryptionKeys.agree(verified.encryptionPublicKey()) : null;
    SecretBytes s;
    try {
      s = maskingKeys.agree(verified.maskingPublicKey());
    } catch (GeneralSecurityException | RuntimeException e) {
      if (c != null) {
        c.destroy();
      }
      throw e;
    }
    Agreed old = peers.put(verified.bankId(), new Agreed(new SignedPublicKeys(verified.bankId(),
        verified.encryptionPublicKey().clone(), verified.maskingPublicKey().clone(), verified.signature().clone()),
        c, s));
    if (old != null) {
      byte[] oldKeys = keysOf(old.advertisement());
      byte[] newKeys = keysOf(verified);
      if (!Arrays.equals(oldKeys, newKeys)) { // the same keys under another signature replace nothing
        replaced.computeIfAbsent(verified.bankId(), b -> new java.util.ArrayList<>()).add(oldKeys);
      }
      old.destroy();
    }
  }

  /** A copy of X25519(c^SK, peer's c^PK), for the sum's share keys; the caller destroys it. */
  synchronized SecretBytes encryptionSecretWith(String peer) {
    SecretBytes encryption = agreed(peer).encryption();
    if (encryption == null) {
      throw new IllegalStateException("no c agreement with bank '" + peer + "' at " + this + ": it was verified for a "
          + "sum without self masks, which encrypts nothing");
    }
    return copy(encryption);
  }

  /** A copy of X25519(s^SK, peer's s^PK), for the sum's pairwise mask seed; the caller destroys it. */
  synchronized SecretBytes maskingSecretWith(String peer) {
    return copy(agreed(peer).masking());
  }

  private static SecretBytes copy(SecretBytes secret) {
    byte[] bytes = secret.toByteArray();
    try {
      return SecretBytes.copyOf(bytes);
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  private Agreed agreed(String peer) {
    requireLive();
    Agreed agreed = peers.get(peer);
    if (agreed == null) {
      throw new IllegalStateException("no verified period keys of bank '" + peer + "' at " + this);
    }
    return agreed;
  }

  private void requireLive() {
    if (encryptionKeys == null) {
      throw new IllegalStateException("the period keys of " + this + " were wiped");
    }
  }

  /** Wipes the private keys and every agreement; later sums cannot use them. Idempotent. */
  public synchronized void destroy() {
    if (encryptionKeys != null) {
      encryptionKeys.destroy();
      maskingKeys.destroy();
    }
    encryptionKeys = null;
    maskingKeys = null;
    peers.values().forEach(Agreed::destroy);
    peers.clear();
    replaced.clear();
  }

  public synchronized boolean isDestroyed() {
    return encryptionKeys == null;
  }

  /** For tests: whether an agreement with {@code peer}'s keys is held. */
  synchronized boolean holdsAgreementWith(String peer) {
    return peers.containsKey(peer);
  }

  /** For tests: whether the c agreement with {@code peer}'s keys is held (none in a job without self masks). */
  synchronized boolean holdsEncryptionAgreementWith(String peer) {
    return peers.containsKey(peer) && peers.get(peer).encryption() != null;
  }

  @Override
  public String toString() {
    return "period " + period.index() + " (" + period.rounds() + " rounds) of job '" + jobId + "' for bank '" + bankId
        + "'";
  }
}
