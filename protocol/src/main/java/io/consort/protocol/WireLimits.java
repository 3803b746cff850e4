package io.consort.protocol;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

/**
 * Size limits for messages on the wire. The gRPC layer enforces the same limit when it decodes a
 * frame ({@code GrpcServerOptions.setMaxMessageSize}); these helpers apply it to messages that are
 * carried as bytes inside other messages or read from files.
 */
public final class WireLimits {
  /** 64 MiB: a 10^7-parameter model as packed floats fits, anything larger is refused. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  private WireLimits() {}

  /** Decodes {@code bytes} with {@code parser}, refusing oversized or malformed input by name. */
  public static <T extends MessageLite> T decode(Parser<T> parser, byte[] bytes, int maxBytes, String what) {
    if (bytes.length > maxBytes) {
      throw new ProtocolViolationException(
          what + " of " + bytes.length + " bytes exceeds the limit of " + maxBytes + " bytes");
    }
    try {
      return parser.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new ProtocolViolationException(what + " is not a valid message: " + e.getMessage(), e);
    }
  }
}
