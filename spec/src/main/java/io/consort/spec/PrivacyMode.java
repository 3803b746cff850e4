package io.consort.spec;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Which units of differential privacy a job gives: none, a bank's customer, a whole bank, or both. */
public enum PrivacyMode {
  /** No differential privacy: the model is trained on exact updates (secure aggregation may still hide them). */
  OFF("off"),
  /** Record level: DP-SGD inside each bank protects each of its customers. */
  RECORD("record"),
  /** Bank level: distributed discrete Gaussian noise under secure aggregation protects each bank's participation. */
  BANK("bank"),
  /** Both units, accounted separately. */
  BOTH("both");

  private final String wireName;

  PrivacyMode(String wireName) {
    this.wireName = wireName;
  }

  /** The name used in job files and reports. */
  public String wireName() {
    return wireName;
  }

  public boolean recordLevel() {
    return this == RECORD || this == BOTH;
  }

  public boolean bankLevel() {
    return this == BANK || this == BOTH;
  }

  /** @throws IllegalArgumentException naming the allowed values */
  public static PrivacyMode fromName(String name) {
    String wanted = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
    for (PrivacyMode mode : values()) {
      if (mode.wireName.equals(wanted)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("must be one of " + Arrays.stream(values()).map(PrivacyMode::wireName)
        .collect(Collectors.joining(", ")) + ", got '" + name + "'");
  }
}
