package io.consort.secagg.message;

/** Bank to coordinator: the bank's identity signature over (job, round, bank, survivor set). */
public record ConsistencySignature(MessageHeader header, byte[] signature) implements SecAggMessage {
  @Override
  public String toString() {
    return "ConsistencySignature[" + header + "]";
  }
}
