package io.consort.cli;

import io.consort.model.data.DataSchema;
import io.consort.model.dl4j.KerasModels;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.Objective;
import io.consort.spec.InitialParameters;
import io.consort.spec.JobSpecBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * A job's model brought from Keras ({@code model: {keras: {file, sha256}}}): the file must have the
 * SHA-256 the job file pins, is imported with {@link KerasModels} (Sequential models of Dense layers;
 * any other layer refused naming it), must read exactly the features the schema encodes, and gives
 * the job its architecture and its initial parameters, which go into the plan the banks pin. Only the
 * CLI that reads a job file loads DL4J for this; the coordinator receives the plan.
 */
final class KerasJobModel {
  private static final String KEY = "job.model.keras";

  private KerasJobModel() {}

  /**
   * Sets {@code b}'s model (type, hidden layers, activation, the file's Adam learning rate unless the job
   * sets one) and initial parameters from {@code file}.
   *
   * @param schema the job's schema, whose encoded width the model must read
   * @throws IllegalArgumentException naming the key and what is wrong: the hash, a layer, the width
   */
  static void apply(Path file, String sha256, long seed, boolean learningRateSet, DataSchema schema,
                    JobSpecBuilder b) {
    if (sha256 == null || !sha256.strip().toLowerCase(Locale.ROOT).matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException(KEY + ".sha256 is required: the 64 hex digits of the file's SHA-256 "
          + "(sha256sum " + file.getFileName() + "), got " + (sha256 == null ? "nothing" : "'" + sha256 + "'"));
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(KEY + ".file " + file + " cannot be read: " + e.getMessage(), e);
    }
    String actual = sha256Hex(bytes);
    String pinned = sha256.strip().toLowerCase(Locale.ROOT);
    if (!actual.equals(pinned)) {
      throw new IllegalArgumentException(KEY + ".sha256: " + file + " has SHA-256 " + actual + ", the job file pins "
          + pinned);
    }
    if (schema == null) {
      throw new IllegalArgumentException(KEY + " needs the job's schema, whose encoded features the model reads");
    }
    OptionalInt schemaWidth = FeatureEncoding.declaredFeatureCount(schema);
    if (schemaWidth.isEmpty()) {
      throw new IllegalArgumentException(KEY + " needs the input width the schema fixes: declare the values of "
          + "every categorical column");
    }
    KerasModels.Imported imported;
    try {
      imported = KerasModels.importSequential(file, seed);
    } catch (IOException e) {
      throw new IllegalArgumentException(KEY + ".file " + file + " cannot be read: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(KEY + ".file: " + e.getMessage(), e);
    }
    if (imported.inputs() != schemaWidth.getAsInt()) {
      throw new IllegalArgumentException(KEY + ".file: the Keras model reads " + imported.inputs()
          + " inputs, the schema encodes " + schemaWidth.getAsInt() + " features");
    }
    if (imported.spec().objective() != Objective.BINARY) {
      throw new IllegalArgumentException(KEY + ".file: the Keras model's output is " + imported.spec().objective()
          .wireName() + "; a federated job trains a binary classifier (one sigmoid output unit)");
    }
    b.modelType(imported.spec().type()).hiddenLayers(imported.spec().hiddenLayers())
        .activation(imported.spec().activation()).initialParameters(new InitialParameters(imported.parameters()));
    if (!learningRateSet) {
      b.learningRate(imported.spec().learningRate());
    }
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
  }
}
