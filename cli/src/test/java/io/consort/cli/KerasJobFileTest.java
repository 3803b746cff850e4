package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.dl4j.KerasModels;
import io.consort.protocol.v1.JobPlan;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job file's {@code model: {keras: {file, sha256}}}: the submission's plan carries the Keras
 * network's architecture and its weights as the initial parameters; a file whose hash is not the
 * pinned one, a layer Consort cannot train, or an input width other than the schema's is refused
 * before anything is sent, naming what is wrong.
 */
class KerasJobFileTest {
  @TempDir
  Path dir;

  private Path jobFile(String model, int columns) throws Exception {
    return Files.writeString(dir.resolve("job.yaml"), "id: keras-loans\nrounds: 2\n" + KerasJobFiles.schema(columns)
        + model);
  }

  private static JobSpec submitted(Path file) {
    JsonObject s = JobCommand.submission(file);
    try {
      return JobSpecWire.fromProto(JobPlan.parseFrom(Base64.getDecoder().decode(s.getString("plan"))));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static String refusal(Path file) {
    return assertThrows(ConfigException.class, () -> JobCommand.submission(file)).getMessage();
  }

  @Test
  void aKerasFilePinnedByItsHash_becomesThePlansModelAndInitialParameters() throws Exception {
    Path h5 = KerasJobFiles.copy(KerasJobFiles.LOAN_RISK, dir);
    JobSpec spec = submitted(jobFile("model: {keras: {file: " + KerasJobFiles.LOAN_RISK + ", sha256: "
        + KerasJobFiles.sha256(h5).toUpperCase(java.util.Locale.ROOT) + "}, batch_size: 16}\n", 23));
    assertEquals(List.of(64, 32), spec.model().hiddenLayers());
    assertEquals(0.003, spec.model().learningRate(), 1e-12, "the file's Adam learning rate");
    assertEquals(16, spec.model().batchSize());
    float[] keras = KerasModels.importSequential(h5, 7).parameters();
    assertEquals(3649, spec.initialParameters().orElseThrow().count());
    assertArrayEquals(keras, spec.initialModel(23), "the version-0 model is the Keras weights");
    // the job's learning rate, when given, wins over the file's
    assertEquals(0.02, submitted(jobFile("model: {keras: {file: " + KerasJobFiles.LOAN_RISK + ", sha256: "
        + KerasJobFiles.sha256(h5) + "}, learning_rate: 0.02}\n", 23)).model().learningRate(), 1e-12);
  }

  @Test
  void aFileWhoseHashIsNotThePinnedOne_isRefusedNamingBothHashes() throws Exception {
    Path h5 = KerasJobFiles.copy(KerasJobFiles.LOAN_RISK, dir);
    String pinned = "ab".repeat(32);
    String message = refusal(jobFile("model: {keras: {file: " + KerasJobFiles.LOAN_RISK + ", sha256: " + pinned
        + "}}\n", 23));
    assertTrue(message.contains("job.model.keras.sha256") && message.contains("has SHA-256 "
        + KerasJobFiles.sha256(h5) + ", the job file pins " + pinned), message);
    assertTrue(refusal(jobFile("model: {keras: {file: " + KerasJobFiles.LOAN_RISK + "}}\n", 23))
        .contains("job.model.keras.sha256 is required"));
  }

  @Test
  void aKerasFileWithALayerConsortCannotTrain_isRefusedNamingTheLayer() throws Exception {
    Path h5 = KerasJobFiles.copy(KerasJobFiles.WITH_BATCH_NORM, dir);
    String message = refusal(jobFile("model: {keras: {file: " + KerasJobFiles.WITH_BATCH_NORM + ", sha256: "
        + KerasJobFiles.sha256(h5) + "}}\n", 23));
    assertTrue(message.contains("job.model.keras.file")
        && message.contains("'batch_normalization_1' (BatchNormalization) is not supported"), message);
  }

  @Test
  void aKerasModelReadingAnotherWidthThanTheSchemaEncodes_isRefusedNamingBoth() throws Exception {
    Path h5 = KerasJobFiles.copy(KerasJobFiles.LOAN_RISK, dir);
    String keras = "model: {keras: {file: " + KerasJobFiles.LOAN_RISK + ", sha256: " + KerasJobFiles.sha256(h5) + "}}\n";
    String message = refusal(jobFile(keras, 22));
    assertTrue(message.contains("the Keras model reads 23 inputs, the schema encodes 22 features"), message);
    // an open categorical column: the width is known only after the banks' statistics
    Files.writeString(dir.resolve("job.yaml"), "id: keras-loans\n" + KerasJobFiles.schema(22)
        + "  categorical: [region]\n" + keras);
    message = refusal(dir.resolve("job.yaml"));
    assertTrue(message.contains("declare the values of every categorical column"), message);
  }

  @Test
  void keysTheKerasFileSets_unknownKeys_andAKerasJobInCoordinatorYaml_areRefused() throws Exception {
    Path h5 = KerasJobFiles.copy(KerasJobFiles.LOAN_RISK, dir);
    String keras = "keras: {file: " + KerasJobFiles.LOAN_RISK + ", sha256: " + KerasJobFiles.sha256(h5);
    String message = refusal(jobFile("model: {hidden: [8], " + keras + "}}\n", 23));
    assertTrue(message.contains("job.model.hidden is set by the Keras file"), message);
    message = refusal(jobFile("model: {objective: regression, " + keras + "}}\n", 23));
    assertTrue(message.contains("job.model.objective is set by the Keras file"), message);
    message = refusal(jobFile("model: {" + keras + ", format: h5}}\n", 23));
    assertTrue(message.contains("format"), message);
    Path config = Files.writeString(dir.resolve("coordinator.yaml"), "tls: {key: k.pem, cert: c.pem, ca: ca.pem}\n"
        + "job:\n  id: j\n" + KerasJobFiles.schema(23).replaceAll("(?m)^", "  ") + "  model: {" + keras + "}}\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigFiles.coordinator(config));
    assertTrue(e.getMessage().contains("job.model.keras: submit a job that brings a Keras model with `consort job "
        + "submit`"), e.getMessage());
  }
}
