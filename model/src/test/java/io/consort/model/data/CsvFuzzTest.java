package io.consort.model.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzz target: any bytes as a bank's CSV file, loaded with a schema that names its columns. The
 * loader returns a table or refuses the file with a {@link DataFormatException} naming the place;
 * nothing else. Long run: docs/FUZZING.md.
 */
class CsvFuzzTest {
  static final DataSchema SCHEMA = new DataSchema(List.of("income", "age"),
      List.of(new DataSchema.CategoricalColumn("region", List.of())), "default", "yes");

  @FuzzTest(maxDuration = "20s")
  void anyCsvFile_loadsOrIsRefusedByName(byte[] bytes) throws Exception {
    load(bytes, ".csv");
  }

  static void load(byte[] bytes, String suffix) throws Exception {
    Path file = Files.createTempFile("fuzz", suffix);
    try {
      Files.write(file, bytes);
      DatasetLoader.load(file, SCHEMA);
    } catch (DataFormatException expected) {
      // refused by name: fine
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
