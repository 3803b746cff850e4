package io.consort.privacy.ledger;

import java.util.Locale;

/** What one unit of privacy protects: a bank's customer (record) or a whole bank's participation. */
public enum PrivacyUnit {
  /** Record-level DP-SGD inside one bank. */
  RECORD,
  /** Bank-level noise on the securely aggregated sum. */
  BANK;

  /** The name used in JSON and in the canonical encoding. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@link #wireName()}; the message names the bad value. */
  public static PrivacyUnit fromWireName(String name) {
    for (PrivacyUnit unit : values()) {
      if (unit.wireName().equals(name)) {
        return unit;
      }
    }
    throw new IllegalArgumentException("privacy unit must be record or bank, got " + name);
  }
}
