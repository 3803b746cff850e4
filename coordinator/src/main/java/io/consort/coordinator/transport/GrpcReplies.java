package io.consort.coordinator.transport;

import io.vertx.core.http.HttpServerResponse;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.charset.StandardCharsets;

/** gRPC answers written straight on the HTTP/2 stream, before (or instead of) the gRPC layer. */
final class GrpcReplies {
  private GrpcReplies() {}

  /**
   * Ends the call with {@code status} as a trailers-only response (one HEADERS frame with
   * END_STREAM), or resets the stream if a response has already begun.
   */
  static void status(HttpServerResponse response, GrpcStatus status, String message) {
    if (response.ended() || response.closed()) {
      return;
    }
    if (response.headWritten()) {
      response.reset(8); // CANCEL
      return;
    }
    response.setStatusCode(200)
        .putHeader("content-type", "application/grpc")
        .putHeader("grpc-accept-encoding", "identity")
        .putHeader("grpc-status", Integer.toString(status.code))
        .putHeader("grpc-message", percentEncode(message))
        .end();
  }

  /** The grpc-message encoding of the gRPC HTTP/2 spec: UTF-8, with bytes outside 0x20..0x7e and '%' percent-encoded. */
  static String percentEncode(String message) {
    StringBuilder out = new StringBuilder();
    for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c < 0x20 || c > 0x7e || c == '%') {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      } else {
        out.append((char) c);
      }
    }
    return out.toString();
  }
}
