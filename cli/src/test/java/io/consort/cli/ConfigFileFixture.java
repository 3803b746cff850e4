package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A config file for tests, in a directory that holds the placeholder files it names ({@code key.pem},
 * {@code cert.pem}, {@code ca.pem}, {@code data.csv}: validation requires them to exist).
 *
 * @param file where the config is written
 * @param read reads it, as the command does
 */
record ConfigFileFixture(Path file, Consumer<Path> read) {
  static ConfigFileFixture in(Path dir, String name, Consumer<Path> read) throws IOException {
    Files.writeString(dir.resolve("key.pem"), "k");
    Files.writeString(dir.resolve("cert.pem"), "c");
    Files.writeString(dir.resolve("ca.pem"), "a");
    Files.writeString(dir.resolve("data.csv"), "x,y\n1,2\n");
    return new ConfigFileFixture(dir.resolve(name), read);
  }

  Path write(String yaml) throws IOException {
    return Files.writeString(file, yaml);
  }

  /** Writes {@code yaml} and returns the message reading it is refused with. */
  String refusal(String yaml) throws IOException {
    write(yaml);
    return assertThrows(ConfigException.class, () -> read.accept(file)).getMessage();
  }
}
