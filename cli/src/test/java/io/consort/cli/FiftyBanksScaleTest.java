package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * 50 banks (SecAgg+, neighbour degree 20, 10% of them dropping out of every round) run 10 rounds of
 * the default job against a coordinator in a JVM of its own whose heap is capped at 256 MiB
 * ({@code bench round --coordinator-process --coordinator-xmx 256m}): the coordinator completes every
 * round within that cap, and its heap after any collection stays under half of it; the 50 banks share
 * another JVM capped at 1 GiB. Minutes long, so not in the default suite; run it with
 * {@code ./mvnw -B -pl cli -am verify -Dconsort.scale=true -Dtest=FiftyBanksScaleTest
 * -Dsurefire.failIfNoSpecifiedTests=false} (docs/BENCHMARKS.md, "100 banks").
 */
@Tag("e2e")
@EnabledIfSystemProperty(named = "consort.scale", matches = "true")
@Timeout(value = 60, unit = TimeUnit.MINUTES)
class FiftyBanksScaleTest {

  @Test
  void fiftyBanksWithDropouts_completeTenRounds_withTheCoordinatorWithinA256MibHeap() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx1g", "--add-modules",
        "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "round",
        "--banks", "50", "--rounds", "10", "--dropout", "0.1", "--degree", "20", "--coordinator-process",
        "--coordinator-xmx", "256m", "--json"));
    Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    // read before waiting: a child that fills the pipe would otherwise never exit
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(55, TimeUnit.MINUTES), "the job did not finish in 55 minutes");
    assertEquals(0, process.exitValue(), out);
    String[] lines = out.strip().split("\n");
    JsonObject report = new JsonObject(lines[lines.length - 1]);
    System.out.println(report.encodePrettily());
    assertTrue(report.getBoolean("all_rounds_completed"), out);
    JsonArray dropped = report.getJsonArray("dropped_per_round");
    assertEquals(10, dropped.size());
    for (Object d : dropped) {
      assertEquals(5, ((Number) d).intValue(), "5 of 50 banks drop out of every round");
    }
    // the cap applied to the coordinator's JVM, and what it kept after its collections stayed well inside it
    assertTrue(report.getBoolean("coordinator_process"), report.encode());
    long cap = report.getLong("coordinator_max_heap_bytes");
    assertTrue(cap <= 256L << 20, report.encode());
    assertTrue(report.getLong("coordinator_peak_heap_bytes") <= cap, report.encode());
    assertTrue(report.getLong("coordinator_peak_heap_after_gc_bytes") < 128L << 20, report.encode());
    assertTrue(report.getLong("peak_heap_bytes") < (1L << 30), report.encode());
  }
}
