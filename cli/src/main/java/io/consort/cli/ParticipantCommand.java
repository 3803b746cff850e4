package io.consort.cli;

import io.consort.participant.BankTaskHandler;
import io.consort.participant.ParticipantConfig;
import io.consort.participant.ParticipantDaemon;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "participant", mixinStandardHelpOptions = true,
    description = "Run a bank's participant daemon (outbound only; trains on local data).")
final class ParticipantCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "bank-x.yaml")
  Path config;

  @Override
  public Integer call() throws Exception {
    ParticipantConfig cfg = ConfigFiles.participant(config);
    int healthPort = ConfigFiles.participantHealthPort(config);
    Vertx vertx = Vertx.vertx();
    CountDownLatch stopped = new CountDownLatch(1);
    // fault injection simulates a crash: the process dies at once, without a clean shutdown (and never
    // from an event-loop thread, which the shutdown hook below would wait on)
    ParticipantDaemon daemon = new ParticipantDaemon(vertx, cfg, new BankTaskHandler(cfg),
        status -> new Thread(() -> Runtime.getRuntime().halt(status), "consort-fault").start());
    // SIGTERM: stop polling, close the client and Vert.x, then let the JVM exit
    Shutdown.onSigterm("participant", () -> daemon.stop().eventually(vertx::close), stopped);
    daemon.start();
    if (healthPort >= 0) {
      try {
        int bound = io.consort.participant.LocalHealthEndpoint.start(vertx, healthPort, daemon).await().actualPort();
        org.slf4j.LoggerFactory.getLogger(ParticipantCommand.class)
            .info("health and readiness on http://127.0.0.1:{}/health and /ready (loopback only)", bound);
      } catch (Exception e) {
        daemon.stop().eventually(vertx::close);
        throw new IllegalStateException("health.port " + healthPort + ": cannot listen on 127.0.0.1: "
            + e.getMessage(), e);
      }
    }
    stopped.await();
    return 0;
  }
}
