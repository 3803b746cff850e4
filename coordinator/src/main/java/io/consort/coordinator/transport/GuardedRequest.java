package io.consort.coordinator.transport;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;
import io.vertx.grpc.common.GrpcStatus;

/**
 * A gRPC call's request stream, read frame by frame before the gRPC layer sees a byte: each
 * length-prefixed message must be uncompressed (flag 0: this server accepts no encoding, so
 * nothing is ever inflated), within the size limit, and a unary call carries one. A frame that
 * breaks a rule ends the call with a status naming the rule, and nothing of it is passed on; an
 * exception from the gRPC layer's own decoding of a chunk likewise ends the call with a status
 * instead of leaving it hanging.
 */
final class GuardedRequest extends HttpServerRequestWrapper {
  /** Told once when the call is refused. */
  interface Refusal {
    void refuse(GrpcStatus status, String reason);
  }

  private final long maxMessageBytes;
  private final Refusal refusal;
  private final byte[] prefix = new byte[5];
  private int prefixBytes;
  private long bodyBytesLeft;
  private int messages;
  private boolean refused;

  GuardedRequest(HttpServerRequestInternal delegate, long maxMessageBytes, Refusal refusal) {
    super(delegate);
    this.maxMessageBytes = maxMessageBytes;
    this.refusal = refusal;
  }

  @Override
  public HttpServerRequest handler(Handler<Buffer> handler) {
    if (handler == null) {
      return delegate.handler(null);
    }
    return delegate.handler(chunk -> {
      if (refused) {
        return; // the call has its answer; the rest of the stream is dropped unread
      }
      String problem = scan(chunk);
      if (problem != null) {
        refuse(statusOf(problem), problem);
        return;
      }
      try {
        handler.handle(chunk);
      } catch (RuntimeException e) {
        refuse(GrpcStatus.INTERNAL, "the message could not be read (" + e.getClass().getSimpleName() + ")");
      }
    });
  }

  boolean refused() {
    return refused;
  }

  private void refuse(GrpcStatus status, String reason) {
    refused = true;
    refusal.refuse(status, reason);
  }

  private static final String COMPRESSED = "the message is compressed; this server reads only uncompressed messages"
      + " (grpc-encoding identity)";
  private static final String SECOND = "a second message arrived; every Federation call carries exactly one";

  private static GrpcStatus statusOf(String problem) {
    if (problem == COMPRESSED) {
      return GrpcStatus.UNIMPLEMENTED;
    }
    if (problem.startsWith("message of")) {
      return GrpcStatus.RESOURCE_EXHAUSTED;
    }
    return GrpcStatus.INVALID_ARGUMENT;
  }

  /** Follows the frames through {@code chunk}; returns what is wrong, or null. */
  private String scan(Buffer chunk) {
    int i = 0;
    int n = chunk.length();
    while (i < n) {
      if (bodyBytesLeft > 0) {
        int skip = (int) Math.min(bodyBytesLeft, n - i);
        i += skip;
        bodyBytesLeft -= skip;
        continue;
      }
      prefix[prefixBytes++] = chunk.getByte(i++);
      if (prefixBytes < prefix.length) {
        continue;
      }
      prefixBytes = 0;
      if (++messages > 1) {
        return SECOND;
      }
      if (prefix[0] == 1) {
        return COMPRESSED;
      }
      if (prefix[0] != 0) {
        return "frame flag " + (prefix[0] & 0xff) + " is not a gRPC message flag (0 or 1)";
      }
      long length = ((prefix[1] & 0xffL) << 24) | ((prefix[2] & 0xffL) << 16) | ((prefix[3] & 0xffL) << 8)
          | (prefix[4] & 0xffL);
      if (length > maxMessageBytes) {
        return "message of " + length + " bytes exceeds the limit of " + maxMessageBytes + " bytes";
      }
      bodyBytesLeft = length;
    }
    return null;
  }
}
