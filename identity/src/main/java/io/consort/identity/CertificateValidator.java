package io.consort.identity;

import static io.consort.identity.CertificateRejectedException.Reason;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.cert.CRLException;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Application-level checks of a peer's consortium certificate, beyond what TLS already did: issued
 * by the pinned consortium CA, within its validity period, not on the CRL, a member (not CA)
 * certificate whose key is one the consortium accepts ({@link KeyAlgorithm}) and may sign, and
 * carrying one of the roles allowed here ({@link PeerIdentity#fromCertificate}: role extension
 * present, subject OU agreeing with it). TLS peers, secure-aggregation key signatures and
 * privacy-ledger signatures are all checked here.
 *
 * <p>Security guarantees: a certificate passes only if its signature verifies under the pinned
 * CA key (so any tampering fails), the CA certificate itself is within its validity, and, when a
 * CRL is configured, that CRL is signed by the same CA and not past its nextUpdate (a stale CRL
 * fails closed: every validation is refused until a fresh CRL is loaded). Instances are
 * immutable; to reload the CRL, build a new validator ({@link #withCrl}) and swap it in.
 */
public final class CertificateValidator {
  private final X509Certificate ca;
  private final X509CRL crl;
  private final Clock clock;

  /** A validator with the system clock; {@code crl} may be null (no revocation checking). */
  public CertificateValidator(X509Certificate ca, X509CRL crl) throws CRLException {
    this(ca, crl, Clock.systemUTC());
  }

  /**
   * @param ca the consortium CA certificate (the only trust anchor)
   * @param crl the consortium CRL, or null to skip revocation checks
   * @param clock the time validity is checked at
   * @throws CRLException if the CRL is not issued and signed by {@code ca}
   */
  public CertificateValidator(X509Certificate ca, X509CRL crl, Clock clock) throws CRLException {
    this.ca = Objects.requireNonNull(ca, "ca");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (crl != null) {
      if (!crl.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
        throw new CRLException("CRL issued by '" + crl.getIssuerX500Principal().getName()
            + "', not by the consortium CA '" + ca.getSubjectX500Principal().getName() + "'");
      }
      try {
        crl.verify(ca.getPublicKey());
      } catch (GeneralSecurityException e) {
        throw new CRLException("CRL signature does not verify under the consortium CA '"
            + ca.getSubjectX500Principal().getName() + "': " + e.getMessage(), e);
      }
    }
    this.crl = crl;
  }

  /**
   * A validator that checks certificates as they stood at {@code at}, without revocation: for
   * signatures made at a recorded time and checked offline later (the privacy ledger), where an
   * auditor has no CRL to ask and a certificate revoked or expired after it signed does not undo
   * what it signed before.
   */
  public static CertificateValidator offlineAt(X509Certificate ca, Instant at) {
    try {
      return new CertificateValidator(ca, null, Clock.fixed(at, ZoneOffset.UTC));
    } catch (CRLException e) {
      throw new AssertionError("no CRL, nothing to refuse", e);
    }
  }

  /** The same CA and clock with another CRL (e.g. after the operator re-issued it). */
  public CertificateValidator withCrl(X509CRL newCrl) throws CRLException {
    return new CertificateValidator(ca, newCrl, clock);
  }

  /** Validates a chain as TLS presents it ({@code SSLSession.getPeerCertificates()}): leaf first. */
  public PeerIdentity validate(Certificate[] chain, Set<Role> allowedRoles) throws CertificateRejectedException {
    return validate(chain == null ? List.of() : List.of(chain), allowedRoles);
  }

  /** Validates a chain, leaf first; only the leaf is checked against the pinned CA (pathlen 0). */
  public PeerIdentity validate(List<? extends Certificate> chain, Set<Role> allowedRoles)
      throws CertificateRejectedException {
    if (chain == null || chain.isEmpty() || !(chain.get(0) instanceof X509Certificate)) {
      throw new CertificateRejectedException(Reason.MALFORMED, "(none)", "no X.509 certificate presented");
    }
    return validate((X509Certificate) chain.get(0), allowedRoles);
  }

  /** Validates one certificate requiring exactly {@code role}. */
  public PeerIdentity validate(X509Certificate certificate, Role role) throws CertificateRejectedException {
    return validate(certificate, EnumSet.of(role));
  }

  /**
   * Validates one end-entity certificate.
   *
   * @param allowedRoles the roles acceptable here (not empty)
   * @return who the peer is
   * @throws CertificateRejectedException naming the subject and the reason
   */
  public PeerIdentity validate(X509Certificate certificate, Set<Role> allowedRoles)
      throws CertificateRejectedException {
    Objects.requireNonNull(certificate, "certificate");
    if (allowedRoles == null || allowedRoles.isEmpty()) {
      throw new IllegalArgumentException("allowedRoles: must name at least one role");
    }
    String subject = certificate.getSubjectX500Principal().getName();
    checkIssuer(certificate, subject);
    Instant now = clock.instant();
    checkValidity(certificate, subject, now);
    checkCaValidity(subject, now);
    if (certificate.getBasicConstraints() != -1) {
      throw new CertificateRejectedException(Reason.MALFORMED, subject,
          "is a CA certificate, not a member certificate");
    }
    checkNotRevoked(certificate, subject, now);
    checkKey(certificate, subject);
    PeerIdentity identity = PeerIdentity.fromCertificate(certificate);
    if (!allowedRoles.contains(identity.role())) {
      throw new CertificateRejectedException(Reason.WRONG_ROLE, subject, "has role '"
          + identity.role().wireName() + "' but " + describe(allowedRoles) + " is required");
    }
    return identity;
  }

  /** The pinned CA certificate. */
  public X509Certificate caCertificate() {
    return ca;
  }

  private void checkIssuer(X509Certificate certificate, String subject) throws CertificateRejectedException {
    String caSubject = ca.getSubjectX500Principal().getName();
    if (!certificate.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      throw new CertificateRejectedException(Reason.UNTRUSTED_ISSUER, subject, "issued by '"
          + certificate.getIssuerX500Principal().getName() + "', not by the consortium CA '" + caSubject + "'");
    }
    byte[] key = VerifiedSignatures.key(ca, certificate);
    if (key != null && VerifiedSignatures.contains(key)) {
      return;
    }
    try {
      certificate.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new CertificateRejectedException(Reason.UNTRUSTED_ISSUER, subject,
          "signature does not verify under the consortium CA '" + caSubject
              + "' (another CA with the same name, or a tampered certificate)", e);
    }
    if (key != null) {
      VerifiedSignatures.add(key);
    }
  }

  /**
   * Certificates whose CA signature verified, remembered by SHA-256 over the CA's public key and the
   * certificate's whole encoding: a signature is a fixed fact about those bytes, and secure
   * aggregation verifies every peer's certificate in every sum (two sums a round), an ECDSA
   * verification each, which {@code consort bench round} measured among the largest costs of a secure
   * round. Only successes are kept, so a tampered or foreign certificate is verified (and refused)
   * every time; validity, revocation, key and role are checked on every call regardless.
   */
  private static final class VerifiedSignatures {
    /** How many certificates are remembered (least recently used first out). */
    private static final int CAPACITY = 4096;
    private static final java.util.Map<java.nio.ByteBuffer, Boolean> VERIFIED =
        new java.util.LinkedHashMap<>(64, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(java.util.Map.Entry<java.nio.ByteBuffer, Boolean> eldest) {
            return size() > CAPACITY;
          }
        };

    private VerifiedSignatures() {}

    /** The certificate's key in the set, or null when it cannot be encoded (then it is verified as ever). */
    static byte[] key(X509Certificate ca, X509Certificate certificate) {
      try {
        java.security.MessageDigest sha256 = java.security.MessageDigest.getInstance("SHA-256");
        byte[] caKey = ca.getPublicKey().getEncoded();
        sha256.update(java.nio.ByteBuffer.allocate(4).putInt(caKey.length).array());
        sha256.update(caKey);
        sha256.update(certificate.getEncoded());
        return sha256.digest();
      } catch (GeneralSecurityException e) {
        return null;
      }
    }

    static boolean contains(byte[] key) {
      synchronized (VERIFIED) {
        return VERIFIED.containsKey(java.nio.ByteBuffer.wrap(key));
      }
    }

    static void add(byte[] key) {
      synchronized (VERIFIED) {
        VERIFIED.put(java.nio.ByteBuffer.wrap(key), Boolean.TRUE);
      }
    }
  }

  /**
   * Every consortium use of a member key signs (TLS 1.3 CertificateVerify, key advertisements,
   * ledger entries), so the key must be one the consortium accepts and keyUsage, when present,
   * must allow digitalSignature.
   */
  private static void checkKey(X509Certificate certificate, String subject) throws CertificateRejectedException {
    try {
      KeyAlgorithm.of(certificate.getPublicKey());
    } catch (InvalidKeyException e) {
      throw new CertificateRejectedException(Reason.MALFORMED, subject, e.getMessage(), e);
    }
    boolean[] keyUsage = certificate.getKeyUsage();
    if (keyUsage != null && !keyUsage[0]) {
      throw new CertificateRejectedException(Reason.MALFORMED, subject, "keyUsage does not allow digitalSignature");
    }
  }

  private static void checkValidity(X509Certificate certificate, String subject, Instant now)
      throws CertificateRejectedException {
    try {
      certificate.checkValidity(Date.from(now));
    } catch (CertificateExpiredException e) {
      throw new CertificateRejectedException(Reason.EXPIRED, subject,
          "expired at " + certificate.getNotAfter().toInstant() + " (now " + now + ")", e);
    } catch (CertificateNotYetValidException e) {
      throw new CertificateRejectedException(Reason.NOT_YET_VALID, subject,
          "not valid before " + certificate.getNotBefore().toInstant() + " (now " + now + ")", e);
    }
  }

  private void checkCaValidity(String subject, Instant now) throws CertificateRejectedException {
    try {
      ca.checkValidity(Date.from(now));
    } catch (CertificateExpiredException | CertificateNotYetValidException e) {
      throw new CertificateRejectedException(Reason.UNTRUSTED_ISSUER, subject, "the consortium CA certificate '"
          + ca.getSubjectX500Principal().getName() + "' is outside its validity ("
          + ca.getNotBefore().toInstant() + " to " + ca.getNotAfter().toInstant() + ")", e);
    }
  }

  private void checkNotRevoked(X509Certificate certificate, String subject, Instant now)
      throws CertificateRejectedException {
    if (crl == null) {
      return;
    }
    if (crl.getNextUpdate() != null && now.isAfter(crl.getNextUpdate().toInstant())) {
      throw new CertificateRejectedException(Reason.CRL_UNUSABLE, subject, "the consortium CRL expired at "
          + crl.getNextUpdate().toInstant() + "; re-issue it with 'consort certs crl' and reload");
    }
    X509CRLEntry entry = crl.getRevokedCertificate(certificate.getSerialNumber());
    if (entry != null) {
      throw new CertificateRejectedException(Reason.REVOKED, subject, "revoked at "
          + entry.getRevocationDate().toInstant() + " (serial " + certificate.getSerialNumber().toString(16)
          + (entry.getRevocationReason() == null ? "" : ", reason " + entry.getRevocationReason()) + ")");
    }
  }

  private static String describe(Set<Role> roles) {
    if (roles.size() == 1) {
      return "'" + roles.iterator().next().wireName() + "'";
    }
    return "one of " + roles.stream().map(Role::wireName).sorted().collect(Collectors.joining(", "));
  }
}
