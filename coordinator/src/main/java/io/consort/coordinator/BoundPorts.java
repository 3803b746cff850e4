package io.consort.coordinator;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The ports a running coordinator listens on, published as {@code data_dir/ports.json} once both of
 * its servers are bound and removed when it stops. A launcher that configured {@code port: 0} (the
 * demo) reads the ports the operating system picked from this file, instead of reserving a port with
 * a throwaway socket beforehand, which any other process could take before the coordinator binds it.
 *
 * @param grpc the gRPC endpoint's port
 * @param api the operator API's port, or -1 when the API is disabled
 */
public record BoundPorts(int grpc, int api) {
  /** The file's name inside the data directory. */
  public static final String FILE_NAME = "ports.json";

  /** Where a coordinator with data directory {@code dataDir} publishes its ports. */
  public static Path file(Path dataDir) {
    return dataDir.resolve(FILE_NAME);
  }

  /**
   * The ports published in {@code dataDir}, or empty while none are (the coordinator has not bound
   * them yet, or has stopped).
   *
   * @throws IOException if the file exists but cannot be read or is not a ports file
   */
  public static Optional<BoundPorts> read(Path dataDir) throws IOException {
    Path file = file(dataDir);
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    Integer grpc;
    Integer api;
    try {
      JsonObject json = new JsonObject(text);
      grpc = json.getInteger("grpc_port");
      api = json.getInteger("api_port");
    } catch (DecodeException | ClassCastException e) {
      throw new IOException(file + " is not a ports file (grpc_port, api_port): " + text, e);
    }
    if (grpc == null || api == null) {
      throw new IOException(file + " is not a ports file (grpc_port, api_port): " + text);
    }
    return Optional.of(new BoundPorts(grpc, api));
  }

  /**
   * Publishes the ports: written to a temporary file that is then renamed into place, so a reader
   * sees either no file or the whole of it.
   */
  void write(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Path temporary = Files.createTempFile(dataDir, FILE_NAME, ".tmp");
    try {
      Files.writeString(temporary, new JsonObject().put("grpc_port", grpc).put("api_port", api).encode());
      Files.move(temporary, file(dataDir), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /** Withdraws published ports (a stopped coordinator, or stale ones from a run that crashed). */
  static void remove(Path dataDir) throws IOException {
    Files.deleteIfExists(file(dataDir));
  }
}
