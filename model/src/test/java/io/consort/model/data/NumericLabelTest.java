package io.consort.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.features.LocalFeatureStats;
import io.consort.model.wire.ModelWire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A numeric label (a regression target): loaded as numbers, clipped to the bound, encoded as the target. */
class NumericLabelTest {
  static final DataSchema SCHEMA = DataSchema.numericLabel(List.of("x"), List.of(), "y", 2.0, Preprocessing.NONE);

  @TempDir Path dir;

  private Path csv(String content) throws Exception {
    Path file = dir.resolve("rows.csv");
    Files.writeString(file, content);
    return file;
  }

  @Test
  void labels_areLoadedAsNumbers_clippedToTheBound_andEncodedAsTheTarget() throws Exception {
    Table t = DatasetLoader.load(csv("x,y\n1,0.5\n2,-1.25\n3,7\n4,-9\n"), SCHEMA);
    assertEquals(4, t.rows());
    assertEquals(0, t.positives());
    assertEquals(0.5, t.label(0));
    assertEquals(-1.25, t.label(1));
    assertEquals(2.0, t.label(2), "clipped to the bound");
    assertEquals(-2.0, t.label(3), "clipped to the bound");
    assertEquals("-1.25", t.value("y", 1));
    assertThrows(IllegalStateException.class, () -> t.isPositive(0));
    FeatureEncoding encoding = FeatureEncoding.merge(List.of(LocalFeatureStats.compute(t)));
    EncodedData data = encoding.encode(t);
    assertArrayEquals(new float[] {0.5f, -1.25f, 2f, -2f}, data.y());
    assertEquals(4, t.select(new int[] {3, 2, 1, 0}, "reversed").rows());
    assertEquals(-2.0, t.select(new int[] {3, 2, 1, 0}, "reversed").label(0));
  }

  @Test
  void aLabelThatIsNotANumber_isRefusedNamingTheColumnAndLine() throws Exception {
    Path file = csv("x,y\n1,0.5\n2,up\n");
    DataFormatException e = assertThrows(DataFormatException.class, () -> DatasetLoader.load(file, SCHEMA));
    assertEquals(Optional.of("y"), e.column());
    assertEquals(Optional.of(3L), e.line());
    assertTrue(e.getMessage().contains("not a finite number"), e.getMessage());
  }

  @Test
  void aMissingLabel_isRefused() throws Exception {
    Path file = csv("x,y\n1,0.5\n2,\n");
    DataFormatException e = assertThrows(DataFormatException.class, () -> DatasetLoader.load(file, SCHEMA));
    assertEquals(Optional.of("y"), e.column());
  }

  @Test
  void theBound_travelsOnTheWire_andAClassSchemaHasNone() {
    assertEquals(SCHEMA, ModelWire.schema(ModelWire.schema(SCHEMA)));
    DataSchema classes = new DataSchema(List.of("x"), List.of(), "y", "1");
    assertFalse(ModelWire.schema(classes).hasLabelBound());
    assertEquals(classes, ModelWire.schema(ModelWire.schema(classes)));
  }
}
