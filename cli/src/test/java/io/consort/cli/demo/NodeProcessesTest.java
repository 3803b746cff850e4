package io.consort.cli.demo;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Tag("e2e")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeProcessesTest {
  @TempDir
  Path dir;

  /** The wait allows 5 minutes; the class's @Timeout fails the test if it is not cut short by the exit. */
  @Test
  void awaitFile_failsAtOnce_whenTheNodeExitsBeforeWritingIt() throws Exception {
    try (NodeProcesses nodes = new NodeProcesses(dir)) {
      nodes.start("coordinator", "256m", "coordinator", "--config", dir.resolve("missing.yaml").toString());
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> nodes.awaitFile("coordinator", dir.resolve("data/ports.json"), Duration.ofMinutes(5)));
      assertTrue(e.getMessage().contains("coordinator exited with status"), e.getMessage());
      assertTrue(e.getMessage().contains("coordinator.log"), e.getMessage());
    }
  }
}
