package io.consort.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BoundPortsTest {
  @TempDir
  Path dir;

  @Test
  void read_returnsWrittenPorts_andNoTemporaryFileIsLeft() throws IOException {
    new BoundPorts(41873, -1).write(dir);
    assertEquals(Optional.of(new BoundPorts(41873, -1)), BoundPorts.read(dir));
    try (var files = Files.list(dir)) {
      assertEquals(java.util.List.of(BoundPorts.file(dir)), files.toList());
    }
  }

  @Test
  void read_isEmpty_whenNothingIsPublished() throws IOException {
    assertEquals(Optional.empty(), BoundPorts.read(dir));
    new BoundPorts(41873, 40211).write(dir);
    BoundPorts.remove(dir);
    assertEquals(Optional.empty(), BoundPorts.read(dir));
  }

  @Test
  void read_refusesFile_withoutBothPorts() throws IOException {
    Files.writeString(BoundPorts.file(dir), "{\"grpc_port\": 41873}");
    IOException e = assertThrows(IOException.class, () -> BoundPorts.read(dir));
    assertTrue(e.getMessage().contains("api_port"), e.getMessage());
  }
}
