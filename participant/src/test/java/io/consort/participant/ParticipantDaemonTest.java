package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataFormatException;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.ErrorCode;
import io.consort.spec.InvalidJobSpecException;
import io.vertx.core.VertxException;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ParticipantDaemonTest {
  @Test
  void taskFailures_areReportedByKind_notByExceptionSuperclass() {
    assertEquals(ErrorCode.BAD_DATA, ParticipantDaemon.errorCode(new DataFormatException(java.nio.file.Path.of("data.csv"), 3, "income", "not a number")));
    assertEquals(ErrorCode.BAD_PLAN, ParticipantDaemon.errorCode(new InvalidJobSpecException("rounds", "must be > 0")));
    assertEquals(ErrorCode.PROTOCOL_VIOLATION, ParticipantDaemon.errorCode(new ProtocolViolationException("x")));
    // an IllegalArgumentException from a bug is not the bank's data
    assertEquals(ErrorCode.INTERNAL, ParticipantDaemon.errorCode(new IllegalArgumentException("index")));
    assertEquals(ErrorCode.INTERNAL, ParticipantDaemon.errorCode(new IOException("disk full")));
  }

  @Test
  void aResultTheCoordinatorRefused_isNotSentAgain_butOneLostInTransitIs() {
    assertFalse(ParticipantDaemon.worthRetrying(new InvalidStatusException(GrpcStatus.OK, GrpcStatus.FAILED_PRECONDITION)));
    assertFalse(ParticipantDaemon.worthRetrying(new InvalidStatusException(GrpcStatus.OK, GrpcStatus.PERMISSION_DENIED)));
    assertFalse(ParticipantDaemon.worthRetrying(new InvalidStatusException(GrpcStatus.OK, GrpcStatus.INTERNAL)));
    assertTrue(ParticipantDaemon.worthRetrying(new InvalidStatusException(GrpcStatus.OK, GrpcStatus.UNAVAILABLE)));
    assertTrue(ParticipantDaemon.worthRetrying(new VertxException("Connection was closed")));
    // a message that merely mentions a status name is not a refusal
    assertTrue(ParticipantDaemon.worthRetrying(new VertxException("FAILED_PRECONDITION in a log line")));
  }
}
