package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.consort.participant.LocalHealthEndpoint;
import io.consort.participant.ParticipantDaemon;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The bank daemon's health and readiness endpoints: what they say, and that only the host reaches them. */
@Tag("e2e")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServiceHealthTest {
  @TempDir
  Path dir;

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void bankHealth_isReadyOnceEnrolled_notAfterItStops_andListensOnTheLoopbackOnly() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (LocalConsortium consortium = new LocalConsortium(dir, 2)) {
      consortium.basePlan("unused", 1);
      consortium.startService();
      consortium.startBanks(bank -> LocalConsortium.BankSettings.defaults());
      ParticipantDaemon daemon = consortium.daemon("bank-1");
      HttpServer server = LocalHealthEndpoint.start(vertx, 0, daemon).await(10, TimeUnit.SECONDS);
      Await.within(Duration.ofSeconds(20), "bank-1 to enrol", daemon.enrolled());

      HttpResponse<String> ready = get(server.actualPort(), "/ready");
      assertEquals(200, ready.statusCode(), ready.body());
      assertEquals(true, new JsonObject(ready.body()).getBoolean("enrolled"));
      assertEquals(200, get(server.actualPort(), "/health").statusCode());
      assertEquals(404, get(server.actualPort(), "/metrics").statusCode());

      // no other interface of this host reaches it
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress address : Collections.list(nic.getInetAddresses())) {
          if (!address.isLoopbackAddress() && address instanceof Inet4Address) {
            try (Socket s = new Socket()) {
              s.connect(new InetSocketAddress(address, server.actualPort()), 2000);
              throw new AssertionError("the health endpoint answered on " + address);
            } catch (java.io.IOException refused) {
              // expected: nothing listens there
            }
          }
        }
      }

      Await.within(Duration.ofSeconds(20), "bank-1 to stop", daemon.stop());
      HttpResponse<String> stopped = get(server.actualPort(), "/ready");
      assertEquals(503, stopped.statusCode(), stopped.body());
      assertFalse(new JsonObject(stopped.body()).getBoolean("running"));
      assertEquals(503, get(server.actualPort(), "/health").statusCode());
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void bankHealth_isNotReady_beforeItReachesTheCoordinator() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (LocalConsortium consortium = new LocalConsortium(dir, 2)) {
      consortium.basePlan("unused", 1);
      // no coordinator: the banks try to enrol with backoff
      consortium.startBanksAt(1, bank -> LocalConsortium.BankSettings.defaults());
      HttpServer server = LocalHealthEndpoint.start(vertx, 0, consortium.daemon("bank-1")).await(10, TimeUnit.SECONDS);
      HttpResponse<String> ready = get(server.actualPort(), "/ready");
      assertEquals(503, ready.statusCode(), ready.body());
      assertEquals(false, new JsonObject(ready.body()).getBoolean("enrolled"));
      assertEquals(200, get(server.actualPort(), "/health").statusCode());
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }
}
