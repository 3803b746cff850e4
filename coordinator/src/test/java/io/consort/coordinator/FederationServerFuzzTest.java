package io.consort.coordinator;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * Fuzz target: any request stream a member can send to the real coordinator over mutual TLS: any
 * of the three methods, any frame flag, with or without a {@code grpc-encoding}, any message
 * bytes. Every call must be answered with a gRPC status within 10 s (nothing hangs, crashes or
 * inflates), and the coordinator must go on answering. Long run: docs/FUZZING.md.
 */
@Tag("e2e")
class FederationServerFuzzTest {
  private static final List<String> METHODS = List.of("/consort.v1.Federation/Enrol",
      "/consort.v1.Federation/PullTask", "/consort.v1.Federation/SubmitResult");
  private static final List<String> ENCODINGS = List.of("", "identity", "gzip", "deflate", "snappy");
  private static TestCoordinator coordinator;
  private static HttpClient bank;
  private static Path dir;

  private static synchronized void start() throws Exception {
    if (coordinator == null) {
      dir = Files.createTempDirectory("fuzz-coordinator");
      // long-polls held a second at most, so that every call is answered well within the 10 s the target allows
      coordinator = new TestCoordinator(dir, List.of("bank-1", "bank-2", "bank-3"), 3,
          ServerLimits.defaults().withMaxPoll(Duration.ofSeconds(1)));
      bank = coordinator.http(coordinator.pki.bank("bank-1"));
      // every path once before the fuzzer's clock runs: under Jazzer's instrumentation the first use of
      // Vert.x's and Netty's classes takes seconds, which is not the server hanging
      for (String method : METHODS) {
        for (Buffer body : List.of(Buffer.buffer(), TestCoordinator.frame(0, new byte[] {8, 1}),
            TestCoordinator.frame(1, new byte[3]), Buffer.buffer(new byte[] {4, 0}))) {
          coordinator.raw(bank, method, MultiMap.caseInsensitiveMultiMap(), body).await(60, TimeUnit.SECONDS);
        }
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (coordinator != null) {
      coordinator.close();
      coordinator = null;
    }
  }

  @FuzzTest(maxDuration = "20s")
  void anyCallOfAMember_isAnsweredWithAStatus(FuzzedDataProvider data) throws Exception {
    start();
    String method = data.pickValue(METHODS);
    String encoding = data.pickValue(ENCODINGS);
    int flag = data.consumeInt(0, 2);
    boolean framed = data.consumeBoolean();
    byte[] payload = data.consumeRemainingAsBytes();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (!encoding.isEmpty()) {
      headers.add("grpc-encoding", encoding);
    }
    Buffer body = framed ? TestCoordinator.frame(flag, payload) : Buffer.buffer(payload);
    String call = method + " (grpc-encoding " + (encoding.isEmpty() ? "none" : encoding) + ", "
        + (framed ? "framed with flag " + flag : "unframed") + ", " + payload.length + " bytes "
        + java.util.HexFormat.of().formatHex(payload, 0, Math.min(payload.length, 64)) + ")";
    TestCoordinator.Answer answer;
    try {
      answer = coordinator.raw(bank, method, headers, body).await(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no answer within 10 s to " + call, e);
    }
    if (answer.code() < 0) {
      throw new AssertionError("a call was answered without a gRPC status: " + answer + " to " + call);
    }
  }
}
