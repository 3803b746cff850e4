package io.consort.cli;

import io.consort.coordinator.CoordinatorConfig;
import io.consort.coordinator.CoordinatorService;
import io.consort.coordinator.metrics.CoordinatorMetrics;
import io.consort.coordinator.model.FederatedModelOps;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "coordinator", mixinStandardHelpOptions = true,
    description = "Run the coordinator service (mTLS gRPC endpoint, job queue, operator API, durable state).")
final class CoordinatorCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "coordinator.yaml")
  Path config;

  @Override
  public Integer call() throws Exception {
    CoordinatorConfig cfg = ConfigFiles.coordinator(config);
    // Vert.x's own meters (bytes in and out, connections, requests) and the coordinator's in one registry
    var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
        io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
    Vertx vertx = CoordinatorMetrics.vertx(registry);
    CountDownLatch closed = new CountDownLatch(1);
    Shutdown.onSigterm("coordinator", vertx::close, closed);
    CoordinatorService service = new CoordinatorService(cfg, new FederatedModelOps(),
        io.consort.coordinator.ServerLimits.defaults(), new CoordinatorMetrics(registry));
    try {
      vertx.deployVerticle(service).await();
    } catch (Exception e) {
      vertx.close();
      throw new IllegalStateException("coordinator could not start: " + e.getMessage(), e);
    }
    int[] status = {0};
    if (cfg.job() != null) {
      service.jobOutcome().onComplete(ar -> {
        status[0] = ar.succeeded() ? 0 : 1;
        if (cfg.exitWhenDone()) {
          // the demo's coordinator stops once its job is done; a standing service keeps running
          vertx.close().onComplete(v -> closed.countDown());
        }
      });
    }
    closed.await();
    return status[0];
  }
}
