package io.consort.participant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.consort.model.data.DataSchema;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.ModelType;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.ProtocolViolationException;
import io.consort.protocol.v1.JobFinished;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.ModelFileException;
import io.consort.scoring.ModelPublication;
import io.consort.scoring.PublishedModel;
import io.consort.scoring.PublishedModelFile;
import io.consort.scoring.v1.Provenance;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublishedModelKeeperTest {
  @TempDir
  Path dir;

  private static final JobSpec SPEC = JobSpec.builder().id("loans").schema(new DataSchema(List.of("income"),
      List.of(), "default", "yes")).modelType(ModelType.LOGISTIC_REGRESSION).build();

  private static ModelParameters finalModel(float weight) {
    FeatureEncoding encoding = new FeatureEncoding(SPEC.schema(), new double[] {50}, new double[] {10}, List.of());
    return ModelWire.withValues(ModelParameters.newBuilder().setSpec(JobSpecWire.model(SPEC).toBuilder()
        .setInputFeatures(1)).setEncoding(ModelWire.encoding(encoding)).build(), new float[] {weight, 0.1f}, 3);
  }

  private static PublishedModel published(ModelParameters model) {
    return ModelPublication.publish(SPEC, model, Optional.empty(), Provenance.newBuilder().setJobId("loans").build());
  }

  private static JobFinished notice(ModelParameters model, byte[] file) {
    return JobFinished.newBuilder().setFinalModel(model).setCompleted(true).setPublishedModel(ByteString.copyFrom(file))
        .build();
  }

  @Test
  void keep_writesTheCoordinatorsBytesUnchanged_whenEveryCheckPasses() throws Exception {
    ModelParameters model = finalModel(0.7f);
    byte[] file = PublishedModelFile.encode(published(model).body());
    Path kept = PublishedModelKeeper.keep(dir, JobSpecWire.toProto(SPEC), notice(model, file), m -> { }).orElseThrow();
    assertEquals(dir.resolve("loans-model.consort"), kept);
    assertArrayEquals(file, Files.readAllBytes(kept));
    assertEquals(published(model), PublishedModelFile.read(kept));
  }

  @Test
  void keep_refuses_whenThePlanInsideIsNotTheAcceptedOne() {
    ModelParameters model = finalModel(0.7f);
    byte[] file = PublishedModelFile.encode(published(model).body());
    var otherPlan = JobSpecWire.toProto(SPEC).toBuilder().setRounds(99).build();
    ModelFileException e = assertThrows(ModelFileException.class,
        () -> PublishedModelKeeper.keep(dir, otherPlan, notice(model, file), m -> { }));
    assertTrue(e.getMessage().contains("its plan is not the one this bank accepted"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("loans-model.consort")));
  }

  @Test
  void keep_refuses_whenTheParametersAreNotTheNoticesFinalModel() {
    byte[] file = PublishedModelFile.encode(published(finalModel(0.7f)).body());
    ModelFileException e = assertThrows(ModelFileException.class, () -> PublishedModelKeeper.keep(dir,
        JobSpecWire.toProto(SPEC), notice(finalModel(0.2f), file), m -> { }));
    assertTrue(e.getMessage().contains("are not the final model of the notice"), e.getMessage());
  }

  @Test
  void keep_refuses_whenThisBankDidNotSeeTheModelReleased() {
    ModelParameters model = finalModel(0.7f);
    byte[] file = PublishedModelFile.encode(published(model).body());
    assertThrows(ProtocolViolationException.class, () -> PublishedModelKeeper.keep(dir, JobSpecWire.toProto(SPEC),
        notice(model, file), m -> {
          throw new ProtocolViolationException("not countersigned");
        }));
    assertFalse(Files.exists(dir.resolve("loans-model.consort")));
  }

  @Test
  void keep_refuses_whenTheFileIsCorrupt() {
    ModelParameters model = finalModel(0.7f);
    byte[] file = PublishedModelFile.encode(published(model).body());
    file[file.length / 2] ^= 1;
    ModelFileException e = assertThrows(ModelFileException.class,
        () -> PublishedModelKeeper.keep(dir, JobSpecWire.toProto(SPEC), notice(model, file), m -> { }));
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
  }

  @Test
  void keep_keepsNothing_whenTheNoticeCarriesNoPublishedModel() throws Exception {
    JobFinished bare = JobFinished.newBuilder().setFinalModel(finalModel(0.7f)).build();
    assertEquals(Optional.empty(), PublishedModelKeeper.keep(dir, JobSpecWire.toProto(SPEC), bare, m -> { }));
  }
}
