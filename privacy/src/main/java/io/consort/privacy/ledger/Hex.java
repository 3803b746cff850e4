package io.consort.privacy.ledger;

import java.util.HexFormat;

/** Lowercase hex, strict on input. */
final class Hex {

  private static final HexFormat FORMAT = HexFormat.of();

  private Hex() {}

  static String encode(byte[] bytes) {
    return FORMAT.formatHex(bytes);
  }

  static byte[] decode(String hex) {
    if (hex.length() % 2 != 0 || !hex.equals(hex.toLowerCase(java.util.Locale.ROOT))) {
      throw new IllegalArgumentException("hex must be lowercase with an even number of digits, got " + hex);
    }
    return FORMAT.parseHex(hex);
  }
}
