package io.consort.privacy.ledger;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * Signing and countersigning ledger entries. The signer's identity is its certificate's subject CN;
 * the algorithm follows the key: SHA256withECDSA for EC keys (the consortium default, P-256),
 * SHA256withRSA for RSA, Ed25519 for Ed25519.
 */
public final class LedgerSigning {

  private LedgerSigning() {}

  /**
   * The coordinator's signature over a new entry.
   *
   * @param certificate the coordinator's certificate (its CN becomes the signer id)
   */
  public static SignedLedgerEntry sign(LedgerEntry entry, PrivateKey coordinatorKey, X509Certificate certificate)
      throws GeneralSecurityException {
    byte[] hash = Hex.decode(entry.hash());
    LedgerSignature signature = signBytes(CanonicalEncoding.coordinatorSigned(hash), coordinatorKey, certificate);
    return new SignedLedgerEntry(entry, entry.hash(), signature, java.util.List.of());
  }

  /**
   * A bank's countersignature over the entry hash and its own spend. The bank should first check that
   * the spend matches its own accounting ({@link SpendCalculator} over its local ledger copy).
   *
   * @throws IllegalArgumentException if the bank (the certificate's CN) did not take part in the entry
   */
  public static LedgerSignature countersign(LedgerEntry entry, PrivateKey bankKey, X509Certificate bankCertificate)
      throws GeneralSecurityException {
    String bankId = CertificateIdentity.commonName(bankCertificate);
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

  static LedgerSignature signBytes(byte[] message, PrivateKey key, X509Certificate certificate)
      throws GeneralSecurityException {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(certificate, "certificate");
    String algorithm = algorithmFor(certificate.getPublicKey());
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(message);
    return new LedgerSignature(CertificateIdentity.commonName(certificate), algorithm, fingerprint(certificate),
        signer.sign());
  }

  /**
   * Whether {@code signature} is {@code certificate}'s holder countersigning its own spend in
   * {@code entry} (the coordinator checks each countersignature before storing it). The
   * certificate's chain is not checked here; the offline verifier does that against the CA.
   */
  public static boolean verifyCountersignature(LedgerEntry entry, LedgerSignature signature,
      X509Certificate certificate) throws GeneralSecurityException {
    String bankId = CertificateIdentity.commonName(certificate);
    BankSpend spend = entry.spends().get(bankId);
    if (spend == null || !bankId.equals(signature.signerId())
        || !fingerprint(certificate).equals(signature.certificateFingerprint())) {
      return false;
    }
    return verifyBytes(CanonicalEncoding.countersigned(Hex.decode(entry.hash()), bankId, spend), signature,
        certificate);
  }

  static boolean verifyBytes(byte[] message, LedgerSignature signature, X509Certificate certificate)
      throws GeneralSecurityException {
    String expected = algorithmFor(certificate.getPublicKey());
    if (!expected.equals(signature.algorithm())) {
      return false;
    }
    Signature verifier = Signature.getInstance(expected);
    verifier.initVerify(certificate.getPublicKey());
    verifier.update(message);
    try {
      return verifier.verify(signature.signature());
    } catch (java.security.SignatureException malformed) {
      return false; // a DER-malformed ECDSA signature is simply not a valid signature
    }
  }

  static String algorithmFor(PublicKey key) throws GeneralSecurityException {
    return switch (key.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new GeneralSecurityException("signing key algorithm must be EC, RSA or Ed25519, got "
          + key.getAlgorithm());
    };
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
