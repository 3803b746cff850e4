package io.consort.cli.bench;

import io.consort.coordinator.CoordinatorConfig;
import io.consort.coordinator.CoordinatorService;
import io.consort.coordinator.job.JobDefinition;
import io.consort.coordinator.job.WorkerPurpose;
import io.consort.coordinator.model.FederatedModelOps;
import io.consort.protocol.v1.JobPlan;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code consort bench coordinator-node} (hidden): the coordinator of {@code bench round
 * --coordinator-process}, alone in its JVM so that this JVM's heap is the coordinator's. It reads the
 * settings {@link RoundBenchCommand} wrote, serves the job, writes its port once listening, and at the
 * job's end writes the outcome, its worker pool's busy intervals and those of them spent on secure
 * aggregation ({@link System#nanoTime()}, which on Linux is the same monotonic clock in every JVM of the
 * machine) and its heap's high-water marks
 * ({@link HeapPeak}), each file renamed into place so that once it exists it is complete.
 */
@Command(name = "coordinator-node", hidden = true,
    description = "The coordinator of bench round --coordinator-process (internal).")
public final class CoordinatorNode implements Callable<Integer> {
  @Option(names = "--settings", required = true, description = "the settings file bench round wrote")
  Path settingsFile;

  @Override
  public Integer call() throws Exception {
    // a coordinator whose bench has gone (killed, crashed) has no one to serve: it goes too
    ProcessHandle.current().parent().ifPresent(p -> p.onExit().thenRun(() -> Runtime.getRuntime().halt(2)));
    JsonObject s = new JsonObject(Files.readString(settingsFile));
    JobSpec plan = JobSpecWire.fromProto(JobPlan.parseFrom(Base64.getDecoder().decode(s.getString("plan"))));
    CoordinatorConfig config = config(Path.of(s.getString("key")), Path.of(s.getString("chain")),
        Path.of(s.getString("ca")), Path.of(s.getString("crl")), Path.of(s.getString("data_dir")),
        s.getInteger("max_message_bytes"), plan, s.getInteger("banks"), s.getInteger("stage_timeout_seconds"));
    WorkerPoolClock clock = new WorkerPoolClock();
    WorkerPurpose.listen(clock);
    HeapPeak heap = new HeapPeak();
    Vertx vertx = Vertx.builder().withMetrics(options -> clock).build();
    JsonObject outcome;
    try {
      CoordinatorService service = new CoordinatorService(config, new FederatedModelOps());
      vertx.deployVerticle(service).toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
      heap.start();
      writeInPlace(Path.of(s.getString("port_file")), Integer.toString(service.actualPort()));
      outcome = service.jobOutcome().toCompletionStage().toCompletableFuture()
          .get(s.getLong("job_timeout_seconds"), TimeUnit.SECONDS);
      heap.stop();
      writeInPlace(Path.of(s.getString("report_file")), new JsonObject().put("outcome", outcome)
          .put("busy", intervals(clock.busy())).put("secure_aggregation_busy", intervals(clock.secureAggregation()))
          .put("peak_heap_bytes", heap.peak()).put("peak_heap_after_gc_bytes", heap.peakAfterGc())
          .put("max_heap_bytes", HeapPeak.maxHeap()).encode());
      // still serving, as the in-process coordinator does, until the bench has stopped its banks and ends
      // this process (SIGTERM), so that no bank finds the coordinator gone at the job's end
      ProcessHandle.current().parent().ifPresent(p -> p.onExit().join());
    } finally {
      heap.stop();
      vertx.close().toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
    }
    return 0;
  }

  /** The bench's coordinator, in this JVM or in its own: loopback, any free port, no operator API. */
  static CoordinatorConfig config(Path key, Path chain, Path ca, Path crl, Path dataDir, int maxMessageBytes,
                                  JobSpec plan, int banks, int stageTimeoutSeconds) {
    return new CoordinatorConfig("127.0.0.1", 0, key, chain, ca, crl, dataDir, maxMessageBytes, Duration.ofSeconds(30),
        false, new JobDefinition(plan, banks, Duration.ofMinutes(5), Duration.ofSeconds(stageTimeoutSeconds)), -1);
  }

  static void writeInPlace(Path file, String content) throws java.io.IOException {
    Path partial = file.resolveSibling(file.getFileName() + ".partial");
    Files.writeString(partial, content, StandardCharsets.UTF_8);
    Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
  }

  private static JsonArray intervals(List<RoundTimeline.Interval> intervals) {
    JsonArray out = new JsonArray();
    for (RoundTimeline.Interval i : intervals) {
      out.add(new JsonArray(List.of(i.start(), i.end())));
    }
    return out;
  }

  /** The intervals under {@code field} ("busy", "secure_aggregation_busy") of a report this command wrote. */
  static List<RoundTimeline.Interval> intervals(JsonObject report, String field) {
    return report.getJsonArray(field).stream().map(o -> (JsonArray) o)
        .map(a -> new RoundTimeline.Interval(a.getLong(0), a.getLong(1))).toList();
  }
}
