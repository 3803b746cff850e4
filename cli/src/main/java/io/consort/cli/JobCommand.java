package io.consort.cli;

import io.consort.cli.jobs.OperatorClient;
import io.consort.coordinator.job.JobDefinition;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code consort job}: submit, list, watch and cancel the jobs of a running coordinator through its
 * operator API (mutual TLS; an operator certificate submits and cancels, an auditor's reads).
 */
@Command(name = "job", mixinStandardHelpOptions = true,
    description = "Submit, list, inspect and cancel jobs on a running coordinator (operator API, mTLS).",
    subcommands = {JobCommand.Submit.class, JobCommand.ListJobs.class, JobCommand.Status.class,
        JobCommand.Cancel.class})
final class JobCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * The submission a job file makes: the file (the same keys as the {@code job:} section of
   * {@code coordinator.yaml}) is read as strictly as a configuration and validated here, so a mistake
   * is named before anything is sent; the coordinator validates the plan again on arrival.
   *
   * @throws ConfigException naming the file and the key that is wrong
   */
  static JsonObject submission(Path file) {
    JobYaml yaml = StrictYaml.read(file, JobYaml.class);
    JobDefinition d;
    try {
      d = yaml.toDefinition(file);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + e.getMessage(), e);
    }
    return new JsonObject().put("plan", Base64.getEncoder().encodeToString(d.plan().toByteArray()))
        .put("expected_banks", d.expectedBanks()).put("start_timeout_seconds", d.startTimeout().toSeconds())
        .put("stage_timeout_seconds", d.stageTimeout().toSeconds());
  }

  /** Prints the answer, or fails with the API's own message. */
  static int print(CommandSpec spec, OperatorClient.Response r, int expected) {
    if (r.status() != expected) {
      throw new IllegalStateException(r.error() + " (HTTP " + r.status() + ")");
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(r.json().encodePrettily());
    out.flush();
    return 0;
  }

  /** A command that makes one call of the API with the caller's identity. */
  abstract static class ApiCall implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    OperatorClient.Options api;

    abstract int call(OperatorClient client) throws Exception;

    @Override
    public Integer call() throws Exception {
      try (OperatorClient client = api.connect()) {
        return call(client);
      }
    }
  }

  @Command(name = "submit", mixinStandardHelpOptions = true,
      description = "Validate a job file and queue it (operator certificate).")
  static final class Submit extends ApiCall {
    @Parameters(paramLabel = "FILE", description = "job file: the keys of coordinator.yaml's job section")
    Path file;

    @Override
    public Integer call() throws Exception {
      submission(file); // refused before any connection when the file is wrong
      return super.call();
    }

    @Override
    int call(OperatorClient client) throws Exception {
      return print(spec, client.post("/api/v1/jobs", submission(file)), 201);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the jobs, oldest first.")
  static final class ListJobs extends ApiCall {
    @Override
    int call(OperatorClient client) throws Exception {
      OperatorClient.Response r = client.get("/api/v1/jobs");
      if (r.status() != 200) {
        throw new IllegalStateException(r.error() + " (HTTP " + r.status() + ")");
      }
      PrintWriter out = spec.commandLine().getOut();
      out.printf("%-24s %-10s %7s  %s%n", "JOB", "STATE", "ROUNDS", "NOTE");
      JsonArray jobs = r.json().getJsonArray("jobs");
      for (Object o : jobs) {
        JsonObject j = (JsonObject) o;
        out.printf("%-24s %-10s %3d/%-3d  %s%n", j.getString("job_id"), j.getString("state"),
            j.getInteger("rounds_done", 0), j.getInteger("rounds_planned"), j.getString("reason", ""));
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "A job's state, open stage, banks and finished rounds (JSON).")
  static final class Status extends ApiCall {
    @Parameters(paramLabel = "JOB", description = "job id")
    String job;

    @Override
    int call(OperatorClient client) throws Exception {
      return print(spec, client.get("/api/v1/jobs/" + OperatorClient.pathSegment(job)), 200);
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = "Cancel a queued or running job (operator certificate).")
  static final class Cancel extends ApiCall {
    @Parameters(paramLabel = "JOB", description = "job id")
    String job;

    @Override
    int call(OperatorClient client) throws Exception {
      return print(spec, client.post("/api/v1/jobs/" + OperatorClient.pathSegment(job) + "/cancel", null), 200);
    }
  }
}
