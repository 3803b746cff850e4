package io.consort.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.UnknownFieldSet;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.v1.PublishedModelBody;
import io.consort.scoring.v1.ThresholdRule;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublishedModelFileTest {
  @TempDir
  Path dir;

  private final PublishedModel model = GermanCreditModels.mlp().model();

  @Test
  void writeThenRead_givesTheSameModelAndChecksum_whenTheFileIsIntact() throws Exception {
    Path file = dir.resolve("german.consort");
    String sha = PublishedModelFile.write(file, model);
    PublishedModel read = PublishedModelFile.read(file);
    assertEquals(model, read);
    assertEquals(sha, read.fileSha256());
    assertEquals(sha, model.fileSha256());
    byte[] bytes = Files.readAllBytes(file);
    assertEquals(sha, java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(Arrays.copyOf(bytes, bytes.length - 32))));
    assertArrayEquals(model.parameters(), read.parameters());
    assertEquals(model.calibration(), read.calibration());
  }

  @Test
  void theHeader_isMagicVersionAndLength_inBigEndian() {
    byte[] bytes = PublishedModelFile.encode(model.body());
    assertEquals("CNSRTMDL", new String(bytes, 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
    ByteBuffer header = ByteBuffer.wrap(bytes);
    assertEquals(1, header.getInt(8));
    assertEquals(bytes.length - 20 - 32, header.getLong(12));
  }

  @Test
  void read_refusesAsCorrupt_whenAnyBodyOrChecksumByteIsFlipped() throws Exception {
    byte[] good = PublishedModelFile.encode(model.body());
    // a byte in the body, the first and last body bytes, and one in the stored checksum
    for (int at : new int[] {20, 21, good.length / 2, good.length - 33, good.length - 1}) {
      byte[] bad = good.clone();
      bad[at] ^= 0x10;
      ModelFileException e = assertThrows(ModelFileException.class, () -> decode(bad));
      assertTrue(e.getMessage().contains("checksum mismatch: the file is corrupt or was altered"), e.getMessage());
    }
  }

  @Test
  void read_refusesNamingTheVersion_whenTheFormatVersionIsUnknown_evenWithAValidChecksum() {
    byte[] bytes = withChecksum(PublishedModelFile.encode(model.body()), b -> ByteBuffer.wrap(b).putInt(8, 2));
    ModelFileException e = assertThrows(ModelFileException.class, () -> decode(bytes));
    assertTrue(e.getMessage().contains("has format version 2; this version of Consort reads format 1 only"),
        e.getMessage());
    byte[] huge = withChecksum(PublishedModelFile.encode(model.body()), b -> ByteBuffer.wrap(b).putInt(8, -1));
    e = assertThrows(ModelFileException.class, () -> decode(huge));
    assertTrue(e.getMessage().contains("format version 4294967295"), e.getMessage());
  }

  @Test
  void read_refusesAsNotAModel_whenTheMagicIsWrongOrTheFileEmpty() {
    assertTrue(assertThrows(ModelFileException.class, () -> decode(new byte[0])).getMessage()
        .contains("is not a Consort published model"));
    assertTrue(assertThrows(ModelFileException.class, () -> decode("name,age\nann,31\n".getBytes()))
        .getMessage().contains("is not a Consort published model"));
    // the coordinator's bare ModelParameters file is not a published model either
    byte[] bare = model.body().getModel().toByteArray();
    assertTrue(assertThrows(ModelFileException.class, () -> decode(bare)).getMessage()
        .contains("is not a Consort published model"));
  }

  @Test
  void read_refusesNamingBothLengths_whenTruncatedOrWithTrailingBytes() {
    byte[] good = PublishedModelFile.encode(model.body());
    ModelFileException cut = assertThrows(ModelFileException.class, () -> decode(Arrays.copyOf(good, good.length - 1)));
    assertTrue(cut.getMessage().contains("is truncated or has trailing bytes"), cut.getMessage());
    assertTrue(cut.getMessage().contains("but the file has " + (good.length - 1)), cut.getMessage());
    ModelFileException longer = assertThrows(ModelFileException.class,
        () -> decode(Arrays.copyOf(good, good.length + 5)));
    assertTrue(longer.getMessage().contains("is truncated or has trailing bytes"), longer.getMessage());
    byte[] headerOnly = Arrays.copyOf(good, 30);
    assertTrue(assertThrows(ModelFileException.class, () -> decode(headerOnly)).getMessage()
        .contains("is truncated"));
    byte[] lying = withChecksum(good, b -> ByteBuffer.wrap(b).putLong(12, Long.MAX_VALUE));
    assertTrue(assertThrows(ModelFileException.class, () -> decode(lying)).getMessage()
        .contains("more than any published model"));
  }

  @Test
  void read_refusesTheBody_whenItCarriesAFieldThisVersionDoesNotKnow() {
    PublishedModelBody withExtra = model.body().toBuilder().setCalibration(model.body().getCalibration().toBuilder()
        .setUnknownFields(UnknownFieldSet.newBuilder().addField(99, UnknownFieldSet.Field.newBuilder().addVarint(1)
            .build()).build())).build();
    ModelFileException e = assertThrows(ModelFileException.class,
        () -> decode(PublishedModelFile.encode(withExtra)));
    assertTrue(e.getMessage().contains("model.calibration carries fields this version does not know (numbers [99])"),
        e.getMessage());
  }

  @Test
  void read_refusesTheBody_whenAnEnumValueIsUnknown() {
    PublishedModelBody future = model.body().toBuilder().setCalibration(model.body().getCalibration().toBuilder()
        .setMethodValue(7)).build();
    ModelFileException e = assertThrows(ModelFileException.class, () -> decode(PublishedModelFile.encode(future)));
    assertTrue(e.getMessage().contains("does not describe a usable model"), e.getMessage());
    assertTrue(e.getMessage().contains("7"), e.getMessage());
    PublishedModelBody preprocessing = model.body().toBuilder().setPreprocessing(model.body().getPreprocessing()
        .toBuilder().setEncodingValue(5)).build();
    assertThrows(ModelFileException.class, () -> decode(PublishedModelFile.encode(preprocessing)));
  }

  @Test
  void read_refusesTheModel_whenAParameterNoLongerMatchesItsSha256() {
    ModelParameters params = model.body().getModel();
    ModelParameters tampered = params.toBuilder().setValues(0, params.getValues(0) + 1f).build();
    ModelFileException e = assertThrows(ModelFileException.class,
        () -> decode(PublishedModelFile.encode(model.body().toBuilder().setModel(tampered).build())));
    assertTrue(e.getMessage().contains("its parameters do not match their SHA-256"), e.getMessage());
  }

  @Test
  void read_refusesTheModel_whenItsPartsDisagree() {
    PublishedModelBody body = model.body();
    ModelParameters params = body.getModel();
    assertRefused("parameters but its network has", body.toBuilder().setModel(params.toBuilder()
        .addValues(0f)).build());
    assertRefused("its network specification differs from the job plan's", body.toBuilder().setModel(params
        .toBuilder().setSpec(params.getSpec().toBuilder().setInputFeatures(7))).build());
    assertRefused("does not follow from the job's cost matrix", body.toBuilder().setDecision(body.getDecision()
        .toBuilder().setThreshold(0.3)).build());
    assertRefused("its decision rule says 0.5", body.toBuilder().setDecision(body.getDecision().toBuilder()
        .setRule(ThresholdRule.HALF)).build());
    assertRefused("not strictly between 0 and 1", body.toBuilder().setDecision(body.getDecision().toBuilder()
        .setThreshold(1.5)).build());
    assertRefused("its provenance names job 'other'", body.toBuilder().setProvenance(body.getProvenance()
        .toBuilder().setJobId("other")).build());
    assertRefused("calibration slope must be finite and > 0", body.toBuilder().setCalibration(body.getCalibration()
        .toBuilder().setSlope(-1)).build());
    assertRefused("it has no calibration", body.toBuilder().clearCalibration().build());
    assertRefused("rounds", body.toBuilder().setPlan(body.getPlan().toBuilder().setRounds(0)).build());
  }

  @Test
  void read_namesTheFile_whenItDoesNotExist() {
    Path absent = dir.resolve("absent.consort");
    ModelFileException e = assertThrows(ModelFileException.class, () -> PublishedModelFile.read(absent));
    assertTrue(e.getMessage().startsWith(absent + ": cannot read the file"), e.getMessage());
  }

  private static void assertRefused(String problem, PublishedModelBody body) {
    ModelFileException e = assertThrows(ModelFileException.class, () -> decode(PublishedModelFile.encode(body)));
    assertTrue(e.getMessage().contains(problem), e.getMessage());
  }

  private static PublishedModel decode(byte[] bytes) throws ModelFileException {
    return PublishedModelFile.decode(bytes, "test.consort");
  }

  /** The bytes changed by {@code edit}, with the checksum recomputed so that only the edit is wrong. */
  private static byte[] withChecksum(byte[] bytes, java.util.function.Consumer<byte[]> edit) {
    byte[] copy = bytes.clone();
    edit.accept(copy);
    try {
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOf(copy, copy.length - 32));
      System.arraycopy(sha, 0, copy, copy.length - 32, 32);
      return copy;
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
