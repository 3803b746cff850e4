package io.consort.coordinator.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's database is embedded: one process at a time, no network port. With H2's
 * AUTO_SERVER (as before) a second process would get in through a plaintext TCP server the first
 * one opens on every interface; here it is refused.
 */
class CoordinatorStoreTest {
  @TempDir
  Path dir;

  /** Holds the store open in another process until its standard input closes. */
  public static final class HoldOpen {
    public static void main(String[] args) throws Exception {
      try (CoordinatorStore store = CoordinatorStore.open(Path.of(args[0]))) {
        System.out.println("open");
        System.out.flush();
        System.in.read();
      }
    }
  }

  /** Writes rows one by one, saying so after each commit, until it is killed. */
  public static final class WriteUntilKilled {
    public static void main(String[] args) throws Exception {
      try (CoordinatorStore store = CoordinatorStore.open(Path.of(args[0]))) {
        for (int round = 1; ; round++) {
          store.openAttempt("job", round);
          store.attemptStage("job", round, "train");
          System.out.println("committed " + round);
          System.out.flush();
        }
      }
    }
  }

  @Test
  @Timeout(60)
  void whatWasCommitted_survivesAKilledProcess() throws Exception {
    Process writer = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), WriteUntilKilled.class.getName(), dir.toString()))
        .redirectErrorStream(true).start();
    int committed = 0;
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while (committed < 50 && (line = out.readLine()) != null) {
        if (line.startsWith("committed ")) {
          committed = Integer.parseInt(line.substring("committed ".length()));
        }
      }
    } finally {
      writer.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
    }
    assertTrue(committed >= 50, "the writer committed rows before it was killed");
    try (CoordinatorStore store = CoordinatorStore.open(dir)) {
      // every attempt the writer reported committed is there, with its stage
      List<CoordinatorStore.AttemptRow> open = store.abortOpenAttempts("job", 0);
      assertTrue(open.size() >= committed, "committed " + committed + ", found " + open.size());
      assertEquals("train", open.get(committed - 1).stage());
    }
  }

  @Test
  @Timeout(60)
  void openingItWhileARunningCoordinatorHoldsIt_failsNamingTheOperatorApi() throws Exception {
    Process holder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), HoldOpen.class.getName(), dir.toString()))
        .redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = out.readLine()) != null && !line.equals("open")) {
        // the holder's log lines
      }
      assertEquals("open", line, "the other process opened the store");
      StoreException e = assertThrows(StoreException.class, () -> CoordinatorStore.open(dir));
      assertTrue(e.getMessage().contains("is in use by a running coordinator") && e.getMessage().contains("/api/v1/ledger"),
          e.getMessage());
    } finally {
      holder.getOutputStream().close();
      holder.waitFor(20, TimeUnit.SECONDS);
      holder.destroyForcibly();
    }
  }
}
