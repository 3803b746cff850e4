package io.consort.identity;

import java.security.cert.CertificateException;

/**
 * A peer's certificate is not acceptable. The message names the certificate's subject and the
 * reason; {@link #reason()} gives the reason for code that reacts to it.
 */
public final class CertificateRejectedException extends CertificateException {
  private static final long serialVersionUID = 1L;

  /** Why a certificate was rejected. */
  public enum Reason {
    /** Not issued (or not validly signed) by the pinned consortium CA; includes tampering. */
    UNTRUSTED_ISSUER,
    /** Past its notAfter. */
    EXPIRED,
    /** Before its notBefore. */
    NOT_YET_VALID,
    /** Listed on the consortium CRL. */
    REVOKED,
    /** Has a role, but not one of the roles required here. */
    WRONG_ROLE,
    /** Has no role extension, or an unreadable one. */
    MISSING_ROLE,
    /**
     * Structurally unusable: no chain, a CA certificate, a bad name, an OU disagreeing with the
     * role, a key the consortium does not accept, or a key that may not sign.
     */
    MALFORMED,
    /** The CRL itself cannot be used (wrong issuer, bad signature, past nextUpdate). */
    CRL_UNUSABLE
  }

  private final Reason reason;
  private final String subject;

  public CertificateRejectedException(Reason reason, String subject, String detail) {
    super("certificate '" + subject + "' rejected: " + detail);
    this.reason = reason;
    this.subject = subject;
  }

  public CertificateRejectedException(Reason reason, String subject, String detail, Throwable cause) {
    this(reason, subject, detail);
    initCause(cause);
  }

  public Reason reason() {
    return reason;
  }

  /** The rejected certificate's subject DN. */
  public String subject() {
    return subject;
  }
}
