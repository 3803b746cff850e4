package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator and auditor tools as a user runs them: output, exit status, one-line errors. */
class ToolCommandsTest {
  @TempDir
  Path dir;

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void privacyEpsilon_printsTensorFlowPrivacyMnistValue_withClassicConversion() {
    CliRun r = run("privacy", "epsilon", "--noise-multiplier", "1.12", "--sampling-rate", String.valueOf(256.0 / 60000),
        "--steps", String.valueOf(60 * 60000 / 256), "--delta", "1e-5", "--conversion", "classic", "--json");
    assertEquals(0, r.status(), r.err());
    double eps = new JsonObject(r.out().trim()).getDouble("epsilon");
    assertEquals(2.92, eps, 0.0292, r.out());
  }

  @Test
  void privacyNoise_invertsPrivacyEpsilon() {
    CliRun noise = run("privacy", "noise", "--target-epsilon", "3", "--sampling-rate", "0.12", "--steps", "90",
        "--delta", "1e-5");
    assertEquals(0, noise.status(), noise.err());
    String z = noise.out().trim().replace("noise_multiplier=", "");
    CliRun eps = run("privacy", "epsilon", "--noise-multiplier", z, "--sampling-rate", "0.12", "--steps", "90",
        "--delta", "1e-5");
    assertEquals(0, eps.status(), eps.err());
    double epsilon = Double.parseDouble(eps.out().trim().replace("epsilon=", ""));
    assertTrue(epsilon <= 3.0 && epsilon > 2.99, eps.out());
  }

  @Test
  void privacyEpsilon_refusesSamplingRateAboveOne_namingIt() {
    CliRun r = run("privacy", "epsilon", "--noise-multiplier", "1", "--sampling-rate", "1.5", "--steps", "10",
        "--delta", "1e-5");
    assertNotEquals(0, r.status());
    assertTrue(r.err().contains("1.5"), r.err());
  }

  @Test
  void demo_refusesNegativeEpsilon_beforeStartingAnything() {
    CliRun r = run("demo", "--epsilon", "-1", "--work-dir", dir.resolve("w").toString());
    assertEquals(2, r.status());
    assertTrue(r.err().contains("epsilon") && r.err().contains("-1"), r.err());
    assertTrue(!Files.exists(dir.resolve("w")), "nothing was created");
  }

  @Test
  void demo_refusesUnknownDropStage() {
    CliRun r = run("demo", "--drop", "bank-2@lunch", "--work-dir", dir.resolve("w").toString());
    assertEquals(2, r.status());
    assertTrue(r.err().contains("unknown stage 'lunch'"), r.err());
  }

  @Test
  void auditVerify_refusesTruncatedLedger() throws Exception {
    Path ca = dir.resolve("ca.pem");
    io.consort.certs.DemoPki pki = io.consort.certs.DemoPki.create(dir.resolve("pki"), "coordinator",
        java.util.List.of("bank-1"));
    Files.copy(pki.coordinator().caFile(), ca);
    Path ledger = Files.writeString(dir.resolve("ledger.json"), "{\"format\":\"consort-privacy-ledger\",\"vers");
    CliRun r = run("audit", "verify", "--ledger", ledger.toString(), "--ca", ca.toString());
    assertNotEquals(0, r.status());
    assertTrue((r.out() + r.err()).contains(ledger + " is truncated"), r.out() + r.err());
  }

  @Test
  void auditVerify_acceptsLedgerExportedBeforeTheIdentityModule() throws Exception {
    // golden export (3 entries, signed head) written before signers were read through consort-identity
    Path ledger = dir.resolve("ledger-v1.json");
    Path ca = dir.resolve("ca.crt.pem");
    try (var in = getClass().getResourceAsStream("/ledger/ledger-v1.json")) {
      Files.copy(in, ledger);
    }
    try (var in = getClass().getResourceAsStream("/ledger/ca.crt.pem")) {
      Files.copy(in, ca);
    }
    CliRun r = run("audit", "verify", "--ledger", ledger.toString(), "--ca", ca.toString());
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("ledger OK: 3 entries, hash chain intact, all signatures valid, head signed"), r.out());
    assertTrue(r.out().contains("bank-c releases=2"), r.out());
  }

  @Test
  void benchSecagg_printsJsonWithTheMeasurements() {
    CliRun r = run("bench", "secagg", "--banks", "5", "--dim", "10000", "--dropout", "0.2", "--json");
    assertEquals(0, r.status(), r.err());
    JsonObject json = new JsonObject(r.out().trim());
    for (String key : new String[] {"mask_bytes_per_second", "aes_ctr_bytes_per_second", "client_seconds",
        "server_seconds", "expansion"}) {
      assertTrue(json.getDouble(key) > 0, key + " in " + r.out());
    }
  }
}
