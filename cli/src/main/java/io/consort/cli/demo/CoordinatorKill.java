package io.consort.cli.demo;

import io.consort.certs.TlsMaterial;
import io.consort.cli.jobs.OperatorClient;
import io.consort.protocol.v1.Stage;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code demo --restart-coordinator-at ROUND[:STAGE]}: when to kill the demo's coordinator.
 *
 * @param round the round (1 or more)
 * @param stage the stage of that round, or null for whichever is open first
 */
public record CoordinatorKill(int round, Stage stage) {
  /** How often the demo looks at the open stage while a kill is pending. */
  static final Duration POLL = Duration.ofMillis(50);

  /** The stages of a round, as the demo and the logs name them. */
  static final List<Stage> ROUND_STAGES = List.of(Stage.TRAIN, Stage.ADVERTISE_KEYS, Stage.SHARE_KEYS,
      Stage.MASKED_INPUT, Stage.CONSISTENCY_CHECK, Stage.UNMASKING, Stage.LEDGER_COUNTERSIGN, Stage.EVALUATE);

  static String name(Stage s) {
    return s.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  @Override
  public String toString() {
    return round + (stage == null ? "" : ":" + name(stage));
  }

  /** Parses {@code 2} or {@code 2:masked-input}, naming what is wrong. */
  public static final class Converter implements ITypeConverter<CoordinatorKill> {
    @Override
    public CoordinatorKill convert(String value) {
      String[] parts = value.split(":", 2);
      int round;
      try {
        round = Integer.parseInt(parts[0]);
      } catch (NumberFormatException e) {
        throw new TypeConversionException("'" + value + "' is not ROUND[:STAGE] (e.g. 2 or 2:masked-input)");
      }
      if (round < 1) {
        throw new TypeConversionException("the round must be 1 or more, got " + round);
      }
      if (parts.length == 1) {
        return new CoordinatorKill(round, null);
      }
      return ROUND_STAGES.stream().filter(s -> name(s).equals(parts[1])).findFirst()
          .map(s -> new CoordinatorKill(round, s))
          .orElseThrow(() -> new TypeConversionException("unknown stage '" + parts[1] + "'; the stages of a round are "
              + String.join(", ", ROUND_STAGES.stream().map(CoordinatorKill::name).toList())));
    }
  }

  /** Watches the coordinator's open stage through its operator API, with the operator's certificate. */
  Watch watch(URI api, TlsMaterial operator) {
    return new Watch(OperatorClient.connect(api, operator.keyFile().getParent()));
  }

  /** Whether it is time; true once only. */
  final class Watch implements AutoCloseable {
    private final OperatorClient client;
    private boolean done;

    private Watch(OperatorClient client) {
      this.client = client;
    }

    boolean done() {
      return done;
    }

    String what() {
      return "round " + round + (stage == null ? "" : " stage " + name(stage));
    }

    /**
     * @throws IllegalStateException when the round was recorded before the demo saw its stage open
     *     (a stage shorter than the demo's look)
     */
    boolean due() {
      if (done) {
        return false;
      }
      JsonObject job;
      try {
        OperatorClient.Response r = client.get("/api/v1/job");
        if (r.status() != 200) {
          return false;
        }
        job = r.json();
      } catch (Exception e) {
        return false; // the API does not answer yet (the coordinator starts): look again later
      }
      JsonObject open = job.getJsonObject("open_stage");
      if (open != null && open.getInteger("round") == round
          && (stage == null || stage.name().equals(open.getString("stage")))) {
        done = true;
        return true;
      }
      var rounds = job.getJsonArray("rounds");
      if (!rounds.isEmpty() && rounds.getJsonObject(rounds.size() - 1).getInteger("round") >= round) {
        throw new IllegalStateException("round " + round + " finished without the demo seeing " + what()
            + " open; the stage was shorter than the demo's look (every " + POLL.toMillis() + " ms)");
      }
      return false;
    }

    @Override
    public void close() {
      client.close();
    }
  }

}
