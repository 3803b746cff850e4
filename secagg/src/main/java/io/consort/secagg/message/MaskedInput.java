package io.consort.secagg.message;

/**
 * Masked-input (Bonawitz et al. 2017, round 2): y_u = x_u + PRG(b_u) + sum_{v > u} PRG(s_uv)
 * - sum_{v < u} PRG(s_uv) mod 2^k. Values are in [0, 2^k), stored in an int (for k = 32 read as
 * unsigned).
 */
public record MaskedInput(MessageHeader header, int ringBits, int[] values) implements SecAggMessage {
  @Override
  public String toString() {
    return "MaskedInput[" + header + ", k=" + ringBits + ", length=" + values.length + "]";
  }
}
