package io.consort.participant;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;

/**
 * The bank daemon's health ({@code GET /health}: the daemon runs) and readiness ({@code GET /ready}:
 * enrolled, and the coordinator answered recently; 503 otherwise) for the bank's own service manager
 * or monitoring agent. Bound to 127.0.0.1 only: the bank still opens no port to the outside, and the
 * answers name no secret (state and timings only). Plain HTTP, as it never leaves the host.
 */
public final class LocalHealthEndpoint {
  public static final String LOOPBACK = "127.0.0.1";

  private LocalHealthEndpoint() {}

  /** Listens on 127.0.0.1:{@code port} (0: a free one; the server's actualPort says which). */
  public static Future<HttpServer> start(Vertx vertx, int port, ParticipantDaemon daemon) {
    return vertx.createHttpServer(new HttpServerOptions().setHost(LOOPBACK).setPort(port))
        .requestHandler(req -> {
          JsonObject health = daemon.health();
          switch (req.method().name() + " " + req.path()) {
            case "GET /health" -> req.response().setStatusCode(health.getBoolean("running") ? 200 : 503)
                .putHeader("content-type", "application/json").end(health.encode());
            case "GET /ready" -> req.response().setStatusCode(health.getBoolean("ready") ? 200 : 503)
                .putHeader("content-type", "application/json").end(health.encode());
            default -> req.response().setStatusCode(404).end();
          }
        })
        .listen();
  }
}
