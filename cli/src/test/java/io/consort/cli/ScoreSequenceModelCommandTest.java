package io.consort.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consort.model.data.DataSchema;
import io.consort.model.features.EncodedData;
import io.consort.model.features.FeatureEncoding;
import io.consort.model.train.ModelFactory;
import io.consort.model.train.ModelType;
import io.consort.model.train.Predictor;
import io.consort.model.train.TrainingEngine;
import io.consort.model.wire.ModelWire;
import io.consort.protocol.v1.ModelParameters;
import io.consort.scoring.ModelPublication;
import io.consort.scoring.PublishedModelFile;
import io.consort.scoring.v1.Provenance;
import io.consort.spec.JobSpec;
import io.consort.spec.JobSpecWire;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code consort score} on a published LSTM: the command computes the ReLU LSTM with the native engine,
 * as the banks' evaluation did, writes the probabilities that evaluation would compute, and its reason
 * codes: one per channel (r0..r3, r4..r7), naming the time step that contributed most.
 */
class ScoreSequenceModelCommandTest {
  private static final int COLUMNS = 8;
  private static final int ROWS = 30;

  @TempDir
  Path dir;

  @Test
  void score_computesAnLstmWithTheNativeEngine_withReasonCodesPerChannel() throws Exception {
    List<String> columns = new ArrayList<>();
    for (int c = 0; c < COLUMNS; c++) {
      columns.add("r" + c);
    }
    DataSchema schema = new DataSchema(columns, List.of(), "up", "1");
    double[] stds = new double[COLUMNS];
    Arrays.fill(stds, 1);
    FeatureEncoding encoding = new FeatureEncoding(schema, new double[COLUMNS], stds, List.of());
    JobSpec spec = JobSpec.builder().id("market-lstm").schema(schema).modelType(ModelType.LSTM).window(4)
        .engine(TrainingEngine.DL4J).build();
    float[] parameters = ModelFactory.initialParameters(spec.model(), COLUMNS);
    ModelParameters params = ModelWire.withValues(ModelParameters.newBuilder().setSpec(JobSpecWire.model(spec)
        .toBuilder().setInputFeatures(COLUMNS)).setEncoding(ModelWire.encoding(encoding)).build(), parameters, 5);
    Path model = dir.resolve("market-lstm-model.consort");
    PublishedModelFile.write(model, ModelPublication.publish(spec, params, Optional.empty(),
        Provenance.newBuilder().setJobId(spec.id()).build()));

    SplittableRandom random = new SplittableRandom(9);
    float[] x = new float[ROWS * COLUMNS];
    StringBuilder csv = new StringBuilder(String.join(",", columns)).append(",up\n");
    for (int r = 0; r < ROWS; r++) {
      for (int c = 0; c < COLUMNS; c++) {
        x[r * COLUMNS + c] = (float) random.nextGaussian();
        csv.append(x[r * COLUMNS + c]).append(',');
      }
      csv.append(r % 2).append('\n');
    }
    Path data = Files.writeString(dir.resolve("windows.csv"), csv);
    Path out = dir.resolve("scores.csv");

    CliRun r = CliRun.of("score", "--model", model.toString(), "--data", data.toString(), "--out", out.toString());
    assertEquals(0, r.status(), r.err());
    List<String> lines = Files.readAllLines(out);
    assertEquals(ROWS + 1, lines.size());
    assertEquals("line,probability,decision,reason_1,contribution_1,reason_2,contribution_2,reason_3,contribution_3",
        lines.get(0));
    assertTrue(r.out().contains("lstm (native engine, reason codes per channel)"), r.out());
    int reasons = 0;
    for (int row = 0; row < ROWS; row++) {
      String reason = lines.get(row + 1).split(",", -1)[3];
      if (!reason.isEmpty()) {
        reasons++;
        assertTrue(reason.matches("r(0\\.\\.r3 \\(most at r[0-3]|4\\.\\.r7 \\(most at r[4-7])=-?[0-9.E-]+\\)"), reason);
      }
    }
    assertTrue(reasons > ROWS / 2, reasons + " rows with reasons");
    float[] expected = Predictor.predict(spec.model(), parameters, new EncodedData(ROWS, COLUMNS, x, new float[ROWS]));
    int probability = Arrays.asList(lines.get(0).split(",")).indexOf("probability");
    for (int row = 0; row < ROWS; row++) {
      // no evaluation: the calibration is the identity, so the probability is the model's own
      double p = Double.parseDouble(lines.get(row + 1).split(",")[probability]);
      assertEquals(expected[row], p, 1e-5, String.format(Locale.ROOT, "row %d", row));
    }

    CliRun withoutReasons = CliRun.of("score", "--model", model.toString(), "--data", data.toString(), "--out",
        out.toString(), "--reasons", "0");
    assertEquals(0, withoutReasons.status(), withoutReasons.err());
    assertFalse(Files.readAllLines(out).get(0).contains("reason_1"));
  }
}
