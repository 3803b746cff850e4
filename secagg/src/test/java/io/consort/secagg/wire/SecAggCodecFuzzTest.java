package io.consort.secagg.wire;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target: any bytes as a secure-aggregation message relayed by the coordinator. The codec
 * either decodes a message that encodes back to the same bytes or refuses it with a
 * {@link MalformedMessageException}; nothing else. Long run: docs/FUZZING.md.
 */
class SecAggCodecFuzzTest {
  @FuzzTest(maxDuration = "20s")
  void anyBytes_decodeToAMessageThatEncodesBack_orAreRefused(byte[] bytes) throws Exception {
    try {
      var message = SecAggCodec.decode(bytes);
      byte[] again = SecAggCodec.encode(message);
      if (!java.util.Arrays.equals(bytes, again)) {
        throw new AssertionError("decoded " + message.getClass().getSimpleName() + " encodes to other bytes");
      }
    } catch (MalformedMessageException expected) {
      // refused by name: fine
    }
  }
}
