package io.consort.cli.demo;

import java.io.IOException;
import java.nio.file.Path;
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
final class NodeProcesses implements AutoCloseable {
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final Path logDir;

  NodeProcesses(Path logDir) {
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

  Process start(String name, String heap, String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java, "-Xmx" + heap, "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), "io.consort.cli.Main"));
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

  Path logFile(String name) {
    return logDir.resolve(name + ".log");
  }

  /** Exit status of a node that has exited, or null while it runs. */
  Integer exitStatus(String name) {
    Process p = processes.get(name);
    return p == null || p.isAlive() ? null : p.exitValue();
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
