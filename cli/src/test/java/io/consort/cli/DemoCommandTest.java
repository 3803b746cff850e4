package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.coordinator.CoordinatorConfig;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The main job on a CSV the test writes: coordinator and banks as separate JVMs. */
class DemoCommandTest {
  @TempDir
  Path dir;

  @Test
  @Tag("e2e")
  @Timeout(value = 3, unit = TimeUnit.MINUTES) // 20 s on an idle 2-core machine, 45 s on a busy one
  void demo_runsOnAnyCsv_withNumericAndCategoricalColumns() throws Exception {
    Path csv = TestData.loanCsv(dir.resolve("loans.csv"), 900, 21);
    Path report = dir.resolve("report.json");
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    int status = cl.execute("demo", "--data", csv.toString(), "--label", "default", "--positive", "yes",
        // three rounds of local DP-SGD learn this file; the default distributed noise needs its 60 steps, which
        // PrivateFederationTest and the demo's own runs cover
        "--banks", "3", "--rounds", "3", "--record-noise", "local", "--work-dir", dir.resolve("work").toString(),
        "--report", report.toString());
    assertEquals(0, status, out.toString());
    JsonObject r = new JsonObject(Files.readString(report));
    assertEquals("loans.csv", r.getJsonObject("dataset").getString("name"));
    assertEquals(900, r.getJsonObject("dataset").getInteger("rows"));
    assertEquals(4, r.getJsonObject("dataset").getInteger("features"));
    assertEquals(3, r.getJsonArray("banks").size());
    assertEquals(3, r.getJsonArray("rounds").size());
    // default settings: secure aggregation and record-level DP at epsilon 3 on 225 training rows per
    // bank, so the bar is "it learns", not the non-private accuracy
    assertTrue(r.getJsonObject("final").getDouble("auc") > 0.6, r.encodePrettily());
    assertEquals(true, r.getBoolean("secure_aggregation"));
    assertEquals(true, r.getBoolean("consistency_check"), "the demo runs the consistency check by default");
    for (String bank : new String[] {"bank-1", "bank-2", "bank-3"}) {
      assertTrue(r.getJsonObject("privacy").getJsonObject("per_bank").getJsonObject(bank).getDouble("epsilon") <= 3.0);
    }
    assertTrue(r.getJsonObject("baselines").getJsonObject("centralized").getDouble("auc") > 0.7);
    assertEquals(3, r.getJsonObject("baselines").getJsonObject("local_only").size());
    assertTrue(out.toString().contains("centralised baseline AUC"), out.toString());
    // what each bank gains, on its own held-out rows, and the guarantee, in the report and the summary
    JsonObject gain = r.getJsonObject("per_bank_gain").getJsonObject("bank-1");
    assertEquals(gain.getDouble("consortium_auc") - gain.getDouble("local_only_dp_auc"), gain.getDouble("gain"), 1e-12);
    assertTrue(r.getString("guarantee").startsWith("record-level DP-SGD in each bank (local noise)"), r.getString("guarantee"));
    assertTrue(out.toString().contains("what each bank gains"), out.toString());
    // the published model: calibrated on the final round's merged histogram, kept by every bank, and
    // scoring the pooled held-out rows without refusing one
    JsonObject published = r.getJsonObject("published_model");
    assertTrue(Files.exists(Path.of(published.getString("path"))), published.encodePrettily());
    assertEquals("platt", published.getJsonObject("calibration").getString("method"), published.encodePrettily());
    assertEquals(0.5, published.getJsonObject("decision").getDouble("threshold"), 0, "no cost matrix for a file");
    JsonObject scoring = r.getJsonObject("held_out_scoring");
    assertEquals(0, scoring.getLong("refused"), scoring.encodePrettily());
    assertEquals(scoring.getLong("rows"), scoring.getLong("scored"));
    assertEquals(3, scoring.getInteger("banks_with_identical_copy"), scoring.encodePrettily());
    assertTrue(Files.exists(dir.resolve("work/coordinator-data/jobs/demo-model-card.md")));
    assertTrue(out.toString().contains("calibration (platt"), out.toString());
    // the work dir keeps what is needed to start the same federation by hand
    assertTrue(Files.exists(dir.resolve("work/coordinator.yaml")));
    assertTrue(Files.exists(dir.resolve("work/bank-1.yaml")));
    assertTrue(Files.exists(dir.resolve("work/pki/ca/ca.crt.pem")));
    // with the ports the coordinator actually bound, which the curl line shows too
    CoordinatorConfig coordinator = ConfigFiles.coordinator(dir.resolve("work/coordinator.yaml"));
    assertTrue(coordinator.port() > 0 && coordinator.apiPort() > 0, coordinator.port() + ", " + coordinator.apiPort());
    assertEquals(coordinator.port(), ConfigFiles.participant(dir.resolve("work/bank-1.yaml")).coordinatorPort());
    Matcher curl = Pattern.compile("https://localhost:(\\d+)/api/v1/job").matcher(out.toString());
    assertTrue(curl.find(), out.toString());
    assertEquals(coordinator.apiPort(), Integer.parseInt(curl.group(1)));
  }

  @Test
  void demo_refusesFileWithoutLabelOption() {
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setErr(new PrintWriter(err));
    int status = cl.execute("demo", "--data", dir.resolve("x.csv").toString(), "--work-dir", dir.resolve("w").toString());
    assertEquals(2, status);
    assertTrue(err.toString().contains("--label is required"), err.toString());
  }

  @Test
  void demo_refusesMissingLabelColumn_withMessageNamingIt() throws Exception {
    Path csv = TestData.loanCsv(dir.resolve("loans.csv"), 50, 1);
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setErr(new PrintWriter(err));
    int status = cl.execute("demo", "--data", csv.toString(), "--label", "defaulted", "--positive", "yes",
        "--work-dir", dir.resolve("w").toString());
    assertEquals(2, status);
    assertTrue(err.toString().contains("defaulted"), err.toString());
    assertFalse(err.toString().contains("\tat "), "one clear line, no stack trace: " + err);
  }

  /**
   * The new user's scenario: a public credit file as it is (modeldata's credit_data, docs/examples:
   * about 9% of rows with a missing income, assets or debt, a few with a missing home, marital status
   * or job) trains without hand edits; the report says how each column was filled, and the published
   * model scores the held-out rows, missing values included, refusing none.
   */
  @Test
  @Tag("e2e")
  @Timeout(value = 5, unit = TimeUnit.MINUTES) // about 60 s on a busy 2-core machine
  void demo_trainsOnAPublicCreditFileWithMissingValues_withoutHandEdits() throws Exception {
    Path csv = Path.of("../docs/examples/credit-data.csv");
    Path report = dir.resolve("report.json");
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    int status = cl.execute("demo", "--data", csv.toString(), "--label", "Status", "--positive", "bad",
        "--rounds", "3", "--record-noise", "local", "--work-dir", dir.resolve("work").toString(), "--report", report.toString());
    assertEquals(0, status, out.toString());
    JsonObject r = new JsonObject(Files.readString(report));
    assertEquals(4454, r.getJsonObject("dataset").getInteger("rows"));
    JsonObject columns = r.getJsonObject("preprocessing").getJsonObject("columns");
    for (String column : new String[] {"Income", "Assets", "Debt"}) {
      JsonObject c = columns.getJsonObject(column);
      assertEquals("median", c.getString("missing_policy"), columns.encodePrettily());
      assertTrue(c.getLong("missing_rows") > 0 && c.getValue("fill") instanceof Number, c.encode());
    }
    assertEquals("most_frequent", columns.getJsonObject("Home").getString("missing_policy"));
    assertEquals("owner", columns.getJsonObject("Home").getString("fill"));
    assertTrue(out.toString().contains("Income ") && out.toString().contains("missing -> median"), out.toString());
    JsonObject scoring = r.getJsonObject("held_out_scoring");
    assertEquals(0, scoring.getLong("refused"), scoring.encodePrettily());
    assertEquals(scoring.getLong("rows"), scoring.getLong("scored"));
    assertTrue(r.getJsonObject("final").getDouble("auc") > 0.7, r.getJsonObject("final").encode());
  }
}
