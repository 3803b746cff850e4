package io.consort.cli.demo;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The coordinator and bank daemons of a local demo, each a separate JVM running this same
 * distribution, with its output in its own log file. {@link #close()} stops whatever is still
 * running: SIGTERM first (clean shutdown), then a forced kill after a grace period.
 */
public final class NodeProcesses implements AutoCloseable {
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final Path logDir;

  public NodeProcesses(Path logDir) {
    this.logDir = logDir;
  }

  private final Map<String, List<String>> commands = new LinkedHashMap<>();

  /**
   * Restarts, like a service manager would, any bank that died by fault injection (exit status 3);
   * it re-enrols and rejoins the following round.
   */
  void restartInjectedFaults(java.io.PrintWriter out) throws IOException {
    for (Map.Entry<String, Process> e : processes.entrySet()) {
      Process p = e.getValue();
      if (!p.isAlive() && p.exitValue() == io.consort.participant.ParticipantDaemon.FAULT_EXIT_STATUS) {
        out.printf("  %s died by fault injection; restarting it%n", e.getKey());
        out.flush();
        launch(e.getKey(), commands.get(e.getKey()), true);
      }
    }
  }

  public Process start(String name, String heap, String... args) throws IOException {
    return start(name, List.of("-Xmx" + heap, "-XX:+UseSerialGC"), args);
  }

  /** Starts node {@code name} as a JVM with these options running {@code consort <args>}. */
  public Process start(String name, List<String> jvmOptions, String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.consort.cli.Main"));
    command.addAll(List.of(args));
    commands.put(name, command);
    return launch(name, command, false);
  }

  private Process launch(String name, List<String> command, boolean append) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(append ? ProcessBuilder.Redirect.appendTo(logFile(name).toFile())
            : ProcessBuilder.Redirect.to(logFile(name).toFile()));
    pb.environment().put("CONSORT_NODE", name);
    Process p = pb.start();
    processes.put(name, p);
    return p;
  }

  public Path logFile(String name) {
    return logDir.resolve(name + ".log");
  }

  /** Exit status of a node that has exited, or null while it runs. */
  public Integer exitStatus(String name) {
    Process p = processes.get(name);
    return p == null || p.isAlive() ? null : p.exitValue();
  }

  /** Waits up to {@code timeout} for a node to exit; true as soon as it has. */
  public boolean awaitExit(String name, Duration timeout) throws InterruptedException {
    return processes.get(name).waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Waits until {@code file} exists, as long as node {@code name} runs: a watch on the file's
   * directory wakes this thread when the file appears, and the node's exit closes the watch. Write
   * the file by renaming it into place, so that once it exists it is complete.
   *
   * @throws IllegalStateException if the node exits first, or the file is still missing after
   *     {@code timeout}; the message names the node's log
   */
  public void awaitFile(String name, Path file, Duration timeout) throws IOException, InterruptedException {
    Process node = processes.get(name);
    Path dir = Files.createDirectories(file.toAbsolutePath().getParent());
    long deadline = System.nanoTime() + timeout.toNanos();
    try (WatchService watch = dir.getFileSystem().newWatchService()) {
      dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
      node.onExit().thenRun(() -> closeQuietly(watch));
      while (!Files.exists(file)) {
        if (!node.isAlive()) {
          throw new IllegalStateException(name + " exited with status " + node.exitValue() + " before it wrote "
              + file.getFileName() + "; see " + logFile(name));
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException(name + " did not write " + file.getFileName() + " within "
              + timeout.toSeconds() + " s; see " + logFile(name));
        }
        try {
          // capped: where the platform's watch service polls (macOS), it may report a new file late
          WatchKey key = watch.poll(Math.min(left, WATCH_CAP.toNanos()), TimeUnit.NANOSECONDS);
          if (key != null) {
            key.pollEvents();
            key.reset();
          }
        } catch (ClosedWatchServiceException e) {
          // the node has exited: the loop takes one last look for the file, then reports it
        }
      }
    }
  }

  /**
   * Kills node {@code name} as a crash would: SIGKILL, no shutdown hook, nothing flushed or closed;
   * returns once it is gone.
   */
  public void kill(String name) throws InterruptedException {
    Process p = processes.get(name);
    p.destroyForcibly();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " did not die within 30 s of SIGKILL");
    }
  }

  /** Starts node {@code name} again with the command it was started with, its log appended to. */
  public Process restart(String name) throws IOException {
    return launch(name, commands.get(name), true);
  }

  private static final Duration WATCH_CAP = Duration.ofMillis(500);

  private static void closeQuietly(WatchService watch) {
    try {
      watch.close();
    } catch (IOException e) {
      // the waiting thread then runs into its time limit instead
    }
  }

  @Override
  public void close() {
    for (Process p : processes.values()) {
      if (p.isAlive()) {
        p.destroy();
      }
    }
    for (Process p : processes.values()) {
      try {
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }
}
