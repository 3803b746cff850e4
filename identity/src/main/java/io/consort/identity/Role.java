package io.consort.identity;

import java.util.Locale;

/**
 * What a consortium member may do. Carried in every end-entity certificate twice: in the subject
 * OU and in the {@link RoleExtension}. The role is the extension's; the OU must agree with it
 * ({@link PeerIdentity#fromCertificate}), and is never read on its own.
 */
public enum Role {
  /** A member bank's participant daemon. TLS client. */
  PARTICIPANT,
  /** The coordinator service. TLS server (and client, for outbound calls). */
  COORDINATOR,
  /** The consortium operator (admin API, job definitions). TLS client. */
  OPERATOR,
  /** A privacy auditor or regulator (read-only). TLS client. */
  AUDITOR;

  /** The lower-case name used on the wire, in certificates and on the command line. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a wire name such as {@code participant}.
   *
   * @throws IllegalArgumentException naming the bad value and the accepted ones
   */
  public static Role fromWireName(String value) {
    return EnumNames.parse(Role.class, Role::wireName, value, "role");
  }

  @Override
  public String toString() {
    return wireName();
  }
}
