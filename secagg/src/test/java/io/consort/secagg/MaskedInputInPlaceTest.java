package io.consort.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.secagg.message.MaskedInput;
import io.consort.secagg.message.MessageHeader;
import io.consort.secagg.wire.SecAggCodec;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The coordinator adds a masked input to its running sum straight from the bytes it received
 * ({@link SecAggServer#acceptEncoded(String, ByteBuffer)}): the same sum, and the same refusals with the
 * same reasons, as decoding each message first.
 */
class MaskedInputInPlaceTest {
  private static final int DIM = 40_000;

  private static RoundParameters parameters(int ringBits) {
    return RoundParameters.completeGraph("job-p", 3, RoundHarness.banks(5), 3, DIM).withRingBits(ringBits);
  }

  private static RoundHarness harness(int ringBits, boolean inPlace, long seed) {
    RoundParameters parameters = parameters(ringBits);
    RoundHarness harness = new RoundHarness(parameters, RoundHarness.randomInputs(parameters, seed), seed);
    harness.encodedInPlace = inPlace;
    return harness;
  }

  @ParameterizedTest
  @ValueSource(ints = {32, 28, 12})
  void summingInPlace_givesTheDecodedSum_withABankDroppedAfterSharing(int ringBits) throws Exception {
    // 32 and 28 bits: 4-byte words, summed in place (28 checked against the ring); 12: decoded from a copy
    Map<Stage, Set<String>> dropAt = Map.of(Stage.MASKED_INPUT, Set.of("bank-4"));
    ServerTransition decoded = harness(ringBits, false, 41).run(dropAt, UnaryOperator.identity());
    RoundHarness inPlace = harness(ringBits, true, 41);
    ServerTransition summed = inPlace.run(dropAt, UnaryOperator.identity());

    List<String> survivors = List.of("bank-1", "bank-2", "bank-3", "bank-5");
    assertEquals(survivors, summed.result().orElseThrow().includedBanks());
    assertArrayEquals(decoded.result().orElseThrow().sum(), summed.result().orElseThrow().sum());
    assertArrayEquals(inPlace.plaintextSum(survivors), summed.result().orElseThrow().sum());
  }

  @Test
  void theReceivedBuffer_isNotMoved() throws Exception {
    RoundHarness harness = atMaskedInput(false);
    byte[] encoded = SecAggCodec.encode(masked("bank-1", 28, new int[DIM]));
    ByteBuffer received = RoundHarness.embedded(encoded);
    harness.server.acceptEncoded("bank-1", received);
    assertEquals(7, received.position());
    assertEquals(7 + encoded.length, received.limit());
  }

  @Test
  void badMaskedInputs_areRefusedInPlace_withTheDecodedPathsReasons() throws Exception {
    int[] values = new int[DIM];
    Arrays.fill(values, 5);
    int[] outside = values.clone();
    outside[17] = 1 << 28;
    byte[] good = SecAggCodec.encode(masked("bank-2", 28, values));
    List<byte[]> bad = List.of(
        SecAggCodec.encode(masked("bank-2", 28, outside)),
        SecAggCodec.encode(masked("bank-2", 28, Arrays.copyOf(values, DIM - 1))),
        SecAggCodec.encode(masked("bank-2", 32, values)),
        Arrays.copyOf(good, good.length - 3),
        Arrays.copyOf(good, good.length + 2),
        SecAggCodec.encode(masked("bank-3", 28, values)),
        SecAggCodec.encode(new MaskedInput(new MessageHeader("job-p", 2, Stage.MASKED_INPUT, "bank-2",
            RoundParameters.COORDINATOR_ID), 28, values)),
        SecAggCodec.encode(new MaskedInput(new MessageHeader("job-p", 3, Stage.MASKED_INPUT, "bank-2", "bank-1"),
            28, values)));
    for (byte[] message : bad) {
      String decoded = assertThrows(ProtocolViolationException.class,
          () -> atMaskedInput(false).server.acceptEncoded("bank-2", message)).getMessage();
      String inPlace = assertThrows(ProtocolViolationException.class,
          () -> atMaskedInput(true).server.acceptEncoded("bank-2", RoundHarness.embedded(message))).getMessage();
      assertEquals(decoded, inPlace);
    }
    RoundHarness twice = atMaskedInput(true);
    twice.server.acceptEncoded("bank-2", RoundHarness.embedded(good));
    assertTrue(assertThrows(ProtocolViolationException.class,
        () -> twice.server.acceptEncoded("bank-2", RoundHarness.embedded(good))).getMessage()
        .contains("duplicate masked-input message"));
    assertEquals(Set.of("bank-2"), twice.server.refusals().keySet());
  }

  /**
   * Attack: a hostile bank's masked input that is refused only at its last value (outside the ring), or a second
   * masked input after its first. Summed in place, a refusal must leave the running sum as it was: the round
   * completes with exactly the plaintext sum of the banks it names, nothing of the refused vector in it.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aRefusedMaskedInput_leavesTheRunningSumUntouched(boolean duplicate) throws Exception {
    RoundHarness harness = harness(28, true, 47);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    ServerTransition forwarded = harness.server.closeStage();
    for (io.consort.secagg.message.SecAggMessage message : forwarded.outgoing()) {
      String bank = message.header().recipientId();
      MaskedInput reply = (MaskedInput) harness.clients.get(bank).handle(message);
      if (!bank.equals("bank-2")) {
        harness.deliverToServer(reply);
        continue;
      }
      int[] hostile = reply.values().clone();
      if (duplicate) {
        harness.deliverToServer(reply);
        Arrays.fill(hostile, 0x0abcdef);
      } else {
        hostile[DIM - 1] = 1 << 28; // every value before it is in the ring: a partial add would keep them
      }
      String reason = assertThrows(ProtocolViolationException.class, () -> harness.server.acceptEncoded("bank-2",
          RoundHarness.embedded(SecAggCodec.encode(new MaskedInput(reply.header(), 28, hostile))))).getMessage();
      assertTrue(reason.contains(duplicate ? "duplicate masked-input message" : "outside the ring"), reason);
    }

    ServerTransition end = harness.run(Map.of(), UnaryOperator.identity(), false);

    List<String> included = duplicate ? RoundHarness.banks(5)
        : List.of("bank-1", "bank-3", "bank-4", "bank-5");
    assertEquals(included, end.result().orElseThrow().includedBanks());
    assertArrayEquals(harness.plaintextSum(included), end.result().orElseThrow().sum());
  }

  /** A fresh round of 28-bit ring at its masked-input stage (keys and shares exchanged), seeded alike. */
  private static RoundHarness atMaskedInput(boolean inPlace) throws Exception {
    RoundHarness harness = harness(28, inPlace, 43);
    harness.advertise(Set.of());
    harness.closeAndDeliver(Map.of(), UnaryOperator.identity());
    harness.server.closeStage();
    return harness;
  }

  private static MaskedInput masked(String bank, int ringBits, int[] values) {
    return new MaskedInput(new MessageHeader("job-p", 3, Stage.MASKED_INPUT, bank, RoundParameters.COORDINATOR_ID),
        ringBits, values);
  }
}
