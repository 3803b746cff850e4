package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.participant.ParticipantConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ConfigFilesTest {
  @TempDir
  Path dir;

  private Path bankConfig(String tlsKey, int port) throws Exception {
    Files.writeString(dir.resolve("key.pem"), "k");
    Files.writeString(dir.resolve("cert.pem"), "c");
    Files.writeString(dir.resolve("ca.pem"), "a");
    Files.writeString(dir.resolve("data.csv"), "x,y\n1,2\n");
    return Files.writeString(dir.resolve("bank.yaml"), """
        coordinator: {host: localhost, port: %d}
        tls: {key: %s, cert: cert.pem, ca: ca.pem}
        data: {file: data.csv, dir: local}
        privacy: {epsilon_cap: 3, delta: 1.0e-5}
        """.formatted(port, tlsKey));
  }

  @Test
  void participantConfig_resolvesPathsAgainstTheFile() throws Exception {
    ParticipantConfig c = ConfigFiles.participant(bankConfig("key.pem", 7443));
    assertEquals(dir.resolve("key.pem"), c.keyFile());
    assertEquals(dir.resolve("local"), c.dataDir());
    assertEquals(3.0, c.epsilonCap());
  }

  @Test
  void participantConfig_refusesMissingCertificateFile_naming_it() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConfigFiles.participant(bankConfig("missing-key.pem", 7443)));
    assertTrue(e.getMessage().contains("tls.key file " + dir.resolve("missing-key.pem") + " does not exist"),
        e.getMessage());
  }

  @Test
  void participantConfig_refusesWrongPort() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConfigFiles.participant(bankConfig("key.pem", 70000)));
    assertTrue(e.getMessage().contains("coordinator.port must be between 1 and 65535, got 70000"), e.getMessage());
  }

  @Test
  void config_refusesNonIntegerPort_namingKeyAndValue() throws Exception {
    Path yaml = Files.writeString(dir.resolve("c.yaml"), "coordinator: {host: localhost, port: seven}\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.participant(yaml));
    assertTrue(e.getMessage().contains("coordinator.port must be an integer, got 'seven'"), e.getMessage());
  }

  @Test
  void participantCommand_exitsNonZeroWithOneLine_whenConfigIsMissing() {
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setErr(new PrintWriter(err));
    int status = cl.execute("participant", "--config", dir.resolve("nope.yaml").toString());
    assertEquals(2, status);
    assertEquals("error: config file " + dir.resolve("nope.yaml") + " does not exist", err.toString().trim());
  }

  @Test
  void coordinatorConfig_refusesUnknownModelType() throws Exception {
    Path yaml = Files.writeString(dir.resolve("coordinator.yaml"), """
        job:
          id: j
          schema: {label: y, positive: '1', numeric: [x]}
          model: {type: transformer}
        """);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.coordinator(yaml));
    assertTrue(e.getMessage().contains("job.model.type must be one of mlp, logistic-regression, lstm, simple-rnn, cnn1d, attention, got 'transformer'"),
        e.getMessage());
  }
}
