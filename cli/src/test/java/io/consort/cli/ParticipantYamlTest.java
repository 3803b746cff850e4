package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.participant.BankPolicy;
import io.consort.participant.ParticipantConfig;
import io.consort.protocol.WireLimits;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bank-x.yaml} as a bank writes it: known keys only, privacy limits stated, values of the right type. */
class ParticipantYamlTest {
  private static final String TLS_AND_DATA = """
      coordinator: {host: coord.example, port: 7443}
      tls: {key: key.pem, cert: cert.pem, ca: ca.pem}
      data: {file: data.csv}
      """;

  @TempDir
  Path dir;

  private ConfigFileFixture config;

  @BeforeEach
  void files() throws Exception {
    config = ConfigFileFixture.in(dir, "bank.yaml", ConfigFiles::participant);
  }

  @Test
  void participantConfig_appliesDefaults_whenOnlyRequiredKeysAreGiven() throws Exception {
    ParticipantConfig c = ConfigFiles.participant(config.write(TLS_AND_DATA + "privacy: {epsilon_cap: 2.5, delta: 1e-6}\n"));
    assertEquals("coord.example", c.coordinatorHost());
    assertEquals(dir.resolve("data.csv"), c.dataFile());
    assertEquals(dir.resolve("bank-data"), c.dataDir());
    assertEquals(2.5, c.epsilonCap());
    assertEquals(1e-6, c.delta());
    assertEquals(WireLimits.DEFAULT_MAX_MESSAGE_BYTES, c.maxMessageBytes());
    assertEquals(null, c.failAtStage());
    assertFalse(c.acceptPartialJobs());
    assertEquals(BankPolicy.strict(), c.policy());
  }

  @Test
  void participantConfig_refusesAFaultStageThatDoesNotExist() throws Exception {
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> ConfigFiles.participant(config.write(TLS_AND_DATA + "privacy: {epsilon_cap: 2.5, delta: 1e-6}\n"
            + "fault: {exit_at_stage: lunch}\n")));
    assertTrue(e.getMessage().contains("fault.exit_at_stage 'lunch' is not a stage name"), e.getMessage());
  }

  @Test
  void participantConfig_readsEveryKey() throws Exception {
    ParticipantConfig c = ConfigFiles.participant(config.write("""
        coordinator: {host: coord.example, port: 8443}
        tls: {key: key.pem, cert: cert.pem, ca: ca.pem}
        data: {file: data.csv, dir: /var/lib/consort}
        privacy: {epsilon_cap: 1.5, delta: 1.0e-5, accept_partial_jobs: true}
        policy: {allow_non_private_jobs: true, require_secure_aggregation: false, min_banks: 3, min_threshold: 4}
        max_message_bytes: 4096
        fault: {exit_at_stage: train}
        """));
    assertEquals(new BankPolicy(true, false, 3, OptionalInt.of(4)), c.policy());
    assertEquals(8443, c.coordinatorPort());
    assertEquals(Path.of("/var/lib/consort"), c.dataDir());
    assertEquals(4096, c.maxMessageBytes());
    assertEquals("train", c.failAtStage());
    assertTrue(c.acceptPartialJobs());
  }

  @Test
  void participantConfig_refusesMisspeltKey_namingTheNearestKnownOne() throws Exception {
    assertEquals(dir.resolve("bank.yaml") + ": privacy.epsilon-cap is not a known key; did you mean "
        + "privacy.epsilon_cap?", config.refusal(TLS_AND_DATA + "privacy: {epsilon-cap: 0.5, delta: 1.0e-5}\n"));
  }

  @Test
  void participantConfig_refusesMisspeltTopLevelKey() throws Exception {
    assertEquals(dir.resolve("bank.yaml") + ": privcy is not a known key; did you mean privacy?",
        config.refusal(TLS_AND_DATA + "privcy: {epsilon_cap: 0.5, delta: 1.0e-5}\n"));
  }

  @Test
  void participantConfig_listsTheValidKeys_whenNoneIsClose() throws Exception {
    assertEquals(dir.resolve("bank.yaml") + ": privacy.budget is not a known key; the keys under privacy are "
        + "epsilon_cap, delta, accept_partial_jobs, bank_epsilon_cap",
        config.refusal(TLS_AND_DATA + "privacy: {epsilon_cap: 1, delta: 1.0e-5, budget: 3}\n"));
    assertEquals(dir.resolve("bank.yaml") + ": verbose is not a known key; the top-level keys are coordinator, tls, "
        + "data, privacy, policy, max_message_bytes, fault",
        config.refusal(TLS_AND_DATA + "privacy: {epsilon_cap: 1, delta: 1.0e-5}\nverbose: true\n"));
  }

  @Test
  void participantConfig_readsCrlAndBankLevelCap_andLeavesBothOffWhenAbsent() throws Exception {
    java.nio.file.Files.createDirectories(dir.resolve("pki"));
    java.nio.file.Files.writeString(dir.resolve("pki/crl.pem"), "r");
    ParticipantConfig c = ConfigFiles.participant(config.write("""
        tls: {key: key.pem, cert: cert.pem, ca: ca.pem, crl: pki/crl.pem}
        data: {file: data.csv}
        privacy: {epsilon_cap: 3, delta: 1.0e-5, bank_epsilon_cap: 8}
        """));
    assertEquals(dir.resolve("pki/crl.pem"), c.crlFile());
    assertEquals(8.0, c.bankEpsilonCap());
    ParticipantConfig without = ConfigFiles.participant(config.write(TLS_AND_DATA
        + "privacy: {epsilon_cap: 3, delta: 1.0e-5}\n"));
    assertEquals(null, without.crlFile());
    assertEquals(null, without.bankEpsilonCap());
    assertEquals(dir.resolve("bank.yaml") + ": tls.crls is not a known key; did you mean tls.crl?",
        config.refusal("tls: {key: key.pem, cert: cert.pem, ca: ca.pem, crls: crl.pem}\n"));
  }

  @Test
  void participantConfig_refusesMissingEpsilonCap_sayingWhatToAdd() throws Exception {
    assertEquals(dir.resolve("bank.yaml") + ": privacy.epsilon_cap is required: add this bank's own record-level "
        + "privacy limits, e.g. privacy: {epsilon_cap: 3.0, delta: 1.0e-5}; a privacy limit has no default",
        config.refusal(TLS_AND_DATA + "privacy: {delta: 1.0e-5}\n"));
  }

  @Test
  void participantConfig_refusesMissingPrivacySection_namingBothLimits() throws Exception {
    assertEquals(dir.resolve("bank.yaml") + ": privacy.epsilon_cap and privacy.delta are required: add this bank's "
        + "own record-level privacy limits, e.g. privacy: {epsilon_cap: 3.0, delta: 1.0e-5}; a privacy limit has "
        + "no default", config.refusal(TLS_AND_DATA));
  }

  @Test
  void participantConfig_refusesWrongTypes_namingKeyAndValue() throws Exception {
    String file = dir.resolve("bank.yaml") + ": ";
    assertEquals(file + "privacy.epsilon_cap must be a number, got 'three'",
        config.refusal("privacy: {epsilon_cap: three, delta: 1.0e-5}\n"));
    assertEquals(file + "privacy.epsilon_cap must be a number, got '3'",
        config.refusal("privacy: {epsilon_cap: '3', delta: 1.0e-5}\n"));
    assertEquals(file + "coordinator.port must be an integer, got '7443.5'",
        config.refusal("coordinator: {port: 7443.5}\n"));
    assertEquals(file + "privacy.accept_partial_jobs must be true or false, got '1'",
        config.refusal("privacy: {epsilon_cap: 1, delta: 1.0e-5, accept_partial_jobs: 1}\n"));
    assertEquals(file + "tls must be a mapping, got 'key.pem'", config.refusal("tls: key.pem\n"));
    assertEquals(file + "coordinator.host must be a single value, got a list", config.refusal("coordinator: {host: [a, b]}\n"));
  }

  @Test
  void participantConfig_refusesKeyGivenTwice() throws Exception {
    assertEquals(dir.resolve("bank.yaml") + ": privacy.epsilon_cap is given twice",
        config.refusal("privacy:\n  epsilon_cap: 3\n  epsilon_cap: 0.5\n"));
    assertEquals(dir.resolve("bank.yaml") + ": privacy is given twice",
        config.refusal("privacy: {epsilon_cap: 3, delta: 1.0e-5}\nprivacy: {epsilon_cap: 9, delta: 1.0e-5}\n"));
  }

  @Test
  void participantConfig_refusesFileThatIsNotAMapping() throws Exception {
    assertEquals(dir.resolve("bank.yaml") + ": expected a YAML mapping at the top level, got a list",
        config.refusal("- coordinator\n"));
    assertEquals(dir.resolve("bank.yaml") + " is empty; expected a YAML mapping at the top level", config.refusal(""));
  }
}
