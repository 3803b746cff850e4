package io.consort.cli;

import io.consort.coordinator.CoordinatorConfig;
import io.consort.participant.ParticipantConfig;
import io.consort.spec.JobSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Reads {@code coordinator.yaml} and {@code bank-x.yaml} into validated configs, and writes them. The
 * keys are the components of {@link CoordinatorYaml}, {@link JobYaml} and {@link ParticipantYaml}; an
 * unknown key, a missing privacy limit or a value of the wrong type is refused naming the file and key.
 */
public final class ConfigFiles {
  private ConfigFiles() {}

  static CoordinatorConfig coordinator(Path file) {
    CoordinatorYaml yaml = StrictYaml.read(file, CoordinatorYaml.class);
    return inFile(file, () -> yaml.toConfig(file)).validate();
  }

  public static ParticipantConfig participant(Path file) {
    ParticipantYaml yaml = StrictYaml.read(file, ParticipantYaml.class);
    return inFile(file, () -> yaml.toConfig(file)).validate();
  }

  /** The port of the bank daemon's loopback health endpoints, or -1 for none. */
  static int participantHealthPort(Path file) {
    ParticipantYaml yaml = StrictYaml.read(file, ParticipantYaml.class);
    return inFile(file, () -> yaml.health().portOrNone());
  }

  /** Runs a mapping whose errors name the key; the error then names the file too. */
  private static <T> T inFile(Path file, Supplier<T> mapping) {
    try {
      return mapping.get();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------ writing (used by the demo)

  /** The job section of a coordinator config for {@code spec}: every value the job uses. */
  public static Map<String, Object> jobYaml(JobSpec spec, int expectedBanks, int startTimeoutSeconds,
                                            int stageTimeoutSeconds) {
    return StrictYaml.toMap(JobYaml.of(spec, expectedBanks, startTimeoutSeconds, stageTimeoutSeconds));
  }

  /** Writes {@code content} (nested maps and lists) as block-style YAML. */
  public static void write(Path file, Map<String, Object> content) throws IOException {
    StrictYaml.write(file, content);
  }
}
