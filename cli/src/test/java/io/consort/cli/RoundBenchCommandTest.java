package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code consort bench round} runs a real job (coordinator and banks in this JVM over mutual TLS) and
 * reports rounds whose parts add up; what it measures is recorded in docs/BENCHMARKS.md, never
 * asserted here.
 */
@Tag("e2e")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RoundBenchCommandTest {

  private static final List<String> PARTS = List.of("training_seconds", "dp_seconds", "secure_aggregation_seconds",
      "privacy_round_trips_seconds", "evaluation_seconds", "ledger_seconds", "coordinator_seconds", "network_seconds",
      "other_seconds");

  @Test
  void secureRoundsWithDropouts_reportPartsThatAddUpToEachRound() {
    CliRun run = CliRun.of("bench", "round", "--banks", "3", "--rounds", "3", "--dp", "record", "--dropout", "0.3",
        "--rows-per-bank", "60", "--bank-workers", "2", "--json");
    assertEquals(0, run.status(), run.err());
    String[] lines = run.out().strip().split("\n");
    JsonObject report = new JsonObject(lines[lines.length - 1]);
    assertTrue(report.getBoolean("all_rounds_completed"));
    assertEquals(2, report.getInteger("bank_workers"));
    // one bank of three refuses each round's masked input, and the round completes with the other two
    assertEquals(new JsonArray(List.of(1, 1, 1)), report.getJsonArray("dropped_per_round"));
    JsonArray rounds = report.getJsonArray("per_round");
    assertEquals(3, rounds.size());
    for (Object o : rounds) {
      JsonObject round = (JsonObject) o;
      double sum = PARTS.stream().mapToDouble(round::getDouble).sum();
      assertEquals(round.getDouble("seconds_per_round"), sum, 1e-6, round.encode());
      assertEquals(round.getDouble("dp_seconds") + round.getDouble("secure_aggregation_seconds")
          + round.getDouble("privacy_round_trips_seconds"), round.getDouble("privacy_seconds"), 1e-9);
      assertTrue(round.getDouble("training_seconds") > 0, round.encode());
      assertTrue(round.getDouble("secure_aggregation_seconds") > 0, round.encode());
      assertTrue(round.getLong("bytes_per_bank") > 4 * report.getLong("parameters"), round.encode());
      assertEquals(3, round.getLong("banks_trained"));
      // one secure sum a round (the update, from round 2 with the evaluation of the model the round started
      // from): four stages after training, as a bank dropped (so the sum runs the consistency check); the last
      // round adds its model's evaluation sum, which nobody drops out of: three stages, no consistency check
      long secureStages = round.getJsonArray("stages").stream()
          .filter(s -> List.of("share_keys", "masked_input", "consistency_check", "unmasking")
              .contains(((JsonObject) s).getString("stage"))).count();
      assertEquals(round.getInteger("round") == 3 ? 7 : 4, secureStages, round.encode());
    }
    assertTrue(report.getDouble("seconds_per_round") > 0);
    assertTrue(report.getDouble("privacy_share") > 0 && report.getDouble("privacy_share") < 1);
    assertTrue(report.getLong("peak_heap_bytes") > 0);
  }

  /**
   * Unmasking with the input: every round after the first takes the training and ledger stages only; measured
   * after a warm-up job in the same JVM, which is not reported (the measured job starts again at round 1).
   */
  @Test
  void withInput_pipelinedRoundsTakeTrainAndLedgerOnly_andTheJobCompletes_afterAWarmUpJob() {
    CliRun run = CliRun.of("bench", "round", "--banks", "3", "--rounds", "3", "--warmup-rounds", "3", "--dp", "off",
        "--unmasking", "with-input", "--rows-per-bank", "60", "--bank-workers", "2", "--json");
    assertEquals(0, run.status(), run.err());
    String[] lines = run.out().strip().split("\n");
    JsonObject report = new JsonObject(lines[lines.length - 1]);
    assertTrue(report.getBoolean("all_rounds_completed"), report.encode());
    assertEquals("with-input", report.getString("unmasking"));
    assertEquals(3, report.getInteger("warmup_rounds"));
    assertEquals(3, report.getJsonArray("per_round").size(), report.encode());
    assertTrue(report.getDouble("cpu_seconds") > 0, report.encode());
    for (Object o : report.getJsonArray("per_round")) {
      JsonObject round = (JsonObject) o;
      List<Object> stages = round.getJsonArray("stages").stream().map(s -> ((JsonObject) s).getValue("stage")).toList();
      assertEquals(round.getInteger("round") == 1 ? List.of("train", "share_keys", "masked_input", "ledger_countersign")
          : round.getInteger("round") == 2 ? List.of("train", "ledger_countersign")
          : List.of("train", "ledger_countersign", "evaluate", "share_keys", "masked_input"), stages, round.encode());
    }
  }

  /**
   * Keys for a period of rounds, end to end through the banks' task handlers and the coordinator: with {@code
   * --key-rounds 2} every round after the first is pipelined (train and ledger only) and the job completes.
   */
  @Test
  void withInputAndKeyRounds_everyRoundAfterTheFirstIsPipelined_andTheJobCompletes() {
    CliRun run = CliRun.of("bench", "round", "--banks", "3", "--rounds", "4", "--dp", "off", "--unmasking",
        "with-input", "--key-rounds", "2", "--rows-per-bank", "60", "--bank-workers", "2", "--json");
    assertEquals(0, run.status(), run.err());
    String[] lines = run.out().strip().split("\n");
    JsonObject report = new JsonObject(lines[lines.length - 1]);
    assertTrue(report.getBoolean("all_rounds_completed"), report.encode());
    assertEquals(2, report.getInteger("key_rounds"));
    assertFalse(report.getBoolean("self_mask"), "no self mask: the default with --unmasking with-input");
    for (Object o : report.getJsonArray("per_round")) {
      JsonObject round = (JsonObject) o;
      List<Object> stages = round.getJsonArray("stages").stream().map(s -> ((JsonObject) s).getValue("stage")).toList();
      if (round.getInteger("round") > 1) { // the last round adds the final evaluation's own sum, with fresh keys
        assertEquals(List.of("train", "ledger_countersign"), stages.subList(0, 2), round.encode());
        assertFalse(round.getInteger("round") < 4 && stages.contains("share_keys"), round.encode());
      }
    }
  }

  /** Also the coordinator in its own JVM: the job runs against it, and its heap is reported apart. */
  @Test
  void plaintextRounds_haveNoPrivacyMachinery_withTheCoordinatorInItsOwnCappedJvm() {
    CliRun run = CliRun.of("bench", "round", "--banks", "2", "--rounds", "3", "--secure-aggregation", "off", "--dp",
        "off", "--rows-per-bank", "60", "--coordinator-process", "--coordinator-xmx", "256m", "--json");
    assertEquals(0, run.status(), run.err());
    String[] lines = run.out().strip().split("\n");
    JsonObject report = new JsonObject(lines[lines.length - 1]);
    assertTrue(report.getBoolean("all_rounds_completed"), report.encode());
    assertEquals(0.0, report.getDouble("privacy_seconds"));
    assertEquals(0.0, report.getDouble("dp_share_of_training"));
    assertTrue(report.getBoolean("coordinator_process"));
    assertEquals("256m", report.getString("coordinator_xmx"));
    // the child's cap, not this JVM's: the JVM reports a little less than -Xmx (one survivor space)
    long cap = report.getLong("coordinator_max_heap_bytes");
    assertTrue(cap > 128L << 20 && cap <= 256L << 20, report.encode());
    long peak = report.getLong("coordinator_peak_heap_bytes");
    assertTrue(peak > 0 && peak <= cap, report.encode());
    assertTrue(report.getLong("coordinator_peak_heap_after_gc_bytes") <= cap, report.encode());
    // the coordinator's worker pool, timed in its own JVM, lands in the rounds' split
    assertTrue(report.getDouble("coordinator_seconds") > 0, report.encode());
  }

  @Test
  void badOptions_areRefusedByName() {
    CliRun run = CliRun.of("bench", "round", "--banks", "1");
    assertTrue(run.err().contains("--banks must be between 2 and 500, got 1"), run.err());
    run = CliRun.of("bench", "round", "--model", "huge");
    assertTrue(run.err().contains("--model must be mlp or large, got 'huge'"), run.err());
    run = CliRun.of("bench", "round", "--secure-aggregation", "off", "--dropout", "0.1");
    assertTrue(run.err().contains("--dropout needs secure aggregation"), run.err());
    run = CliRun.of("bench", "round", "--rounds", "2");
    assertTrue(run.err().contains("--rounds must be at least 3"), run.err());
    run = CliRun.of("bench", "round", "--warmup-rounds", "2");
    assertTrue(run.err().contains("--warmup-rounds must be 0 or at least 3, got 2"), run.err());
    run = CliRun.of("bench", "round", "--unmasking", "early");
    assertTrue(run.err().contains("--unmasking must be after-inputs or with-input, got 'early'"), run.err());
    run = CliRun.of("bench", "round", "--secure-aggregation", "off", "--unmasking", "with-input");
    assertTrue(run.err().contains("--unmasking with-input needs secure aggregation"), run.err());
    run = CliRun.of("bench", "round", "--key-rounds", "10");
    assertTrue(run.err().contains("--key-rounds 10 needs --unmasking with-input"), run.err());
    run = CliRun.of("bench", "round", "--unmasking", "with-input", "--key-rounds", "0");
    assertTrue(run.err().contains("--key-rounds must be at least 1"), run.err());
    run = CliRun.of("bench", "round", "--self-mask", "off");
    assertTrue(run.err().contains("--self-mask off needs --unmasking with-input"), run.err());
    run = CliRun.of("bench", "round", "--unmasking", "with-input", "--self-mask", "maybe");
    assertTrue(run.err().contains("--self-mask must be on or off, got 'maybe'"), run.err());
    run = CliRun.of("bench", "round", "--warmup-rounds", "3", "--coordinator-process");
    assertTrue(run.err().contains("--warmup-rounds warms this JVM only"), run.err());
    run = CliRun.of("bench", "round", "--bank-workers", "-1");
    assertTrue(run.err().contains("--bank-workers must be in [0, 256], got -1"), run.err());
    run = CliRun.of("bench", "round", "--coordinator-xmx", "512m");
    assertTrue(run.err().contains("--coordinator-xmx needs --coordinator-process"), run.err());
    run = CliRun.of("bench", "round", "--coordinator-process", "--coordinator-xmx", "lots");
    assertTrue(run.err().contains("--coordinator-xmx must be a size such as 512m or 1g, got 'lots'"), run.err());
    run = CliRun.of("bench", "round", "--coordinator-process", "--coordinator-xmx", "0m");
    assertTrue(run.err().contains("--coordinator-xmx must be a size such as 512m or 1g, got '0m'"), run.err());
  }
}
