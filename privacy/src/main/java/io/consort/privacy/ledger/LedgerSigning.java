package io.consort.privacy.ledger;

import io.consort.identity.CertificateRejectedException;
import io.consort.identity.IdentitySigner;
import io.consort.identity.IdentityVerifier;
import io.consort.identity.KeyAlgorithm;
import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * Signing and countersigning ledger entries, through the consortium's one identity implementation
 * ({@code io.consort.identity}): the signer id is the certificate's identity name
 * ({@link PeerIdentity#fromCertificate}, whose role comes from the role extension, never from the
 * subject alone), and the algorithm is the one the key's type fixes ({@link KeyAlgorithm}):
 * SHA256withECDSA for P-256 (the consortium default), SHA256withRSA for RSA, Ed25519 for Ed25519.
 * A certificate that is not a well-formed consortium identity cannot sign at all.
 */
public final class LedgerSigning {

  private LedgerSigning() {}

  /**
   * The coordinator's signature over a new entry.
   *
   * @param certificate the coordinator's certificate (its identity name becomes the signer id)
   * @throws CertificateRejectedException if the certificate is not a well-formed consortium identity
   */
  public static SignedLedgerEntry sign(LedgerEntry entry, PrivateKey coordinatorKey, X509Certificate certificate)
      throws GeneralSecurityException {
    byte[] hash = Hex.decode(entry.hash());
    LedgerSignature signature = signBytes(CanonicalEncoding.coordinatorSigned(hash), coordinatorKey, certificate);
    return new SignedLedgerEntry(entry, entry.hash(), signature, List.of());
  }

  /**
   * A bank's countersignature over the entry hash and its own spend. The bank should first check that
   * the spend matches its own accounting ({@link SpendCalculator} over its local ledger copy).
   *
   * @throws IllegalArgumentException if the bank (the certificate's identity) did not take part in the entry
   * @throws CertificateRejectedException if the certificate is not a well-formed consortium identity
   */
  public static LedgerSignature countersign(LedgerEntry entry, PrivateKey bankKey, X509Certificate bankCertificate)
      throws GeneralSecurityException {
    String bankId = PeerIdentity.fromCertificate(bankCertificate).name();
    BankSpend spend = entry.spends().get(bankId);
    if (spend == null) {
      throw new IllegalArgumentException("bank must be a participant of entry " + entry.sequence() + ", got " + bankId);
    }
    byte[] bytes = CanonicalEncoding.countersigned(Hex.decode(entry.hash()), bankId, spend);
    return signBytes(bytes, bankKey, bankCertificate);
  }

  /** Signs the head (entry count and last hash) of an export. */
  public static LedgerSignature signHead(long entryCount, String lastEntryHash, PrivateKey coordinatorKey,
      X509Certificate certificate) throws GeneralSecurityException {
    return signBytes(CanonicalEncoding.head(entryCount, Hex.decode(lastEntryHash)), coordinatorKey, certificate);
  }

  private static LedgerSignature signBytes(byte[] message, PrivateKey key, X509Certificate certificate)
      throws GeneralSecurityException {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(certificate, "certificate");
    PeerIdentity signer = PeerIdentity.fromCertificate(certificate);
    IdentitySigner identitySigner = new IdentitySigner(key);
    KeyAlgorithm certified = KeyAlgorithm.of(certificate.getPublicKey());
    if (identitySigner.keyAlgorithm() != certified) {
      throw new InvalidKeyException("the signing key (" + identitySigner.keyAlgorithm().cliName()
          + ") is not of the type of the key in the certificate of " + signer.name() + " (" + certified.cliName() + ")");
    }
    return new LedgerSignature(signer.name(), identitySigner.signatureAlgorithm(), fingerprint(certificate),
        identitySigner.sign(message));
  }

  /**
   * Whether {@code signature} is {@code certificate}'s holder, a participant, countersigning its own
   * spend in {@code entry} (the coordinator checks each countersignature before storing it). The
   * certificate's chain is not checked here; the offline verifier does that against the CA.
   */
  public static boolean verifyCountersignature(LedgerEntry entry, LedgerSignature signature,
      X509Certificate certificate) throws GeneralSecurityException {
    PeerIdentity bank;
    try {
      bank = PeerIdentity.fromCertificate(certificate);
    } catch (CertificateRejectedException e) {
      return false;
    }
    BankSpend spend = entry.spends().get(bank.name());
    if (bank.role() != Role.PARTICIPANT || spend == null || !bank.name().equals(signature.signerId())
        || !fingerprint(certificate).equals(signature.certificateFingerprint())) {
      return false;
    }
    return signatureProblem(CanonicalEncoding.countersigned(Hex.decode(entry.hash()), bank.name(), spend), signature,
        certificate) == null;
  }

  /**
   * Checks {@code signature} over {@code message} under the certificate's key: the recorded algorithm
   * must be the one the key's type fixes (a signer cannot pick another), and the signature must verify.
   *
   * @return null if it holds, else what is wrong
   * @throws InvalidKeyException if the certificate's key is not one the consortium accepts
   */
  static String signatureProblem(byte[] message, LedgerSignature signature, X509Certificate certificate)
      throws GeneralSecurityException {
    String expected = KeyAlgorithm.of(certificate.getPublicKey()).signatureAlgorithm();
    if (!expected.equals(signature.algorithm())) {
      return "signature by " + signature.signerId() + " names algorithm " + signature.algorithm()
          + " but its certificate's key requires " + expected;
    }
    if (!IdentityVerifier.signatureValid(certificate.getPublicKey(), message, signature.signature())) {
      return "signature by " + signature.signerId() + " is invalid";
    }
    return null;
  }

  /** SHA-256 of the certificate's DER encoding, lowercase hex. */
  public static String fingerprint(X509Certificate certificate) {
    try {
      return Hex.encode(CanonicalEncoding.sha256(certificate.getEncoded()));
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("certificate must be DER-encodable", e);
    }
  }
}
