package io.consort.secagg.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.Stage;
import io.consort.secagg.message.AdvertiseKeys;
import io.consort.secagg.message.ConsistencyRequest;
import io.consort.secagg.message.ConsistencySignature;
import io.consort.secagg.message.EncryptedShare;
import io.consort.secagg.message.ForwardedShares;
import io.consort.secagg.message.KeyRoster;
import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.message.RevealedShare;
import io.consort.secagg.message.SecAggMessage;
import io.consort.secagg.message.ShareKeys;
import io.consort.secagg.message.ShareKind;
import io.consort.secagg.message.SignedPublicKeys;
import io.consort.secagg.message.SurvivorSignature;
import io.consort.secagg.message.UnmaskingRequest;
import io.consort.secagg.message.UnmaskingResponse;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class SecAggCodecTest {
  private static MessageHeader header(Stage stage, String sender, String recipient) {
    return new MessageHeader("job", 3, stage, sender, recipient);
  }

  private static byte[] filled(int length, int value) {
    byte[] bytes = new byte[length];
    java.util.Arrays.fill(bytes, (byte) value);
    return bytes;
  }

  static List<SecAggMessage> oneOfEach() {
    return List.of(
        new AdvertiseKeys(header(Stage.ADVERTISE_KEYS, "b1", "coordinator"), filled(32, 1), filled(32, 2),
            filled(71, 3)),
        new KeyRoster(header(Stage.SHARE_KEYS, "coordinator", "b1"),
            List.of(new SignedPublicKeys("b1", filled(32, 1), filled(32, 2), filled(70, 3)))),
        new ShareKeys(header(Stage.SHARE_KEYS, "b1", "coordinator"),
            List.of(new EncryptedShare("b1", "b2", filled(94, 4)))),
        new ForwardedShares(header(Stage.MASKED_INPUT, "coordinator", "b2"),
            List.of(new EncryptedShare("b1", "b2", filled(94, 4)))),
        new MaskedInput(header(Stage.MASKED_INPUT, "b1", "coordinator"), 32, new int[] {0, -1, 7}),
        new MaskedInput(header(Stage.MASKED_INPUT, "b1", "coordinator"), 20, new int[] {0, (1 << 20) - 1, 7}),
        new ConsistencyRequest(header(Stage.CONSISTENCY_CHECK, "coordinator", "b1"), List.of("b1", "b2")),
        new ConsistencySignature(header(Stage.CONSISTENCY_CHECK, "b1", "coordinator"), filled(72, 5)),
        new UnmaskingRequest(header(Stage.UNMASKING, "coordinator", "b1"), List.of("b1"), List.of("b3"),
            List.of(new SurvivorSignature("b1", filled(70, 6)))),
        new UnmaskingResponse(header(Stage.UNMASKING, "b1", "coordinator"),
            List.of(new RevealedShare("b3", ShareKind.MASKING_KEY, filled(33, 0)))));
  }

  @Test
  void decode_inverts_encode_forEveryMessageType() throws Exception {
    for (SecAggMessage message : oneOfEach()) {
      byte[] encoded = SecAggCodec.encode(message);
      SecAggMessage decoded = SecAggCodec.decode(encoded);
      assertEquals(message.getClass(), decoded.getClass());
      assertEquals(message.header(), decoded.header());
      assertArrayEquals(encoded, SecAggCodec.encode(decoded)); // byte-identical round trip
    }
  }

  @Test
  void encode_matchesGoldenBytes_forConsistencyRequest() {
    SecAggMessage message = new ConsistencyRequest(header(Stage.CONSISTENCY_CHECK, "coordinator", "b1"),
        List.of("b1", "b2"));
    assertEquals("0106036a6f62000000000000000304" + "0b636f6f7264696e61746f72" + "026231"
        + "0002" + "026231" + "026232", HexFormat.of().formatHex(SecAggCodec.encode(message)));
  }

  @Test
  void maskedInput_usesCeilKOver8BytesPerValue() {
    MaskedInput twelveBit = new MaskedInput(header(Stage.MASKED_INPUT, "b1", "coordinator"), 12, new int[1000]);
    MaskedInput full = new MaskedInput(header(Stage.MASKED_INPUT, "b1", "coordinator"), 32, new int[1000]);
    assertEquals(2000, SecAggCodec.encode(full).length - SecAggCodec.encode(twelveBit).length);
  }

  @Test
  void decode_refusesEveryTruncationAndTrailingBytes() {
    for (SecAggMessage message : oneOfEach()) {
      byte[] encoded = SecAggCodec.encode(message);
      for (int length = 0; length < encoded.length; length++) {
        byte[] prefix = java.util.Arrays.copyOf(encoded, length);
        MalformedMessageException error = assertThrows(MalformedMessageException.class,
            () -> SecAggCodec.decode(prefix), () -> message + " truncated to " + prefix.length);
        assertTrue(error.getMessage().contains("truncated") || error.getMessage().contains("empty"),
            error.getMessage());
      }
      byte[] trailing = java.util.Arrays.copyOf(encoded, encoded.length + 1);
      MalformedMessageException error = assertThrows(MalformedMessageException.class,
          () -> SecAggCodec.decode(trailing));
      assertTrue(error.getMessage().contains("1 trailing bytes"), error.getMessage());
    }
  }

  @Test
  void decode_refusesUnknownVersionTypeStageMismatchAndOutOfRingValues() {
    byte[] encoded = SecAggCodec.encode(oneOfEach().get(0));
    byte[] version = encoded.clone();
    version[0] = 2;
    assertTrue(assertThrows(MalformedMessageException.class, () -> SecAggCodec.decode(version))
        .getMessage().contains("unsupported version 2"));
    byte[] type = encoded.clone();
    type[1] = 42;
    assertTrue(assertThrows(MalformedMessageException.class, () -> SecAggCodec.decode(type))
        .getMessage().contains("unknown message type 42"));
    byte[] stage = encoded.clone();
    stage[2 + 1 + 3 + 8] = 3; // stage byte after version, type, jobId "job", round
    assertTrue(assertThrows(MalformedMessageException.class, () -> SecAggCodec.decode(stage))
        .getMessage().contains("belongs to stage advertise-keys"));

    byte[] twelveBit = SecAggCodec.encode(new MaskedInput(header(Stage.MASKED_INPUT, "b1", "coordinator"), 12,
        new int[] {5}));
    twelveBit[twelveBit.length - 1] = (byte) 0xff; // high byte of 0xff05 > 2^12
    assertTrue(assertThrows(MalformedMessageException.class, () -> SecAggCodec.decode(twelveBit))
        .getMessage().contains("outside the ring Z_2^12"));
  }

  @Test
  void decode_refusesHugeDeclaredLengthWithoutAllocating() {
    byte[] encoded = SecAggCodec.encode(new MaskedInput(header(Stage.MASKED_INPUT, "b1", "coordinator"), 32,
        new int[] {1}));
    int lengthOffset = encoded.length - 4 - 4;
    encoded[lengthOffset] = 0x0f; // declares 2^28-ish values with only 4 bytes present
    MalformedMessageException error = assertThrows(MalformedMessageException.class,
        () -> SecAggCodec.decode(encoded));
    assertTrue(error.getMessage().contains("truncated: field values"), error.getMessage());
  }
}
