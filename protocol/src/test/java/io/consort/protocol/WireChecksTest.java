package io.consort.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.protocol.v1.ModelUpdate;
import io.consort.protocol.v1.Stage;
import io.consort.protocol.v1.TaskResult;
import org.junit.jupiter.api.Test;

class WireChecksTest {

  @Test
  void decode_refusesMessage_whenOverSizeLimit() {
    ModelUpdate.Builder update = ModelUpdate.newBuilder();
    for (int i = 0; i < 1000; i++) {
      update.addDelta(i);
    }
    byte[] bytes = TaskResult.newBuilder().setUpdate(update).build().toByteArray();
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
        () -> WireLimits.decode(TaskResult.parser(), bytes, 1000, "task result"));
    assertTrue(e.getMessage().contains("exceeds the limit of 1000 bytes"), e.getMessage());
  }

  @Test
  void decode_refusesGarbage_withMessageNamingWhat() {
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01};
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
        () -> WireLimits.decode(TaskResult.parser(), garbage, 1000, "task result"));
    assertTrue(e.getMessage().startsWith("task result is not a valid message"), e.getMessage());
  }

  @Test
  void decode_roundTrips_whenWithinLimit() {
    TaskResult result = TaskResult.newBuilder().setHeader(Headers.of("job-1", 3, Stage.TRAIN)).build();
    assertEquals(result, WireLimits.decode(TaskResult.parser(), result.toByteArray(), 1000, "task result"));
  }

  @Test
  void requireHeader_refusesReplayFromEarlierRound() {
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
        () -> Headers.require(Headers.of("job-1", 2, Stage.TRAIN), "job-1", 3, Stage.TRAIN));
    assertEquals("expected a message for job 'job-1' round 3 stage TRAIN but got one for job 'job-1' round 2 stage TRAIN",
        e.getMessage());
  }

  @Test
  void requireVersion_refusesOtherVersion() {
    ProtocolViolationException e = assertThrows(ProtocolViolationException.class,
        () -> ProtocolVersion.require(ProtocolVersion.CURRENT + 1));
    assertTrue(e.getMessage().contains("protocol version " + (ProtocolVersion.CURRENT + 1) + " is not supported"));
  }

  @Test
  void checksum_isStableAndSensitiveToOneBit() {
    float[] a = {1f, 2f, 3f};
    float[] b = {1f, 2f, Math.nextUp(3f)};
    // golden value: SHA-256 over the 12 little-endian bytes of 1.0f, 2.0f, 3.0f
    assertEquals("8e628779e6a74ee0b36991c10158f63cafec7d340ad4e075592502c8708524dd", ModelChecksum.sha256Hex(a));
    assertEquals(ModelChecksum.sha256Hex(a), ModelChecksum.sha256Hex(a.clone()));
    assertNotEquals(ModelChecksum.sha256Hex(a), ModelChecksum.sha256Hex(b));
  }
}
