package io.consort.certs;

import io.consort.identity.PeerIdentity;
import io.consort.identity.Role;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One line of the CA's index: a certificate the CA issued and its status.
 *
 * @param serial serial number (printed in lower-case hex)
 * @param name identity name (subject CN)
 * @param role role written into the certificate
 * @param notBefore start of validity
 * @param notAfter end of validity
 * @param revokedAt when it was revoked, or null while valid
 * @param reason why it was revoked, or null while valid
 */
public record IssuedCertificate(BigInteger serial, String name, Role role, Instant notBefore, Instant notAfter,
    Instant revokedAt, RevocationReason reason) {

  /** Status as shown by {@code consort certs list}. */
  public enum Status { VALID, EXPIRED, REVOKED }

  public IssuedCertificate {
    Objects.requireNonNull(serial, "serial");
    PeerIdentity.requireValidName(name);
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(notBefore, "notBefore");
    Objects.requireNonNull(notAfter, "notAfter");
    if ((revokedAt == null) != (reason == null)) {
      throw new IllegalArgumentException("revokedAt and reason must both be set or both be null for serial "
          + serial.toString(16));
    }
  }

  public boolean revoked() {
    return revokedAt != null;
  }

  /** Revoked wins over expired: a revoked certificate stays on the CRL. */
  public Status status(Instant now) {
    if (revoked()) {
      return Status.REVOKED;
    }
    return now.isAfter(notAfter) ? Status.EXPIRED : Status.VALID;
  }

  public Optional<RevocationReason> revocationReason() {
    return Optional.ofNullable(reason);
  }

  /** Serial as lower-case hex, the form used on the command line and in file names. */
  public String serialHex() {
    return serial.toString(16);
  }

  IssuedCertificate revoke(Instant when, RevocationReason why) {
    return new IssuedCertificate(serial, name, role, notBefore, notAfter, when, why);
  }
}
