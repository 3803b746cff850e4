package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataProfile;
import io.consort.model.data.DataSchema;
import io.consort.model.data.DataSource;
import io.consort.model.data.MessyLoans;
import io.consort.spec.JobSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code consort data profile}: a first look at a bank's data, and a schema proposal a job file takes as it is. */
class DataCommandTest {
  private static final String SERVICE = """
      listen: {host: 127.0.0.1, port: 7443}
      tls: {key: key.pem, cert: cert.pem, ca: ca.pem}
      job:
        id: messy
      """;

  @TempDir
  Path dir;

  @Test
  void profile_ofAMessyCsv_describesEachColumn_andProposesASchemaAJobFileReads() throws Exception {
    Path csv = MessyLoans.write(dir.resolve("messy.csv"), 2000, 3);
    CliRun run = CliRun.of("data", "profile", csv.toString(), "--label", "Status", "--positive", "bad");
    assertEquals(0, run.status(), run.err());
    String out = run.out();
    assertTrue(out.startsWith("# Profile of " + csv + ": 2000 rows, 9 columns (label Status). Computed here; "
        + "nothing was sent.\n"), out);
    assertTrue(out.matches("(?s).*\\n# income +numeric +\\d+ \\(\\d+\\.\\d%\\) +\\d+ \\.\\. 99999999; p1 \\d+, "
        + "median \\d+, p99 \\d+; suspected sentinel \\[99999999]; heavy tail\\n.*"), out);
    assertTrue(out.contains("missing marker [NA]"), out);
    assertTrue(out.matches("(?s).*\\n# purpose +categorical +0 +6 levels: .*boat 3\\n.*"), out);
    assertTrue(out.contains("# left out: id (its name says it is an identifier)\n"), out);

    // the proposal, as printed, is a job file's schema section: the coordinator reads it back unchanged
    String yaml = out.substring(out.indexOf("\nschema:") + 1);
    Path coordinatorYaml = ConfigFileFixture.in(dir, "coordinator.yaml", ConfigFiles::coordinator)
        .write(SERVICE + yaml.indent(2));
    JobSpec spec = ConfigFiles.coordinator(coordinatorYaml).job().spec();
    DataSchema proposed = DataProfile.of(DataSource.file(csv), "Status", "bad")
        .proposedSchema(DataProfile.Proposal.WITH_PREPROCESSING);
    assertEquals(proposed, spec.schema());
    assertTrue(yaml.contains("    - name: income\n      missing: median\n      missing_indicator: true\n"
        + "      sentinels:\n        - 99999999\n      clip:\n        - 0.01\n        - 0.99\n"), yaml);
  }

  @Test
  void profile_ofAQuery_readsTheDatabase() throws Exception {
    String url = "jdbc:h2:mem:profile-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE loans (id INT, income DOUBLE PRECISION, home VARCHAR(8), status VARCHAR(4))");
      s.execute("INSERT INTO loans VALUES (1, 5000, 'own', 'good'), (2, NULL, 'rent', 'bad'), (3, 7000, NULL, 'good')");
      CliRun run = CliRun.of("data", "profile", "--jdbc", url, "--query", "SELECT * FROM loans ORDER BY id",
          "--label", "STATUS", "--positive", "bad");
      assertEquals(0, run.status(), run.err());
      assertTrue(run.out().startsWith("# Profile of query \"SELECT * FROM loans ORDER BY id\" on jdbc:h2:mem:profile-"),
          run.out());
      assertTrue(run.out().matches("(?s).*\\n# INCOME +numeric +1 \\(33\\.3%\\) +5000 \\.\\. 7000.*"), run.out());
    }
  }

  @Test
  void profile_refusesAPositiveClassWithoutALabel_andAFileThatIsNotThere() throws Exception {
    CliRun noLabel = CliRun.of("data", "profile", dir.resolve("x.csv").toString(), "--positive", "bad");
    assertEquals(2, noLabel.status());
    assertEquals("error: --positive needs --label\n", noLabel.err());
    Path absent = dir.resolve("absent.csv");
    CliRun missing = CliRun.of("data", "profile", absent.toString(), "--label", "Status");
    assertEquals(2, missing.status());
    assertEquals("error: " + absent + ": cannot open the file: java.nio.file.NoSuchFileException: " + absent + "\n",
        missing.err());
  }

  @Test
  void aJobFilesPreprocessingKeys_areBoundStrictly() throws Exception {
    ConfigFileFixture config = ConfigFileFixture.in(dir, "coordinator.yaml", ConfigFiles::coordinator);
    String schema = "  schema:\n    label: y\n    positive: '1'\n    numeric:\n      - name: x\n";
    assertEquals(config.file() + ": job.schema.numeric[0].missing must be one of [refuse, mean, median, "
        + "most_frequent, constant], got 'average'", config.refusal(SERVICE + schema + "        missing: average\n"));
    assertEquals(config.file() + ": job.schema.numeric[0] (x): missing policy most_frequent applies to categorical "
        + "columns only; a numeric column takes refuse, mean, median or constant",
        config.refusal(SERVICE + schema + "        missing: most_frequent\n"));
    assertEquals(config.file() + ": job.schema.numeric[0].clip must be two quantiles [lower, upper], e.g. [0.01, "
        + "0.99], got [0.99]", config.refusal(SERVICE + schema + "        clip: [0.99]\n"));
    assertTrue(config.refusal(SERVICE + schema + "        sentinal: [-1]\n").startsWith(config.file()
        + ": job.schema.numeric[0].sentinal is not a known key; did you mean job.schema.numeric[0].sentinels?"));
    assertEquals(config.file() + ": job.schema.categorical[0].unseen must be refuse or other, got 'map'",
        config.refusal(SERVICE + "  schema:\n    label: y\n    positive: '1'\n    categorical:\n      - name: c\n"
            + "        unseen: map\n"));
    JobSpec ok = ConfigFiles.coordinator(config.write(SERVICE + schema + "        missing: constant\n"
        + "        fill: 0\n        sentinels: [-1, NA]\n")).job().spec();
    assertEquals(java.util.List.of(-1.0), ok.schema().numericRules(0).sentinels());
    assertEquals(java.util.List.of("NA"), ok.schema().numericRules(0).textSentinels());
    assertEquals(java.util.OptionalDouble.of(0), ok.schema().numericRules(0).constant());
    Files.deleteIfExists(config.file());
  }
}
